"""After-sales requests, their lines, return shipments and refunds (QS 9.2.3, 9.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import AfterSalesKind, AfterSalesState, RefundState, ShipmentState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order, OrderLine, Payment


class AfterSalesRequest(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="after_sales_requests", on_delete=fields.RESTRICT
    )
    order_id: int
    # Denormalised owners, so that row scoping is one indexed filter.
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="after_sales_requests", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="after_sales_requests", on_delete=fields.RESTRICT
    )
    merchant_id: int
    kind = fields.CharEnumField(AfterSalesKind, max_length=24)
    state = fields.CharEnumField(AfterSalesState, max_length=20, default=AfterSalesState.REQUESTED)
    reason = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # References to uploaded photos (object-store keys or URLs), never the bytes.
    evidence: fields.JSONField[list[str]] = fields.JSONField(default=list)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    # QS 9.2.3: the response limit of its kind, from the rule version in force at opening.
    response_due_at = fields.DatetimeField()
    rule_version = fields.IntField()
    first_response_at = fields.DatetimeField(null=True)
    first_responder: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="after_sales_responses", null=True
    )
    first_responder_id: int | None
    response_note = fields.TextField(default="")
    decision_note = fields.TextField(default="")
    # Set by the sweep when the limit passed without a response (QS 9.2.1).
    breached_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)
    # QS 9.2.1: the queue's order (higher first), fixed at opening from the queue rule.
    priority = fields.SmallIntField(default=0)
    accessibility = fields.BooleanField(default=False)
    # QS 9.7.3-9.7.5: the premium benefits the request earned at opening, and their rule.
    premium = fields.BooleanField(default=False)
    benefits: fields.JSONField[list[str]] = fields.JSONField(default=list)
    premium_rule_version = fields.IntField(null=True)
    product_level = fields.CharField(max_length=4, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)
    lines: fields.ReverseRelation[AfterSalesLine]

    class Meta:
        table = "after_sales_request"
        indexes = (
            ("merchant_id", "id"),
            ("consumer_id", "id"),
            ("order_id",),
            ("state", "response_due_at"),
        )


class AfterSalesLine(Model):
    """An order line (and how many of it) that a request is about."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[AfterSalesRequest] = fields.ForeignKeyField(
        "models.AfterSalesRequest", related_name="lines", on_delete=fields.CASCADE
    )
    request_id: int
    order_line: fields.ForeignKeyRelation[OrderLine] = fields.ForeignKeyField(
        "models.OrderLine", related_name="after_sales_lines", on_delete=fields.RESTRICT
    )
    order_line_id: int
    quantity = fields.IntField()

    class Meta:
        table = "after_sales_line"
        indexes = (("request_id",), ("order_line_id",))


class ReturnShipment(Model):
    """Goods going back to the merchant (or a replacement going out) for a request."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[AfterSalesRequest] = fields.ForeignKeyField(
        "models.AfterSalesRequest", related_name="return_shipments", on_delete=fields.RESTRICT
    )
    request_id: int
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="return_shipments", on_delete=fields.RESTRICT
    )
    provider_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="return_shipments", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="return_shipments", on_delete=fields.RESTRICT
    )
    merchant_id: int
    tracking_number = fields.CharField(max_length=64)
    state = fields.CharEnumField(ShipmentState, max_length=20, default=ShipmentState.CREATED)
    # A replacement going out to the consumer, rather than goods coming back.
    replacement = fields.BooleanField(default=False)
    # QS 9.7.3: a free pick-up is booked by the platform, which bears its cost.
    platform_pickup = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "return_shipment"
        unique_together = (("provider_id", "tracking_number"),)
        indexes = (("request_id",), ("provider_id", "id"), ("merchant_id", "id"))


class Refund(Model):
    """Money going back on a payment, executed by its payment provider."""

    id = fields.IntField(primary_key=True)
    payment: fields.ForeignKeyRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="refunds", on_delete=fields.RESTRICT
    )
    payment_id: int
    request: fields.ForeignKeyNullableRelation[AfterSalesRequest] = fields.ForeignKeyField(
        "models.AfterSalesRequest", related_name="refunds", null=True, on_delete=fields.RESTRICT
    )
    request_id: int | None
    # Denormalised owners, so that row scoping is one indexed filter.
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="refunds", on_delete=fields.RESTRICT
    )
    order_id: int
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="refunds", on_delete=fields.RESTRICT
    )
    provider_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="refunds", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="refunds", on_delete=fields.RESTRICT
    )
    merchant_id: int
    state = fields.CharEnumField(RefundState, max_length=16, default=RefundState.REQUESTED)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    reason = fields.CharField(max_length=200, default="")
    # Unique per payment: a replay of the key returns this refund, whatever its state.
    idempotency_key = fields.CharField(max_length=64)
    provider_reference = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    settled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refund"
        unique_together = (("payment_id", "idempotency_key"),)
        indexes = (("provider_id", "id"), ("merchant_id", "id"), ("consumer_id", "id"))
