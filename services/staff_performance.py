"""Staff performance (QS 9.3.3): each staff member's score over a calendar month (UTC), by
the published rule ``customer_service.performance``.

Three parts, each a 0-100 sub-score by its good/bad bounds (``scoring.linear``):

- satisfaction: the mean score of the consumers' feedback (subject SERVICE_CASE, on the
  feedback.scale rule's 1-5) on complaints assigned to the staff member, given in the month;
- closure: of the complaints assigned to the staff member that were open at some time in
  the month (filed before its end, not resolved before its start), the share resolved in it;
- response: of the staff member's answers in customer-service chat sessions sent in the
  month, the share within the response limit of ``customer_service.chat``
  (services/customer_service/metrics.py, ``responses_within_share``).

The score is the weighted mean of the parts that have data that month: a part without data
is left out and the weights of the others renormalised; with no part at all there is no
score. The result names the weights it applied.

A fixed number of statements for any number of staff: this rule, the complaints grouped by
assignee, the feedback grouped by complaint and those complaints' assignees, and the chat
metrics' own three (their rule and two grouped counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from pinzhi.models import Complaint, Feedback, FeedbackSubject
from pinzhi.services import rules, state
from pinzhi.services.after_sales_metrics import month_bounds
from pinzhi.services.customer_service import metrics
from pinzhi.services.scoring import current_period, linear, rate

RULE_KEY = "customer_service.performance"
PARTS = ("satisfaction", "closure", "response")


@dataclass(frozen=True)
class Part:
    """One part of a score: what was counted (``count``: feedback given, complaints
    assigned, chat answers), what counted for it (``hits``: complaints resolved, answers in
    time; None for satisfaction), the measured value (a mean score or a share) and its
    0-100 sub-score; value and score are None without data."""

    count: int = 0
    hits: int | None = None
    value: float | None = None
    score: float | None = None


@dataclass(frozen=True)
class Performance:
    account_id: int
    satisfaction: Part
    closure: Part
    response: Part
    # The weights applied, renormalised over the parts with data (they sum to 1).
    weights: dict[str, float] = field(default_factory=dict)
    score: float | None = None


@dataclass(frozen=True)
class PerformanceReport:
    period: str
    rule_version: int
    # The customer_service.chat version whose response limit the response part used.
    chat_rule_version: int
    by_account: dict[int, Performance]


def combine(
    scores: dict[str, float | None], weights: dict[str, Any]
) -> tuple[dict[str, float], float | None]:
    """The weighted mean of the parts with a score, the weights renormalised over them."""
    # In the parts' order, whatever order the stored rule keeps its keys in (PostgreSQL's
    # jsonb sorts them).
    ordered = sorted(weights, key=lambda k: (PARTS.index(k) if k in PARTS else len(PARTS), k))
    known = {k: float(weights[k]) for k in ordered if scores.get(k) is not None and weights[k] > 0}
    total = sum(known.values())
    if not total:
        return {}, None
    score = sum(float(scores[k] or 0.0) * w for k, w in known.items()) / total
    return {k: round(w / total, 4) for k, w in known.items()}, round(score, 2)


def _bounds(content: dict[str, Any], part: str) -> tuple[float, float]:
    return float(content[part]["good"]), float(content[part]["bad"])


async def performance(
    account_ids: list[int], period: str | None = None, now: datetime | None = None
) -> PerformanceReport:
    """The performance of each of ``account_ids`` over the month ``period`` (default: the
    current one), as of ``now``."""
    now = now or state.now()
    period = period or current_period(now)
    start, end = month_bounds(period)
    rule = await rules.current(RULE_KEY)
    content = rule.content
    ids = sorted(set(account_ids))

    # Closure: complaints assigned and open at some time in the month, and those resolved in it.
    open_in_month = Q(created_at__lt=end) & (
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    closure_rows = (
        await Complaint.filter(open_in_month, assignee_id__in=ids)
        .annotate(
            assigned=Count("id"),
            resolved=Count("id", _filter=Q(resolved_at__gte=start, resolved_at__lt=end)),
        )
        .group_by("assignee_id")
        .values("assignee_id", "assigned", "resolved")
    )
    closure = {
        int(r["assignee_id"]): (int(r["assigned"]), int(r["resolved"])) for r in closure_rows
    }

    # Satisfaction: the feedback given in the month on their complaints.
    rated = Feedback.filter(
        subject_type=FeedbackSubject.SERVICE_CASE,
        created_at__gte=start,
        created_at__lt=end,
        subject_id__in=Subquery(Complaint.filter(assignee_id__in=ids).values("id")),
    )
    per_case = (
        await rated.annotate(n=Count("id"), total=Sum("score"))
        .group_by("subject_id")
        .values("subject_id", "n", "total")
    )
    assignees = dict(
        await Complaint.filter(
            id__in=Subquery(rated.values("subject_id")), assignee_id__in=ids
        ).values_list("id", "assignee_id")
    )
    feedback: dict[int, list[int]] = {}
    for row in per_case:
        owner = assignees.get(row["subject_id"])
        if owner is not None:
            counted = feedback.setdefault(int(owner), [0, 0])
            counted[0] += int(row["n"])
            counted[1] += int(row["total"])

    # Response: their answers in chat sessions within the response limit.
    chat_version, chat = await metrics.response_metrics(
        period, metrics.GroupBy.AGENT, now=now, agent_ids=ids
    )
    answers = {int(m.key): m for m in chat if m.key is not None}

    found: dict[int, Performance] = {}
    for account_id in ids:
        n, total = feedback.get(account_id, (0, 0))
        average = round(total / n, 2) if n else None
        satisfaction = Part(
            count=n, value=average, score=linear(average, *_bounds(content, "satisfaction"))
        )
        assigned, resolved = closure.get(account_id, (0, 0))
        closed = rate(resolved, assigned)
        closure_part = Part(
            count=assigned,
            hits=resolved,
            value=closed,
            score=linear(closed, *_bounds(content, "closure")),
        )
        agent = answers.get(account_id)
        share = agent.responses_within_share if agent else None
        response = Part(
            count=agent.responses if agent else 0,
            hits=agent.responses_within_limit if agent else 0,
            value=share,
            score=linear(share, *_bounds(content, "response")),
        )
        parts = {"satisfaction": satisfaction, "closure": closure_part, "response": response}
        weights, score = combine({k: p.score for k, p in parts.items()}, content["weights"])
        found[account_id] = Performance(
            account_id=account_id,
            satisfaction=satisfaction,
            closure=closure_part,
            response=response,
            weights=weights,
            score=score,
        )
    return PerformanceReport(
        period=period, rule_version=rule.version, chat_rule_version=chat_version, by_account=found
    )
