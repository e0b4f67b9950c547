"""Merchant grades from five dimensions (QS 6.1.1) and periodic re-grading (QS 6.1.2).

``compute`` is a pure function of the loaded facts and the rule, so the live view, the
grading job and the tests share one piece of arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.models import Merchant, MerchantGrade
from pinzhi.services import audit, bulk, rules
from pinzhi.services.lookup import ids_of, lock_rows
from pinzhi.services.merchant_indicators import MerchantFacts, load_facts
from pinzhi.services.scoring import level_for, level_rank, linear, mean, rate, weighted_total

RATE_DIMENSIONS = ("operation", "service")


@dataclass(frozen=True)
class GradeResult:
    level: str
    score: float
    provisional: bool
    dimensions: dict[str, dict[str, Any]]
    reasons: list[str]


def _brand(facts: MerchantFacts, rule: dict[str, Any]) -> dict[str, Any]:
    b = rule["brand"]
    brand_points = min(
        b["max_brand_points"],
        facts.registered_brands * b["points_per_registered_brand"]
        + facts.authorised_brands * b["points_per_authorised_brand"],
    )
    rank_points = (facts.sales_percentile or 0.0) * b["sales_rank_points"]
    score = round(min(100.0, brand_points + rank_points), 2)
    return {
        "score": score,
        "inputs": {
            "registered_brands": facts.registered_brands,
            "authorised_brands": facts.authorised_brands,
            "sales_percentile": facts.sales_percentile,
        },
    }


def required_licences(categories: set[str], rule: dict[str, Any]) -> list[str]:
    q = rule["qualification"]
    needed = set(q["always"])
    for category in categories:
        needed.update(q["by_category"].get(category, []))
    return sorted(needed)


def _qualification(facts: MerchantFacts, rule: dict[str, Any]) -> dict[str, Any]:
    needed = required_licences(facts.categories, rule)
    held = [kind for kind in needed if kind in facts.valid_licences]
    score = round(100.0 * len(held) / len(needed), 2) if needed else 100.0
    return {
        "score": score,
        "inputs": {"required": needed, "valid": held, "missing": sorted(set(needed) - set(held))},
    }


def _operation(facts: MerchantFacts, rule: dict[str, Any]) -> dict[str, Any]:
    rates = facts.operation.rates()
    scores = [linear(rates[name], **bounds) for name, bounds in rule["operation"].items()]
    return {
        "score": mean(scores),
        "inputs": {**rates, "orders": facts.operation.orders},
    }


def _credit(facts: MerchantFacts, rule: dict[str, Any], now: datetime) -> dict[str, Any]:
    c = rule["credit"]
    points = 0.0
    for kind, decided_at in facts.violations:
        age_days = max(0.0, (now - decided_at).total_seconds() / 86400)
        points += c["severity"].get(kind, 0) * math.pow(0.5, age_days / c["half_life_days"])
    shortfall = facts.deposit_held_minor < facts.deposit_required_minor
    if shortfall:
        points += c["deposit_shortfall_points"]
    return {
        "score": round(max(0.0, 100.0 - points), 2),
        "inputs": {
            "violations": len(facts.violations),
            "violation_points": round(
                points - (c["deposit_shortfall_points"] if shortfall else 0), 2
            ),
            "deposit_required_minor": facts.deposit_required_minor,
            "deposit_held_minor": facts.deposit_held_minor,
        },
    }


def _service(facts: MerchantFacts, rule: dict[str, Any]) -> dict[str, Any]:
    s, svc = rule["service"], facts.service
    decided = svc.handled_in_time + svc.handled_late
    values = {
        "complaint_timeliness": round(svc.handled_in_time / decided, 4) if decided else None,
        # Upheld complaints only: a complaint found groundless is no mark against the shop.
        "complaint_rate": (
            round(svc.upheld_complaints / facts.operation.orders, 4)
            if facts.operation.orders
            else None
        ),
        "satisfaction": (
            round(svc.satisfaction_sum / svc.satisfaction_count, 2)
            if svc.satisfaction_count
            else None
        ),
        # QS 9.2.3: after-sales requests answered within their response limit, of those
        # whose outcome is known (services/after_sales_metrics.py).
        "after_sales_timeliness": rate(
            svc.after_sales_on_time, svc.after_sales_on_time + svc.after_sales_breached
        ),
    }
    # The input list is rule data: a new indicator joins by adding its bounds to the rule.
    scores = [linear(values.get(name), **bounds) for name, bounds in s.items()]
    return {
        "score": mean(scores),
        "inputs": {
            **values,
            "complaints": svc.complaints,
            "upheld_complaints": svc.upheld_complaints,
            "after_sales_on_time": svc.after_sales_on_time,
            "after_sales_breached": svc.after_sales_breached,
        },
    }


def compute(
    facts: MerchantFacts,
    rule: dict[str, Any],
    now: datetime,
    previous: dict[str, dict[str, Any]] | None = None,
) -> GradeResult:
    dims = {
        "brand": _brand(facts, rule),
        "qualification": _qualification(facts, rule),
        "operation": _operation(facts, rule),
        "credit": _credit(facts, rule, now),
        "service": _service(facts, rule),
    }
    scores = {name: d["score"] for name, d in dims.items()}
    score = weighted_total(scores, rule["weights"])
    reasons: list[str] = []
    provisional = facts.operation.orders < rule["min_orders"]
    if provisional:
        # Rates over too few orders are noise: they neither lower nor raise the grade.
        held = {
            name: (previous or {}).get(name, {}).get("score", rule["provisional_rate_score"])
            for name in RATE_DIMENSIONS
        }
        level = level_for(weighted_total({**scores, **held}, rule["weights"]), rule["levels"])
        reasons.append(
            f"provisional: {facts.operation.orders} orders < {rule['min_orders']} in "
            f"{rule['window_days']} days; operation and service held at "
            f"{held['operation']:.0f} and {held['service']:.0f}"
        )
    else:
        level = level_for(score, rule["levels"])
    if previous:
        for name, dim in dims.items():
            before = previous.get(name, {}).get("score")
            if before is not None and abs(dim["score"] - before) >= 5:
                direction = "rose" if dim["score"] > before else "fell"
                reasons.append(f"{name} {direction} from {before:.0f} to {dim['score']:.0f}")
    return GradeResult(level, score, provisional, dims, reasons)


async def live_grade(merchant_id: int, now: datetime) -> GradeResult | None:
    """The grade the merchant would get now, from live data (for the merchant's own view)."""
    rule = await rules.current("merchant.grading")
    facts = (await load_facts(now, rule.content, [merchant_id])).get(merchant_id)
    if facts is None:
        return None
    last = await MerchantGrade.filter(merchant_id=merchant_id).order_by("-id").first()
    return compute(facts, rule.content, now, last.dimensions if last else None)


async def grade_merchants(period: str, now: datetime) -> dict[str, Any]:
    """Grade every merchant not yet graded for ``period``: a fixed number of statements,
    whatever the number of merchants. Returns counts by level."""
    rule = await rules.current("merchant.grading")
    done = set(await ids_of(MerchantGrade.filter(period=period), "merchant_id"))
    facts = await load_facts(now, rule.content)
    latest: dict[int, MerchantGrade] = {}
    for row in await MerchantGrade.filter(merchant_id__in=list(facts)).order_by("id"):
        latest[row.merchant_id] = row
    grades: list[MerchantGrade] = []
    merchants: list[Merchant] = []
    transitions: list[audit.Entry] = []
    by_level: dict[str, int] = {}
    for merchant_id, merchant_facts in facts.items():
        if merchant_id in done:
            continue
        last = latest.get(merchant_id)
        result = compute(merchant_facts, rule.content, now, last.dimensions if last else None)
        previous_level = last.level if last else None
        reasons = list(result.reasons)
        if previous_level and previous_level != result.level:
            worse = level_rank(result.level, rule.content["levels"]) > level_rank(
                previous_level, rule.content["levels"]
            )
            reasons.insert(
                0, f"{'down' if worse else 'up'}graded {previous_level} → {result.level}"
            )
        grades.append(
            MerchantGrade(
                merchant_id=merchant_id,
                period=period,
                level=result.level,
                previous_level=previous_level,
                score=result.score,
                provisional=result.provisional,
                dimensions=result.dimensions,
                reasons=reasons,
                rule_version=rule.version,
            )
        )
        merchants.append(
            Merchant(
                id=merchant_id,
                grade_level=result.level,
                grade_score=result.score,
                grade_provisional=result.provisional,
                grade_rule_version=rule.version,
                graded_at=now,
            )
        )
        by_level[result.level] = by_level.get(result.level, 0) + 1
        if previous_level != result.level:
            # QS 9.1.2: a merchant's grade moving from level to level is a traced key node.
            transitions.append(
                (
                    merchant_id,
                    "graded",
                    previous_level or "",
                    result.level,
                    {"period": period, "score": result.score, "rule_version": rule.version},
                )
            )
    try:
        async with in_transaction():
            # Every request that appends to a merchant's trail holds its row lock: holding
            # them too, the job reads the chains' heads with nobody appending meanwhile.
            await lock_rows(Merchant, [t[0] for t in transitions])
            await MerchantGrade.bulk_create(grades, batch_size=1000)
            await audit.append_many("Merchant", transitions, actor=None)
            await bulk.update_fields(
                Merchant,
                merchants,
                [
                    "grade_level",
                    "grade_score",
                    "grade_provisional",
                    "grade_rule_version",
                    "graded_at",
                ],
            )
    except IntegrityError:
        # Another instance graded the same merchants for this period first.
        return {"graded": 0, "skipped": len(facts), "by_level": {}}
    return {"graded": len(grades), "skipped": len(done), "by_level": by_level}
