"""The phone queue's figures (QS 9.2.2: human phone service, average queue time ≤ 20 s),
per queue and per day (or hour), over the calls contact centres reported
(services/calls.py).

A call counts in the day (hour) it was queued, in UTC. Of the calls offered (queued):

- answered: an agent answered it; its wait is from queued to answered;
- abandoned: the caller hung up before an answer;
- waiting: neither yet (still in the queue, or its outcome not reported yet).

The average speed of answer (ASA) is the answered calls' total wait over their number; it
breaches the rule ``customer_service.phone`` when it is over ``average_answer_seconds``
(exactly at the limit is within it). A call answered at most ``answered_within_seconds``
after it was queued is answered within the threshold; the share of those and the
abandonment rate are over the calls whose outcome is known (answered + abandoned), and
have no value without one. Waits are kept in microseconds and compared in integers, so
the boundary is exact.

The counts are one grouped statement (by queue and hour) whatever the number of calls;
days are summed from their hours here, which is exact, as every figure is a count or a sum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Call
from pinzhi.services import rules, state
from pinzhi.services.calls import queue_filter
from pinzhi.services.scoring import rate
from pinzhi.services.validation import EARLIEST_YEAR, LATEST_YEAR

RULE_KEY = "customer_service.phone"
DAY = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])-([0-3][0-9])$")
MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
MAX_DAYS = 92
MAX_HOUR_DAYS = 7
MICROS = 1_000_000


class Grain(StrEnum):
    DAY = "DAY"
    HOUR = "HOUR"


@dataclass(frozen=True)
class Limits:
    """What the rule version in force says."""

    version: int
    average_answer_seconds: float
    answered_within_seconds: float

    @property
    def limit_us(self) -> int:
        return round(self.average_answer_seconds * MICROS)

    @property
    def within_us(self) -> int:
        return round(self.answered_within_seconds * MICROS)


@dataclass(frozen=True)
class Figures:
    """One queue's figures over one day or hour (``start``, UTC), or over a whole span."""

    queue: str
    start: datetime
    limit_us: int
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within: int = 0
    wait_us: int = 0

    @property
    def waiting(self) -> int:
        return self.offered - self.answered - self.abandoned

    @property
    def average_answer_seconds(self) -> float | None:
        """The average speed of answer, to the millisecond; None without an answered call."""
        if not self.answered:
            return None
        return round(self.wait_us / self.answered / MICROS, 3)

    @property
    def answered_within_share(self) -> float | None:
        return rate(self.answered_within, self.answered + self.abandoned)

    @property
    def abandonment_rate(self) -> float | None:
        return rate(self.abandoned, self.answered + self.abandoned)

    @property
    def breached(self) -> bool:
        """QS 9.2.2: the average speed of answer is over the limit (exactly at it is not):
        total wait > limit × answered, in integer microseconds."""
        return self.answered > 0 and self.wait_us > self.limit_us * self.answered

    def plus(self, other: Figures) -> Figures:
        return replace(
            self,
            offered=self.offered + other.offered,
            answered=self.answered + other.answered,
            abandoned=self.abandoned + other.abandoned,
            answered_within=self.answered_within + other.answered_within,
            wait_us=self.wait_us + other.wait_us,
        )


@dataclass(frozen=True)
class Report:
    first_day: date
    last_day: date
    grain: Grain
    queue: str | None
    limits: Limits
    # Per queue and day (or hour), by time then queue; only those with calls.
    rows: list[Figures]
    # Per queue over the whole span, by queue.
    totals: list[Figures]


def _invalid(detail: str) -> ServiceError:
    return ServiceError(ErrorCode.INVALID_DAY_RANGE, ("period",), detail)


def _in_years(year: int, name: str) -> None:
    # Year 0 is no date, and the day after 9999-12-31 none either.
    if not EARLIEST_YEAR <= year < LATEST_YEAR:
        raise _invalid(f"{name}: between {EARLIEST_YEAR} and {LATEST_YEAR}")


def _day(text: str | None, name: str) -> date:
    found = DAY.match(text) if isinstance(text, str) else None
    if found is None:
        raise _invalid(f"{name}: YYYY-MM-DD")
    _in_years(int(found.group(1)), name)
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise _invalid(f"{name}: no such day") from None


def days(
    period: str | None,
    first: str | None,
    last: str | None,
    grain: Grain = Grain.DAY,
    now: datetime | None = None,
) -> tuple[date, date]:
    """The first and last day (UTC, inclusive) a query asks for: ``period`` (a day
    ``2026-11-05`` or a month ``2026-11``), or ``first``–``last`` (one alone is that day),
    or today."""
    if period is not None and (first is not None or last is not None):
        raise _invalid("period or from–to, not both")
    if period is not None:
        month = MONTH.match(period) if isinstance(period, str) else None
        if month is not None:
            year, number = int(month.group(1)), int(month.group(2))
            _in_years(year, "period")
            start = date(year, number, 1)
            following = date(year + number // 12, number % 12 + 1, 1)
            span = (start, following - timedelta(days=1))
        else:
            one = _day(period, "period")
            span = (one, one)
    elif first is not None or last is not None:
        start = _day(first if first is not None else last, "from")
        end = _day(last if last is not None else first, "to")
        span = (start, end)
    else:
        today = (now or state.now()).astimezone(UTC).date()
        span = (today, today)
    length = (span[1] - span[0]).days + 1
    most = MAX_HOUR_DAYS if grain == Grain.HOUR else MAX_DAYS
    if length < 1:
        raise _invalid("to is before from")
    if length > most:
        raise _invalid(f"at most {most} days by {grain.lower()}")
    return span


async def limits() -> Limits:
    rule = await rules.current(RULE_KEY)
    return Limits(
        version=rule.version,
        average_answer_seconds=float(rule.content["average_answer_seconds"]),
        answered_within_seconds=float(rule.content["answered_within_seconds"]),
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _as_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def report(
    viewer: Viewer,
    period: str | None = None,
    first: str | None = None,
    last: str | None = None,
    queue: str | None = None,
    grain: Grain = Grain.DAY,
) -> Report:
    """The phone queue's figures over the calls the viewer may see (auth/scopes.py): every
    contact centre's for supervisors and regulators. Two statements: the rule in force and
    the grouped counts."""
    first_day, last_day = days(period, first, last, grain)
    queue = queue_filter(queue)
    held = await limits()
    query = scope(viewer, Call).filter(
        queued_hour__gte=_midnight(first_day),
        queued_hour__lt=_midnight(last_day + timedelta(days=1)),
    )
    if queue is not None:
        query = query.filter(queue=queue)
    answered = Q(answered_at__isnull=False)
    grouped = (
        await query.annotate(
            offered=Count("id"),
            answered=Count("id", _filter=answered),
            abandoned=Count("id", _filter=Q(abandoned_at__isnull=False)),
            within=Count("id", _filter=answered & Q(wait_us__lte=held.within_us)),
            waited=Sum("wait_us"),
        )
        .group_by("queue", "queued_hour")
        .values("queue", "queued_hour", "offered", "answered", "abandoned", "within", "waited")
    )
    buckets: dict[tuple[datetime, str], Figures] = {}
    totals: dict[str, Figures] = {}
    for row in grouped:
        hour = _as_utc(row["queued_hour"])
        start = hour if grain == Grain.HOUR else hour.replace(hour=0)
        name = str(row["queue"])
        part = Figures(
            queue=name,
            start=start,
            limit_us=held.limit_us,
            offered=int(row["offered"]),
            answered=int(row["answered"]),
            abandoned=int(row["abandoned"]),
            answered_within=int(row["within"]),
            wait_us=int(row["waited"] or 0),
        )
        key = (start, name)
        buckets[key] = buckets[key].plus(part) if key in buckets else part
        whole = replace(part, start=_midnight(first_day))
        totals[name] = totals[name].plus(whole) if name in totals else whole
    return Report(
        first_day=first_day,
        last_day=last_day,
        grain=grain,
        queue=queue,
        limits=held,
        rows=[buckets[key] for key in sorted(buckets)],
        totals=[totals[name] for name in sorted(totals)],
    )
