"""Merchant grades, warnings, incentives and rule publishing."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.base import Connection, attempt, pk_or_missing
from pinzhi.schema.enums import WarningState
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.governance import PlatformRule
from pinzhi.schema.grading import (
    MerchantWarning,
    PublishRuleInput,
    RulePayload,
    WarningPayload,
)
from pinzhi.services import monitoring, rules


async def merchant_warnings(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: WarningState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[MerchantWarning]:
    """Warnings in the viewer's scope: a merchant's own, or all for staff and regulators."""
    found = await scoped_page(
        info.context.viewer,
        models.MerchantWarning,
        Window(first, after, last, before),
        state=state,
        merchant_id=id_filter(merchant_id, "Merchant"),
    )
    return Connection.of(found, [MerchantWarning.from_row(r) for r in found.rows])


async def acknowledge_warning(info: Info, warning_id: strawberry.ID) -> WarningPayload:
    row, errors = await attempt(
        info,
        monitoring.acknowledge(info.context.viewer, pk_or_missing(warning_id, "MerchantWarning")),
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


@strawberry.type
class GradingQuery:
    merchant_warnings = field(merchant_warnings, policy.READERS, description="QS 6.1.2, in scope.")
    platform_rule_history = field(
        platform_rule_history, description="Every version of a rule (QS 5.2)."
    )


@strawberry.type
class GradingMutation:
    acknowledge_warning = mutation(
        acknowledge_warning, Action.ACKNOWLEDGE_WARNING, description="QS 6.1.2."
    )
    publish_rule = mutation(publish_rule, Action.PUBLISH_RULE, description="QS 5.2.")
