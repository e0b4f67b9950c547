"""Merchants and their products."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Merchant(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # The grade in force (QS 6.1.1), copied from the latest MerchantGrade for fast listing.
    grade_level = fields.CharField(max_length=4, null=True)
    grade_score = fields.FloatField(null=True)
    grade_provisional = fields.BooleanField(default=True)
    grade_rule_version = fields.IntField(null=True)
    graded_at = fields.DatetimeField(null=True)
    # QS 6.4: under key control until this time.
    key_control_until = fields.DatetimeField(null=True)
    # Security deposit (QS 6.1.1 credit): required and currently held, in minor units.
    deposit_required_minor = fields.BigIntField(default=0)
    deposit_held_minor = fields.BigIntField(default=0)

    class Meta:
        table = "merchant"


class Product(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="products", on_delete=fields.RESTRICT
    )
    merchant_id: int
    title = fields.CharField(max_length=200)
    category = fields.CharField(max_length=50, db_index=True)
    # Money is integer minor units plus an ISO 4217 currency.
    price_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    stock = fields.IntField(default=0)
    is_listed = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Listing attributes by name (brand, origin, shelf_life, ...), checked per category.
    attributes: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # The grade in force (QS 7.1.1) and the ranking score derived from it (QS 7.2).
    grade_level = fields.CharField(max_length=4, null=True)
    grade_score = fields.FloatField(null=True)
    grade_rule_version = fields.IntField(null=True)
    graded_at = fields.DatetimeField(null=True)
    rank_score = fields.FloatField(default=0, db_index=True)

    class Meta:
        table = "product"
        # The default listing order (QS 7.2): rank first, newest within a rank.
        indexes = (("rank_score", "id"), ("merchant_id", "id"))
