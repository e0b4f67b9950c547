"""Incentives that follow the grade by rule (QS 6.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pinzhi.models import Merchant
from pinzhi.services import rules
from pinzhi.services.key_control import is_under_key_control


@dataclass(frozen=True)
class Incentives:
    commission_bps: int
    financing_eligible: bool
    rule_version: int
    reason: str


async def for_merchant(merchant: Merchant, now: datetime) -> Incentives:
    """The commission and financing eligibility in force for this merchant now. A merchant
    under key control gets no incentives (QS 6.4)."""
    rule = await rules.current("merchant.incentives")
    c = rule.content
    if is_under_key_control(merchant, now):
        return Incentives(c["key_control_commission_bps"], False, rule.version, "key control")
    if merchant.grade_level is None:
        return Incentives(c["ungraded_commission_bps"], False, rule.version, "not graded yet")
    bps = c["commission_bps_by_level"].get(merchant.grade_level, c["ungraded_commission_bps"])
    eligible = merchant.grade_level in c["financing_levels"] and not merchant.grade_provisional
    return Incentives(bps, eligible, rule.version, f"grade {merchant.grade_level}")
