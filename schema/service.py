"""Complaint and satisfaction-feedback graphs."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.base import Node, Preloadable, relation, to_global_id
from pinzhi.schema.catalog import Merchant, merchant_of
from pinzhi.schema.enums import ComplaintCategory, ComplaintState
from pinzhi.schema.orders import Order
from pinzhi.services.complaints import is_overdue


@strawberry.type(description="A consumer's complaint about an order or a merchant (QS 9.2.4).")
class Complaint(Preloadable, Node):
    state: ComplaintState
    category: ComplaintCategory
    upheld: bool | None = strawberry.field(
        description="Whether the resolution found the consumer right; null until resolved."
    )
    description: str
    resolution: str
    delay_reason: str
    promised_by: datetime | None
    overdue: bool = strawberry.field(description="Promised date passed without resolution.")
    escalated_at: datetime | None = strawberry.field(
        description="When the sweep escalated it, its promised date passed unkept (QS 9.2.4)."
    )
    rule_version: int | None
    created_at: datetime
    resolved_at: datetime | None
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]
    merchant_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Complaint) -> Complaint:
        return cls(
            id=to_global_id("Complaint", row.id),
            pk=row.id,
            order_pk=row.order_id,
            merchant_pk=row.merchant_id,
            state=row.state,
            category=row.category,
            upheld=row.upheld,
            description=row.description,
            resolution=row.resolution,
            delay_reason=row.delay_reason,
            promised_by=row.promised_by,
            overdue=is_overdue(row),
            escalated_at=row.escalated_at,
            rule_version=row.rule_version,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )

    @relation()
    def order(self, info: Info) -> Order | None:
        pk = self.order_pk
        if pk is None:
            return None
        return self.preloaded_or("order", lambda: self._order(info, pk))

    async def _order(self, info: Info, pk: int) -> Order | None:
        row = await info.context.loaders.order_by_id.load(pk)
        return Order.from_row(row) if row else None

    @relation()
    def merchant(self, info: Info) -> Merchant | None:
        return self.preloaded_or("merchant", lambda: merchant_of(info, self.merchant_pk))
