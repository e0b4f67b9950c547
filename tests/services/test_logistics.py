"""Shipping orders and recording tracking events, called on the service directly
(QS 9.1.1, 9.6.2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AuditEvent,
    Order,
    OrderState,
    ProviderKind,
    Shipment,
    ShipmentState,
    TrackingEvent,
)
from pinzhi.services import audit, logistics, orders
from tests import factories as f


def _now() -> datetime:
    return datetime.now(UTC)


async def _audit_count() -> int:
    return await AuditEvent.all().count()


async def test_ship_paid_order_creates_shipment_and_traces_both(db) -> None:
    """QS 9.1.1, 9.1.2: shipping moves the order to SHIPPED and creates the shipment."""
    w = await f.world()
    paid, _ = await f.paid_order(w)

    shipment = await logistics.ship_order(w.seller.viewer, paid.id, w.carrier.id, " SF-12345 ")

    assert shipment.state == ShipmentState.CREATED
    assert shipment.tracking_number == "SF-12345"
    assert shipment.order_id == paid.id and shipment.provider_id == w.carrier.id
    order = await Order.get(id=paid.id)
    assert order.state == OrderState.SHIPPED and order.shipped_at is not None
    assert [e.action for e in await audit.trail("Order", paid.id)] == ["placed", "paid", "shipped"]
    assert [e.action for e in await audit.trail("Shipment", shipment.id)] == ["created"]


async def test_shipping_an_unpaid_order_is_illegal(db) -> None:
    """QS 9.1.1: no shipment before payment; nothing is created."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    before = await _audit_count()

    with pytest.raises(ServiceError) as raised:
        await logistics.ship_order(w.seller.viewer, placed.id, w.carrier.id, "SF00000001")

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.field == ["orderId"]
    assert (await Order.get(id=placed.id)).state == OrderState.PENDING_PAYMENT
    assert await Shipment.all().count() == 0
    assert await _audit_count() == before


async def test_shipping_another_shops_order_is_not_found(db) -> None:
    """QS 9.1.1: a merchant ships only its own orders."""
    w = await f.world()
    paid, _ = await f.paid_order(w)

    with pytest.raises(ServiceError) as raised:
        await logistics.ship_order(w.other_seller.viewer, paid.id, w.carrier.id, "SF00000002")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert (await Order.get(id=paid.id)).state == OrderState.PAID
    assert await Shipment.all().count() == 0


async def test_payment_provider_cannot_carry(db) -> None:
    """QS 9.1.1: the carrier must be a LOGISTICS provider."""
    w = await f.world()
    paid, _ = await f.paid_order(w)

    with pytest.raises(ServiceError) as raised:
        await logistics.ship_order(w.seller.viewer, paid.id, w.payer.id, "SF00000003")

    assert raised.value.code == ErrorCode.WRONG_PROVIDER_KIND
    assert raised.value.field == ["providerId"]
    assert (await Order.get(id=paid.id)).state == OrderState.PAID
    assert await Shipment.all().count() == 0


@pytest.mark.parametrize(
    "number", ["", "   ", "abc", "SF 0001", "运单12345", "SF_0001", "X" * 65, "SF0001;DROP"]
)
async def test_bad_tracking_numbers_are_refused(db, number: str) -> None:
    """QS 9.6.2: tracking numbers are 4–64 letters, digits or dashes."""
    w = await f.world()
    paid, _ = await f.paid_order(w)

    with pytest.raises(ServiceError) as raised:
        await logistics.ship_order(w.seller.viewer, paid.id, w.carrier.id, number)

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.field == ["trackingNumber"]
    assert (await Order.get(id=paid.id)).state == OrderState.PAID
    assert await Shipment.all().count() == 0


async def test_duplicate_tracking_number_for_the_same_carrier_is_taken(db) -> None:
    """QS 9.6.2: a carrier's tracking number names one shipment; the refused shipment
    leaves the second order PAID with no shipment and no new audit event."""
    w = await f.world()
    first, _ = await f.paid_order(w)
    second, _ = await f.paid_order(w)
    await logistics.ship_order(w.seller.viewer, first.id, w.carrier.id, "SF-DUP-0001")
    before = await _audit_count()

    with pytest.raises(ServiceError) as raised:
        await logistics.ship_order(w.seller.viewer, second.id, w.carrier.id, "SF-DUP-0001")

    assert raised.value.code == ErrorCode.TRACKING_NUMBER_TAKEN
    assert raised.value.field == ["trackingNumber"]
    order = await Order.get(id=second.id)
    assert order.state == OrderState.PAID and order.shipped_at is None
    assert await Shipment.filter(order_id=second.id).count() == 0
    assert await _audit_count() == before
    assert (await audit.verify("Order", second.id)).valid is True
    # The refusal left the order shippable with another number.
    await logistics.ship_order(w.seller.viewer, second.id, w.carrier.id, "SF-DUP-0002")
    assert (await Order.get(id=second.id)).state == OrderState.SHIPPED


async def test_same_tracking_number_with_another_carrier_is_fine(db) -> None:
    """QS 9.6.2: uniqueness is per carrier."""
    w = await f.world()
    first, _ = await f.paid_order(w)
    second, _ = await f.paid_order(w)
    await logistics.ship_order(w.seller.viewer, first.id, w.carrier.id, "SF-SAME-1")

    shipment = await logistics.ship_order(
        w.seller.viewer, second.id, w.other_carrier.id, "SF-SAME-1"
    )

    assert shipment.provider_id == w.other_carrier.id


async def test_tracking_event_moves_the_shipment(db) -> None:
    """QS 9.1.1: a carrier's event moves the shipment and is traced."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)

    event, created = await logistics.record_tracking_event(
        w.carrier_actor.viewer, shipment.id, "EV-1", ShipmentState.IN_TRANSIT, _now(), "杭州"
    )

    assert created is True
    assert event.status == ShipmentState.IN_TRANSIT and event.external_id == "EV-1"
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.IN_TRANSIT
    trail = await audit.trail("Shipment", shipment.id)
    assert [(e.action, e.to_state) for e in trail] == [
        ("created", "CREATED"),
        ("tracking", "IN_TRANSIT"),
    ]
    assert trail[1].data == {"event_id": "EV-1", "location": "杭州"}


async def test_replayed_tracking_event_changes_nothing(db) -> None:
    """QS 9.6.2: the carrier's event id makes the push idempotent: a retry with the same
    details returns the stored event with created False; no row and no audit event are
    added."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)
    at = _now() - timedelta(minutes=1)
    first, _ = await logistics.record_tracking_event(
        w.carrier_actor.viewer, shipment.id, "EV-REPLAY", ShipmentState.IN_TRANSIT, at, "杭州"
    )
    events, audits = await TrackingEvent.all().count(), await _audit_count()

    again, created = await logistics.record_tracking_event(
        w.carrier_actor.viewer, shipment.id, "EV-REPLAY", ShipmentState.IN_TRANSIT, at, "杭州"
    )

    assert created is False
    assert again.id == first.id and again.status == ShipmentState.IN_TRANSIT
    assert await TrackingEvent.all().count() == events
    assert await _audit_count() == audits


@pytest.mark.parametrize(
    "changed",
    [
        {"status": ShipmentState.DELIVERED},
        {"location": "上海"},
        {"description": "另一件事"},
        {"occurred_at": timedelta(seconds=1)},
    ],
)
async def test_the_same_event_id_with_other_details_is_refused(db, changed: dict) -> None:
    """QS 9.6.2: an event id reused for different details is not a retry: refused with
    IDEMPOTENCY_KEY_REUSED, and the first event, the shipment and the trail stay as they
    were."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)
    at = _now() - timedelta(minutes=1)
    sent = {"status": ShipmentState.IN_TRANSIT, "location": "杭州", "description": ""}
    await logistics.record_tracking_event(
        w.carrier_actor.viewer, shipment.id, "EV-REUSED", sent["status"], at, "杭州"
    )
    events, audits = await TrackingEvent.all().count(), await _audit_count()
    shift = changed.pop("occurred_at", timedelta(0))
    retry = {**sent, **changed}

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            w.carrier_actor.viewer,
            shipment.id,
            "EV-REUSED",
            retry["status"],
            at + shift,
            retry["location"],
            retry["description"],
        )

    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert raised.value.field == ["eventId"]
    assert await TrackingEvent.all().count() == events
    assert await _audit_count() == audits
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.IN_TRANSIT


async def test_same_event_id_for_another_shipment_is_refused(db) -> None:
    """QS 9.6.2: a carrier's event id belongs to one shipment."""
    w = await f.world()
    _, one = await f.shipped_order(w)
    _, two = await f.shipped_order(w)
    await logistics.record_tracking_event(
        w.carrier_actor.viewer, one.id, "EV-SHARED", ShipmentState.IN_TRANSIT, _now()
    )
    audits = await _audit_count()

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            w.carrier_actor.viewer, two.id, "EV-SHARED", ShipmentState.IN_TRANSIT, _now()
        )

    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert raised.value.field == ["eventId"]
    assert await TrackingEvent.filter(shipment_id=two.id).count() == 0
    assert (await Shipment.get(id=two.id)).state == ShipmentState.CREATED
    assert await _audit_count() == audits


@pytest.mark.parametrize(
    ("ahead", "naive"),
    [(timedelta(days=1), False), (timedelta(minutes=10), False), (timedelta(0), True)],
    ids=["tomorrow", "ten-minutes-ahead", "naive"],
)
async def test_future_or_naive_times_are_refused(db, ahead: timedelta, naive: bool) -> None:
    """QS 9.1.2: traced times are timezone-aware and not in the future."""
    # Computed when the test runs, not when it is collected: a slow suite must not let
    # "ten minutes ahead" drift into the allowed clock skew.
    occurred_at = datetime.now(UTC) + ahead
    if naive:
        occurred_at = occurred_at.replace(tzinfo=None)
    w = await f.world()
    _, shipment = await f.shipped_order(w)
    audits = await _audit_count()

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            w.carrier_actor.viewer, shipment.id, "EV-T", ShipmentState.IN_TRANSIT, occurred_at
        )

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.field == ["occurredAt"]
    assert await TrackingEvent.all().count() == 0
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.CREATED
    assert await _audit_count() == audits


async def test_another_carrier_cannot_report_on_the_shipment(db) -> None:
    """QS 9.6.2: only the assigned carrier sees and updates a shipment."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)
    _, stranger, _ = await f.provider(ProviderKind.LOGISTICS)

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            stranger.viewer, shipment.id, "EV-X", ShipmentState.DELIVERED, _now()
        )

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert await TrackingEvent.all().count() == 0
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.CREATED


async def test_delivered_moves_the_order_to_delivered(db) -> None:
    """QS 9.1.1: the DELIVERED scan delivers the order, with the carrier's time."""
    w = await f.world()
    shipped, shipment = await f.shipped_order(w)
    at = _now() - timedelta(hours=2)

    await logistics.record_tracking_event(
        w.carrier_actor.viewer, shipment.id, "EV-D", ShipmentState.DELIVERED, at
    )

    order = await Order.get(id=shipped.id)
    assert order.state == OrderState.DELIVERED
    assert abs(order.delivered_at - at) < timedelta(seconds=1)
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.DELIVERED
    assert [e.action for e in await audit.trail("Order", shipped.id)] == [
        "placed",
        "paid",
        "shipped",
        "delivered",
    ]
    # The consumer can now close the order.
    await orders.confirm_receipt(w.buyer.viewer, shipped.id)
    assert (await Order.get(id=shipped.id)).state == OrderState.COMPLETED


@pytest.mark.parametrize(
    "status", [ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY, ShipmentState.EXCEPTION]
)
async def test_events_after_delivery_are_illegal(db, status: ShipmentState) -> None:
    """QS 9.1.1: DELIVERED is final; a later event is refused and its row not kept."""
    w = await f.world()
    delivered, shipment = await f.delivered_order(w)
    events, audits = await TrackingEvent.all().count(), await _audit_count()

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            w.carrier_actor.viewer, shipment.id, "EV-LATE", status, _now()
        )

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.field == ["status"]
    assert (await Shipment.get(id=shipment.id)).state == ShipmentState.DELIVERED
    assert (await Order.get(id=delivered.id)).state == OrderState.DELIVERED
    assert await TrackingEvent.all().count() == events
    assert await TrackingEvent.filter(external_id="EV-LATE").count() == 0
    assert await _audit_count() == audits


async def test_consumer_and_merchant_cannot_record_tracking_events(db) -> None:
    """QS 9.6.2: tracking events come from logistics providers only."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)

    for actor in (w.buyer, w.seller, w.payer_actor):
        with pytest.raises(ServiceError) as raised:
            await logistics.record_tracking_event(
                actor.viewer, shipment.id, "EV-N", ShipmentState.DELIVERED, _now()
            )
        assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    assert await TrackingEvent.all().count() == 0


async def test_same_event_pushed_twice_at_once_is_stored_once(db) -> None:
    """QS 9.6.2: a carrier's retry racing its first push is answered as a replay."""
    w = await f.world()
    _, shipment = await f.shipped_order(w)
    at = _now()

    results = await asyncio.gather(
        logistics.record_tracking_event(
            w.carrier_actor.viewer, shipment.id, "EV-TWICE", ShipmentState.IN_TRANSIT, at
        ),
        logistics.record_tracking_event(
            w.carrier_actor.viewer, shipment.id, "EV-TWICE", ShipmentState.IN_TRANSIT, at
        ),
        return_exceptions=True,
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False, True]
    assert await TrackingEvent.all().count() == 1
    assert [e.action for e in await audit.trail("Shipment", shipment.id)] == [
        "created",
        "tracking",
    ]


async def test_same_tracking_number_shipped_twice_at_once(db) -> None:
    """QS 9.6.2: two orders racing for one tracking number: one ships, one is refused."""
    w = await f.world()
    first, _ = await f.paid_order(w)
    second, _ = await f.paid_order(w)

    results = await asyncio.gather(
        logistics.ship_order(w.seller.viewer, first.id, w.carrier.id, "SF-RACE-1"),
        logistics.ship_order(w.seller.viewer, second.id, w.carrier.id, "SF-RACE-1"),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ServiceError)
    assert refused[0].code == ErrorCode.TRACKING_NUMBER_TAKEN
    states = sorted([(await Order.get(id=o.id)).state for o in (first, second)])
    assert states == sorted([OrderState.PAID, OrderState.SHIPPED])
    assert await Shipment.all().count() == 1
