"""Shipping orders and recording tracking events (QS 9.1.1, 9.6.2)."""

from __future__ import annotations

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
    ReturnShipment,
    ServiceProvider,
    Shipment,
    ShipmentState,
    TrackingEvent,
)
from pinzhi.services import audit, monitoring, returns, state, validation
from pinzhi.services.lookup import lock_visible
from pinzhi.services.transactions import retry_on_conflict

# Carrier clocks drift; an event further in the future than this is refused.
CLOCK_SKEW = timedelta(minutes=5)


@retry_on_conflict
async def ship_order(
    viewer: Viewer, order_id: int, provider_id: int | None, tracking_number: str
) -> Shipment:
    require(viewer, Action.SHIP_ORDER)
    number = validation.tracking_number(tracking_number)
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
    *,
    returning: bool = False,
) -> tuple[TrackingEvent, bool]:
    """Record a carrier's event on an order's shipment, or (``returning``) on an after-sales
    return shipment. Idempotent on the carrier's event id: a replay with the same details
    returns the stored event and changes nothing; the same id with other details is refused
    (IDEMPOTENCY_KEY_REUSED). Returns the event and whether it is new."""
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
        on = earlier.return_shipment_id if returning else earlier.shipment_id
        same = (
            on == shipment_id
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
    model: type[Shipment] | type[ReturnShipment] = ReturnShipment if returning else Shipment
    try:
        async with in_transaction():
            shipment = await lock_visible(viewer, model, shipment_id, "shipmentId")
            event = await TrackingEvent.create(
                shipment_id=None if returning else shipment.id,
                return_shipment_id=shipment.id if returning else None,
                provider_id=viewer.provider_id,
                external_id=external_id,
                status=status,
                location=location,
                description=description,
                occurred_at=occurred_at,
            )
            data = {"event_id": external_id, "location": location}
            if status == shipment.state:
                await audit.append(model.__name__, shipment.id, "scanned", actor=viewer, data=data)
            else:
                await state.move(
                    shipment, status, actor=viewer, action="tracking", field="status", data=data
                )
            if isinstance(shipment, ReturnShipment):
                await returns.on_tracking(viewer, shipment, status)
            elif status == ShipmentState.DELIVERED:
                await _delivered(viewer, shipment, occurred_at)
    except IntegrityError:
        if (seen := await replayed()) is not None:
            return seen
        raise
    await monitoring.check_quietly(shipment.merchant_id)  # valid tracking rate (QS 6.1.2)
    return event, True


async def _delivered(viewer: Viewer, shipment: Shipment, occurred_at: datetime) -> None:
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
