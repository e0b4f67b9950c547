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

A row an event names is read once per scope among the worker's subscribers that get the
event (``events.shared_read`` with ``scopes.scope_key``: the session's opener, its shop,
or the staff who read every session), not once per subscriber: subscribers with one key
see the same rows.
"""

from __future__ import annotations

import logging
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
    reader = _SharedReads(scope_key(viewer, ServiceMessage), visible)
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
    found = await events.shared_read(event, reader.key, lambda: reader.first(pk))
    return [] if found is None else [found]


@dataclass(frozen=True)
class _SharedReads:
    """One viewer's reads of a session's messages; ``key`` says whose reads they share."""

    key: Hashable
    visible: QuerySet[ServiceMessage]

    async def first(self, pk: int) -> ServiceMessage | None:
        return await self.visible.filter(id=pk).first()


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
    return _queue(scope_key(viewer, ServiceSession), scope(viewer, ServiceSession), check)


async def _queue(
    key: Hashable, visible: QuerySet[ServiceSession], check: Check
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
            # The session as it is when the event is read, once for the worker's agents.
            row = await events.shared_read(event, key, visible.filter(id=pk).first)
            if row is not None:
                yield QueueEvent(str(kind), row)
