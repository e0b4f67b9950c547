"""Merchant grades, warnings, incentives and rule publishing (QS 5.2, 6.1, 6.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.enums import WarningLevel, WarningState
from pinzhi.schema.governance import PlatformRule
from pinzhi.services import incentives, merchant_grading, rules
from pinzhi.services.state import now


@strawberry.type(description="One of the five dimensions of a grade, 0–100, with its inputs.")
class GradeDimension:
    name: str
    score: float
    inputs: JSON


def stored_grade(row: models.MerchantGrade | models.ProductGrade) -> dict[str, Any]:
    """The fields merchant and product grade records share, as GraphQL values."""
    return {
        "period": row.period,
        "level": row.level,
        "previous_level": row.previous_level,
        "score": row.score,
        "dimensions": dimensions_of(row.dimensions),
        "reasons": list(row.reasons),
        "rule_version": row.rule_version,
        "computed_at": row.computed_at,
    }


# The standard's order of the dimensions (QS 6.1.1 for merchants, 7.1.1 for products).
# Stored JSON does not keep key order on PostgreSQL (jsonb), so the order is restored here.
DIMENSION_ORDER = (
    "brand",
    "qualification",
    "production",
    "listing",
    "operation",
    "after_sales",
    "credit",
    "service",
    "reviews",
)


def dimensions_of(stored: dict[str, Any]) -> list[GradeDimension]:
    def position(name: str) -> tuple[int, str]:
        known = name in DIMENSION_ORDER
        return (DIMENSION_ORDER.index(name) if known else len(DIMENSION_ORDER), name)

    return [
        GradeDimension(name=name, score=stored[name]["score"], inputs=stored[name]["inputs"])
        for name in sorted(stored, key=position)
    ]


@strawberry.type(description="A merchant's grade with its sub-scores, inputs and reasons.")
class MerchantGradeDetail:
    period: str
    level: str
    previous_level: str | None
    score: float
    provisional: bool
    dimensions: list[GradeDimension]
    reasons: list[str]
    rule_version: int
    computed_at: datetime

    @classmethod
    def from_row(cls, row: models.MerchantGrade) -> MerchantGradeDetail:
        return cls(provisional=row.provisional, **stored_grade(row))


@strawberry.type(description="What the grade would be now, from live data (not stored).")
class LiveGrade:
    level: str
    score: float
    provisional: bool
    dimensions: list[GradeDimension]
    reasons: list[str]
    rule_version: int


@strawberry.type(description="Commission and financing eligibility in force (QS 6.2).")
class Incentives:
    commission_bps: int = strawberry.field(description="Commission in basis points (1/100 %).")
    financing_eligible: bool
    reason: str
    rule_version: int


@strawberry.type(description="An indicator over its published threshold (QS 6.1.2).")
class MerchantWarning(Node):
    indicator: str
    value: float
    threshold: float
    window_days: int
    level: WarningLevel
    state: WarningState
    rule_version: int
    created_at: datetime
    acknowledged_at: datetime | None
    merchant_id: strawberry.ID

    @classmethod
    def from_row(cls, row: models.MerchantWarning) -> MerchantWarning:
        return cls(
            id=to_global_id("MerchantWarning", row.id),
            indicator=row.indicator,
            value=row.value,
            threshold=row.threshold,
            window_days=row.window_days,
            level=row.level,
            state=row.state,
            rule_version=row.rule_version,
            created_at=row.created_at,
            acknowledged_at=row.acknowledged_at,
            merchant_id=to_global_id("Merchant", row.merchant_id),
        )


@strawberry.type
class WarningPayload:
    warning: MerchantWarning | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PublishRuleInput:
    key: str
    content: JSON
    effective_from: datetime | None = strawberry.field(
        default=None, description="Defaults to now; a future date schedules the version."
    )


@strawberry.type
class RulePayload:
    rule: PlatformRule | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- A merchant's grading, for the merchant itself, compliance staff and regulators ---------


async def grade_detail(info: Info, merchant_pk: int) -> MerchantGradeDetail | None:
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    row = await info.context.loaders.latest_grade_by_merchant_id.load(merchant_pk)
    return MerchantGradeDetail.from_row(row) if row else None


async def grade_history(info: Info, merchant_pk: int) -> list[MerchantGradeDetail] | None:
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    rows = await info.context.loaders.grades_by_merchant_id.load(merchant_pk)
    return [MerchantGradeDetail.from_row(r) for r in reversed(rows)]


async def live_grade(info: Info, merchant_pk: int) -> LiveGrade | None:
    """Recomputed from live data on request: for one merchant's own dashboard."""
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    result = await merchant_grading.live_grade(merchant_pk, now())
    if result is None:
        return None
    rule = await rules.current("merchant.grading")
    return LiveGrade(
        level=result.level,
        score=result.score,
        provisional=result.provisional,
        dimensions=dimensions_of(result.dimensions),
        reasons=result.reasons,
        rule_version=rule.version,
    )


async def merchant_incentives(info: Info, merchant: models.Merchant) -> Incentives | None:
    if not sees_merchant_internals(info.context.viewer, merchant.id):
        return None
    result = await incentives.for_merchant(merchant, now())
    return Incentives(
        commission_bps=result.commission_bps,
        financing_eligible=result.financing_eligible,
        reason=result.reason,
        rule_version=result.rule_version,
    )
