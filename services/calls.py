"""The phone queue (QS 9.2.2): contact centres report their calls' events in batches.

A contact centre (a service provider of kind CONTACT_CENTRE) pushes 1 to 100 events at a
time: a call QUEUED (it joined a queue), ANSWERED (by an agent: a staff account with the
customer-service duty, named by its global id), ABANDONED (the caller hung up before an
answer) or ENDED. Each item is answered on its own, accepted, duplicate or refused with a
code, so that one bad item does not sink the others; a batch of a wrong size is refused
whole.

Rules of an item, each refused with its code and field path (``events.3.occurredAt``):

- its event id, call id and queue are well formed (a queue is a short code such as
  ``after-sales``: lowercase letters, digits and inner hyphens, at most 32);
- its time is at most 5 minutes ahead of the platform's clock and at most 30 days old
  (EVENT_TIME_OUT_OF_RANGE);
- an ANSWERED event names its agent, and no other event names one (CALL_AGENT_INVALID);
- its event id was not used before (by this provider) for another event: the same event
  again is DUPLICATE and changes nothing, the same id with other details is
  IDEMPOTENCY_KEY_REUSED;
- it does not contradict the call's events (CALL_EVENT_CONFLICT): a call has at most one
  event of each kind, all in one queue; it is answered or abandoned, not both; it is
  answered or abandoned no earlier than it was queued, and ends no earlier than any of them.

Events may come in any order: the call's row (``Call``) is computed from all its events,
so it ends up the same whatever order they arrived in (ENDED before ANSWERED included).

The accepted items are written in one transaction of a fixed number of statements whatever
the batch's size: the events already stored under the batch's ids, the new calls' rows
(``INSERT … ON CONFLICT DO NOTHING``), the calls' row locks and their events, the new
events (``ON CONFLICT DO NOTHING RETURNING``), the calls' new values (one ``executemany``)
and a key node per accepted event on its call's trail (``audit.append_many``). Batches
touching the same call queue on its row lock, so their events are checked against each
other's. Two clients pushing the same event id at once: the second waits for the first's
insert, inserts nothing and answers DUPLICATE; one whose insert of an event id lost to a
concurrent batch's event of another call is run again whole, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer, parse_duties
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, Call, CallEvent, CallEventKind, Role, StaffDuty
from pinzhi.services import audit, bulk, state, validation
from pinzhi.services.transactions import conflict_error, retry_on_conflict

MAX_BATCH = 100
# Integrators' clocks drift a little; an event further ahead than this is a wrong clock.
FUTURE_SKEW = timedelta(minutes=5)
# A batch held back longer than this (a month) is not a late report but a wrong time.
MAX_AGE = timedelta(days=30)
QUEUE_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
MAX_REF = 100

ANSWERED, ABANDONED = CallEventKind.ANSWERED, CallEventKind.ABANDONED
QUEUED, ENDED = CallEventKind.QUEUED, CallEventKind.ENDED


@dataclass(frozen=True)
class EventInput:
    """One event as the contact centre sends it; ``agent_id`` is the answering agent's
    account id (0 for an id that names no account), on ANSWERED only."""

    event_id: str
    call_id: str
    queue: str
    kind: CallEventKind
    occurred_at: datetime
    agent_id: int | None = None


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class ItemResult:
    index: int
    event_id: str
    outcome: Outcome
    call: Call | None = None
    error: ServiceError | None = None


@dataclass(frozen=True)
class BatchResult:
    items: list[ItemResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)


@dataclass(frozen=True)
class _Event:
    """An item that passed the checks that need no database."""

    index: int
    event_id: str
    call_ref: str
    queue: str
    kind: CallEventKind
    occurred_at: datetime
    agent_id: int | None

    def same_as(self, other: _Event | CallEvent) -> bool:
        return (
            self.call_ref == other.call_ref
            and self.queue == other.queue
            and self.kind == other.kind
            and self.occurred_at == other.occurred_at
            and self.agent_id == other.agent_id
        )


# What a call's events say: (kind, time, queue, agent).
Fact = tuple[CallEventKind, datetime, str, int | None]


def queue_filter(queue: str | None) -> str | None:
    """A ``queue`` to read calls or figures by: a queue code, or the caller's error."""
    if queue is not None and not QUEUE_CODE.fullmatch(queue):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("queue",), "a queue code")
    return queue


def _path(index: int, name: str) -> tuple[str, ...]:
    return ("events", str(index), name)


def _checked(index: int, given: EventInput, now: datetime) -> _Event:
    event_id = validation.text(given.event_id, _path(index, "eventId"), max_len=MAX_REF)
    call_ref = validation.text(given.call_id, _path(index, "callId"), max_len=MAX_REF)
    queue = given.queue.strip() if isinstance(given.queue, str) else ""
    if not QUEUE_CODE.fullmatch(queue):
        raise ServiceError(
            ErrorCode.INVALID_INPUT,
            _path(index, "queue"),
            "a code of lowercase letters, digits and inner hyphens, at most 32",
        )
    try:
        kind = CallEventKind(given.kind)
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_INPUT, _path(index, "kind")) from None
    try:
        at = validation.moment(given.occurred_at, "occurredAt")
    except ServiceError as error:
        raise ServiceError(error.code, _path(index, "occurredAt"), error.detail) from None
    if at > now + FUTURE_SKEW:
        raise ServiceError(
            ErrorCode.EVENT_TIME_OUT_OF_RANGE, _path(index, "occurredAt"), "in the future"
        )
    if at < now - MAX_AGE:
        raise ServiceError(ErrorCode.EVENT_TIME_OUT_OF_RANGE, _path(index, "occurredAt"), "too old")
    if kind == ANSWERED and given.agent_id is None:
        raise ServiceError(
            ErrorCode.CALL_AGENT_INVALID, _path(index, "agentId"), "an answer names its agent"
        )
    if kind != ANSWERED and given.agent_id is not None:
        raise ServiceError(ErrorCode.CALL_AGENT_INVALID, _path(index, "agentId"), f"not on {kind}")
    return _Event(index, event_id, call_ref, queue, kind, at, given.agent_id)


def _refused(index: int, given: EventInput, error: ServiceError) -> ItemResult:
    label = given.event_id if isinstance(given.event_id, str) else ""
    return ItemResult(index, label[:MAX_REF], Outcome.REFUSED, error=error)


async def _agents(items: list[_Event]) -> set[int]:
    """Of the agents the items name, the customer-service staff (one statement)."""
    named = sorted({e.agent_id for e in items if e.agent_id})
    if not named:
        return set()
    found: list[tuple[int, str]] = await Account.filter(id__in=named, role=Role.STAFF).values_list(
        "id", "duties"
    )
    return {pk for pk, duties in found if StaffDuty.CUSTOMER_SERVICE in parse_duties(duties)}


def conflict(
    facts: Sequence[Fact], kind: CallEventKind, at: datetime, queue: str
) -> tuple[str, str] | None:
    """Why an event of ``kind`` at ``at`` in ``queue`` contradicts a call's ``facts``: the
    input field at fault and the detail (None: it does not)."""
    times = {k: t for k, t, _, _ in facts}
    if kind in times:
        return "kind", f"the call has a {kind} event already"
    if facts and facts[0][2] != queue:
        return "queue", f"the call is in queue {facts[0][2]}"
    if (kind == ANSWERED and ABANDONED in times) or (kind == ABANDONED and ANSWERED in times):
        return "kind", "a call is answered or abandoned, not both"
    times[kind] = at
    queued = times.get(QUEUED)
    for outcome in (ANSWERED, ABANDONED):
        if queued is not None and outcome in times and times[outcome] < queued:
            return "occurredAt", f"{outcome} before QUEUED"
    ended = times.get(ENDED)
    if ended is not None and any(t > ended for k, t in times.items() if k != ENDED):
        return "occurredAt", "ENDED before another event of the call"
    return None


def settle(call: Call, facts: Sequence[Fact], now: datetime) -> None:
    """Set ``call``'s values from all its events: the same whatever order they came in."""
    times = {kind: at for kind, at, _, _ in facts}
    call.queue = facts[0][2]
    call.queued_at = times.get(QUEUED)
    call.queued_hour = (
        call.queued_at.replace(minute=0, second=0, microsecond=0) if call.queued_at else None
    )
    call.answered_at = times.get(ANSWERED)
    call.abandoned_at = times.get(ABANDONED)
    call.ended_at = times.get(ENDED)
    call.agent_id = next((agent for kind, _, _, agent in facts if kind == ANSWERED), None)
    call.wait_us = (
        _microseconds(call.answered_at - call.queued_at)
        if call.answered_at is not None and call.queued_at is not None
        else None
    )
    call.updated_at = now


def _microseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _RaceLost(Exception):
    """An event id this batch inserts was inserted meanwhile by a batch about another call:
    the transaction is rolled back and run again, which then sees it."""


CALL_COLUMNS = ("provider_id", "call_ref", "queue", "created_at", "updated_at")
EVENT_COLUMNS = (
    "provider_id",
    "event_id",
    "call_id",
    "call_ref",
    "queue",
    "kind",
    "occurred_at",
    "agent_id",
    "recorded_at",
)
CALL_FIELDS = (
    "queue",
    "queued_at",
    "queued_hour",
    "answered_at",
    "abandoned_at",
    "ended_at",
    "agent_id",
    "wait_us",
    "updated_at",
)


async def _write(viewer: Viewer, provider_id: int, items: list[_Event]) -> list[ItemResult]:
    """Inside the caller's transaction: classify ``items`` against what is stored, write the
    accepted ones and their calls' new values. A fixed number of statements."""
    now = state.now()
    results: list[ItemResult] = []
    ids = sorted({e.event_id for e in items})
    known: dict[str, _Event | CallEvent] = {
        row.event_id: row
        for row in await CallEvent.filter(provider_id=provider_id, event_id__in=ids)
    }
    first_queue: dict[str, str] = {}
    for e in items:
        if e.event_id not in known:
            first_queue.setdefault(e.call_ref, e.queue)
    # In one order for every batch, so two batches adding the same calls never cross.
    await bulk.insert_new_rows(
        Call,
        CALL_COLUMNS,
        [(provider_id, ref, first_queue[ref], now, now) for ref in sorted(first_queue)],
        conflict=("provider_id", "call_ref"),
    )
    refs = sorted({e.call_ref for e in items})
    calls = (
        await Call.filter(provider_id=provider_id, call_ref__in=refs)
        .order_by("id")
        .select_for_update()
    )
    by_ref = {c.call_ref: c for c in calls}
    facts: dict[int, list[Fact]] = {c.id: [] for c in calls}
    for row in await CallEvent.filter(call_id__in=list(facts)).order_by("id"):
        facts[row.call_id].append((row.kind, row.occurred_at, row.queue, row.agent_id))
        known.setdefault(row.event_id, row)
    accepted: list[tuple[_Event, Call]] = []
    for e in items:
        earlier = known.get(e.event_id)
        call = by_ref.get(e.call_ref)
        if earlier is not None:
            if e.same_as(earlier):
                results.append(ItemResult(e.index, e.event_id, Outcome.DUPLICATE, call))
            else:
                error = ServiceError(
                    ErrorCode.IDEMPOTENCY_KEY_REUSED, _path(e.index, "eventId"), "other details"
                )
                results.append(ItemResult(e.index, e.event_id, Outcome.REFUSED, error=error))
            continue
        assert call is not None  # inserted above if it was new
        problem = conflict(facts[call.id], e.kind, e.occurred_at, e.queue)
        if problem is not None:
            name, detail = problem
            error = ServiceError(ErrorCode.CALL_EVENT_CONFLICT, _path(e.index, name), detail)
            results.append(ItemResult(e.index, e.event_id, Outcome.REFUSED, error=error))
            continue
        facts[call.id].append((e.kind, e.occurred_at, e.queue, e.agent_id))
        known[e.event_id] = e
        accepted.append((e, call))
        results.append(ItemResult(e.index, e.event_id, Outcome.ACCEPTED, call))
    if not accepted:
        return results
    inserted = await bulk.insert_new_rows(
        CallEvent,
        EVENT_COLUMNS,
        [
            (
                provider_id,
                e.event_id,
                call.id,
                e.call_ref,
                e.queue,
                str(e.kind),
                e.occurred_at,
                e.agent_id,
                now,
            )
            for e, call in accepted
        ],
        conflict=("provider_id", "event_id"),
        returning=("event_id",),
    )
    if len(inserted) != len(accepted):
        raise _RaceLost
    touched = {call.id: call for _, call in accepted}
    for pk, call in touched.items():
        settle(call, facts[pk], now)
    await bulk.update_fields(Call, list(touched.values()), CALL_FIELDS)
    await audit.append_many("Call", [_key_node(e, call) for e, call in accepted], actor=viewer)
    return results


def _key_node(e: _Event, call: Call) -> audit.Entry:
    data: dict[str, Any] = {
        "event_id": e.event_id,
        "call_id": e.call_ref,
        "queue": e.queue,
        "occurred_at": e.occurred_at.isoformat(),
    }
    if e.agent_id is not None:
        data["agent_id"] = e.agent_id
    return (call.id, e.kind.lower(), "", "", data)


@retry_on_conflict
async def record_call_events(viewer: Viewer, events: Sequence[EventInput]) -> BatchResult:
    """Record a batch of a contact centre's call events (QS 9.2.2); each item's outcome in
    the batch's order."""
    require(viewer, Action.RECORD_CALL_EVENTS)
    if not 1 <= len(events) <= MAX_BATCH:
        raise ServiceError(
            ErrorCode.CALL_BATCH_SIZE, ("events",), f"{len(events)} given, 1–{MAX_BATCH}"
        )
    assert viewer.provider_id is not None  # a contact centre's account acts for it
    now = state.now()
    outcomes: dict[int, ItemResult] = {}
    items: list[_Event] = []
    for index, given in enumerate(events):
        try:
            items.append(_checked(index, given, now))
        except ServiceError as error:
            outcomes[index] = _refused(index, given, error)
    agents = await _agents(items)
    checked: list[_Event] = []
    for e in items:
        if e.agent_id is not None and e.agent_id not in agents:
            refusal = ServiceError(
                ErrorCode.CALL_AGENT_INVALID,
                _path(e.index, "agentId"),
                "not a staff account with the customer-service duty",
            )
            outcomes[e.index] = ItemResult(e.index, e.event_id, Outcome.REFUSED, error=refusal)
        else:
            checked.append(e)
    if checked:
        for attempt in range(2):
            try:
                async with in_transaction():
                    written = await _write(viewer, viewer.provider_id, checked)
                break
            except _RaceLost:
                if attempt == 1:
                    raise conflict_error() from None
        outcomes.update((r.index, r) for r in written)
    return BatchResult([outcomes[i] for i in range(len(events))])
