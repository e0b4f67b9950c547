"""Grades, warnings and the job ledger (QS 6.1, 7.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import WarningLevel, WarningState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.catalog import Merchant, Product


class MerchantGrade(Model):
    """One grading of a merchant for a period. History is never rewritten."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="grades"
    )
    merchant_id: int
    period = fields.CharField(max_length=20)
    level = fields.CharField(max_length=4)
    previous_level = fields.CharField(max_length=4, null=True)
    score = fields.FloatField()
    provisional = fields.BooleanField(default=False)
    # {dimension: {"score": 0-100, "inputs": {...}}}
    dimensions: fields.JSONField[dict[str, Any]] = fields.JSONField()
    reasons: fields.JSONField[list[str]] = fields.JSONField(default=list)
    rule_version = fields.IntField()
    computed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "merchant_grade"
        unique_together = (("merchant_id", "period"),)


class ProductGrade(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="grades"
    )
    product_id: int
    period = fields.CharField(max_length=20)
    level = fields.CharField(max_length=4)
    previous_level = fields.CharField(max_length=4, null=True)
    score = fields.FloatField()
    dimensions: fields.JSONField[dict[str, Any]] = fields.JSONField()
    reasons: fields.JSONField[list[str]] = fields.JSONField(default=list)
    rule_version = fields.IntField()
    computed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product_grade"
        unique_together = (("product_id", "period"),)


class MerchantWarning(Model):
    """An indicator that crossed its published threshold (QS 6.1.2)."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="warnings"
    )
    merchant_id: int
    indicator = fields.CharField(max_length=40)
    value = fields.FloatField()
    threshold = fields.FloatField()
    window_days = fields.IntField()
    level = fields.CharEnumField(WarningLevel, max_length=10)
    state = fields.CharEnumField(WarningState, max_length=14, default=WarningState.OPEN)
    rule_version = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    acknowledged_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="acknowledged_warnings", null=True
    )
    acknowledged_by_id: int | None
    acknowledged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "merchant_warning"
        indexes = (("merchant_id", "indicator", "state"),)


class JobRun(Model):
    """A periodic job's run for one period. The unique key is the lock: a second instance
    trying the same job and period fails to insert and does nothing."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50)
    period = fields.CharField(max_length=20)
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    summary: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "job_run"
        unique_together = (("name", "period"),)
