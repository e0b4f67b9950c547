"""The phone queue (QS 9.2.2): contact centres report call events in batches; each item is
answered on its own, replays change nothing, and a call ends up the same whatever order
its events came in."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Call, CallEvent, CallEventKind, ProviderKind, StaffDuty
from pinzhi.services import audit, calls
from pinzhi.services.calls import EventInput, Outcome
from tests import factories as f
from tests.helpers import Clock, count_sql

QUEUE = "after-sales"
SECOND = timedelta(seconds=1)


async def _centre() -> f.Actor:
    _, actor, _ = await f.provider(ProviderKind.CONTACT_CENTRE)
    return actor


def _call(ref: str, at: Any, agent_id: int, wait: float = 12, talk: float = 90) -> list[EventInput]:
    """QUEUED at ``at``, ANSWERED ``wait`` s later by the agent, ENDED ``talk`` s after."""
    answered = at + timedelta(seconds=wait)
    return [
        EventInput(f"{ref}-q", ref, QUEUE, CallEventKind.QUEUED, at),
        EventInput(f"{ref}-a", ref, QUEUE, CallEventKind.ANSWERED, answered, agent_id),
        EventInput(f"{ref}-e", ref, QUEUE, CallEventKind.ENDED, answered + timedelta(seconds=talk)),
    ]


def _outcomes(result: calls.BatchResult) -> list[tuple[str, str | None, list[str] | None]]:
    return [
        (
            str(item.outcome),
            str(item.error.code) if item.error else None,
            item.error.field if item.error else None,
        )
        for item in result.items
    ]


CALL_FIELDS = ("queue", "queued_at", "answered_at", "abandoned_at", "ended_at", "agent_id")


async def _row(ref: str) -> dict[str, Any]:
    found = await Call.get(call_ref=ref)
    return {name: getattr(found, name) for name in (*CALL_FIELDS, "wait_us", "queued_hour")}


async def test_qs_9_2_2_a_call_ends_up_the_same_whatever_order_its_events_come_in(
    db, clock: Clock
) -> None:
    """QS 9.2.2: the three events of a call, in each of their six orders (ENDED before
    ANSWERED, ANSWERED before QUEUED...), one batch each or one event per batch: the call's
    row is the same, its wait from queued to answered, to the microsecond."""
    centre = await _centre()
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    queued = clock.at - timedelta(minutes=10, microseconds=250)
    seen = []
    for n, order in enumerate(itertools.permutations(range(3))):
        for one_by_one in (False, True):
            ref = f"C{n}-{one_by_one}"
            events = _call(ref, queued, agent.account.id, wait=18.5)
            shuffled = [events[i] for i in order]
            batches = [[e] for e in shuffled] if one_by_one else [shuffled]
            for batch in batches:
                result = await calls.record_call_events(centre.viewer, batch)
                assert result.count(Outcome.ACCEPTED) == len(batch), _outcomes(result)
            seen.append(await _row(ref))
    assert all(row == seen[0] for row in seen), seen
    assert seen[0]["wait_us"] == 18_500_000
    assert seen[0]["queued_at"] == queued
    assert seen[0]["queued_hour"] == queued.replace(minute=0, second=0, microsecond=0)
    assert seen[0]["agent_id"] == agent.account.id


async def test_a_call_only_answered_and_ended_so_far_has_no_wait_until_queued_comes(
    db, clock: Clock
) -> None:
    centre = await _centre()
    agent = await f.staff()
    q, a, e = _call("LATE-Q", clock.at - timedelta(minutes=5), agent.account.id, wait=7)
    await calls.record_call_events(centre.viewer, [e, a])
    partial = await _row("LATE-Q")
    assert (partial["queued_at"], partial["wait_us"], partial["queued_hour"]) == (None, None, None)
    await calls.record_call_events(centre.viewer, [q])
    assert (await _row("LATE-Q"))["wait_us"] == 7_000_000


async def test_a_duplicate_event_id_is_answered_duplicate_and_changes_nothing(
    db, clock: Clock
) -> None:
    """A replayed batch: every item DUPLICATE with its call, no row and no key node added;
    the same id with other details is IDEMPOTENCY_KEY_REUSED."""
    centre = await _centre()
    agent = await f.staff()
    events = _call("DUP", clock.at - timedelta(minutes=3), agent.account.id)
    await calls.record_call_events(centre.viewer, events)
    before = (await _row("DUP"), await CallEvent.all().count(), await AuditEvent.all().count())

    again = await calls.record_call_events(centre.viewer, events)
    assert [i.outcome for i in again.items] == [Outcome.DUPLICATE] * 3
    assert all(i.call is not None and i.call.call_ref == "DUP" for i in again.items)
    changed = EventInput("DUP-q", "DUP", QUEUE, CallEventKind.QUEUED, clock.at - SECOND)
    reused = await calls.record_call_events(centre.viewer, [changed])
    assert _outcomes(reused) == [("REFUSED", "IDEMPOTENCY_KEY_REUSED", ["events", "0", "eventId"])]
    after = (await _row("DUP"), await CallEvent.all().count(), await AuditEvent.all().count())
    assert after == before


async def test_the_same_event_twice_in_one_batch_is_accepted_once(db, clock: Clock) -> None:
    centre = await _centre()
    queued = EventInput("TWICE-q", "TWICE", QUEUE, CallEventKind.QUEUED, clock.at - SECOND)
    other = EventInput("TWICE-q", "TWICE", QUEUE, CallEventKind.QUEUED, clock.at)
    result = await calls.record_call_events(centre.viewer, [queued, queued, other])
    assert _outcomes(result) == [
        ("ACCEPTED", None, None),
        ("DUPLICATE", None, None),
        ("REFUSED", "IDEMPOTENCY_KEY_REUSED", ["events", "2", "eventId"]),
    ]
    assert await CallEvent.all().count() == 1


async def test_one_bad_item_does_not_sink_the_others(db, clock: Clock) -> None:
    """Each refused item has its code and field path; the good items of the same batch are
    recorded, and nothing of a refused one is."""
    centre = await _centre()
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    _, seller = await f.merchant()
    now = clock.at
    answered = CallEventKind.ANSWERED
    batch = [
        EventInput("ok-1", "OK", QUEUE, CallEventKind.QUEUED, now - 30 * SECOND),
        EventInput("bad-queue", "B1", "After Sales", CallEventKind.QUEUED, now),
        EventInput(
            "future", "B2", QUEUE, CallEventKind.QUEUED, now + timedelta(minutes=5, seconds=1)
        ),
        EventInput("old", "B3", QUEUE, CallEventKind.QUEUED, now - timedelta(days=30, seconds=1)),
        EventInput("no-agent", "B4", QUEUE, answered, now),
        EventInput("merchant-agent", "B5", QUEUE, answered, now, seller.account.id),
        EventInput("compliance-agent", "B6", QUEUE, answered, now, compliance.account.id),
        EventInput("unknown-agent", "B7", QUEUE, answered, now, 0),
        EventInput("agent-on-queued", "B8", QUEUE, CallEventKind.QUEUED, now, agent.account.id),
        EventInput("", "B9", QUEUE, CallEventKind.QUEUED, now),
        EventInput("ok-2", "OK", QUEUE, answered, now - 10 * SECOND, agent.account.id),
        EventInput("naive", "B10", QUEUE, CallEventKind.QUEUED, now.replace(tzinfo=None)),
    ]
    result = await calls.record_call_events(centre.viewer, batch)

    def refused(i: int, code: str, name: str) -> tuple[str, str, list[str]]:
        return ("REFUSED", code, ["events", str(i), name])

    assert _outcomes(result) == [
        ("ACCEPTED", None, None),
        refused(1, "INVALID_INPUT", "queue"),
        refused(2, "EVENT_TIME_OUT_OF_RANGE", "occurredAt"),
        refused(3, "EVENT_TIME_OUT_OF_RANGE", "occurredAt"),
        refused(4, "CALL_AGENT_INVALID", "agentId"),
        refused(5, "CALL_AGENT_INVALID", "agentId"),
        refused(6, "CALL_AGENT_INVALID", "agentId"),
        refused(7, "CALL_AGENT_INVALID", "agentId"),
        refused(8, "CALL_AGENT_INVALID", "agentId"),
        refused(9, "INVALID_INPUT", "eventId"),
        ("ACCEPTED", None, None),
        refused(11, "INVALID_INPUT", "occurredAt"),
    ]
    assert await Call.all().values_list("call_ref", flat=True) == ["OK"]
    assert (await _row("OK"))["wait_us"] == 20_000_000


async def test_times_at_the_edges_of_the_accepted_range_are_accepted(db, clock: Clock) -> None:
    """Exactly 5 minutes ahead and exactly 30 days old are still accepted."""
    centre = await _centre()
    batch = [
        EventInput("ahead", "E1", QUEUE, CallEventKind.QUEUED, clock.at + timedelta(minutes=5)),
        EventInput("old", "E2", QUEUE, CallEventKind.QUEUED, clock.at - timedelta(days=30)),
    ]
    result = await calls.record_call_events(centre.viewer, batch)
    assert result.count(Outcome.ACCEPTED) == 2


@pytest.mark.parametrize(
    ("second", "field", "detail"),
    [
        ("QUEUED", "kind", "QUEUED event already"),
        ("ABANDONED", "kind", "answered or abandoned"),
        ("ENDED_EARLY", "occurredAt", "ENDED before"),
        ("OTHER_QUEUE", "queue", "in queue after-sales"),
        ("ANSWERED_EARLY", "occurredAt", "ANSWERED before QUEUED"),
    ],
)
async def test_an_event_contradicting_its_call_is_refused(
    db, clock: Clock, second: str, field: str, detail: str
) -> None:
    """A call has one event of each kind, in one queue; it is answered or abandoned, not
    both; no outcome before it was queued, no event after it ended."""
    centre = await _centre()
    agent = await f.staff()
    at = clock.at - timedelta(minutes=2)
    queued, answered, _ = _call("X", at, agent.account.id, wait=10, talk=30)
    first = [queued] if second == "ANSWERED_EARLY" else [queued, answered]
    await calls.record_call_events(centre.viewer, first)
    before = await _row("X")
    late = {
        "QUEUED": EventInput("x-q2", "X", QUEUE, CallEventKind.QUEUED, at),
        "ABANDONED": EventInput("x-b", "X", QUEUE, CallEventKind.ABANDONED, at + 5 * SECOND),
        "ENDED_EARLY": EventInput("x-e", "X", QUEUE, CallEventKind.ENDED, at + 5 * SECOND),
        "OTHER_QUEUE": EventInput("x-e", "X", "orders", CallEventKind.ENDED, at + 60 * SECOND),
        "ANSWERED_EARLY": EventInput(
            "x-a", "X", QUEUE, CallEventKind.ANSWERED, at - SECOND, agent.account.id
        ),
    }[second]
    result = await calls.record_call_events(centre.viewer, [late])
    (item,) = result.items
    assert item.outcome == Outcome.REFUSED
    assert item.error is not None
    assert (item.error.code, item.error.field) == (
        ErrorCode.CALL_EVENT_CONFLICT,
        ["events", "0", field],
    )
    assert detail in item.error.detail
    assert await _row("X") == before


@pytest.mark.parametrize("size", [0, 101])
async def test_a_batch_of_a_wrong_size_is_refused_whole(db, clock: Clock, size: int) -> None:
    centre = await _centre()
    batch = [
        EventInput(f"s-{n}", f"S{n}", QUEUE, CallEventKind.QUEUED, clock.at) for n in range(size)
    ]
    with pytest.raises(ServiceError) as refused:
        await calls.record_call_events(centre.viewer, batch)
    assert (refused.value.code, refused.value.field) == (ErrorCode.CALL_BATCH_SIZE, ["events"])
    assert await CallEvent.all().count() == 0 and await Call.all().count() == 0


async def test_only_a_contact_centre_records_call_events(db, clock: Clock) -> None:
    """QS 9.2.2: a carrier, a payment provider, a consumer, a merchant and staff are not
    eligible (the same policy entry the field checks)."""
    w = await f.world()
    event = [EventInput("r-1", "R", QUEUE, CallEventKind.QUEUED, clock.at)]
    for viewer in (
        w.carrier_actor.viewer,
        w.payer_actor.viewer,
        w.buyer.viewer,
        w.seller.viewer,
        w.agent.viewer,
        w.regulator.viewer,
    ):
        with pytest.raises(ServiceError) as refused:
            await calls.record_call_events(viewer, event)
        assert refused.value.code == ErrorCode.NOT_ELIGIBLE
    assert await CallEvent.all().count() == 0


async def test_calls_are_each_centres_own(db, clock: Clock) -> None:
    """Two centres using the same call reference and event ids have two calls."""
    first, second = await _centre(), await _centre()
    agent = await f.staff()
    for centre in (first, second):
        result = await calls.record_call_events(
            centre.viewer, _call("SAME", clock.at - timedelta(minutes=1), agent.account.id)
        )
        assert result.count(Outcome.ACCEPTED) == 3
    assert await Call.filter(call_ref="SAME").count() == 2


async def test_each_accepted_event_is_a_key_node_on_its_calls_trail(db, clock: Clock) -> None:
    """QS 9.1.2: one key node per accepted event, by the centre, and the chain verifies."""
    centre = await _centre()
    agent = await f.staff()
    await calls.record_call_events(
        centre.viewer, _call("TRACED", clock.at - timedelta(minutes=1), agent.account.id)
    )
    call = await Call.get(call_ref="TRACED")
    trail = await audit.trail("Call", call.id)
    assert [e.action for e in trail] == ["queued", "answered", "ended"]
    assert {e.actor_id for e in trail} == {centre.account.id}
    assert trail[1].data["agent_id"] == agent.account.id
    assert (await audit.verify("Call", call.id)).valid


async def test_a_batch_costs_the_same_statements_for_1_and_100_events(db, clock: Clock) -> None:
    """Set-wise: a batch is a fixed number of statements whatever its size: the agents, the
    events already stored under its ids, the new calls, the calls' locks, their events, the
    new events, the calls' values, the trails' heads and their key nodes."""
    centre = await _centre()
    agent = await f.staff()

    async def statements(ref: str, n: int) -> int:
        at = clock.at - timedelta(minutes=30)
        batch = [e for k in range(n // 2) for e in _call(f"{ref}{k}", at, agent.account.id)[:2]]
        batch = batch or _call(ref, at, agent.account.id)[1:2]
        with count_sql() as sql:
            result = await calls.record_call_events(centre.viewer, batch)
        assert result.count(Outcome.ACCEPTED) == len(batch), _outcomes(result)
        return sql.count

    one, hundred = await statements("ONE", 1), await statements("MANY", 100)
    print(f"\nstatements per batch: 1 event {one}, 100 events {hundred}")
    assert one == hundred == 9


async def test_two_clients_pushing_the_same_event_at_once_get_one_acceptance(
    db, clock: Clock
) -> None:
    """Concurrent-safe: the same event id from two batches at once is accepted once, the
    other answered DUPLICATE; the call has one QUEUED event and one key node for it. (On
    PostgreSQL the second batch waits on the first's row; CI's second pass.)"""
    centre = await _centre()
    agent = await f.staff()
    events = _call("RACE", clock.at - timedelta(minutes=1), agent.account.id)
    results = await asyncio.gather(
        *(calls.record_call_events(centre.viewer, events) for _ in range(4))
    )
    outcomes = sorted(str(item.outcome) for r in results for item in r.items)
    assert outcomes.count("ACCEPTED") == 3 and outcomes.count("DUPLICATE") == 9
    call = await Call.get(call_ref="RACE")
    assert await CallEvent.filter(call_id=call.id).count() == 3
    assert len(await audit.trail("Call", call.id)) == 3
    assert (await _row("RACE"))["wait_us"] == 12_000_000


async def test_an_event_id_pushed_at_once_for_two_calls_is_accepted_for_one(
    db, clock: Clock
) -> None:
    """The same event id at once for two different calls: one is accepted, the other
    IDEMPOTENCY_KEY_REUSED (on PostgreSQL the loser's insert finds the winner's row and its
    batch is run again, whole), and no call is left without events."""
    centre = await _centre()
    at = clock.at - timedelta(minutes=1)
    batches = [
        [EventInput("SHARED", f"CALL-{n}", QUEUE, CallEventKind.QUEUED, at)] for n in range(2)
    ]
    results = await asyncio.gather(*(calls.record_call_events(centre.viewer, b) for b in batches))
    outcomes = sorted(_outcomes(r)[0] for r in results)
    assert outcomes == [
        ("ACCEPTED", None, None),
        ("REFUSED", "IDEMPOTENCY_KEY_REUSED", ["events", "0", "eventId"]),
    ]
    assert await Call.all().count() == 1
