"""Hourly anchors of the traced key nodes, and the checks held against them (QS 9.1.2).

The world of each test is built now and then stamped, chains intact, into a known hour
(``f.stamp_trail_in``), so that anchoring is told the time instead of waiting for it.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditAnchor, AuditAnchorHead, AuditEvent, Order
from pinzhi.services import anchors, audit, audit_checks, jobs, orders
from pinzhi.services.audit import GENESIS_HASH, Problem
from tests import factories as f
from tests.helpers import count_sql

HOUR = "2026-11-20T08"
START = datetime(2026, 11, 20, 8, tzinfo=UTC)
# When the hour of START may be anchored: over, plus the grace.
AFTER_HOUR = START + timedelta(hours=1) + anchors.GRACE


async def _completed_order_in_hour(w: f.World | None = None) -> Order:
    """An order walked placed → … → completed: five events, plus its payment's and
    shipment's chains, all in HOUR."""
    w = w or await f.world()
    shipped, _ = await f.delivered_order(w)
    order = await orders.confirm_receipt(w.buyer.viewer, shipped.id)
    await f.stamp_trail_in(START)
    return order


async def _anchored_order() -> Order:
    order = await _completed_order_in_hour()
    await anchors.catch_up(AFTER_HOUR)
    return order


def _problems(result: audit_checks.PeriodVerification) -> list[tuple[Problem, str | None, int]]:
    return [(x.problem, x.entity_type, x.seq) for x in result.findings]


# --- Periods and anchoring -------------------------------------------------------------------


def test_a_period_is_an_hour_in_utc() -> None:
    """QS 9.1.2: anchors are hourly, named by the hour of the events' occurred_at."""
    assert anchors.period_bounds(HOUR) == (START, START + timedelta(hours=1))
    assert anchors.period_of(datetime(2026, 11, 20, 8, 59, 59, 999999, tzinfo=UTC)) == HOUR
    assert anchors.next_period("2026-12-31T23") == "2027-01-01T00"
    assert anchors.previous_period("2027-01-01T00") == "2026-12-31T23"
    for bad in ("2026-11-20 08", "2026-11-20T8", "2026-13-01T00", "2026-11-20T24", "", "x"):
        with pytest.raises(ServiceError) as refused:
            anchors.period_start(bad)
        assert refused.value.code == ErrorCode.INVALID_PERIOD


def test_a_period_is_complete_only_after_the_grace() -> None:
    """QS 9.1.2: an hour is frozen only once transactions in flight at its end committed."""
    assert not anchors.is_complete(HOUR, AFTER_HOUR - timedelta(microseconds=1))
    assert anchors.is_complete(HOUR, AFTER_HOUR)


async def test_an_anchor_records_the_hours_digest_and_every_chains_head(db) -> None:
    """QS 9.1.2: the anchor holds a digest over the hour's events in a fixed order and the
    head (seq, hash) of every chain that moved, and is chained to the anchor before it."""
    order = await _completed_order_in_hour()
    events = await AuditEvent.all()

    anchor, created = await anchors.anchor_period(HOUR, AFTER_HOUR)

    assert created is True
    assert (anchor.seq, anchor.period, anchor.prev_hash) == (1, HOUR, GENESIS_HASH)
    assert anchor.event_count == len(events) > 5
    ordered = sorted(events, key=lambda e: (e.entity_type, e.entity_id, e.seq))
    lines = "".join(f"{e.entity_type}\t{e.entity_id}\t{e.seq}\t{e.hash}\n" for e in ordered)
    assert anchor.events_digest == hashlib.sha256(lines.encode()).hexdigest()
    heads = {
        (h.entity_type, h.entity_id): (h.seq, h.hash)
        for h in await AuditAnchorHead.filter(anchor_id=anchor.id)
    }
    chains = {(e.entity_type, e.entity_id) for e in events}
    assert set(heads) == chains and anchor.head_count == len(chains)
    trail = await audit.trail("Order", order.id)
    assert heads["Order", order.id] == (5, trail[-1].hash)
    assert anchor.hash == anchors.anchor_hash(anchor)


async def test_a_period_is_anchored_once_and_never_rewritten(db) -> None:
    """QS 9.1.2: anchoring is idempotent; later events stamped in the hour do not move it."""
    order = await _completed_order_in_hour()
    anchor, _ = await anchors.anchor_period(HOUR, AFTER_HOUR)

    await audit.append("Order", order.id, "noted", actor=None)
    await f.rechain("Order", order.id, at=START)
    again, created = await anchors.anchor_period(HOUR, AFTER_HOUR + timedelta(days=1))
    caught_up = await anchors.catch_up(AFTER_HOUR)

    assert created is False and caught_up.anchored == 0
    assert await AuditAnchor.all().count() == 1
    stored = await AuditAnchor.get(id=anchor.id)
    assert again.hash == stored.hash == anchor.hash
    assert stored.event_count == anchor.event_count
    assert await AuditAnchorHead.filter(anchor_id=anchor.id).count() == anchor.head_count


async def test_an_hour_not_over_or_out_of_line_is_refused(db) -> None:
    """QS 9.1.2: no anchor before the grace has passed, none that would leave a hole."""
    await _completed_order_in_hour()
    with pytest.raises(ServiceError) as early:
        await anchors.anchor_period(HOUR, AFTER_HOUR - timedelta(seconds=1))
    with pytest.raises(ServiceError) as skipping:
        await anchors.anchor_period(anchors.next_period(HOUR), AFTER_HOUR + timedelta(hours=1))
    assert early.value.code == skipping.value.code == ErrorCode.INVALID_PERIOD
    assert await AuditAnchor.all().count() == 0


async def test_catch_up_anchors_every_hour_in_order_empty_ones_too(db) -> None:
    """QS 9.1.2: catch-up fills every complete hour since the newest anchor; empty hours
    get an anchor too, so the anchor chain has no holes."""
    w = await f.world()
    first = await _completed_order_in_hour(w)
    later = await f.order(w.buyer, w.item)
    await f.rechain("Order", later.id, at=START + timedelta(hours=3))

    result = await anchors.catch_up(START + timedelta(hours=4) + anchors.GRACE)

    made = await AuditAnchor.all().order_by("seq")
    assert [(a.seq, a.period, a.event_count) for a in made] == [
        (1, HOUR, made[0].event_count),
        (2, "2026-11-20T09", 0),
        (3, "2026-11-20T10", 0),
        (4, "2026-11-20T11", 1),
    ]
    assert made[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(made):
        assert after.prev_hash == before.hash
    assert (result.anchored, result.empty, result.through) == (4, 2, "2026-11-20T11")
    assert (await audit_checks.verify_entity("Order", first.id)).anchored
    # The current hour (not over) waits for the next run.
    assert (await anchors.catch_up(START + timedelta(hours=4, minutes=59))).anchored == 0
    assert (await anchors.catch_up(START + timedelta(hours=5) + anchors.GRACE)).anchored == 1


async def test_catch_up_without_events_anchors_nothing(db) -> None:
    """QS 9.1.2: the anchor chain starts at the hour of the first event."""
    result = await anchors.catch_up(AFTER_HOUR)
    with pytest.raises(ServiceError) as refused:
        await anchors.anchor_period(HOUR, AFTER_HOUR)

    assert (result.anchored, result.through) == (0, None)
    assert refused.value.code == ErrorCode.INVALID_PERIOD
    assert await AuditAnchor.all().count() == 0


async def test_the_anchor_job_runs_once_per_hour_and_prints_its_progress(db) -> None:
    """QS 9.1.2: `pinzhi jobs run anchor` (hourly by cron) catches up under the JobRun lock."""
    await _completed_order_in_hour()
    lines: list[str] = []

    summary = await jobs.run("anchor", progress=lines.append, now=AFTER_HOUR)
    again = await jobs.run("anchor", progress=lines.append, now=AFTER_HOUR)

    assert summary is not None and again is None
    assert summary["anchored"] == 1 and summary["through"] == HOUR
    assert summary["hash"] == (await AuditAnchor.get(period=HOUR)).hash
    assert lines[0] == "anchor 2026-11-20T09: started"
    assert lines[1].startswith(f"  anchored {HOUR}: ")
    assert lines[-1] == "anchor 2026-11-20T09: already run, nothing to do"


# --- An untouched world ----------------------------------------------------------------------


async def test_an_untouched_world_verifies_clean(db) -> None:
    """QS 9.1.2: every chain matches its anchored head; the hour matches its anchor."""
    order = await _anchored_order()

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.checked, trail.problem, trail.anchored) == (True, 5, None, True)
    assert trail.anchored_through is not None
    assert (trail.anchored_through.period, trail.anchored_through.seq) == (HOUR, 5)
    assert period.valid and period.anchored and period.findings == [] and period.problems == []
    assert period.anchor is not None and period.events_digest == period.anchor.events_digest
    assert period.events_checked == period.anchor.event_count
    assert period.chains_checked == period.anchor.head_count


async def test_events_after_the_newest_anchor_wait_for_the_next_one(db) -> None:
    """QS 9.1.2: new events are valid but not anchored until the next hour's anchor."""
    order = await _anchored_order()
    await audit.append("Order", order.id, "noted", actor=None)

    trail = await audit_checks.verify_entity("Order", order.id)

    assert (trail.valid, trail.checked, trail.anchored) == (True, 6, False)
    assert trail.anchored_through is not None and trail.anchored_through.seq == 5


# --- Tampering, one way at a time ------------------------------------------------------------


async def test_tamper_edit_with_the_hash_left_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (edit): an event's data changed behind the server's back."""
    order = await _anchored_order()
    shipped = await AuditEvent.get(entity_type="Order", entity_id=order.id, seq=3)
    await AuditEvent.filter(id=shipped.id).update(data={"tracking_number": "FORGED"})

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.first_broken.seq) == (False, Problem.EDITED, 3)
    assert _problems(period) == [(Problem.EDITED, "Order", 3)]
    assert period.findings[0].found == shipped.hash
    assert period.events_digest != period.anchor.events_digest


async def _forge(order: Order, seq: int) -> AuditEvent:
    """Edit one event's data and recompute its own hash."""
    event = await AuditEvent.get(entity_type="Order", entity_id=order.id, seq=seq)
    event.data = {"tracking_number": "FORGED"}
    event.hash = audit.chain_hash(event.prev_hash, event)
    await event.save()
    return event


async def test_tamper_edit_with_the_hash_recomputed_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (edit): the forger recomputes the edited event's hash; the link of
    the next event breaks."""
    order = await _anchored_order()
    forged = await _forge(order, 3)

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.first_broken.seq) == (False, Problem.EDITED, 4)
    assert _problems(period) == [(Problem.EDITED, "Order", 4)]
    assert period.findings[0].expected == forged.hash


async def test_tamper_edit_of_the_newest_event_with_its_hash_recomputed_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (edit): no event follows the forged newest one, so the chain alone
    is fooled; its anchored head is not."""
    order = await _anchored_order()
    await _forge(order, 5)
    assert (await audit.verify("Order", order.id)).valid

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.first_broken.seq) == (False, Problem.REWRITTEN, 5)
    assert _problems(period) == [(Problem.REWRITTEN, "Order", 5)]


async def test_tamper_truncation_of_an_anchored_chain_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (truncate): the newest events of an anchored chain are deleted. The
    chain alone still verifies; the anchor's head shows what is gone."""
    order = await _anchored_order()
    head = (await audit.trail("Order", order.id))[-1]
    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq__gte=4).delete()
    assert (await audit.verify("Order", order.id)).valid

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.checked, trail.first_broken) == (
        False,
        Problem.TRUNCATED,
        3,
        None,
    )
    assert trail.anchored_through.seq == 5
    assert _problems(period) == [(Problem.TRUNCATED, "Order", 5)]
    assert period.findings[0].expected == head.hash


async def test_tamper_truncation_of_a_whole_chain_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (truncate): every event of an anchored chain is deleted."""
    order = await _anchored_order()
    await AuditEvent.filter(entity_type="Order", entity_id=order.id).delete()

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.checked) == (False, Problem.TRUNCATED, 0)
    assert _problems(period) == [(Problem.TRUNCATED, "Order", 5)]


async def test_tamper_rewriting_a_whole_chain_consistently_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (rewrite): the whole chain recomputed with changed data and
    consistent hashes. The chain alone verifies; its anchored head no longer matches."""
    order = await _anchored_order()

    def forge(event: AuditEvent) -> None:
        event.data = {**event.data, "note": "rewritten"}

    await f.rechain("Order", order.id, forge)
    assert (await audit.verify("Order", order.id)).valid

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.checked, trail.first_broken.seq) == (
        False,
        Problem.REWRITTEN,
        5,
        5,
    )
    assert _problems(period) == [(Problem.REWRITTEN, "Order", 5)]
    assert period.findings[0].found == (await audit.trail("Order", order.id))[-1].hash


async def test_tamper_rewriting_and_shortening_a_chain_is_detected(db) -> None:
    """QS 9.1.2: TAMPER (rewrite): a chain rebuilt shorter with consistent hashes."""
    order = await _anchored_order()
    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=5).delete()
    await f.rechain("Order", order.id, lambda e: e.data.update(forged=True))

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem) == (False, Problem.TRUNCATED)
    assert _problems(period) == [(Problem.TRUNCATED, "Order", 5)]


async def test_an_event_inserted_into_an_anchored_hour_is_detected(db) -> None:
    """QS 9.1.2: an event appended afterwards but stamped in an anchored hour was not in
    that hour's anchor."""
    order = await _anchored_order()
    await audit.append("Order", order.id, "refunded", actor=None)
    await f.rechain("Order", order.id, at=START)

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.first_broken.seq) == (False, Problem.INSERTED, 6)
    assert _problems(period) == [(Problem.INSERTED, "Order", 6)]


async def test_a_whole_chain_invented_for_an_anchored_hour_is_detected(db) -> None:
    """QS 9.1.2: a chain that no anchor ever recorded, backdated into an anchored hour."""
    await _anchored_order()
    await audit.append("Order", 999_999, "placed", actor=None, new=True)
    await f.rechain("Order", 999_999, at=START)

    trail = await audit_checks.verify_entity("Order", 999_999)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.valid, trail.problem, trail.anchored) == (False, Problem.INSERTED, False)
    assert _problems(period) == [(Problem.INSERTED, "Order", 1)]


async def test_deleting_a_middle_event_is_named_missing(db) -> None:
    """QS 9.1.2: a gap inside a chain, by the chain check and by the period check."""
    order = await _anchored_order()
    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=3).delete()

    trail = await audit_checks.verify_entity("Order", order.id)
    period = await audit_checks.verify_period(HOUR)

    assert (trail.problem, trail.first_broken.seq) == (Problem.MISSING, 4)
    assert _problems(period) == [(Problem.MISSING, "Order", 3)]


async def test_tampering_in_each_way_at_once_is_reported_per_chain(db) -> None:
    """QS 9.1.2: one period with an edited, a truncated and a rewritten chain reports all
    three, each on its chain, and the digest no longer matches."""
    w = await f.world()
    edited, _ = await f.paid_order(w)
    truncated, _ = await f.paid_order(w)
    rewritten, _ = await f.paid_order(w)
    await f.stamp_trail_in(START)
    await anchors.catch_up(AFTER_HOUR)

    await AuditEvent.filter(entity_type="Order", entity_id=edited.id, seq=1).update(action="x")
    await AuditEvent.filter(entity_type="Order", entity_id=truncated.id, seq=2).delete()
    await f.rechain("Order", rewritten.id, lambda e: e.data.update(forged=True))
    period = await audit_checks.verify_period(HOUR)

    assert sorted((x.problem, x.entity_id, x.seq) for x in period.findings) == sorted(
        [
            (Problem.EDITED, edited.id, 1),
            (Problem.TRUNCATED, truncated.id, 2),
            (Problem.REWRITTEN, rewritten.id, 2),
        ]
    )
    assert period.problems == [Problem.EDITED, Problem.TRUNCATED, Problem.REWRITTEN]
    assert not period.valid and period.finding_count == 3


# --- Tampering with the anchors --------------------------------------------------------------


async def _three_anchored_hours() -> list[AuditAnchor]:
    w = await f.world()
    await _completed_order_in_hour(w)
    later = await f.order(w.buyer, w.item)
    await f.rechain("Order", later.id, at=START + timedelta(hours=2))
    await anchors.catch_up(START + timedelta(hours=3) + anchors.GRACE)
    return list(await AuditAnchor.all().order_by("seq"))


async def test_a_tampered_anchor_row_is_detected(db) -> None:
    """QS 9.1.2: an anchor edited in place no longer matches its own hash."""
    first, *_ = await _three_anchored_hours()
    await AuditAnchor.filter(id=first.id).update(event_count=first.event_count - 1)

    period = await audit_checks.verify_period(HOUR)

    assert _problems(period) == [(Problem.ANCHOR_BROKEN, None, 1)]
    assert period.findings[0].found == first.hash


async def test_an_anchor_rehashed_after_tampering_breaks_the_next_link(db) -> None:
    """QS 9.1.2: a forger who recomputes an edited anchor's hash breaks the next anchor's
    link to it; the edited hour itself no longer matches its events."""
    first, second, _ = await _three_anchored_hours()
    first.events_digest = "f" * 64
    first.hash = anchors.anchor_hash(first)
    await first.save()

    assert _problems(await audit_checks.verify_period(HOUR)) == [(Problem.ANCHOR_BROKEN, None, 1)]
    following = await audit_checks.verify_period(second.period)
    assert _problems(following) == [(Problem.ANCHOR_BROKEN, None, 2)]
    assert (following.findings[0].expected, following.findings[0].found) == (
        first.hash,
        second.prev_hash,
    )


async def test_tampered_anchored_heads_are_detected(db) -> None:
    """QS 9.1.2: a chain rewritten together with its anchored head row still fails: the
    anchor's heads digest covers every head row."""
    order = await _anchored_order()
    rewritten = await f.rechain("Order", order.id, lambda e: e.data.update(forged=True))
    await AuditAnchorHead.filter(entity_type="Order", entity_id=order.id).update(
        hash=rewritten[-1].hash
    )

    period = await audit_checks.verify_period(HOUR)

    assert (await audit_checks.verify_entity("Order", order.id)).valid  # trusts the rows
    assert _problems(period) == [(Problem.ANCHOR_BROKEN, None, 1)]


async def test_a_deleted_anchor_is_reported_missing(db) -> None:
    """QS 9.1.2: an hour inside the anchored span without its anchor, and the anchor after
    the hole, both report it."""
    _, middle, last = await _three_anchored_hours()
    await AuditAnchorHead.filter(anchor_id=middle.id).delete()
    await AuditAnchor.filter(id=middle.id).delete()

    hole = await audit_checks.verify_period(middle.period)
    after = await audit_checks.verify_period(last.period)

    assert (hole.anchored, _problems(hole)) == (False, [(Problem.ANCHOR_MISSING, None, None)])
    assert _problems(after) == [(Problem.ANCHOR_MISSING, None, 2)]


async def test_a_period_not_yet_anchored_checks_its_events_only(db) -> None:
    """QS 9.1.2: an hour newer than the newest anchor is not a hole: it awaits the job."""
    await _three_anchored_hours()
    later = "2026-11-20T11"
    await audit.append("Order", 777_777, "placed", actor=None, new=True)
    await f.rechain("Order", 777_777, at=anchors.period_start(later))

    clean = await audit_checks.verify_period(later)
    await AuditEvent.filter(entity_id=777_777).update(action="forged")
    edited = await audit_checks.verify_period(later)

    assert (clean.anchored, clean.valid, clean.events_checked) == (False, True, 1)
    assert (edited.anchored, _problems(edited)) == (False, [(Problem.EDITED, "Order", 1)])


async def test_events_stamped_before_the_anchor_chain_began_are_inserted(db) -> None:
    """QS 9.1.2: the anchor chain starts at the first event's hour, so an event stamped
    earlier was added afterwards."""
    await _anchored_order()
    await audit.append("Order", 888_888, "placed", actor=None, new=True)
    await f.rechain("Order", 888_888, at=START - timedelta(hours=5))

    period = await audit_checks.verify_period(anchors.period_of(START - timedelta(hours=5)))

    assert _problems(period) == [(Problem.INSERTED, "Order", 1)]


async def test_period_findings_beyond_the_limit_are_counted(db, monkeypatch) -> None:
    """QS 9.1.2: a flood of findings is listed up to the limit and counted in full."""
    monkeypatch.setattr(audit_checks, "MAX_FINDINGS", 2)
    await _anchored_order()
    await AuditEvent.all().update(action="forged")

    period = await audit_checks.verify_period(HOUR)

    assert len(period.findings) == 2 and period.finding_count == period.events_checked > 5
    assert period.problems == [Problem.EDITED]


# --- Statements: fixed, or in proportion to the hour's events, never per entity --------------


async def _orders_in_second_hour(n: int) -> str:
    """``n`` paid orders in the hour after HOUR, and one event in HOUR before them."""
    w = await f.world()
    for _ in range(n):
        await f.paid_order(w)
    second = START + timedelta(hours=1)
    await f.stamp_trail_in(second)
    await audit.append("Order", 777_777, "placed", actor=None, new=True)
    await f.rechain("Order", 777_777, at=START)
    return anchors.period_of(second)


@pytest.mark.parametrize("n", [1, 4])
async def test_statements_do_not_grow_with_the_entities(db, n: int) -> None:
    """QS 9.1.2: anchoring hours and verifying one cost the same statements for one order
    as for four; verifying one entity costs three."""
    second = await _orders_in_second_hour(n)
    with count_sql() as anchoring:
        result = await anchors.catch_up(AFTER_HOUR + timedelta(hours=1))
    with count_sql() as period:
        checked = await audit_checks.verify_period(second)
    order = await Order.first()
    with count_sql() as entity:
        await audit_checks.verify_entity("Order", order.id)

    assert result.anchored == 2 and checked.valid and checked.chains_checked >= 2 * n
    # The newest anchor and the first event; then per hour its events, the anchor, the heads.
    assert anchoring.count == 2 + 2 * 3, anchoring.statements
    # The anchor, the hour's events, the anchor before it, the heads.
    assert period.count == 4, period.statements
    # The chain, its anchored heads, the newest anchor.
    assert entity.count == 3, entity.statements
