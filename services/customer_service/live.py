"""Customer-service chat as it happens (QS 9.2.2, 9.7.2): a session's messages, and the
agents' queue, for subscriptions.

Both streams subscribe to the event bus (``services/events``) first and read the rows the
events name through the viewer's scope, fresh for each event, so a stream tells nobody
more than a query would, and never serves a row as it was when the stream began.

A session's stream is complete: registered on the bus, it reads from the database what
was written after the message the client names (``after``) or, without one, after the
newest message there is, and then each new message as it is announced, never one twice.
When the bus says events may have been lost (a worker's link to Redis dropped, or the
subscriber fell far behind), it reads what it missed from the database. It ends after
the session's closing message.

The queue's stream is each change of the queue (a session queued, taken, transferred,
closed while waiting, or found breached by the sweep), with the session as it is now;
after lost events it says ``RESYNC``: the client reads the queue again.

``check`` is called before each event is delivered, and at least every
``CHECK_SECONDS`` while nothing happens: it raises to end the stream (the schema passes
the viewer's account standing, so a deactivated account's stream ends).

A message announced to many subscribers of a worker is read once per scope among them
(``scopes.scope_key``: the session's opener, its shop, or the staff who read every
session), not once per subscriber: messages never change, and subscribers with one key
see the same rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from pinzhi.auth.scopes import scope, scope_key
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import MessageAuthor, ServiceMessage, ServiceSession, ServiceSessionState
from pinzhi.services import events
from pinzhi.services.lookup import get_visible

log = logging.getLogger("pinzhi.events")

Check = Callable[[], Awaitable[None]]

CHECK_SECONDS = 30.0
READ_BATCH = 100

# What the queue's events say (services/customer_service/sessions.py and sweep.py).
QUEUE_KINDS = frozenset({"QUEUED", "TAKEN", "TRANSFERRED", "CLOSED", "BREACHED"})
RESYNC = "RESYNC"


async def session_messages(
    viewer: Viewer,
    session_id: int | None,
    *,
    check: Check,
    after: int | None = None,
    after_given: bool = False,
) -> AsyncGenerator[ServiceMessage, None]:
    """The stream of a session the viewer may read (else NOT_FOUND, now, before any
    event). ``after`` names a message of the session the client already has; an id that
    does not decode arrives as None with ``after_given`` and is NOT_FOUND too."""
    session = await get_visible(viewer, ServiceSession, session_id, "sessionId")
    if after_given or after is not None:
        seen = await get_visible(viewer, ServiceMessage, after, "after")
        if seen.session_id != session.id:
            raise ServiceError(ErrorCode.NOT_FOUND, ("after",))
    visible = scope(viewer, ServiceMessage).filter(session_id=session.id)
    reader = _SharedReads(scope_key(viewer, ServiceMessage), session.id, visible)
    return _messages(session.id, visible, reader, after, check)


async def _messages(
    session_id: int,
    visible: QuerySet[ServiceMessage],
    reader: _SharedReads,
    after: int | None,
    check: Check,
) -> AsyncGenerator[ServiceMessage, None]:
    async with events.bus().subscribe(events.session_topic(session_id)) as feed:
        # Listening now: whatever is committed from here on is announced to the feed.
        if after is None:
            newest = await visible.order_by("-id").first().values_list("id", flat=True)
            after = newest if isinstance(newest, int) else 0
        sent: set[int] = set()
        async for row in _written_since(visible, after, sent):
            await check()
            yield row
        if await _closed(session_id):
            return
        while True:
            event = await feed.next(CHECK_SECONDS)
            await check()
            if event is None:
                continue
            if events.is_gap(event):
                log.info("session %s stream: events lost, reading them back", session_id)
                rows = [row async for row in _written_since(visible, after, sent)]
            else:
                rows = await _announced(reader, event, sent)
            for row in rows:
                sent.add(row.id)
                await check()
                yield row
            if any(r.author_kind == MessageAuthor.SYSTEM for r in rows) and await _closed(
                session_id
            ):
                return


async def _announced(
    reader: _SharedReads, event: events.Event, sent: set[int]
) -> list[ServiceMessage]:
    pk = event.get("message")
    if not isinstance(pk, int) or pk in sent:
        return []
    found = await reader.read(pk)
    return [] if found is None else [found]


SHARE_SECONDS = 10.0
SHARE_LIMIT = 4096

# Per event loop (a worker has one): (scope key, session, message) -> (when, the read).
_reads: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop,
    OrderedDict[tuple[Hashable, int, int], tuple[float, asyncio.Task[ServiceMessage | None]]],
] = weakref.WeakKeyDictionary()


class _SharedReads:
    """Reads of one session's messages through one viewer's scope, shared with the
    worker's other subscribers of the session whose scope has the same key."""

    def __init__(self, key: Hashable, session_id: int, visible: QuerySet[ServiceMessage]):
        self.key = key
        self.session_id = session_id
        self.visible = visible

    async def read(self, pk: int) -> ServiceMessage | None:
        loop = asyncio.get_running_loop()
        reads = _reads.get(loop)
        if reads is None:
            reads = _reads[loop] = OrderedDict()
        key = (self.key, self.session_id, pk)
        now = time.monotonic()
        known = reads.get(key)
        if known is None or now - known[0] > SHARE_SECONDS:
            task = loop.create_task(self._first(pk))
            task.add_done_callback(lambda done: _forget_failed(reads, key, done))
            reads[key] = known = (now, task)
            while len(reads) > SHARE_LIMIT:
                reads.popitem(last=False)
        # Shielded: a subscriber that goes away does not cancel the others' read.
        return await asyncio.shield(known[1])

    async def _first(self, pk: int) -> ServiceMessage | None:
        return await self.visible.filter(id=pk).first()


def _forget_failed(
    reads: OrderedDict[
        tuple[Hashable, int, int], tuple[float, asyncio.Task[ServiceMessage | None]]
    ],
    key: tuple[Hashable, int, int],
    done: asyncio.Task[ServiceMessage | None],
) -> None:
    if done.cancelled() or done.exception() is not None:
        known = reads.get(key)
        if known is not None and known[1] is done:
            del reads[key]


async def _written_since(
    visible: QuerySet[ServiceMessage], after: int, sent: set[int]
) -> AsyncGenerator[ServiceMessage, None]:
    """The session's messages after ``after`` not sent yet, oldest first, in batches."""
    cursor = after
    while True:
        batch = await visible.filter(id__gt=cursor).order_by("id").limit(READ_BATCH)
        for row in batch:
            if row.id not in sent:
                sent.add(row.id)
                yield row
        if len(batch) < READ_BATCH:
            return
        cursor = batch[-1].id


async def _closed(session_id: int) -> bool:
    return await ServiceSession.filter(id=session_id, state=ServiceSessionState.CLOSED).exists()


@dataclass(frozen=True)
class QueueEvent:
    kind: str
    session: ServiceSession | None  # None for RESYNC


async def queue_events(viewer: Viewer, *, check: Check) -> AsyncGenerator[QueueEvent, None]:
    """The agents' queue as it changes; the field's policy says who may follow it."""
    return _queue(scope(viewer, ServiceSession), check)


async def _queue(
    visible: QuerySet[ServiceSession], check: Check
) -> AsyncGenerator[QueueEvent, None]:
    async with events.bus().subscribe(events.QUEUE_TOPIC) as feed:
        while True:
            event = await feed.next(CHECK_SECONDS)
            await check()
            if event is None:
                continue
            if events.is_gap(event):
                yield QueueEvent(RESYNC, None)
                continue
            kind, pk = event.get("event"), event.get("session")
            if kind not in QUEUE_KINDS or not isinstance(pk, int):
                log.warning("queue stream: an event it does not know: %r", event)
                continue
            row = await visible.filter(id=pk).first()
            if row is not None:
                yield QueueEvent(str(kind), row)
