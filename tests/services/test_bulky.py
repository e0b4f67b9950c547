"""Bulky goods: delivery with installation appointments and trade-in (QS 9.7.5), every step
a state machine's move (QS 9.1.1) and a traced key node (QS 9.1.2), by the versioned
bulky_goods rule (QS 5.2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AuditEvent,
    InstallationAppointment,
    InstallationState,
    Order,
    OrderState,
    Payment,
    ProviderKind,
    Refund,
    RefundState,
    TradeIn,
    TradeInCondition,
    TradeInState,
)
from pinzhi.services import audit, bulky, orders, refunds, rules, state, trade_ins
from tests import factories as f
from tests.helpers import Clock

I = InstallationState  # noqa: E741
T = TradeInState


async def _refused(call, code: ErrorCode) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as raised:
        await call
    assert raised.value.code == code, raised.value
    return raised.value


async def _actions(entity: str, pk: int) -> list[str]:
    return [e.action for e in await audit.trail(entity, pk)]


async def _publish(change) -> None:  # type: ignore[no-untyped-def]
    """A new version of the bulky_goods rule, ``change`` applied to its content."""
    current = await rules.current(bulky.RULE_KEY)
    content = dict(current.content)
    change(content)
    await rules.publish(bulky.RULE_KEY, content, title_zh="大件", title_en="Bulky")


# --- The rule and the slot grid ------------------------------------------------------------


async def test_the_rule_is_published_and_names_the_bulky_categories(db) -> None:
    """QS 9.7.5, QS 5.2: what is bulky, the slots and the trade-in values are public data."""
    rule = await rules.current("bulky_goods")
    assert rule.version == 1
    assert rule.content["categories"] == ["furniture", "large_appliances"]
    assert rule.content["installation"]["slot_hours"] == 2
    assert rule.content["trade_in"]["credit_minor"] == {
        "furniture": 20000,
        "large_appliances": 30000,
    }


def test_the_slot_grid_is_two_hours_on_the_hour_from_eight_to_twenty_local() -> None:
    """QS 9.7.5: slots start at 08, 10, ..., 18 local time (UTC+8) and last two hours."""
    [bulky_goods] = [r for r in rules.DEFAULT_RULES if r["key"] == "bulky_goods"]
    installation = bulky_goods["content"]["installation"]
    day = datetime(2026, 12, 10, tzinfo=UTC) - timedelta(hours=8)  # local midnight
    for hour in (8, 10, 12, 14, 16, 18):
        start = day + timedelta(hours=hour)
        assert bulky.slot_end(start, installation) == start + timedelta(hours=2)
    for start in (
        day + timedelta(hours=9),  # off the grid
        day + timedelta(hours=6),  # before the first slot
        day + timedelta(hours=20),  # the last slot ends at 20:00
        day + timedelta(hours=10, minutes=30),
        day + timedelta(hours=10, seconds=1),
    ):
        with pytest.raises(ServiceError) as raised:
            bulky.slot_end(start, installation)
        assert raised.value.code == ErrorCode.INVALID_SLOT


def test_open_slots_lie_on_the_grid_inside_the_booking_window() -> None:
    """QS 9.7.5: what installationSlots lists can each be booked: 1 to 14 days ahead."""
    [bulky_goods] = [r for r in rules.DEFAULT_RULES if r["key"] == "bulky_goods"]
    installation = bulky_goods["content"]["installation"]
    now = datetime(2026, 12, 1, 3, 17, 5, tzinfo=UTC)
    found = bulky.open_slots(now, installation)
    # 11:17 local: from 12:00 a day later to 10:00 fourteen days later, 13 days of 6 slots.
    assert len(found) == 13 * 6
    assert found[0][0] == datetime(2026, 12, 2, 4, tzinfo=UTC)  # 12:00 local
    assert found[-1][0] == datetime(2026, 12, 15, 2, tzinfo=UTC)  # 10:00 local
    for start, end in found:
        assert bulky.slot_end(start, installation) == end
        bulky.check_window(start, now, installation, None)
    assert found == sorted(found)


# --- Booking --------------------------------------------------------------------------------


async def test_a_consumer_books_a_slot_for_a_bulky_line_of_a_paid_order(db, clock) -> None:
    """QS 9.7.5: PROPOSED, the rule version stored, the first key node traced; no visitor
    yet (the order has not shipped)."""
    w = await f.world()
    order, line = await f.bulky_order(w)
    start = f.slot(clock.at)

    booked = await f.installation(w, line.id, start, "三楼，无电梯 / third floor, no lift")

    row = await InstallationAppointment.get(id=booked.id)
    assert (row.state, row.category, row.provider_id) == (I.PROPOSED, "furniture", None)
    assert (row.slot_start, row.slot_end) == (start, start + timedelta(hours=2))
    assert row.rule_version == 1 and row.order_id == order.id
    assert (row.consumer_id, row.merchant_id) == (w.buyer.account.id, w.shop.id)
    assert await _actions("InstallationAppointment", row.id) == ["booked"]


async def test_a_shipped_orders_carrier_is_the_visitor_from_the_start(db, clock) -> None:
    """QS 9.7.5: delivery with installation: the order's carrier visits."""
    w = await f.world()
    _, line = await f.bulky_order(w, "shipped")
    booked = await f.installation(w, line.id, f.slot(clock.at))
    assert booked.provider_id == w.carrier.id


async def test_a_non_bulky_product_is_refused(db, clock) -> None:
    """QS 9.7.5: installation and trade-in are for the rule's bulky categories only; a food
    order line is refused NOT_BULKY and nothing is created."""
    w = await f.world()
    order, _ = await f.paid_order(w)
    line = await order.lines.all().first()
    assert line is not None
    await _refused(f.installation(w, line.id, f.slot(clock.at)), ErrorCode.NOT_BULKY)
    await _refused(f.trade_in(w, line.id), ErrorCode.NOT_BULKY)
    assert await InstallationAppointment.all().count() == 0
    assert await TradeIn.all().count() == 0


async def test_a_category_without_installation_in_the_rule_is_refused(db, clock) -> None:
    """QS 9.7.5, QS 5.2: whether delivery includes installation is the rule's, by category."""
    w = await f.world()
    _, line = await f.bulky_order(w, category="large_appliances")

    def no_appliance_installation(content: dict) -> None:
        content["installation"] = {
            **content["installation"],
            "included": {"furniture": True, "large_appliances": False},
        }

    await _publish(no_appliance_installation)
    await _refused(f.installation(w, line.id, f.slot(clock.at)), ErrorCode.INSTALLATION_NOT_OFFERED)


async def test_an_unpaid_order_and_another_consumers_line_are_refused(db, clock) -> None:
    w = await f.world()
    _, unpaid = await f.bulky_order(w, "placed")
    await _refused(f.installation(w, unpaid.id, f.slot(clock.at)), ErrorCode.ILLEGAL_TRANSITION)
    _, line = await f.bulky_order(w)
    with pytest.raises(ServiceError) as raised:
        await bulky.book(w.other_buyer.viewer, line.id, f.slot(clock.at))
    assert (raised.value.code, raised.value.field) == (ErrorCode.NOT_FOUND, ["orderLineId"])


# The booking window: at least one day, at most fourteen days ahead (both ends included).
WINDOW = [
    ("one second more than a day ahead", timedelta(days=1, seconds=1), None),
    ("exactly a day ahead", timedelta(days=1), None),
    ("one second short of a day ahead", timedelta(days=1, seconds=-1), "too soon"),
    ("one second short of fourteen days ahead", timedelta(days=14, seconds=-1), None),
    ("exactly fourteen days ahead", timedelta(days=14), None),
    ("one second more than fourteen days ahead", timedelta(days=14, seconds=1), "too far"),
]


@pytest.mark.parametrize(("name", "ahead", "refusal"), WINDOW, ids=[w[0] for w in WINDOW])
async def test_a_slot_is_booked_one_to_fourteen_days_ahead(
    db, clock: Clock, name: str, ahead: timedelta, refusal: str | None
) -> None:
    """QS 9.7.5: the booking window's boundaries, one second inside and outside each."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    start = f.slot(clock.at, days=20)
    clock.at = start - ahead

    if refusal is None:
        booked = await f.installation(w, line.id, start)
        assert booked.state == I.PROPOSED
    else:
        error = await _refused(f.installation(w, line.id, start), ErrorCode.SLOT_OUT_OF_RANGE)
        assert refusal in error.detail and error.field == ["slotStart"]
        assert await InstallationAppointment.all().count() == 0


async def test_once_delivered_a_slot_must_start_within_the_installation_days(
    db, clock: Clock
) -> None:
    """QS 9.7.5: installed within seven days of delivery: a later slot is refused."""
    w = await f.world()
    order, line = await f.bulky_order(w, "delivered")
    assert order.delivered_at is not None
    deadline = order.delivered_at + timedelta(days=7)
    late = f.slot(deadline, days=0)
    error = await _refused(f.installation(w, line.id, late), ErrorCode.SLOT_OUT_OF_RANGE)
    assert "deadline" in error.detail
    booked = await f.installation(w, line.id, late - timedelta(days=1))
    assert booked.provider_id == w.carrier.id


async def test_one_live_appointment_per_line(db, clock) -> None:
    """QS 9.7.5: a second booking on the line is refused until the first is cancelled."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    first = await f.installation(w, line.id, f.slot(clock.at))
    await _refused(
        f.installation(w, line.id, f.slot(clock.at, days=3)), ErrorCode.APPOINTMENT_EXISTS
    )
    await bulky.cancel(w.buyer.viewer, first.id, "改天 / another day")
    again = await f.installation(w, line.id, f.slot(clock.at, days=3))
    assert again.state == I.PROPOSED
    assert (await InstallationAppointment.get(id=first.id)).state == I.CANCELLED


# --- Rescheduling -----------------------------------------------------------------------------

CUTOFF = [
    ("one second before the cut-off", timedelta(hours=24, seconds=1), None),
    ("at the cut-off", timedelta(hours=24), None),
    ("one second after the cut-off", timedelta(hours=24, seconds=-1), "cut-off"),
]


@pytest.mark.parametrize(("name", "before", "refusal"), CUTOFF, ids=[c[0] for c in CUTOFF])
async def test_a_slot_is_moved_until_the_cut_off_before_it(
    db, clock: Clock, name: str, before: timedelta, refusal: str | None
) -> None:
    """QS 9.7.5: rescheduling is allowed until 24 hours before the slot, not a second
    later; a refusal leaves the appointment as it was."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    start = f.slot(clock.at, days=3)
    booked = await f.installation(w, line.id, start)
    new_start = start + timedelta(days=2)
    clock.at = start - before

    if refusal is None:
        moved = await bulky.reschedule(w.buyer.viewer, booked.id, new_start)
        assert (moved.slot_start, moved.reschedules) == (new_start, 1)
    else:
        error = await _refused(
            bulky.reschedule(w.buyer.viewer, booked.id, new_start), ErrorCode.RESCHEDULE_CLOSED
        )
        assert refusal in error.detail
        row = await InstallationAppointment.get(id=booked.id)
        assert (row.slot_start, row.reschedules) == (start, 0)


async def test_a_confirmed_slot_moved_needs_confirming_again(db, clock) -> None:
    """QS 9.1.1: CONFIRMED → RESCHEDULED → CONFIRMED; a proposal moved stays PROPOSED, its
    change traced; the rule's three reschedules, then RESCHEDULE_CLOSED."""
    w = await f.world()
    _, line = await f.bulky_order(w, "shipped")
    start = f.slot(clock.at, days=5)
    booked = await f.installation(w, line.id, start)

    proposed = await bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(hours=2))
    assert proposed.state == I.PROPOSED
    await bulky.confirm(w.carrier_actor.viewer, booked.id)
    moved = await bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(days=1))
    assert (moved.state, moved.confirmed_at) == (I.RESCHEDULED, None)
    confirmed = await bulky.confirm(w.seller.viewer, booked.id)
    assert confirmed.state == I.CONFIRMED and confirmed.confirmed_at is not None
    await bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(days=2))
    await _refused(
        bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(days=3)),
        ErrorCode.RESCHEDULE_CLOSED,
    )
    assert await _actions("InstallationAppointment", booked.id) == [
        "booked",
        "rescheduled",
        "confirmed",
        "rescheduled",
        "confirmed",
        "rescheduled",
    ]
    events = await AuditEvent.filter(
        entity_type="InstallationAppointment", entity_id=booked.id
    ).order_by("seq")
    assert (await audit.verify("InstallationAppointment", booked.id)).valid
    # The proposal moved is no move (no to-state); the confirmed slot moved is.
    moves = [e.to_state for e in events if e.action == "rescheduled"]
    assert moves == ["", "RESCHEDULED", "RESCHEDULED"]


async def test_a_moved_slot_keeps_to_the_grid_and_the_window(db, clock) -> None:
    w = await f.world()
    _, line = await f.bulky_order(w)
    start = f.slot(clock.at, days=3)
    booked = await f.installation(w, line.id, start)
    await _refused(
        bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(hours=1)),
        ErrorCode.INVALID_SLOT,
    )
    await _refused(
        bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(days=15)),
        ErrorCode.SLOT_OUT_OF_RANGE,
    )
    await _refused(bulky.reschedule(w.buyer.viewer, booked.id, start), ErrorCode.INVALID_INPUT)


# --- Confirmation and the visit -----------------------------------------------------------------


async def test_before_shipment_the_merchant_names_the_visitor(db, clock) -> None:
    """QS 9.7.5: before the order ships no carrier is known: the merchant names a
    logistics provider (not a payment one); a carrier may not name one."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    booked = await f.installation(w, line.id, f.slot(clock.at))
    error = await _refused(bulky.confirm(w.seller.viewer, booked.id), ErrorCode.INVALID_INPUT)
    assert error.field == ["providerId"]
    await _refused(
        bulky.confirm(w.seller.viewer, booked.id, w.payer.id), ErrorCode.WRONG_PROVIDER_KIND
    )
    # The carrier is not yet assigned: the appointment is not in its scope.
    await _refused(bulky.confirm(w.carrier_actor.viewer, booked.id), ErrorCode.NOT_FOUND)

    confirmed = await bulky.confirm(w.seller.viewer, booked.id, w.other_carrier.id)

    assert (confirmed.state, confirmed.provider_id) == (I.CONFIRMED, w.other_carrier.id)


async def test_a_carrier_confirms_but_does_not_name_another(db, clock) -> None:
    w = await f.world()
    _, line = await f.bulky_order(w, "shipped")
    booked = await f.installation(w, line.id, f.slot(clock.at))
    await _refused(
        bulky.confirm(w.carrier_actor.viewer, booked.id, w.other_carrier.id),
        ErrorCode.NOT_ELIGIBLE,
    )
    assert (await bulky.confirm(w.carrier_actor.viewer, booked.id)).state == I.CONFIRMED
    await _refused(bulky.confirm(w.seller.viewer, booked.id), ErrorCode.ILLEGAL_TRANSITION)


async def _confirmed(w: f.World, clock: Clock, stage: str = "shipped"):  # type: ignore[no-untyped-def]
    order, line = await f.bulky_order(w, stage)
    start = f.slot(clock.at)
    booked = await f.installation(w, line.id, start)
    await bulky.confirm(w.seller.viewer, booked.id, w.carrier.id)
    return order, booked, start


async def test_the_visit_is_recorded_once_its_slot_has_begun(db, clock: Clock) -> None:
    """QS 9.7.5: one second before the slot the visit is not due; at its start, with the
    goods delivered, the carrier records it COMPLETED and on time."""
    w = await f.world()
    order, booked, start = await _confirmed(w, clock)
    clock.at = start - timedelta(seconds=1)
    await _refused(bulky.complete(w.carrier_actor.viewer, booked.id), ErrorCode.VISIT_NOT_DUE)
    clock.at = start
    await _refused(bulky.complete(w.carrier_actor.viewer, booked.id), ErrorCode.NOT_DELIVERED)
    await f.deliver_shipped(w, order)

    done = await bulky.complete(w.carrier_actor.viewer, booked.id, "已安装调试 / installed")

    assert (done.state, done.on_time, done.completed_at) == (I.COMPLETED, True, start)
    assert done.outcome_note == "已安装调试 / installed"
    await _refused(bulky.cancel(w.buyer.viewer, booked.id), ErrorCode.ILLEGAL_TRANSITION)
    assert await _actions("InstallationAppointment", booked.id) == [
        "booked",
        "confirmed",
        "completed",
    ]


async def test_an_installation_after_the_rules_days_is_not_on_time(db, clock: Clock) -> None:
    """QS 9.7.5: completed more than seven days after delivery: recorded, not on time."""
    w = await f.world()
    order, booked, _ = await _confirmed(w, clock)
    await f.deliver_shipped(w, order)
    delivered_at = (await Order.get(id=order.id)).delivered_at
    assert delivered_at is not None
    clock.at = delivered_at + timedelta(days=7, seconds=1)
    done = await bulky.complete(w.seller.viewer, booked.id)
    assert done.on_time is False


async def test_a_missed_visit_is_recorded_and_a_new_slot_booked(db, clock: Clock) -> None:
    w = await f.world()
    _, booked, start = await _confirmed(w, clock)
    clock.at = start + timedelta(hours=1)
    await _refused(
        bulky.record_missed(w.carrier_actor.viewer, booked.id, "x"), ErrorCode.INVALID_INPUT
    )
    missed = await bulky.record_missed(w.carrier_actor.viewer, booked.id, "无人在家 / no one home")
    assert (missed.state, missed.outcome_note) == (I.MISSED, "无人在家 / no one home")
    again = await f.installation(w, booked.order_line_id, f.slot(clock.at))
    assert again.state == I.PROPOSED


async def test_another_consumer_merchant_or_carrier_sees_and_does_nothing(db, clock) -> None:
    """QS 9.4.1, QS 9.7.5: appointments and trade-ins are scoped to their consumer, their
    merchant and the assigned carrier; for anyone else they do not exist."""
    from pinzhi.auth.scopes import scope
    from pinzhi.auth.viewer import Viewer
    from pinzhi.services.lookup import get_visible

    w = await f.world()
    _, booked, _ = await _confirmed(w, clock)
    offered = await f.trade_in(w, booked.order_line_id)
    await trade_ins.accept(w.seller.viewer, offered.id)
    other_carrier = await f.provider_actor(w.other_carrier)
    outsiders: list[Viewer] = [
        w.other_buyer.viewer,
        w.other_seller.viewer,
        other_carrier.viewer,
        w.payer_actor.viewer,
        (await f.compliance_officer()).viewer,
    ]
    for viewer in outsiders:
        assert await scope(viewer, InstallationAppointment).count() == 0, viewer
        assert await scope(viewer, TradeIn).count() == 0, viewer
    insiders = [w.buyer.viewer, w.seller.viewer, w.carrier_actor.viewer, w.agent.viewer]
    for viewer in [*insiders, w.regulator.viewer]:
        assert await scope(viewer, InstallationAppointment).count() == 1, viewer
        assert await scope(viewer, TradeIn).count() == 1, viewer
    await _refused(
        bulky.reschedule(w.other_buyer.viewer, booked.id, booked.slot_start + timedelta(days=1)),
        ErrorCode.NOT_FOUND,
    )
    await _refused(bulky.confirm(w.other_seller.viewer, booked.id), ErrorCode.NOT_FOUND)
    await _refused(
        trade_ins.record_collected(other_carrier.viewer, offered.id, "EV-X", clock.at),
        ErrorCode.NOT_FOUND,
    )
    await _refused(trade_ins.cancel(w.other_buyer.viewer, offered.id), ErrorCode.NOT_FOUND)
    with pytest.raises(ServiceError):
        await get_visible(w.other_seller.viewer, TradeIn, offered.id, "tradeInId")
    assert (await TradeIn.get(id=offered.id)).state == T.SCHEDULED


# --- Trade-in ---------------------------------------------------------------------------------

VALUES = [
    # (condition, line price, expected credit): the category's credit times the condition's
    # share, at most 30% of the line's price.
    ("WORKING", 300000, 20000),
    ("WORN", 300000, 12000),
    ("BROKEN", 300000, 4000),
    ("WORKING", 50000, 15000),
    ("WORN", 40000, 12000),
]


@pytest.mark.parametrize(("condition", "price", "credit"), VALUES)
async def test_a_trade_in_is_valued_by_the_rule_when_asked(
    db, condition: str, price: int, credit: int
) -> None:
    """QS 9.7.5: a fixed credit per category by condition, capped at a share of the line."""
    w = await f.world()
    _, line = await f.bulky_order(w, price=price)
    asked = await f.trade_in(w, line.id, condition)
    row = await TradeIn.get(id=asked.id)
    assert (row.state, row.value_minor, row.currency) == (T.REQUESTED, credit, "CNY")
    assert (row.category, row.condition, row.rule_version) == ("furniture", condition, 1)
    assert await _actions("TradeIn", row.id) == ["requested"]


async def test_a_bulky_category_without_a_trade_in_credit_is_not_accepted(db) -> None:
    w = await f.world()

    def mattresses_are_bulky(content: dict) -> None:
        content["categories"] = [*content["categories"], "mattresses"]

    await _publish(mattresses_are_bulky)
    _, line = await f.bulky_order(w, category="mattresses")
    await _refused(f.trade_in(w, line.id), ErrorCode.TRADE_IN_NOT_ACCEPTED)


async def test_a_trade_in_is_asked_after_payment_and_before_delivery(db) -> None:
    """QS 9.7.5: at order time (paid) or before delivery (shipped), not after."""
    w = await f.world()
    for stage, allowed in [("placed", False), ("paid", True), ("shipped", True)]:
        _, line = await f.bulky_order(w, stage)
        if allowed:
            assert (await f.trade_in(w, line.id)).state == T.REQUESTED
        else:
            await _refused(f.trade_in(w, line.id), ErrorCode.ILLEGAL_TRANSITION)
    _, delivered = await f.bulky_order(w, "delivered")
    await _refused(f.trade_in(w, delivered.id), ErrorCode.TRADE_IN_TOO_LATE)


async def test_one_live_trade_in_per_line(db) -> None:
    w = await f.world()
    _, line = await f.bulky_order(w)
    first = await f.trade_in(w, line.id)
    await _refused(f.trade_in(w, line.id, "WORN"), ErrorCode.TRADE_IN_EXISTS)
    await trade_ins.cancel(w.buyer.viewer, first.id)
    assert (await f.trade_in(w, line.id, "WORN")).value_minor == 12000


async def _collectable(w: f.World, stage: str = "shipped") -> tuple[Order, TradeIn]:
    order, line = await f.bulky_order(w, stage)
    asked = await f.trade_in(w, line.id)
    accepted = await trade_ins.accept(w.seller.viewer, asked.id)
    assert (accepted.state, accepted.provider_id) == (T.SCHEDULED, w.carrier.id)
    return order, accepted


async def test_collected_then_credited_by_the_refund_provider(db, clock: Clock) -> None:
    """QS 9.7.5: the carrier collects the old item; its credit is asked as a refund on the
    order's payment, keyed by the trade-in; when the provider reports it done the trade-in
    is CREDITED and the payment carries the credit."""
    w = await f.world()
    order, accepted = await _collectable(w)

    collected, replayed = await trade_ins.record_collected(
        w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at
    )

    assert (collected.state, replayed, collected.collection_event_id) == (
        T.COLLECTED,
        False,
        "PICK-1",
    )
    refund = await Refund.get(trade_in_id=accepted.id)
    assert (refund.state, refund.amount_minor, refund.order_id) == (
        RefundState.REQUESTED,
        20000,
        order.id,
    )
    assert refund.idempotency_key == f"trade-in:{accepted.id}:1"
    assert (await Payment.get(order_id=order.id)).refunded_minor == 20000

    await f.confirm_refunds(w)

    row = await TradeIn.get(id=accepted.id)
    assert row.state == T.CREDITED and row.credited_at == clock.at
    assert await _actions("TradeIn", row.id) == [
        "requested",
        "scheduled",
        "collected",
        "credit_asked",
        "credited",
    ]
    assert (await audit.verify("TradeIn", row.id)).valid


async def test_a_replayed_collection_credits_once(db, clock: Clock) -> None:
    """QS 9.7.5: the carrier's report sent again (the same event, or another device's)
    changes nothing: one collection, one refund, one credit."""
    w = await f.world()
    _, accepted = await _collectable(w)
    await trade_ins.record_collected(w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at)
    for event_id in ("PICK-1", "PICK-2"):
        again, replayed = await trade_ins.record_collected(
            w.carrier_actor.viewer, accepted.id, event_id, clock.at
        )
        assert (again.state, again.collection_event_id, replayed) == (
            T.COLLECTED,
            "PICK-1",
            True,
        )
    await f.confirm_refunds(w)
    again, replayed = await trade_ins.record_collected(
        w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at
    )
    assert (again.state, replayed) == (T.CREDITED, True)
    assert await Refund.filter(trade_in_id=accepted.id).count() == 1
    actions = await _actions("TradeIn", accepted.id)
    assert actions.count("collected") == 1 and actions.count("credited") == 1


async def test_two_collection_reports_at_once_credit_once(db, clock: Clock) -> None:
    """QS 9.7.5, QS 9.6.2: two reports racing (a replay and a second device): exactly one
    records the collection and asks the credit; on PostgreSQL the order's row lock
    contends for real."""
    w = await f.world()
    order, accepted = await _collectable(w)
    second = await f.provider_actor(w.carrier)

    results = await asyncio.gather(
        trade_ins.record_collected(w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at),
        trade_ins.record_collected(second.viewer, accepted.id, "PICK-1", clock.at),
        trade_ins.record_collected(second.viewer, accepted.id, "PICK-2", clock.at),
        return_exceptions=True,
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(replayed for _, replayed in results) == [False, True, True]
    assert await Refund.filter(trade_in_id=accepted.id).count() == 1
    assert (await Payment.get(order_id=order.id)).refunded_minor == 20000
    await f.confirm_refunds(w)
    assert (await TradeIn.get(id=accepted.id)).state == T.CREDITED
    actions = await _actions("TradeIn", accepted.id)
    assert actions.count("collected") == 1 and actions.count("credited") == 1


async def test_a_replayed_refund_report_credits_once(db, clock: Clock) -> None:
    """QS 9.7.5: the payment provider's report repeated is answered as it was; the
    trade-in was credited once."""
    w = await f.world()
    _, accepted = await _collectable(w)
    await trade_ins.record_collected(w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at)
    refund = await Refund.get(trade_in_id=accepted.id)
    await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, "RF-1")
    _, replayed = await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, "RF-1")
    assert replayed is True
    assert (await _actions("TradeIn", accepted.id)).count("credited") == 1


async def test_a_failed_credit_is_asked_again_by_customer_service(db, clock: Clock) -> None:
    """QS 9.7.5: a failed refund leaves the trade-in COLLECTED (the hold released); staff
    ask again with the next attempt's key, never while one is under way."""
    w = await f.world()
    order, accepted = await _collectable(w)
    await trade_ins.record_collected(w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at)
    await _refused(
        trade_ins.retry_credit(w.agent.viewer, accepted.id), ErrorCode.ILLEGAL_TRANSITION
    )
    await f.confirm_refunds(w, succeeded=False)
    assert (await TradeIn.get(id=accepted.id)).state == T.COLLECTED
    assert (await Payment.get(order_id=order.id)).refunded_minor == 0

    await trade_ins.retry_credit(w.agent.viewer, accepted.id)

    keys = (
        await Refund.filter(trade_in_id=accepted.id)
        .order_by("id")
        .values_list("idempotency_key", flat=True)
    )
    assert keys == [f"trade-in:{accepted.id}:1", f"trade-in:{accepted.id}:2"]
    await f.confirm_refunds(w)
    assert (await TradeIn.get(id=accepted.id)).state == T.CREDITED
    await _refused(
        trade_ins.retry_credit(w.agent.viewer, accepted.id), ErrorCode.ILLEGAL_TRANSITION
    )


async def test_a_credit_the_payment_cannot_cover_is_deferred(db, clock: Clock) -> None:
    """QS 9.7.5: everything was refunded before the pick-up: the collection is recorded,
    the credit deferred (traced), and asking again is refused until it can be paid."""
    w = await f.world()
    order, accepted = await _collectable(w)
    payment = await Payment.get(order_id=order.id)
    await refunds.refund_payment(
        w.seller.viewer, payment.id, payment.amount_minor, "全额退款 full refund", "rf-full-001"
    )

    collected, _ = await trade_ins.record_collected(
        w.carrier_actor.viewer, accepted.id, "PICK-1", clock.at
    )

    assert collected.state == T.COLLECTED
    assert not await Refund.filter(trade_in_id=accepted.id).exists()
    assert (await _actions("TradeIn", accepted.id))[-1] == "credit_deferred"
    await _refused(
        trade_ins.retry_credit(w.agent.viewer, accepted.id), ErrorCode.AMOUNT_NOT_REFUNDABLE
    )


async def test_rejected_by_the_merchant_or_refused_at_the_door(db, clock: Clock) -> None:
    """QS 9.7.5: the merchant may decline; the visiting carrier may refuse an item that is
    not as declared; the consumer may cancel before collection, not after."""
    w = await f.world()
    _, line = await f.bulky_order(w, "shipped")
    declined = await trade_ins.reject(
        w.seller.viewer, (await f.trade_in(w, line.id)).id, "型号不符 / wrong model"
    )
    assert (declined.state, declined.decision_note) == (T.REJECTED, "型号不符 / wrong model")
    _, at_door = await _collectable(w)
    refused = await trade_ins.reject(w.carrier_actor.viewer, at_door.id, "严重损坏 / wrecked")
    assert refused.state == T.REJECTED
    _, kept = await _collectable(w)
    await trade_ins.record_collected(w.carrier_actor.viewer, kept.id, "PICK-9", clock.at)
    await _refused(trade_ins.cancel(w.buyer.viewer, kept.id), ErrorCode.ILLEGAL_TRANSITION)
    await _refused(
        trade_ins.reject(w.seller.viewer, kept.id, "太晚了 / too late"),
        ErrorCode.ILLEGAL_TRANSITION,
    )


async def test_before_shipment_the_merchant_names_the_collector(db, clock: Clock) -> None:
    """QS 9.7.5: the pick-up rides with the delivery: the order must be on its way before
    the old item is collected."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    asked = await f.trade_in(w, line.id)
    await _refused(trade_ins.accept(w.seller.viewer, asked.id), ErrorCode.INVALID_INPUT)
    accepted = await trade_ins.accept(w.seller.viewer, asked.id, w.carrier.id)
    assert accepted.provider_id == w.carrier.id
    await _refused(
        trade_ins.record_collected(w.carrier_actor.viewer, asked.id, "PICK-0", clock.at),
        ErrorCode.NOT_DELIVERED,
    )
    await _refused(
        trade_ins.record_collected(
            w.carrier_actor.viewer, asked.id, "PICK-0", clock.at + timedelta(minutes=6)
        ),
        ErrorCode.INVALID_INPUT,
    )


async def test_only_logistics_providers_collect_and_only_staff_retry(db, clock) -> None:
    """The policy table (auth/policy.py) is read by the services too."""
    w = await f.world()
    _, accepted = await _collectable(w)
    _, payer, _ = await f.provider(ProviderKind.PAYMENT)
    await _refused(
        trade_ins.record_collected(payer.viewer, accepted.id, "PICK-1", clock.at),
        ErrorCode.NOT_ELIGIBLE,
    )
    await _refused(trade_ins.retry_credit(w.seller.viewer, accepted.id), ErrorCode.NOT_ELIGIBLE)
    await _refused(
        bulky.book(w.seller.viewer, accepted.order_line_id, clock.at), ErrorCode.NOT_ELIGIBLE
    )


async def test_a_cancelled_orders_appointment_and_trade_in_go_no_further(db, clock: Clock) -> None:
    """An order cancelled before shipment is refunded in full: its slot is neither
    confirmed nor moved, its trade-in neither accepted nor collected (it never ships)."""
    w = await f.world()
    order, line = await f.bulky_order(w)
    start = f.slot(clock.at)
    booked = await f.installation(w, line.id, start)
    scheduled = await trade_ins.accept(
        w.seller.viewer, (await f.trade_in(w, line.id)).id, w.carrier.id
    )
    await orders.cancel_order(w.buyer.viewer, order.id, "不要了 / changed my mind")
    await f.confirm_refunds(w)
    assert (await Order.get(id=order.id)).state == OrderState.CANCELLED

    error = await _refused(
        bulky.confirm(w.seller.viewer, booked.id, w.carrier.id), ErrorCode.ILLEGAL_TRANSITION
    )
    assert error.detail == "the order is cancelled"
    await _refused(
        bulky.reschedule(w.buyer.viewer, booked.id, start + timedelta(days=1)),
        ErrorCode.ILLEGAL_TRANSITION,
    )
    await _refused(
        trade_ins.record_collected(w.carrier_actor.viewer, scheduled.id, "PICK-1", clock.at),
        ErrorCode.NOT_DELIVERED,
    )
    _, other_line = await f.bulky_order(w)
    asked = await f.trade_in(w, other_line.id)
    await orders.cancel_order(w.buyer.viewer, asked.order_id, "不要了 / changed my mind")
    error = await _refused(
        trade_ins.accept(w.seller.viewer, asked.id, w.carrier.id), ErrorCode.ILLEGAL_TRANSITION
    )
    assert error.detail == "the order is cancelled"
    assert (await InstallationAppointment.get(id=booked.id)).state == I.PROPOSED


def test_the_machines_have_every_state_and_no_self_loops() -> None:
    """QS 9.1.1: every state is covered; no self-loops (a repeat is not a move)."""
    for model, states in ((InstallationAppointment, I), (TradeIn, T)):
        table = state.TRANSITIONS[model]
        assert set(table) == set(states)
        for current, targets in table.items():
            assert current not in targets and targets <= set(states)
    assert state.TRANSITIONS[TradeIn][T.COLLECTED] == {T.CREDITED}
    assert state.INITIAL[TradeIn] == T.REQUESTED
    assert state.INITIAL[InstallationAppointment] == I.PROPOSED
    assert TradeInCondition("WORN") == "WORN"
