"""After-sales graph: requests, their lines, return shipments and refunds (QS 9.2.3, 9.7)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.base import Money, Node, to_global_id
from pinzhi.schema.catalog import ServiceProvider
from pinzhi.schema.enums import AfterSalesKind, AfterSalesState, RefundState, ShipmentState
from pinzhi.schema.orders import Order, OrderLine, Payment, TrackingEvent
from pinzhi.services import state


async def _order(info: Info, pk: int) -> Order | None:
    row = await info.context.loaders.order_by_id.load(pk)
    return Order.from_row(row) if row else None


@strawberry.type(description="An order line, and how many of it, that a request is about.")
class AfterSalesLine:
    quantity: int
    order_line_pk: strawberry.Private[int]

    @strawberry.field(description="The order line; null for viewers outside its order.")
    async def order_line(self, info: Info) -> OrderLine | None:
        row = await info.context.loaders.order_line_by_id.load(self.order_line_pk)
        if row is None:
            return None
        order = await info.context.loaders.order_by_id.load(row.order_id)
        return OrderLine.from_row(row, order.currency) if order else None


@strawberry.type(description="A consumer's after-sales request on lines of an order (QS 9.2.3).")
class AfterSalesRequest(Node):
    kind: AfterSalesKind
    state: AfterSalesState
    reason: str
    description: str
    evidence: list[str] = strawberry.field(description="References to the photos sent.")
    amount: Money = strawberry.field(description="The money asked back (0: goods, not money).")
    response_due_at: datetime = strawberry.field(
        description="When the first response is due: the rule of the kind, from opening."
    )
    rule_version: int = strawberry.field(
        description="The version of the after_sales.response rule the request is held to."
    )
    first_response_at: datetime | None
    response_note: str
    decision_note: str
    breached_at: datetime | None = strawberry.field(
        description="When the sweep found the response limit passed without a response."
    )
    escalated_at: datetime | None
    priority: int = strawberry.field(
        description="Its place in the queue (higher first), by the after_sales.queue rule."
    )
    premium: bool = strawberry.field(
        description="Whether its products' grades earned premium after-sales (QS 9.7.3-9.7.5)."
    )
    benefits: list[str] = strawberry.field(
        description="The premium benefits earned at opening: FREE_PICKUP, FAST_REVIEW, "
        "INSTANT_REFUND, EXTENDED_RETURN_WINDOW, REPLACE_NOT_REPAIR, PRIORITY."
    )
    premium_rule_version: int | None
    product_level: str | None = strawberry.field(
        description="The lowest grade among its products, when it earned premium service."
    )
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.AfterSalesRequest) -> AfterSalesRequest:
        return cls(
            id=to_global_id("AfterSalesRequest", row.id),
            pk=row.id,
            order_pk=row.order_id,
            kind=row.kind,
            state=row.state,
            reason=row.reason,
            description=row.description,
            evidence=list(row.evidence),
            amount=Money(amount_minor=row.amount_minor, currency=row.currency),
            response_due_at=row.response_due_at,
            rule_version=row.rule_version,
            first_response_at=row.first_response_at,
            response_note=row.response_note,
            decision_note=row.decision_note,
            breached_at=row.breached_at,
            escalated_at=row.escalated_at,
            priority=row.priority,
            premium=row.premium,
            benefits=list(row.benefits),
            premium_rule_version=row.premium_rule_version,
            product_level=row.product_level,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
        )

    @strawberry.field(
        description="Whether the first response came within the limit; null until answered."
    )
    def responded_on_time(self) -> bool | None:
        if self.first_response_at is None:
            return None
        return self.first_response_at <= self.response_due_at

    @strawberry.field(
        description="Whether the limit has passed without a response (now, or when answered)."
    )
    def overdue(self) -> bool:
        answered = self.first_response_at
        return (answered or state.now()) > self.response_due_at

    @strawberry.field(description="The order; null for viewers outside its scope.")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_pk)

    @strawberry.field
    async def lines(self, info: Info) -> list[AfterSalesLine]:
        rows = await info.context.loaders.after_sales_lines_by_request_id.load(self.pk)
        return [AfterSalesLine(quantity=r.quantity, order_line_pk=r.order_line_id) for r in rows]

    @strawberry.field(description="Goods coming back and replacements going out, oldest first.")
    async def return_shipments(self, info: Info) -> list[ReturnShipment]:
        rows = await info.context.loaders.return_shipments_by_request_id.load(self.pk)
        return [ReturnShipment.from_row(r) for r in rows]

    @strawberry.field(description="The refunds asked for the request, oldest first.")
    async def refunds(self, info: Info) -> list[Refund]:
        rows = await info.context.loaders.refunds_by_request_id.load(self.pk)
        return [Refund.from_row(r) for r in rows]


@strawberry.type(description="Goods going back to the merchant, or a replacement going out.")
class ReturnShipment(Node):
    tracking_number: str
    state: ShipmentState
    replacement: bool = strawberry.field(description="A replacement going out to the consumer.")
    platform_pickup: bool = strawberry.field(
        description="A pick-up the platform booked and pays for (QS 9.7.3)."
    )
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    request_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ReturnShipment) -> ReturnShipment:
        return cls(
            id=to_global_id("ReturnShipment", row.id),
            pk=row.id,
            request_pk=row.request_id,
            provider_pk=row.provider_id,
            tracking_number=row.tracking_number,
            state=row.state,
            replacement=row.replacement,
            platform_pickup=row.platform_pickup,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The request; null for viewers outside its scope (carriers).")
    async def request(self, info: Info) -> AfterSalesRequest | None:
        row = await info.context.loaders.after_sales_request_by_id.load(self.request_pk)
        return AfterSalesRequest.from_row(row) if row else None

    @strawberry.field
    async def provider(self, info: Info) -> ServiceProvider | None:
        row = await info.context.loaders.provider_by_id.load(self.provider_pk)
        return ServiceProvider.from_row(row) if row else None

    @strawberry.field(description="Carrier events in the order they happened.")
    async def tracking_events(self, info: Info) -> list[TrackingEvent]:
        rows = await info.context.loaders.events_by_return_shipment_id.load(self.pk)
        return [TrackingEvent.from_row(r) for r in rows]


@strawberry.type(description="Money going back on a payment, executed by its payment provider.")
class Refund(Node):
    state: RefundState
    amount: Money
    reason: str
    provider_reference: str | None
    created_at: datetime
    updated_at: datetime
    settled_at: datetime | None
    pk: strawberry.Private[int]
    payment_pk: strawberry.Private[int]
    request_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Refund) -> Refund:
        return cls(
            id=to_global_id("Refund", row.id),
            pk=row.id,
            payment_pk=row.payment_id,
            request_pk=row.request_id,
            state=row.state,
            amount=Money(amount_minor=row.amount_minor, currency=row.currency),
            reason=row.reason,
            provider_reference=row.provider_reference,
            created_at=row.created_at,
            updated_at=row.updated_at,
            settled_at=row.settled_at,
        )

    @strawberry.field(description="The payment refunded; null for viewers outside its scope.")
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.payment_by_id.load(self.payment_pk)
        return Payment.from_row(row) if row else None

    @strawberry.field(description="The request it settles, if any, in the viewer's scope.")
    async def request(self, info: Info) -> AfterSalesRequest | None:
        if self.request_pk is None:
            return None
        row = await info.context.loaders.after_sales_request_by_id.load(self.request_pk)
        return AfterSalesRequest.from_row(row) if row else None
