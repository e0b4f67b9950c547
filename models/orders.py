"""Orders, their lines, payments, shipments and tracking events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import OrderState, PaymentState, ShipmentState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider
    from pinzhi.models.aftersales import ReturnShipment
    from pinzhi.models.catalog import Merchant, Product


class Order(Model):
    id = fields.IntField(primary_key=True)
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="orders", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="orders", on_delete=fields.RESTRICT
    )
    merchant_id: int
    state = fields.CharEnumField(OrderState, max_length=20, default=OrderState.PENDING_PAYMENT)
    total_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    # The delivery recipient: PII, encrypted at rest.
    recipient_name_enc = fields.TextField()
    recipient_phone_enc = fields.TextField()
    address_enc = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    paid_at = fields.DatetimeField(null=True)
    shipped_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # QS 6.2: the commission in force when the order was placed, in basis points.
    commission_bps = fields.IntField(default=0)
    commission_rule_version = fields.IntField(null=True)
    # The client's key for this placement: a resubmission with the same key returns this
    # order instead of reserving stock again; ``request_hash`` (keyed, it covers the
    # recipient) tells a true retry from a reuse of the key for another order.
    idempotency_key = fields.CharField(max_length=64, null=True)
    request_hash = fields.CharField(max_length=64, null=True)
    lines: fields.ReverseRelation[OrderLine]

    class Meta:
        table = "order"
        indexes = (("merchant_id", "id"), ("consumer_id", "id"))
        unique_together = (("consumer_id", "idempotency_key"),)


class OrderLine(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="lines", on_delete=fields.CASCADE
    )
    order_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="order_lines", on_delete=fields.RESTRICT
    )
    product_id: int
    quantity = fields.IntField()
    unit_price_minor = fields.BigIntField()
    # Units refunded before shipment: their reservation is released and they are not shipped.
    cancelled_quantity = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "order_line"
        indexes = (("order_id",),)


class Payment(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="payments"
    )
    order_id: int
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="payments"
    )
    provider_id: int
    # Denormalised owners, so that row scoping is one indexed filter.
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="payments"
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="payments"
    )
    merchant_id: int
    state = fields.CharEnumField(PaymentState, max_length=16, default=PaymentState.PENDING)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    idempotency_key = fields.CharField(max_length=64)
    provider_reference = fields.CharField(max_length=100, null=True)
    # The provider's reported outcome, kept even after a refund: a retried confirmation
    # is answered with it, a contradicting one refused.
    confirmed_succeeded = fields.BooleanField(null=True)
    # What refunds have taken back or hold (requested and succeeded): never above the amount.
    refunded_minor = fields.BigIntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "payment"
        unique_together = (("consumer_id", "idempotency_key"),)
        indexes = (("provider_id", "id"), ("merchant_id", "id"), ("order_id",))


class Shipment(Model):
    id = fields.IntField(primary_key=True)
    order: fields.OneToOneRelation[Order] = fields.OneToOneField(
        "models.Order", related_name="shipment"
    )
    order_id: int
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="shipments"
    )
    provider_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="shipments"
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="shipments"
    )
    merchant_id: int
    tracking_number = fields.CharField(max_length=64)
    state = fields.CharEnumField(ShipmentState, max_length=20, default=ShipmentState.CREATED)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "shipment"
        unique_together = (("provider_id", "tracking_number"),)
        indexes = (("merchant_id", "id"),)


class TrackingEvent(Model):
    """A carrier's event on an order's shipment or, for after-sales, a return shipment."""

    id = fields.IntField(primary_key=True)
    shipment: fields.ForeignKeyNullableRelation[Shipment] = fields.ForeignKeyField(
        "models.Shipment", related_name="tracking_events", null=True
    )
    shipment_id: int | None
    return_shipment: fields.ForeignKeyNullableRelation[ReturnShipment] = fields.ForeignKeyField(
        "models.ReturnShipment", related_name="tracking_events", null=True
    )
    return_shipment_id: int | None
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="tracking_events"
    )
    provider_id: int
    # The provider's own id for the event: replays of the same id are no-ops.
    external_id = fields.CharField(max_length=100)
    status = fields.CharEnumField(ShipmentState, max_length=20)
    location = fields.CharField(max_length=200, default="")
    description = fields.CharField(max_length=500, default="")
    occurred_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tracking_event"
        unique_together = (("provider_id", "external_id"),)
        indexes = (("shipment_id",), ("return_shipment_id",))
