"""Order, payment, shipment and tracking graphs."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.masking import Disclosure
from pinzhi.schema.base import Money, Node, Preloadable, relation, to_global_id
from pinzhi.schema.catalog import Merchant, Product, ServiceProvider, merchant_of
from pinzhi.schema.enums import OrderState, PaymentState, ShipmentState


@strawberry.type(description="A delivery contact. Masked unless the viewer may see it whole.")
class Contact:
    name: str
    phone: str
    address: str


def _contact(
    row: models.Order, entity_type: str, entity_id: int, disclosure: Disclosure, carrier: int | None
) -> Contact:
    name, phone, address = disclosure.contact(
        entity_type=entity_type,
        entity_id=entity_id,
        owner_id=row.consumer_id,
        name_enc=row.recipient_name_enc,
        phone_enc=row.recipient_phone_enc,
        address_enc=row.address_enc,
        merchant_id=row.merchant_id,
        logistics_provider_id=carrier,
    )
    return Contact(name=name, phone=phone, address=address)


async def _product(info: Info, pk: int) -> Product | None:
    row = await info.context.loaders.product_by_id.load(pk)
    return Product.from_row(row) if row else None


async def _provider(info: Info, pk: int) -> ServiceProvider | None:
    row = await info.context.loaders.provider_by_id.load(pk)
    return ServiceProvider.from_row(row) if row else None


async def _order(info: Info, pk: int) -> Order | None:
    row = await info.context.loaders.order_by_id.load(pk)
    return Order.from_row(row) if row else None


@strawberry.type(description="A product and quantity within an order.")
class OrderLine(Preloadable):
    id: strawberry.ID = strawberry.field(
        description="Names the line in an after-sales request (QS 9.2.3)."
    )
    quantity: int
    cancelled_quantity: int = strawberry.field(
        description="Units refunded before shipment: not shipped, their stock released."
    )
    unit_price: Money
    pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls(
            id=strawberry.ID(to_global_id("OrderLine", row.id)),
            pk=row.id,
            product_pk=row.product_id,
            quantity=row.quantity,
            cancelled_quantity=row.cancelled_quantity,
            unit_price=Money(amount_minor=row.unit_price_minor, currency=currency),
        )

    @relation()
    def product(self, info: Info) -> Product | None:
        return self.preloaded_or("product", lambda: _product(info, self.product_pk))


@strawberry.type(description="A consumer's order with one merchant.")
class Order(Preloadable, Node):
    state: OrderState
    total: Money
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int]
    row: strawberry.Private[models.Order]

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        return cls(
            id=to_global_id("Order", row.id),
            pk=row.id,
            merchant_pk=row.merchant_id,
            row=row,
            state=row.state,
            total=Money(amount_minor=row.total_minor, currency=row.currency),
            created_at=row.created_at,
            paid_at=row.paid_at,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            completed_at=row.completed_at,
            cancelled_at=row.cancelled_at,
        )

    @strawberry.field(description="The delivery contact, masked by role (QS 9.4.1).")
    async def recipient(self, info: Info) -> Contact:
        # Decrypted, masked and logged only when asked for: a page that does not show
        # the recipient neither pays for it nor records a read that did not happen.
        disclosure = await info.context.prepare_disclosure()
        return _contact(self.row, "Order", self.pk, disclosure, None)

    @relation()
    def lines(self, info: Info) -> list[OrderLine]:
        return self.preloaded_or("lines", lambda: self._lines(info))

    async def _lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.lines_by_order_id.load(self.pk)
        return [OrderLine.from_row(r, self.total.currency) for r in rows]

    @relation()
    def merchant(self, info: Info) -> Merchant | None:
        return self.preloaded_or("merchant", lambda: merchant_of(info, self.merchant_pk))

    @relation(description="The latest payment attempt.")
    def payment(self, info: Info) -> Payment | None:
        return self.preloaded_or("payment", lambda: self._payment(info))

    async def _payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.payment_by_order_id.load(self.pk)
        return Payment.from_row(row) if row else None

    @strawberry.field(description="Every payment attempt, oldest first.")
    async def payments(self, info: Info) -> list[Payment]:
        rows = await info.context.loaders.payments_by_order_id.load(self.pk)
        return [Payment.from_row(r) for r in rows]

    @relation()
    def shipment(self, info: Info) -> Shipment | None:
        return self.preloaded_or("shipment", lambda: self._shipment(info))

    async def _shipment(self, info: Info) -> Shipment | None:
        row = await info.context.loaders.shipment_by_order_id.load(self.pk)
        return Shipment.from_row(row) if row else None


@strawberry.type
class Payment(Node):
    state: PaymentState
    amount: Money
    provider_reference: str | None
    refunded: Money = strawberry.field(
        description="What refunds have taken back or hold: never above the amount."
    )
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Payment) -> Payment:
        return cls(
            id=to_global_id("Payment", row.id),
            pk=row.id,
            order_pk=row.order_id,
            provider_pk=row.provider_id,
            state=row.state,
            amount=Money(amount_minor=row.amount_minor, currency=row.currency),
            provider_reference=row.provider_reference,
            refunded=Money(amount_minor=row.refunded_minor, currency=row.currency),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The order paid for; null for viewers outside its scope.")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_pk)

    @strawberry.field
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)


@strawberry.type(description="A carrier's scan or status change.")
class TrackingEvent:
    event_id: str
    status: ShipmentState
    location: str
    description: str
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: models.TrackingEvent) -> TrackingEvent:
        return cls(
            event_id=row.external_id,
            status=row.status,
            location=row.location,
            description=row.description,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
        )


@strawberry.type
class Shipment(Node):
    state: ShipmentState
    tracking_number: str
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Shipment) -> Shipment:
        return cls(
            id=to_global_id("Shipment", row.id),
            pk=row.id,
            order_pk=row.order_id,
            provider_pk=row.provider_id,
            state=row.state,
            tracking_number=row.tracking_number,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The order shipped; null for viewers outside its scope.")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_pk)

    @strawberry.field(description="Where and to whom to deliver, masked by role.")
    async def destination(self, info: Info) -> Contact | None:
        row = await info.context.loaders.order_row_for_delivery.load(self.order_pk)
        if row is None:
            return None
        disclosure = await info.context.prepare_disclosure()
        return _contact(row, "Shipment", self.pk, disclosure, self.provider_pk)

    @strawberry.field
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)

    @strawberry.field(description="Carrier events in the order they happened.")
    async def tracking_events(self, info: Info) -> list[TrackingEvent]:
        rows = await info.context.loaders.events_by_shipment_id.load(self.pk)
        return [TrackingEvent.from_row(r) for r in rows]
