"""The per-request context: request, viewer, loaders, cache, disclosure state."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiocache.base import BaseCache
from starlette.requests import Request

from pinzhi.auth.masking import Disclosure
from pinzhi.auth.viewer import Viewer
from pinzhi.models import PiiAccessLog
from pinzhi.resolvers.loaders import Loaders
from pinzhi.services.complaints import case_consumer_ids


@dataclass
class Context:
    request: Request | None
    viewer: Viewer
    loaders: Loaders
    cache: BaseCache
    language: str = "zh"
    # Set when the request carried a credential that did not check out.
    credential_error: str = ""
    disclosure: Disclosure = field(init=False)

    def __post_init__(self) -> None:
        self.disclosure = Disclosure(self.viewer)

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
