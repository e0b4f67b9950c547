"""Bulky goods (QS 9.7.5): installation appointments and trade-ins on lines of an order.

Both carry their owners (consumer, merchant) and, once known, the logistics provider that
visits, so that row scoping is one indexed filter; both store the version of the
``bulky_goods`` rule they were decided by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import InstallationState, TradeInCondition, TradeInState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider
    from pinzhi.models.aftersales import Refund
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order, OrderLine


class InstallationAppointment(Model):
    """A slot in which a bulky line's goods are delivered and installed.

    The slot's length and how far ahead it may be booked are the bulky_goods rule's.
    """

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="installation_appointments", on_delete=fields.RESTRICT
    )
    order_id: int
    order_line: fields.ForeignKeyRelation[OrderLine] = fields.ForeignKeyField(
        "models.OrderLine", related_name="installation_appointments", on_delete=fields.RESTRICT
    )
    order_line_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="installation_appointments", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="installation_appointments", on_delete=fields.RESTRICT
    )
    merchant_id: int
    # The logistics provider that delivers and installs: the order's carrier by default,
    # unknown (null) until the order ships or the merchant names one.
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider",
        related_name="installation_appointments",
        null=True,
        on_delete=fields.RESTRICT,
    )
    provider_id: int | None
    # The product's category when booked: what is installed.
    category = fields.CharField(max_length=50)
    state = fields.CharEnumField(
        InstallationState, max_length=16, default=InstallationState.PROPOSED
    )
    slot_start = fields.DatetimeField()
    slot_end = fields.DatetimeField()
    reschedules = fields.SmallIntField(default=0)
    note = fields.CharField(max_length=500, default="")
    outcome_note = fields.CharField(max_length=500, default="")
    rule_version = fields.IntField()
    confirmed_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    # Whether the installation was done within the rule's days after delivery.
    on_time = fields.BooleanField(null=True)
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "installation_appointment"
        indexes = (
            ("consumer_id", "id"),
            ("merchant_id", "id"),
            ("provider_id", "id"),
            ("order_line_id",),
        )


class TradeIn(Model):
    """An old item handed over when a bulky line is delivered, its value credited.

    The agreed value is paid on the order's payment as a refund once the carrier has
    collected the item.
    """

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="trade_ins", on_delete=fields.RESTRICT
    )
    order_id: int
    order_line: fields.ForeignKeyRelation[OrderLine] = fields.ForeignKeyField(
        "models.OrderLine", related_name="trade_ins", on_delete=fields.RESTRICT
    )
    order_line_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="trade_ins", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="trade_ins", on_delete=fields.RESTRICT
    )
    merchant_id: int
    # The carrier that collects the old item with the delivery, once scheduled.
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="trade_ins", null=True, on_delete=fields.RESTRICT
    )
    provider_id: int | None
    category = fields.CharField(max_length=50)
    condition = fields.CharEnumField(TradeInCondition, max_length=16)
    description = fields.CharField(max_length=200)
    # The credit agreed when asked, by the rule's table and cap.
    value_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    rule_version = fields.IntField()
    state = fields.CharEnumField(TradeInState, max_length=16, default=TradeInState.REQUESTED)
    decision_note = fields.CharField(max_length=500, default="")
    # The carrier's own id for the collection, and when it happened.
    collection_event_id = fields.CharField(max_length=100, null=True)
    collected_at = fields.DatetimeField(null=True)
    credited_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # The refunds asked to pay the credit (one per attempt; one at most succeeds).
    credits: fields.ReverseRelation[Refund]

    class Meta:
        table = "trade_in"
        indexes = (
            ("consumer_id", "id"),
            ("merchant_id", "id"),
            ("provider_id", "id"),
            ("order_line_id",),
        )
