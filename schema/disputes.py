"""Disputes graph: quality disputes, their settlement offers and outcome (QS 9.7.7)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.after_sales import AfterSalesRequest, Refund
from pinzhi.schema.base import Money, Node, to_global_id
from pinzhi.schema.catalog import ServiceProvider
from pinzhi.schema.enums import DisputeParty, DisputeState, OfferState
from pinzhi.schema.orders import Order
from pinzhi.schema.service import Complaint
from pinzhi.services import state

DisputeSubject = Annotated[
    AfterSalesRequest | Complaint,
    strawberry.union(
        "DisputeSubject",
        description="What a dispute contests: a rejected after-sales request, or a "
        "complaint about an order that was not upheld.",
    ),
]


async def _refund(info: Info, pk: int | None) -> Refund | None:
    if pk is None:
        return None
    row = await info.context.loaders.refund_by_id.load(pk)
    return Refund.from_row(row) if row else None


@strawberry.type(description="A replacement the merchant sent for an outcome.")
class DisputeReplacement:
    tracking_number: str
    shipped_at: datetime
    provider_pk: strawberry.Private[int]

    @strawberry.field
    async def provider(self, info: Info) -> ServiceProvider | None:
        row = await info.context.loaders.provider_by_id.load(self.provider_pk)
        return ServiceProvider.from_row(row) if row else None


@strawberry.type(
    description="What a dispute's settlement or arbitration decided, and what carrying it out did."
)
class DisputeOutcome:
    arbitrated: bool = strawberry.field(
        description="Decided by the platform's arbitrator; false: settled by the parties."
    )
    refund: Money = strawberry.field(description="Money back on the order's payment.")
    replacement: bool = strawberry.field(description="A replacement the merchant sends.")
    compensation: Money
    note: str = strawberry.field(
        description="The accepted offer's note, or the arbitrator's reason."
    )
    fund_payout_due: Money = strawberry.field(
        description="Compensation the payment could not take: owed to the consumer by the "
        "advance-compensation fund (QS 9.7.6)."
    )
    replacement_sent: DisputeReplacement | None = strawberry.field(
        description="The replacement's carrier and number, once the merchant sent it."
    )
    refund_pk: strawberry.Private[int | None]
    compensation_refund_pk: strawberry.Private[int | None]

    @strawberry.field(description="The refund asked for the outcome's money back.")
    async def refund_made(self, info: Info) -> Refund | None:
        return await _refund(info, self.refund_pk)

    @strawberry.field(description="The refund that paid the compensation, when one did.")
    async def compensation_refund(self, info: Info) -> Refund | None:
        return await _refund(info, self.compensation_refund_pk)


@strawberry.type(description="A party's settlement offer in a dispute (QS 9.7.7).")
class DisputeOffer(Node):
    party: DisputeParty
    state: OfferState
    refund: Money
    replacement: bool
    compensation: Money
    note: str
    answer_note: str
    answered_at: datetime | None
    created_at: datetime
    pk: strawberry.Private[int]
    dispute_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.DisputeOffer) -> DisputeOffer:
        currency = row.currency
        return cls(
            id=to_global_id("DisputeOffer", row.id),
            pk=row.id,
            dispute_pk=row.dispute_id,
            party=row.party,
            state=row.state,
            refund=Money(amount_minor=row.refund_minor, currency=currency),
            replacement=row.replacement,
            compensation=Money(amount_minor=row.compensation_minor, currency=currency),
            note=row.note,
            answer_note=row.answer_note,
            answered_at=row.answered_at,
            created_at=row.created_at,
        )

    @strawberry.field
    async def dispute(self, info: Info) -> Dispute | None:
        row = await info.context.loaders.dispute_by_id.load(self.dispute_pk)
        return Dispute.from_row(row) if row else None


@strawberry.type(
    description="A quality dispute between a consumer and a merchant: settled first by "
    "offers, then arbitrated by the platform (QS 9.7.7)."
)
class Dispute(Node):
    state: DisputeState
    reason: str
    description: str
    settle_by: datetime = strawberry.field(
        description="The end of the settlement period, by the dispute.settlement rule."
    )
    rule_version: int = strawberry.field(
        description="The version of the dispute.settlement rule the dispute is held to."
    )
    arbitration_asked_by: DisputeParty | None = strawberry.field(
        description="A party that asked for arbitration before settleBy; the other party's "
        "asking too starts it."
    )
    arbitration_asked_at: datetime | None
    arbitration_started_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    request_pk: strawberry.Private[int | None]
    complaint_pk: strawberry.Private[int | None]
    currency: strawberry.Private[str]
    row: strawberry.Private[models.Dispute]

    @classmethod
    def from_row(cls, row: models.Dispute) -> Dispute:
        return cls(
            id=to_global_id("Dispute", row.id),
            pk=row.id,
            order_pk=row.order_id,
            request_pk=row.request_id,
            complaint_pk=row.complaint_id,
            currency=row.currency,
            row=row,
            state=row.state,
            reason=row.reason,
            description=row.description,
            settle_by=row.settle_by,
            rule_version=row.rule_version,
            arbitration_asked_by=row.arbitration_asked_by,
            arbitration_asked_at=row.arbitration_asked_at,
            arbitration_started_at=row.arbitration_started_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
        )

    @strawberry.field(description="Whether offers may still be made and answered now.")
    def settlement_open(self) -> bool:
        return self.state == models.DisputeState.OPEN and state.now() <= self.settle_by

    @strawberry.field(description="The outcome; null until settled or arbitrated.")
    def outcome(self) -> DisputeOutcome | None:
        row = self.row
        if row.state not in (models.DisputeState.SETTLED, models.DisputeState.ARBITRATED):
            return None
        sent = None
        if row.replacement_shipped_at is not None and row.replacement_provider_id is not None:
            sent = DisputeReplacement(
                tracking_number=row.replacement_tracking_number or "",
                shipped_at=row.replacement_shipped_at,
                provider_pk=row.replacement_provider_id,
            )
        return DisputeOutcome(
            arbitrated=row.state == models.DisputeState.ARBITRATED,
            refund=Money(amount_minor=row.outcome_refund_minor, currency=row.currency),
            replacement=row.outcome_replacement,
            compensation=Money(amount_minor=row.outcome_compensation_minor, currency=row.currency),
            note=row.outcome_note,
            fund_payout_due=Money(amount_minor=row.fund_payout_due_minor, currency=row.currency),
            replacement_sent=sent,
            refund_pk=row.refund_id,
            compensation_refund_pk=row.compensation_refund_id,
        )

    @strawberry.field(description="The order; null for viewers outside its scope.")
    async def order(self, info: Info) -> Order | None:
        row = await info.context.loaders.order_by_id.load(self.order_pk)
        return Order.from_row(row) if row else None

    @strawberry.field(
        description="The after-sales request or complaint disputed; null for viewers "
        "outside its scope."
    )
    async def subject(self, info: Info) -> DisputeSubject | None:
        if self.request_pk is not None:
            request = await info.context.loaders.after_sales_request_by_id.load(self.request_pk)
            return AfterSalesRequest.from_row(request) if request else None
        if self.complaint_pk is None:
            return None
        complaint = await info.context.loaders.complaint_by_id.load(self.complaint_pk)
        return Complaint.from_row(complaint) if complaint else None

    @strawberry.field(description="Every offer made, oldest first.")
    async def offers(self, info: Info) -> list[DisputeOffer]:
        rows = await info.context.loaders.offers_by_dispute_id.load(self.pk)
        return [DisputeOffer.from_row(r) for r in rows]
