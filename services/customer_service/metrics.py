"""Human response times of online customer service (QS 9.2.2), per agent, team or for the
platform, over a period (a month ``2026-11`` or a day ``2026-11-30``, UTC).

- First response: from the handover to the first agent message, over the sessions handed
  over in the period. Within the limit is at or under ``first_response_seconds`` (30 s);
  a breach is a first response over it, or none while the limit has passed (counted as
  of now: an overdue session is flagged before anyone answers it).
- Response: each agent message that answered a waiting customer, over the messages sent
  in the period, from the oldest unanswered customer message (or the handover) to it.
  The average is held to ``average_response_seconds`` (60 s); the share within it is
  reported too.

A session's first response is its first responder's (and that agent's team's); each
response is its author's. The figures are two grouped statements, whatever the number of
sessions, messages or agents. The limits are those of the rule version in force, which
the result names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Avg, Count, Max

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import MessageAuthor, ServiceMessage, ServiceSession, ServiceSessionState
from pinzhi.services import rules, state
from pinzhi.services.after_sales_metrics import month_bounds
from pinzhi.services.scoring import rate
from pinzhi.services.validation import EARLIEST_YEAR, LATEST_YEAR

RULE = "customer_service.chat"
DAY = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class GroupBy(StrEnum):
    PLATFORM = "PLATFORM"
    AGENT = "AGENT"
    TEAM = "TEAM"


@dataclass
class ResponseMetrics:
    """One group's figures; ``key`` is the agent's id, the team's name, or None."""

    key: int | str | None
    sessions: int = 0
    first_responses: int = 0
    first_within_limit: int = 0
    first_response_seconds_avg: float | None = None
    first_response_seconds_max: float | None = None
    unanswered_overdue: int = 0
    responses: int = 0
    responses_within_limit: int = 0
    response_seconds_avg: float | None = None
    response_seconds_max: float | None = None
    limits: dict[str, Any] = field(default_factory=dict)

    @property
    def first_response_breaches(self) -> int:
        return self.first_responses - self.first_within_limit + self.unanswered_overdue

    @property
    def first_within_share(self) -> float | None:
        return rate(self.first_within_limit, self.first_responses + self.unanswered_overdue)

    @property
    def responses_within_share(self) -> float | None:
        return rate(self.responses_within_limit, self.responses)

    @property
    def average_breached(self) -> bool:
        average = self.response_seconds_avg
        return average is not None and average > self.limits["average_response_seconds"]

    @property
    def breached(self) -> bool:
        return self.first_response_breaches > 0 or self.average_breached


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a month ``2026-11`` or a day ``2026-11-30``, in UTC."""
    found = DAY.match(period) if isinstance(period, str) else None
    if found is None:
        try:
            return month_bounds(period)
        except ServiceError:
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("period",), "YYYY-MM or YYYY-MM-DD"
            ) from None
    if not EARLIEST_YEAR <= int(found[1]) < LATEST_YEAR:  # 9999-12-31 + 1 day overflows
        raise ServiceError(
            ErrorCode.INVALID_INPUT, ("period",), f"between {EARLIEST_YEAR} and {LATEST_YEAR}"
        )
    try:
        start = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=UTC)
    except ValueError:  # 2026-02-30
        raise ServiceError(ErrorCode.INVALID_INPUT, ("period",), "no such day") from None
    return start, start + timedelta(days=1)


_SESSION_KEY = {
    GroupBy.PLATFORM: None,
    GroupBy.AGENT: "first_responder_id",
    GroupBy.TEAM: "first_responder_team",
}
_MESSAGE_KEY = {GroupBy.PLATFORM: None, GroupBy.AGENT: "author_id", GroupBy.TEAM: "team"}


async def response_metrics(
    period: str,
    group_by: GroupBy = GroupBy.PLATFORM,
    *,
    now: datetime | None = None,
    agent_ids: list[int] | None = None,
) -> tuple[int, list[ResponseMetrics]]:
    """The rule version and each group's figures over ``period``, as of ``now``; groups
    with nothing in the period are absent. ``agent_ids`` keeps only those agents' work."""
    now = now or state.now()
    start, end = period_bounds(period)
    rule = await rules.current(RULE)
    limits = {
        "first_response_seconds": rule.content["first_response_seconds"],
        "average_response_seconds": rule.content["average_response_seconds"],
    }
    first_limit, average_limit = (
        limits["first_response_seconds"],
        limits["average_response_seconds"],
    )
    sessions = ServiceSession.filter(handed_over_at__gte=start, handed_over_at__lt=end)
    messages = ServiceMessage.filter(
        author_kind=MessageAuthor.AGENT,
        response_seconds__isnull=False,
        created_at__gte=start,
        created_at__lt=end,
    )
    if agent_ids is not None:
        sessions = sessions.filter(first_responder_id__in=agent_ids)
        messages = messages.filter(author_id__in=agent_ids)
    overdue = Q(
        first_response_at__isnull=True,
        response_due_at__lt=now,
        state__in=[ServiceSessionState.WAITING, ServiceSessionState.ACTIVE],
    )
    session_key, message_key = _SESSION_KEY[group_by], _MESSAGE_KEY[group_by]
    session_rows = await _grouped(
        sessions.annotate(
            n=Count("id"),
            first_n=Count("id", _filter=Q(first_response_seconds__isnull=False)),
            first_within=Count("id", _filter=Q(first_response_seconds__lte=first_limit)),
            first_avg=Avg("first_response_seconds"),
            first_max=Max("first_response_seconds"),
            overdue=Count("id", _filter=overdue),
        ),
        session_key,
        ("n", "first_n", "first_within", "first_avg", "first_max", "overdue"),
    )
    message_rows = await _grouped(
        messages.annotate(
            n=Count("id"),
            within=Count("id", _filter=Q(response_seconds__lte=average_limit)),
            avg=Avg("response_seconds"),
            max=Max("response_seconds"),
        ),
        message_key,
        ("n", "within", "avg", "max"),
    )
    found: dict[Any, ResponseMetrics] = {}

    def group(key: Any) -> ResponseMetrics:
        return found.setdefault(key, ResponseMetrics(key=key, limits=limits))

    for key, row in session_rows:
        if not row["n"]:
            continue
        metrics = group(key)
        metrics.sessions = int(row["n"])
        metrics.first_responses = int(row["first_n"])
        metrics.first_within_limit = int(row["first_within"])
        metrics.first_response_seconds_avg = _seconds(row["first_avg"])
        metrics.first_response_seconds_max = _seconds(row["first_max"])
        metrics.unanswered_overdue = int(row["overdue"])
    for key, row in message_rows:
        if not row["n"]:
            continue
        metrics = group(key)
        metrics.responses = int(row["n"])
        metrics.responses_within_limit = int(row["within"])
        metrics.response_seconds_avg = _seconds(row["avg"])
        metrics.response_seconds_max = _seconds(row["max"])
    ordered = sorted(found.values(), key=lambda m: (m.key is None, str(m.key)))
    return rule.version, ordered


async def _grouped(query: Any, key: str | None, names: tuple[str, ...]) -> list[tuple[Any, Any]]:
    if key is None:
        rows = await query.values(*names)
        return [(None, row) for row in rows]
    rows = await query.group_by(key).values(key, *names)
    return [(row[key], row) for row in rows]


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
