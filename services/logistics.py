"""Shipping orders and recording tracking events (QS 9.1.1, 9.6.2)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Order,
    OrderState,
    ProviderKind,
    ServiceProvider,
    Shipment,
    ShipmentState,
    TrackingEvent,
)
from pinzhi.services import audit, monitoring, state, validation
from pinzhi.services.lookup import lock_visible
from pinzhi.services.transactions import retry_on_conflict

TRACKING_NUMBER = re.compile(r"[A-Za-z0-9-]{4,64}")
# Carrier clocks drift; an event further in the future than this is refused.
CLOCK_SKEW = timedelta(minutes=5)


@retry_on_conflict
async def ship_order(
    viewer: Viewer, order_id: int, provider_id: int | None, tracking_number: str
) -> Shipment:
    require(viewer, Action.SHIP_ORDER)
    number = (tracking_number or "").strip()
    if not TRACKING_NUMBER.fullmatch(number):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("trackingNumber",), "4–64 letters or digits")
    provider = None if provider_id is None else await ServiceProvider.get_or_none(id=provider_id)
    if provider is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("providerId",))
    if provider.kind != ProviderKind.LOGISTICS:
        raise ServiceError(ErrorCode.WRONG_PROVIDER_KIND, ("providerId",))
    try:
        async with in_transaction():
            order = await lock_visible(viewer, Order, order_id, "orderId")
            await state.move(
                order,
                OrderState.SHIPPED,
                actor=viewer,
                action="shipped",
                field="orderId",
                data={"provider_id": provider.id, "tracking_number": number},
                shipped_at=state.now(),
            )
            shipment = await state.create(
                Shipment,
                actor=viewer,
                action="created",
                data={"order_id": order.id, "tracking_number": number},
                order_id=order.id,
                provider_id=provider.id,
                consumer_id=order.consumer_id,
                merchant_id=order.merchant_id,
                tracking_number=number,
            )
    except IntegrityError as exc:
        raise ServiceError(ErrorCode.TRACKING_NUMBER_TAKEN, ("trackingNumber",)) from exc
    await monitoring.check_quietly(order.merchant_id)  # late shipment rate (QS 6.1.2)
    return shipment


@retry_on_conflict
async def record_tracking_event(
    viewer: Viewer,
    shipment_id: int,
    event_id: str,
    status: ShipmentState,
    occurred_at: datetime,
    location: str = "",
    description: str = "",
) -> tuple[TrackingEvent, bool]:
    """Record a carrier's event. Idempotent on the carrier's event id: a replay with the
    same details returns the stored event and changes nothing; the same id with other
    details is refused (IDEMPOTENCY_KEY_REUSED). Returns the event and whether it is new."""
    require(viewer, Action.RECORD_TRACKING_EVENT)
    external_id = validation.text(event_id, "eventId", max_len=100)
    occurred_at = validation.moment(occurred_at, "occurredAt")
    if occurred_at > state.now() + CLOCK_SKEW:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("occurredAt",), "in the future")
    location = validation.text(location, "location", min_len=0, max_len=200)
    description = validation.text(description, "description", min_len=0, max_len=500)

    async def replayed() -> tuple[TrackingEvent, bool] | None:
        earlier = await TrackingEvent.get_or_none(
            provider_id=viewer.provider_id, external_id=external_id
        )
        if earlier is None:
            return None
        same = (
            earlier.shipment_id == shipment_id
            and earlier.status == status
            and earlier.occurred_at == occurred_at
            and earlier.location == location
            and earlier.description == description
        )
        if not same:
            raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("eventId",), "other details")
        return earlier, False

    if (seen := await replayed()) is not None:
        return seen
    try:
        async with in_transaction():
            shipment = await lock_visible(viewer, Shipment, shipment_id, "shipmentId")
            event = await TrackingEvent.create(
                shipment_id=shipment.id,
                provider_id=viewer.provider_id,
                external_id=external_id,
                status=status,
                location=location,
                description=description,
                occurred_at=occurred_at,
            )
            data = {"event_id": external_id, "location": location}
            if status == shipment.state:
                await audit.append("Shipment", shipment.id, "scanned", actor=viewer, data=data)
            else:
                await state.move(
                    shipment, status, actor=viewer, action="tracking", field="status", data=data
                )
            if status == ShipmentState.DELIVERED:
                order = await Order.filter(id=shipment.order_id).select_for_update().get()
                if order.state == OrderState.SHIPPED:
                    await state.move(
                        order,
                        OrderState.DELIVERED,
                        actor=viewer,
                        action="delivered",
                        data={"shipment_id": shipment.id},
                        delivered_at=occurred_at,
                    )
    except IntegrityError:
        if (seen := await replayed()) is not None:
            return seen
        raise
    await monitoring.check_quietly(shipment.merchant_id)  # valid tracking rate (QS 6.1.2)
    return event, True
