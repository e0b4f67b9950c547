"""Key control of merchants (QS 6.4) and the listing restrictions it brings.

A decided violation case whose type or penalty the rule ``violation.penalties`` calls serious
puts its merchant under key control until ``decided_at + key_control_days``
(``Merchant.key_control_until``). While under key control the merchant may not list products
in the rule's key categories, its warning thresholds tighten and its commission is the key
control rate (services/monitoring.py, services/incentives.py). A penalty stays in force for
the same period after its decision; a LISTING_FREEZE or SUSPENSION in force blocks every new
listing. Each decision is read with the rule version it applied (QS 5.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, Penalty, PlatformRule, ViolationCase, ViolationState
from pinzhi.services import audit, rules, state

RULE_KEY = "violation.penalties"

# A decision that stands: decided, under appeal, or upheld on appeal.
STANDING = (ViolationState.DECIDED, ViolationState.APPEALED, ViolationState.UPHELD)

# Penalties that block every new listing while in force.
LISTING_BLOCKERS = frozenset({Penalty.LISTING_FREEZE, Penalty.SUSPENSION})
# Penalties that restrict the merchant while in force (a warning or a one-off deduction
# does not).
RESTRICTING = (Penalty.TRAFFIC_RESTRICTION, Penalty.LISTING_FREEZE, Penalty.SUSPENSION)
# The published amount of violation.penalties a traffic restriction takes off the rank score.
RANK_PENALTY_KEY = "traffic_restriction_rank_penalty"


def is_under_key_control(merchant: Merchant, now: datetime | None = None) -> bool:
    """QS 6.4: whether ``merchant`` is under key control at ``now`` (default: now)."""
    until = merchant.key_control_until
    return until is not None and until > (now or state.now())


def is_serious(content: dict[str, Any], type_: str, penalty: str | None) -> bool:
    """A decided case of a serious type, or with a serious penalty, brings key control."""
    return type_ in content["serious_types"] or (
        penalty is not None and penalty in content["serious_penalties"]
    )


def penalty_end(case: ViolationCase, content: dict[str, Any]) -> datetime | None:
    """Until when the case's penalty is in force (the key-control period of its rule)."""
    if case.decided_at is None or case.penalty is None:
        return None
    return case.decided_at + timedelta(days=content["key_control_days"])


def control_end(case: ViolationCase, content: dict[str, Any]) -> datetime | None:
    """Until when the case keeps its merchant under key control; None if it does not."""
    if not is_serious(content, case.type, case.penalty):
        return None
    return penalty_end(case, content)


async def rule_contents(versions: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    """The content of each given version of the penalty rule, by version."""
    wanted = {v for v in versions if v is not None}
    if not wanted:
        return {}
    rows = await PlatformRule.filter(key=RULE_KEY, version__in=wanted)
    return {row.version: row.content for row in rows}


async def _standing_cases(merchant_ids: Iterable[int], **filters: Any) -> list[ViolationCase]:
    return await ViolationCase.filter(
        merchant_id__in=list(merchant_ids), state__in=STANDING, penalty__isnull=False, **filters
    ).order_by("id")


async def penalties_in_force(
    merchant_ids: Iterable[int], now: datetime | None = None, exclude_case: int | None = None
) -> dict[int, set[Penalty]]:
    """The penalties of standing decisions still in force, by merchant (but for the case
    ``exclude_case``, whose penalty is being lifted)."""
    now = now or state.now()
    cases = [c for c in await _standing_cases(merchant_ids) if c.id != exclude_case]
    contents = await rule_contents(c.rule_version for c in cases)
    found: dict[int, set[Penalty]] = {}
    for case in cases:
        content = contents.get(case.rule_version or 0)
        end = penalty_end(case, content) if content else None
        if end is not None and end > now:
            found.setdefault(case.merchant_id, set()).add(Penalty(case.penalty))
    return found


def rank_penalty(content: dict[str, Any]) -> float:
    """The published amount a traffic restriction takes off the rank score (0 in a rule
    version that predates it)."""
    return float(content.get(RANK_PENALTY_KEY, 0))


async def rank_penalties(
    merchant_ids: Iterable[int], now: datetime | None = None, exclude_case: int | None = None
) -> dict[int, float]:
    """The rank penalty in force for each restricted merchant: the largest of its standing
    traffic restrictions still in their period (not yet lifted)."""
    now = now or state.now()
    cases = await ViolationCase.filter(
        merchant_id__in=list(set(merchant_ids)),
        state__in=STANDING,
        penalty=Penalty.TRAFFIC_RESTRICTION,
        effects_lifted_at__isnull=True,
    )
    contents = await rule_contents(c.rule_version for c in cases)
    found: dict[int, float] = {}
    for case in cases:
        content = contents.get(case.rule_version or 0)
        end = penalty_end(case, content) if content else None
        if case.id == exclude_case or end is None or end <= now:
            continue
        amount = float((case.effects or {}).get("rank_penalty", rank_penalty(content or {})))
        found[case.merchant_id] = max(found.get(case.merchant_id, 0.0), amount)
    return found


@dataclass(frozen=True)
class KeyControl:
    """A merchant's key control: until when, and what it may not do meanwhile."""

    until: datetime
    key_categories: tuple[str, ...]
    penalties: frozenset[Penalty]
    rule_version: int

    @property
    def all_listings_blocked(self) -> bool:
        return bool(self.penalties & LISTING_BLOCKERS)

    def restrictions(self) -> list[str]:
        """Stable codes, e.g. ``NO_NEW_LISTINGS_IN_CATEGORY:food``, in a fixed order."""
        codes = [f"NO_NEW_LISTINGS_IN_CATEGORY:{c}" for c in self.key_categories]
        if self.all_listings_blocked:
            codes.insert(0, "NO_NEW_LISTINGS")
        codes += [f"PENALTY_IN_FORCE:{p}" for p in RESTRICTING if p in self.penalties]
        codes += ["CLOSER_MONITORING", "KEY_CONTROL_COMMISSION"]
        return codes


async def statuses(
    merchant_ids: Iterable[int], now: datetime | None = None
) -> dict[int, KeyControl]:
    """The key control of each given merchant that is under it now (batched: a fixed
    number of statements for any number of merchants)."""
    now = now or state.now()
    controlled = dict(
        await Merchant.filter(
            id__in=list(set(merchant_ids)), key_control_until__gt=now
        ).values_list("id", "key_control_until")
    )
    if not controlled:
        return {}
    rule = await rules.current(RULE_KEY)
    in_force = await penalties_in_force(controlled, now)
    return {
        merchant_id: KeyControl(
            until=until,
            key_categories=tuple(rule.content["key_categories"]),
            penalties=frozenset(in_force.get(merchant_id, ())),
            rule_version=rule.version,
        )
        for merchant_id, until in controlled.items()
    }


async def check_new_listing(merchant: Merchant, category: str, field: str = "category") -> None:
    """Refuse a new listing that the merchant's penalties or key control forbid (QS 6.4):
    LISTING_FROZEN while a listing freeze or suspension is in force, KEY_CONTROL_RESTRICTION
    for a key category while under key control."""
    now = state.now()
    in_force = (await penalties_in_force([merchant.id], now)).get(merchant.id, set())
    if in_force & LISTING_BLOCKERS:
        blocking = sorted(str(p) for p in in_force & LISTING_BLOCKERS)
        raise ServiceError(ErrorCode.LISTING_FROZEN, (field,), ", ".join(blocking))
    if not is_under_key_control(merchant, now):
        return
    rule = await rules.current(RULE_KEY)
    if category in rule.content["key_categories"]:
        raise ServiceError(ErrorCode.KEY_CONTROL_RESTRICTION, (field,), category)


async def _set_until(
    actor: Viewer | None,
    merchant: Merchant,
    until: datetime | None,
    action: str,
    case: ViolationCase,
) -> None:
    """Move the end of the merchant's key control and trace it on the merchant's chain
    (QS 9.1.2: a change of a party's standing)."""
    before = merchant.key_control_until
    merchant.key_control_until = until
    await Merchant.filter(id=merchant.id).update(key_control_until=until)
    await audit.append(
        "Merchant",
        merchant.id,
        action,
        actor=actor,
        data={
            "case_id": case.id,
            "until_before": before.isoformat() if before else None,
            "until": until.isoformat() if until else None,
        },
    )


async def extend(
    actor: Viewer | None, merchant: Merchant, case: ViolationCase, until: datetime
) -> bool:
    """Put the merchant under key control until at least ``until`` because of ``case``.
    The caller holds the merchant's row lock inside its transaction. True if the end moved."""
    current = merchant.key_control_until
    if current is not None and current >= until:
        return False
    started = current is None or current <= state.now()
    action = "key_control_started" if started else "key_control_extended"
    await _set_until(actor, merchant, until, action, case)
    return True


async def lift(
    actor: Viewer | None, merchant: Merchant, case: ViolationCase, content: dict[str, Any]
) -> bool:
    """After ``case``'s decision is overturned, end the key control it caused: the end
    falls back to the latest end among the merchant's other standing serious cases (or
    none). Key control that another case extends further is left alone. The caller holds
    the merchant's row lock. True if the end changed."""
    end = control_end(case, content)
    until = merchant.key_control_until
    if end is None or until is None or end < until:
        return False
    others = await _standing_cases([merchant.id], id__not=case.id)
    contents = await rule_contents(c.rule_version for c in others)
    ends = [
        e
        for c in others
        if (c_content := contents.get(c.rule_version or 0))
        and (e := control_end(c, c_content)) is not None
    ]
    new_until = max(ends) if ends else None
    if new_until == until:
        return False
    lifted = new_until is None or new_until <= state.now()
    action = "key_control_lifted" if lifted else "key_control_shortened"
    await _set_until(actor, merchant, new_until, action, case)
    return True
