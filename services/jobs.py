"""Periodic jobs (architecture decision 11): each runs once per period.

The ``JobRun`` row is the lock: inserting (name, period) succeeds for exactly one
instance; any other finds it and does nothing. Work inside is idempotent as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from pinzhi.models import JobRun
from pinzhi.services import (
    after_sales_sweep,
    anchors,
    disputes,
    merchant_grading,
    monitoring,
    penalties,
    product_grading,
)
from pinzhi.services.customer_service import sweep as service_sweep
from pinzhi.services.fund import recoveries as fund_recoveries
from pinzhi.services.scoring import current_period
from pinzhi.services.state import now as utc_now

Progress = Callable[[str], None]


async def _regrade(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    progress("  grading merchants")
    merchants = await merchant_grading.grade_merchants(period, now)
    progress(f"    graded {merchants['graded']}, by level {merchants['by_level']}")
    progress("  grading products")
    products = await product_grading.grade_products(period, now)
    progress(f"    graded {products.get('graded')}, by level {products.get('by_level')}")
    return {"merchants": merchants, "products": products}


async def _monitor(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    created = await monitoring.check(None, now)
    progress(f"  warnings raised: {created}")
    return {"warnings": created}


async def _anchor(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    """Every complete hour of the audit trail not yet anchored (QS 9.1.2), in order; the
    run's period (the hour it runs in) only names its lock."""
    result = await anchors.catch_up(now, progress)
    return result.summary()


async def _penalties(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    lifted = await penalties.sweep(now)
    progress(f"  penalties lifted at the end of their period: {lifted}")
    return {"lifted": lifted}


async def _fund(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    """QS 9.7.6: release the recoveries held from merchants whose appeal days are over."""
    released = await fund_recoveries.release_due(now)
    progress(f"  fund recoveries released after their appeal deadline: {released}")
    return {"released": released}


async def _dispute_sweep(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    """QS 9.7.7: disputes whose settlement period has ended go to arbitration."""
    moved = await disputes.sweep(now)
    progress(f"  disputes taken to arbitration: {moved}")
    return {"to_arbitration": moved}


def _hourly(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H")


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
async def _after_sales_sweep(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    """Escalate the after-sales requests past their response limit and the complaints past
    their promised date (QS 9.2.3, 9.2.4)."""
    result = await after_sales_sweep.sweep(now, progress)
    return result.summary()


def _minutely(now: datetime) -> str:
    """The sweep runs every minute (cron ``* * * * *``): the shortest response limit is one
    hour (a refund before shipment, QS 9.2.3), and a breach is escalated within a minute of
    it. The minute only names the run's lock, so that two instances started in the same
    minute do not both work; runs that overlap (a long backlog) are safe anyway, since the
    sweep locks the rows it escalates and skips those another holds."""
    return now.strftime("%Y-%m-%dT%H:%M")


# Customer-service chat (QS 9.2.2)
async def _service_breach_sweep(period: str, now: datetime, progress: Progress) -> dict[str, Any]:
    """Stamp the chat sessions whose first human response is overdue, and announce them."""
    stamped = await service_sweep.sweep(now)
    progress(f"  customer-service sessions past their first-response limit: {stamped}")
    return {"breached": stamped}


JOBS: dict[str, tuple[Callable[[str, datetime, Progress], Awaitable[dict[str, Any]]], Any]] = {
    # name: (work, default period of a moment)
    "regrade": (_regrade, current_period),
    "monitor": (_monitor, _hourly),
    "penalties": (_penalties, _hourly),
    "anchor": (_anchor, _hourly),
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    "after-sales-sweep": (_after_sales_sweep, _minutely),
    "fund": (_fund, _hourly),
    "dispute-sweep": (_dispute_sweep, _hourly),
    # Customer-service chat (QS 9.2.2)
    "service-breach-sweep": (_service_breach_sweep, _minutely),
}


async def run(
    name: str, period: str | None = None, progress: Progress = print, now: datetime | None = None
) -> dict[str, Any] | None:
    """Run job ``name`` for ``period``; None when it has already run for that period."""
    work, default_period = JOBS[name]
    now = now or utc_now()
    period = period or default_period(now)
    try:
        ledger = await JobRun.create(name=name, period=period)
    except IntegrityError:
        progress(f"{name} {period}: already run, nothing to do")
        return None
    progress(f"{name} {period}: started")
    try:
        summary = await work(period, now, progress)
    except BaseException:
        # A failed run must not hold the period: release the lock so it can run again.
        await ledger.delete()
        raise
    ledger.summary = summary
    ledger.finished_at = utc_now()
    await ledger.save(update_fields=["summary", "finished_at"])
    progress(f"{name} {period}: done")
    return summary
