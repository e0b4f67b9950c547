"""Bulky goods graph: installation appointments and trade-ins (QS 9.7.5)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.after_sales import Refund
from pinzhi.schema.base import Money, Node, to_global_id
from pinzhi.schema.catalog import ServiceProvider
from pinzhi.schema.enums import InstallationState, TradeInCondition, TradeInState
from pinzhi.schema.orders import Contact, Order, OrderLine


async def _order(info: Info, pk: int) -> Order | None:
    row = await info.context.loaders.order_by_id.load(pk)
    return Order.from_row(row) if row else None


async def _order_line(info: Info, pk: int) -> OrderLine | None:
    row = await info.context.loaders.order_line_by_id.load(pk)
    if row is None:
        return None
    order = await info.context.loaders.order_by_id.load(row.order_id)
    return OrderLine.from_row(row, order.currency) if order else None


async def _provider(info: Info, pk: int | None) -> ServiceProvider | None:
    if pk is None:
        return None
    row = await info.context.loaders.provider_by_id.load(pk)
    return ServiceProvider.from_row(row) if row else None


@strawberry.type(description="A slot a consumer may book now (QS 9.7.5), by the bulky_goods rule.")
class InstallationSlot:
    start: datetime
    end: datetime


@strawberry.type(
    description="A delivery-with-installation appointment for a bulky line of an order "
    "(QS 9.7.5): the slot the consumer booked, who visits, and how the visit went."
)
class InstallationAppointment(Node):
    state: InstallationState
    category: str = strawberry.field(description="The product category installed.")
    slot_start: datetime
    slot_end: datetime
    reschedules: int = strawberry.field(description="How often the consumer moved the slot.")
    note: str = strawberry.field(description="The consumer's note for the visit.")
    outcome_note: str = strawberry.field(
        description="The note of the visit, the reason it was missed, or of a cancellation."
    )
    rule_version: int = strawberry.field(
        description="The version of the bulky_goods rule the appointment is held to."
    )
    confirmed_at: datetime | None
    completed_at: datetime | None
    on_time: bool | None = strawberry.field(
        description="Whether it was installed within the rule's days after delivery; null "
        "until completed."
    )
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    order_line_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.InstallationAppointment) -> InstallationAppointment:
        return cls(
            id=to_global_id("InstallationAppointment", row.id),
            pk=row.id,
            order_pk=row.order_id,
            order_line_pk=row.order_line_id,
            provider_pk=row.provider_id,
            state=row.state,
            category=row.category,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            reschedules=row.reschedules,
            note=row.note,
            outcome_note=row.outcome_note,
            rule_version=row.rule_version,
            confirmed_at=row.confirmed_at,
            completed_at=row.completed_at,
            on_time=row.on_time,
            closed_at=row.closed_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The order; null for viewers outside its scope (carriers).")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_pk)

    @strawberry.field(description="The line installed; null for viewers outside its order.")
    async def order_line(self, info: Info) -> OrderLine | None:
        return await _order_line(info, self.order_line_pk)

    @strawberry.field(
        description="The logistics provider that delivers and installs; null until known."
    )
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)

    @strawberry.field(
        description="Where the visit is: the order's recipient, masked by role (QS 9.4.1); "
        "whole for the consumer and for the provider that visits."
    )
    async def visit_address(self, info: Info) -> Contact | None:
        # Unscoped on purpose, as a shipment's destination: the visiting provider needs
        # the recipient although the order is not in its scope; masking decides the rest.
        row = await info.context.loaders.order_row_for_delivery.load(self.order_pk)
        if row is None:
            return None
        disclosure = await info.context.prepare_disclosure()
        name, phone, address = disclosure.contact(
            entity_type="InstallationAppointment",
            entity_id=self.pk,
            owner_id=row.consumer_id,
            name_enc=row.recipient_name_enc,
            phone_enc=row.recipient_phone_enc,
            address_enc=row.address_enc,
            merchant_id=row.merchant_id,
            logistics_provider_id=self.provider_pk,
        )
        return Contact(name=name, phone=phone, address=address)


@strawberry.type(
    description="An old item traded in against a bulky line (QS 9.7.5): collected with the "
    "delivery, its agreed value credited as a refund on the order's payment."
)
class TradeIn(Node):
    state: TradeInState
    category: str = strawberry.field(description="The old item's category: the line's.")
    condition: TradeInCondition = strawberry.field(description="As the consumer declared it.")
    description: str
    value: Money = strawberry.field(
        description="The credit agreed when asked: the rule's credit for the category and "
        "condition, at most the rule's share of the line's price."
    )
    rule_version: int = strawberry.field(
        description="The version of the bulky_goods rule the value was agreed by."
    )
    decision_note: str = strawberry.field(description="Why it was rejected, if it was.")
    collection_event_id: str | None = strawberry.field(
        description="The carrier's own id for the collection."
    )
    collected_at: datetime | None
    credited_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    order_line_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.TradeIn) -> TradeIn:
        return cls(
            id=to_global_id("TradeIn", row.id),
            pk=row.id,
            order_pk=row.order_id,
            order_line_pk=row.order_line_id,
            provider_pk=row.provider_id,
            state=row.state,
            category=row.category,
            condition=row.condition,
            description=row.description,
            value=Money(amount_minor=row.value_minor, currency=row.currency),
            rule_version=row.rule_version,
            decision_note=row.decision_note,
            collection_event_id=row.collection_event_id,
            collected_at=row.collected_at,
            credited_at=row.credited_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The order; null for viewers outside its scope (carriers).")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_pk)

    @strawberry.field(description="The line traded against; null for viewers outside it.")
    async def order_line(self, info: Info) -> OrderLine | None:
        return await _order_line(info, self.order_line_pk)

    @strawberry.field(description="The carrier that collects the old item; null until known.")
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)

    @strawberry.field(
        description="The refunds asked to pay the credit, oldest first (one per attempt; at "
        "most one succeeds), in the viewer's scope."
    )
    async def credits(self, info: Info) -> list[Refund]:
        rows = await info.context.loaders.refunds_by_trade_in_id.load(self.pk)
        return [Refund.from_row(r) for r in rows]
