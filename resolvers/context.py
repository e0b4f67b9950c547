"""The per-request context: request, viewer, loaders, cache, disclosure state.

Over HTTP a request is one operation and has one context. A websocket has one for the
connection (the viewer its ``connection_init`` signed in), and each operation on it a
context of its own (``for_operation``), whose loaders and disclosure a subscription renews
for every event (``renew``): DataLoaders cache what they read, and a subscription lasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiocache.base import BaseCache
from starlette.requests import HTTPConnection

from pinzhi.auth import standing
from pinzhi.auth.masking import Disclosure
from pinzhi.auth.viewer import ANONYMOUS, Viewer
from pinzhi.models import PiiAccessLog
from pinzhi.resolvers.loaders import Loaders
from pinzhi.services.complaints import case_consumer_ids


@dataclass
class Context:
    # The HTTP request, or the websocket.
    request: HTTPConnection | None
    viewer: Viewer
    loaders: Loaders
    cache: BaseCache
    language: str = "zh"
    # Set when the request carried a credential that did not check out.
    credential_error: str = ""
    # "websocket" for a websocket's contexts.
    transport: str = "http"
    # A websocket's ``connection_init`` payload (set by strawberry).
    connection_params: dict[str, object] | None = None
    # An operation's context on a websocket: the connection's.
    connection: Context | None = None
    disclosure: Disclosure = field(init=False)

    def __post_init__(self) -> None:
        self.disclosure = Disclosure(self.viewer)

    @property
    def is_connection(self) -> bool:
        """A websocket connection's context (its operations get one of their own)."""
        return self.transport == "websocket" and self.connection is None

    def sign_in(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.loaders = Loaders(viewer)
        self.disclosure = Disclosure(viewer)

    def renew(self) -> None:
        """Fresh loaders and disclosure state: for each event of a subscription."""
        self.loaders = Loaders(self.viewer)
        self.disclosure = Disclosure(self.viewer)

    async def still_standing(self, within: float | None = None) -> bool:
        """Whether the viewer's account may still act, as read at most ``within`` seconds
        (``standing.RECENT_SECONDS``) ago by any stream of the worker (``standing.Recent``;
        the read is the cached one every HTTP request with a credential makes). Anonymous
        viewers have no account."""
        if self.viewer.account_id is None:
            return True
        found = await standing.recent(self.cache).standing_of(self.viewer.account_id, within)
        return found == standing.ACTIVE

    async def for_operation(self) -> Context:
        """A context for one operation on this websocket: fresh loaders, the connection's
        viewer unless its account was deactivated since (then anonymous)."""
        viewer = self.viewer if await self.still_standing(within=0) else ANONYMOUS
        return Context(
            request=self.request,
            viewer=viewer,
            loaders=Loaders(viewer),
            cache=self.cache,
            language=self.language,
            transport=self.transport,
            connection_params=self.connection_params,
            connection=self,
        )

    @property
    def client_address(self) -> str:
        if self.request is None or self.request.client is None:
            return "local"
        return self.request.client.host

    async def prepare_disclosure(self) -> Disclosure:
        """Load, once per request, what masking needs beyond the viewer itself."""
        if self.disclosure.needs_case_list():
            assert self.viewer.account_id is not None
            self.disclosure.case_consumer_ids = await case_consumer_ids(self.viewer.account_id)
        return self.disclosure

    async def flush_access_log(self) -> None:
        """Write this request's whole-PII reads in one statement (QS 9.4.1)."""
        records, self.disclosure.records = self.disclosure.records, []
        if not records or self.viewer.account_id is None:
            return
        # One row per person and entity read, with every field read of it.
        read: dict[tuple[int, str, int], set[str]] = {}
        for r in records:
            read.setdefault((r.subject_account_id, r.entity_type, r.entity_id), set()).update(
                r.fields_read
            )
        await PiiAccessLog.bulk_create(
            [
                PiiAccessLog(
                    viewer_id=self.viewer.account_id,
                    viewer_role=str(self.viewer.role),
                    subject_account_id=subject,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    fields_read=",".join(sorted(fields)),
                )
                for (subject, entity_type, entity_id), fields in read.items()
            ]
        )


def language_of(accept_language: str | None) -> str:
    return "en" if (accept_language or "").strip().lower().startswith("en") else "zh"
