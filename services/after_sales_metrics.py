"""After-sales timeliness (QS 9.2.3): breaches and on-time response rates, per merchant and
for the platform, over a month (``2026-11``, the grading periods) or the grading window.

Every request opened in the span is one of:

- answered on time: its first response (an answer, approval or rejection, by the merchant
  or customer service) at or before ``response_due_at``;
- breached: answered after its limit, or not answered and its limit passed (still open or
  not; escalated by the sweep or not: the counts read the times, not the sweep's flag);
- pending: not answered, and its limit not reached yet;
- withdrawn in time: withdrawn by the consumer unanswered before its limit, which is no
  mark against the merchant and no credit either.

The on-time rate is on time ÷ (on time + breached): the requests whose outcome is known.
It has no value without one. The counts are one grouped statement, whatever the number of
requests or merchants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.functions import Count

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AfterSalesRequest, AfterSalesState
from pinzhi.services import state
from pinzhi.services.scoring import current_period, rate
from pinzhi.services.validation import EARLIEST_YEAR, LATEST_YEAR

MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Timeliness:
    requests: int = 0
    on_time: int = 0
    late: int = 0
    unanswered_past_limit: int = 0
    pending: int = 0
    withdrawn_in_time: int = 0
    # Escalated by the sweep when their limit passed unanswered (QS 9.2.1).
    escalated: int = 0

    @property
    def responded(self) -> int:
        return self.on_time + self.late

    @property
    def breached(self) -> int:
        return self.late + self.unanswered_past_limit

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.on_time + self.breached)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "responded": self.responded,
            "on_time": self.on_time,
            "breached": self.breached,
            "pending": self.pending,
            "escalated": self.escalated,
            "on_time_rate": self.on_time_rate,
        }


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``2026-11``, in UTC."""
    found = MONTH.match(period) if isinstance(period, str) else None
    if found is None:
        raise ServiceError(ErrorCode.INVALID_MONTH, ("period",))
    year, month = int(found.group(1)), int(found.group(2))
    if not EARLIEST_YEAR <= year < LATEST_YEAR:  # year 0 or 9999-12 would not convert
        raise ServiceError(ErrorCode.INVALID_MONTH, ("period",))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _kinds(now: datetime) -> dict[str, Q]:
    unanswered = Q(first_response_at__isnull=True)
    past = Q(response_due_at__lt=now)
    withdrawn_in_time = (
        unanswered
        & Q(state=AfterSalesState.WITHDRAWN, breached_at__isnull=True)
        & (Q(closed_at__isnull=True) | Q(closed_at__lte=F("response_due_at")))
    )
    return {
        "on_time": Q(first_response_at__lte=F("response_due_at")),
        "late": Q(first_response_at__gt=F("response_due_at")),
        "unanswered_past": unanswered & past,
        "unanswered_ahead": unanswered & ~past,
        "withdrawn_in_time": withdrawn_in_time,
        "withdrawn_past": withdrawn_in_time & past,
        "escalated": Q(breached_at__isnull=False),
    }


async def counts(
    since: datetime,
    until: datetime | None,
    now: datetime,
    merchant_ids: list[int] | None = None,
) -> dict[int, Timeliness]:
    """Each merchant's counts over the requests opened in [since, until), as of ``now``;
    merchants without a request are absent."""
    query = AfterSalesRequest.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    if merchant_ids is not None:
        query = query.filter(merchant_id__in=merchant_ids)
    kinds = _kinds(now)
    rows = (
        await query.annotate(
            n=Count("id"), **{name: Count("id", _filter=q) for name, q in kinds.items()}
        )
        .group_by("merchant_id")
        .values("merchant_id", "n", *kinds)
    )
    result: dict[int, Timeliness] = {}
    for row in rows:
        withdrawn, withdrawn_past = int(row["withdrawn_in_time"]), int(row["withdrawn_past"])
        result[int(row["merchant_id"])] = Timeliness(
            requests=int(row["n"]),
            on_time=int(row["on_time"]),
            late=int(row["late"]),
            unanswered_past_limit=int(row["unanswered_past"]) - withdrawn_past,
            pending=int(row["unanswered_ahead"]) - (withdrawn - withdrawn_past),
            withdrawn_in_time=withdrawn,
            escalated=int(row["escalated"]),
        )
    return result


def total(parts: dict[int, Timeliness]) -> Timeliness:
    values = list(parts.values())
    return Timeliness(
        **{
            name: sum(getattr(t, name) for t in values)
            for name in (
                "requests",
                "on_time",
                "late",
                "unanswered_past_limit",
                "pending",
                "withdrawn_in_time",
                "escalated",
            )
        }
    )


async def for_period(
    merchant_id: int | None, period: str | None = None, now: datetime | None = None
) -> tuple[str, Timeliness]:
    """One merchant's counts (or the platform's, with None) for the requests opened in the
    month ``period`` (default: the current one), as of ``now``."""
    now = now or state.now()
    period = period or current_period(now)
    start, end = month_bounds(period)
    found = await counts(start, end, now, None if merchant_id is None else [merchant_id])
    return period, total(found)
