"""Orders, payments, shipments: lists and the normal-path mutations."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import scope
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema import preload
from pinzhi.schema.after_sales import ReturnShipment
from pinzhi.schema.base import Connection, attempt, pk_of, pk_or_missing
from pinzhi.schema.enums import OrderState, PaymentState, ShipmentState
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.inputs import (
    CancelOrderInput,
    ConfirmPaymentInput,
    OrderPayload,
    PaymentPayload,
    PayOrderInput,
    PlaceOrderInput,
    RecordTrackingEventInput,
    ShipmentPayload,
    ShipOrderInput,
    TrackingEventPayload,
)
from pinzhi.schema.orders import Order, Payment, Shipment, TrackingEvent
from pinzhi.services import logistics, orders, payments
from pinzhi.services.orders import LineInput, Recipient


def to_orders(rows: Sequence[models.Order]) -> list[Order]:
    return [Order.from_row(r) for r in rows]


async def preloaded_orders(info: Info, rows: Sequence[models.Order]) -> list[Order]:
    nodes = to_orders(rows)
    await preload.orders(info, nodes, preload.node_selection(info))
    return nodes


async def order_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: OrderState | None = None,
) -> Connection[Order]:
    found = await scoped_page(
        info.context.viewer, models.Order, Window(first, after, last, before), state=state
    )
    return Connection.of(found, await preloaded_orders(info, found.rows))


async def payment_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: PaymentState | None = None,
) -> Connection[Payment]:
    found = await scoped_page(
        info.context.viewer, models.Payment, Window(first, after, last, before), state=state
    )
    return Connection.of(found, [Payment.from_row(r) for r in found.rows])


async def shipment_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: ShipmentState | None = None,
) -> Connection[Shipment]:
    found = await scoped_page(
        info.context.viewer, models.Shipment, Window(first, after, last, before), state=state
    )
    return Connection.of(found, [Shipment.from_row(r) for r in found.rows])


async def _order_payload(
    info: Info, row: models.Order | None, errors: list, replayed: bool = False
) -> OrderPayload:
    if row is None:
        return OrderPayload(errors=errors)
    return OrderPayload(order=Order.from_row(row), replayed=replayed)


async def place_order(info: Info, input: PlaceOrderInput) -> OrderPayload:
    lines = [LineInput(pk_of(ln.product_id, "Product"), ln.quantity) for ln in input.lines]
    recipient = Recipient(input.recipient.name, input.recipient.phone, input.recipient.address)
    placed, errors = await attempt(
        info,
        orders.place_order(info.context.viewer, lines, recipient, input.idempotency_key),
    )
    if placed is None:
        return OrderPayload(errors=errors)
    return await _order_payload(info, placed.order, errors, placed.replayed)


async def cancel_order(info: Info, input: CancelOrderInput) -> OrderPayload:
    row, errors = await attempt(
        info,
        orders.cancel_order(
            info.context.viewer, pk_or_missing(input.order_id, "Order"), input.reason
        ),
    )
    return await _order_payload(info, row, errors)


async def confirm_receipt(info: Info, order_id: strawberry.ID) -> OrderPayload:
    row, errors = await attempt(
        info, orders.confirm_receipt(info.context.viewer, pk_or_missing(order_id, "Order"))
    )
    return await _order_payload(info, row, errors)


async def pay_order(info: Info, input: PayOrderInput) -> PaymentPayload:
    result, errors = await attempt(
        info,
        payments.pay_order(
            info.context.viewer,
            pk_of(input.order_id, "Order"),
            pk_of(input.provider_id, "ServiceProvider"),
            input.idempotency_key,
        ),
    )
    if result is None:
        return PaymentPayload(errors=errors)
    payment, created = result
    return PaymentPayload(payment=Payment.from_row(payment), created=created, replayed=not created)


async def confirm_payment(info: Info, input: ConfirmPaymentInput) -> PaymentPayload:
    result, errors = await attempt(
        info,
        payments.confirm_payment(
            info.context.viewer,
            pk_or_missing(input.payment_id, "Payment"),
            input.succeeded,
            input.provider_reference,
        ),
    )
    if result is None:
        return PaymentPayload(errors=errors)
    row, replayed = result
    return PaymentPayload(payment=Payment.from_row(row), replayed=replayed)


async def ship_order(info: Info, input: ShipOrderInput) -> ShipmentPayload:
    row, errors = await attempt(
        info,
        logistics.ship_order(
            info.context.viewer,
            pk_or_missing(input.order_id, "Order"),
            pk_of(input.provider_id, "ServiceProvider"),
            input.tracking_number,
        ),
    )
    return ShipmentPayload(shipment=Shipment.from_row(row) if row else None, errors=errors)


async def record_tracking_event(
    info: Info, input: RecordTrackingEventInput
) -> TrackingEventPayload:
    # A return shipment's events come in the same way (QS 9.2.3): its id says which.
    returning = pk_of(input.shipment_id, "ReturnShipment") is not None
    shipment_pk = pk_or_missing(input.shipment_id, "ReturnShipment" if returning else "Shipment")
    result, errors = await attempt(
        info,
        logistics.record_tracking_event(
            info.context.viewer,
            shipment_pk,
            input.event_id,
            models.ShipmentState(input.status),
            input.occurred_at,
            input.location,
            input.description,
            returning=returning,
        ),
    )
    if result is None:
        return TrackingEventPayload(errors=errors)
    event, created = result
    viewer = info.context.viewer
    if event.return_shipment_id is not None:
        back = await scope(viewer, models.ReturnShipment).get(id=event.return_shipment_id)
        return TrackingEventPayload(
            event=TrackingEvent.from_row(event),
            replayed=not created,
            return_shipment=ReturnShipment.from_row(back),
        )
    shipment = await scope(viewer, models.Shipment).get(id=event.shipment_id)
    return TrackingEventPayload(
        event=TrackingEvent.from_row(event),
        replayed=not created,
        shipment=Shipment.from_row(shipment),
    )


@strawberry.type
class OrderQuery:
    orders = field(order_list, policy.READERS, description="Orders in the viewer's scope.")
    payments = field(payment_list, policy.READERS)
    shipments = field(shipment_list, policy.READERS)


@strawberry.type
class OrderMutation:
    place_order = mutation(place_order, Action.PLACE_ORDER)
    pay_order = mutation(pay_order, Action.PAY_ORDER)
    confirm_payment = mutation(confirm_payment, Action.CONFIRM_PAYMENT)
    ship_order = mutation(ship_order, Action.SHIP_ORDER)
    record_tracking_event = mutation(record_tracking_event, Action.RECORD_TRACKING_EVENT)
    confirm_receipt = mutation(confirm_receipt, Action.CONFIRM_RECEIPT)
    cancel_order = mutation(cancel_order, Action.CANCEL_ORDER)
