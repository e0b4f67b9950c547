"""Merchant grades, warnings, incentives and rule publishing."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import scope, sees_merchant_internals
from pinzhi.resolvers.common import attempt
from pinzhi.resolvers.pagination import paginate
from pinzhi.schema.base import Connection, pk_of
from pinzhi.schema.enums import WarningState
from pinzhi.schema.governance import PlatformRule
from pinzhi.schema.grading import (
    Incentives,
    LiveGrade,
    MerchantGradeDetail,
    MerchantWarning,
    PublishRuleInput,
    RulePayload,
    WarningPayload,
    dimensions_of,
)
from pinzhi.services import incentives, merchant_grading, monitoring, rules
from pinzhi.services.state import now


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


async def merchant_warnings(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: WarningState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[MerchantWarning]:
    """Warnings in the viewer's scope: a merchant's own, or all for staff and regulators."""
    query = scope(info.context.viewer, models.MerchantWarning)
    if state is not None:
        query = query.filter(state=state)
    if merchant_id is not None:
        query = query.filter(merchant_id=pk_of(merchant_id, "Merchant") or 0)
    return await paginate(
        query, first, after, lambda rows: [MerchantWarning.from_row(r) for r in rows]
    )


async def acknowledge_warning(info: Info, warning_id: strawberry.ID) -> WarningPayload:
    row, errors = await attempt(
        info,
        monitoring.acknowledge(info.context.viewer, pk_of(warning_id, "MerchantWarning") or 0),
    )
    return WarningPayload(warning=MerchantWarning.from_row(row) if row else None, errors=errors)


async def publish_rule(info: Info, input: PublishRuleInput) -> RulePayload:
    row, errors = await attempt(
        info,
        rules.publish_checked(
            info.context.viewer,
            input.key.strip(),
            input.content,
            input.effective_from,
            info.context.cache,
        ),
    )
    if row is None:
        return RulePayload(errors=errors)
    return RulePayload(rule=PlatformRule.from_row(row, info.context.language))


async def platform_rule_history(info: Info, key: str) -> list[PlatformRule]:
    """Every version of a rule, newest first: history is never rewritten (QS 5.2)."""
    return [PlatformRule.from_row(r, info.context.language) for r in await rules.history(key)]
