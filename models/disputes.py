"""Online quality disputes and their settlement offers (QS 9.7.7).

A dispute is about one subject, an after-sales request the merchant (or service staff)
rejected or a complaint about an order resolved as not upheld; exactly one of ``request``
and ``complaint`` is set. The parties exchange offers until one is accepted (SETTLED) or
the settlement period ends, when the platform's staff arbitrate (ARBITRATED). The outcome
fields hold what was agreed or decided, and what carrying it out did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import DisputeParty, DisputeState, OfferState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider
    from pinzhi.models.aftersales import AfterSalesRequest, Refund
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order
    from pinzhi.models.service import Complaint


class Dispute(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="disputes", on_delete=fields.RESTRICT
    )
    order_id: int
    # Denormalised owners, so that row scoping is one indexed filter.
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="disputes", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="disputes", on_delete=fields.RESTRICT
    )
    merchant_id: int
    # The subject: one of the two.
    request: fields.ForeignKeyNullableRelation[AfterSalesRequest] = fields.ForeignKeyField(
        "models.AfterSalesRequest", related_name="disputes", null=True, on_delete=fields.RESTRICT
    )
    request_id: int | None
    complaint: fields.ForeignKeyNullableRelation[Complaint] = fields.ForeignKeyField(
        "models.Complaint", related_name="disputes", null=True, on_delete=fields.RESTRICT
    )
    complaint_id: int | None
    state = fields.CharEnumField(DisputeState, max_length=16, default=DisputeState.OPEN)
    reason = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    currency = fields.CharField(max_length=3)
    # QS 9.7.7: the end of the settlement period, from the dispute.settlement rule version
    # in force at opening.
    settle_by = fields.DatetimeField()
    rule_version = fields.IntField()
    # A party that asked for arbitration before settle_by; the other's asking too starts it.
    arbitration_asked_by = fields.CharEnumField(DisputeParty, max_length=16, null=True)
    arbitration_asked_at = fields.DatetimeField(null=True)
    arbitration_started_at = fields.DatetimeField(null=True)
    arbitrator: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="arbitrated_disputes", null=True, on_delete=fields.RESTRICT
    )
    arbitrator_id: int | None
    # The outcome: the accepted offer's terms, or the arbitrator's decision.
    outcome_refund_minor = fields.BigIntField(default=0)
    outcome_replacement = fields.BooleanField(default=False)
    outcome_compensation_minor = fields.BigIntField(default=0)
    outcome_note = fields.TextField(default="")
    # What carrying the outcome out did: the refund asked on the order's payment, the
    # compensation paid as a refund when the payment could still take it, or else the
    # compensation owed by the advance-compensation fund (QS 9.7.6).
    refund: fields.ForeignKeyNullableRelation[Refund] = fields.ForeignKeyField(
        "models.Refund", related_name="dispute_refunds", null=True, on_delete=fields.RESTRICT
    )
    refund_id: int | None
    compensation_refund: fields.ForeignKeyNullableRelation[Refund] = fields.ForeignKeyField(
        "models.Refund",
        related_name="dispute_compensations",
        null=True,
        on_delete=fields.RESTRICT,
    )
    compensation_refund_id: int | None
    fund_payout_due_minor = fields.BigIntField(default=0)
    # A replacement in the outcome is the merchant's to send: its carrier and number.
    replacement_provider: fields.ForeignKeyNullableRelation[ServiceProvider] = (
        fields.ForeignKeyField(
            "models.ServiceProvider",
            related_name="dispute_replacements",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    replacement_provider_id: int | None
    replacement_tracking_number = fields.CharField(max_length=64, null=True)
    replacement_shipped_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)
    offers: fields.ReverseRelation[DisputeOffer]

    class Meta:
        table = "dispute"
        indexes = (
            ("consumer_id", "id"),
            ("merchant_id", "id"),
            ("order_id",),
            ("request_id",),
            ("complaint_id",),
            ("state", "settle_by"),
        )


class DisputeOffer(Model):
    """A party's settlement offer: money back, a replacement, compensation, or a mix."""

    id = fields.IntField(primary_key=True)
    dispute: fields.ForeignKeyRelation[Dispute] = fields.ForeignKeyField(
        "models.Dispute", related_name="offers", on_delete=fields.RESTRICT
    )
    dispute_id: int
    # Denormalised owners, so that row scoping is one indexed filter.
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="dispute_offers", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="dispute_offers", on_delete=fields.RESTRICT
    )
    merchant_id: int
    party = fields.CharEnumField(DisputeParty, max_length=16)
    author: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="authored_dispute_offers", on_delete=fields.RESTRICT
    )
    author_id: int
    state = fields.CharEnumField(OfferState, max_length=16, default=OfferState.PROPOSED)
    refund_minor = fields.BigIntField(default=0)
    replacement = fields.BooleanField(default=False)
    compensation_minor = fields.BigIntField(default=0)
    currency = fields.CharField(max_length=3)
    note = fields.TextField(default="")
    answer_note = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "dispute_offer"
        indexes = (("dispute_id", "id"), ("consumer_id", "id"), ("merchant_id", "id"))
