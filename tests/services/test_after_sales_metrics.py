"""After-sales timeliness (QS 9.2.3): on-time answers and breaches per merchant and month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AfterSalesRequest
from pinzhi.services import after_sales_metrics, after_sales_sweep
from tests import factories as f

SECOND = timedelta(seconds=1)
OPENED = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
PERIOD = "2026-10"


async def _month_of_requests(w: f.World):  # type: ignore[no-untyped-def]
    """Four requests of the shop opened in October (24-hour limits): answered at the limit,
    to be answered a second after it, unanswered, and withdrawn unanswered before it."""
    placed, _ = await f.paid_order(w)

    async def row(**kw):  # type: ignore[no-untyped-def]
        return await f.after_sales_row(placed, kind="RETURN_REFUND", opened_at=OPENED, **kw)

    due = OPENED + timedelta(hours=24)
    on_time = await row(first_response_at=due)
    late = await row()
    unanswered = await row()
    withdrawn = await f.after_sales_walk(await row(), "WITHDRAWN", closed_at=due - SECOND)
    return due, on_time, late, unanswered, withdrawn


async def test_qs_9_2_3_counts_tell_on_time_from_breached_at_the_limit(db) -> None:
    """QS 9.2.3: answered at the limit is on time, a second later is breached; unanswered
    is pending a second before the limit and breached a second after; withdrawn unanswered
    before the limit counts neither way. Rate = on time / (on time + breached)."""
    w = await f.world()
    due, _, late, _, _ = await _month_of_requests(w)

    period, before = await after_sales_metrics.for_period(w.shop.id, PERIOD, due - SECOND)
    assert period == PERIOD
    assert before.summary() == {
        "requests": 4,
        "responded": 1,
        "on_time": 1,
        "breached": 0,
        "pending": 2,
        "escalated": 0,
        "on_time_rate": 1.0,
    }
    await AfterSalesRequest.filter(id=late.id).update(first_response_at=due + SECOND)
    _, after = await after_sales_metrics.for_period(w.shop.id, PERIOD, due + 2 * SECOND)
    assert after.summary() == {
        "requests": 4,
        "responded": 2,
        "on_time": 1,
        "breached": 2,
        "pending": 0,
        "escalated": 0,
        "on_time_rate": 0.3333,
    }


async def test_qs_9_2_1_escalations_by_the_sweep_are_counted_and_change_no_outcome(db) -> None:
    """The sweep's escalations are shown, and the breach each flags is the one the counts
    read from the times: escalating does not count it twice, and an answer after the
    escalation (by customer service, or the merchant late) does not undo it."""
    w = await f.world()
    due, _, late, _, _ = await _month_of_requests(w)
    now = due + 2 * SECOND
    await after_sales_sweep.sweep(now)
    await AfterSalesRequest.filter(id=late.id).update(first_response_at=now + SECOND)
    _, counts = await after_sales_metrics.for_period(w.shop.id, PERIOD, now + 2 * SECOND)
    assert (counts.responded, counts.breached, counts.escalated) == (2, 2, 2)
    assert counts.on_time_rate == 0.3333


async def test_the_platform_sums_its_merchants_and_a_month_is_its_own(db) -> None:
    """Per merchant and for the platform (None); requests opened in another month, or by
    another shop, stay out of a merchant's month."""
    w = await f.world()
    due, *_ = await _month_of_requests(w)
    other, _, _ = await f.other_side_order(w, "paid")
    await f.after_sales_row(other, kind="RETURN_REFUND", opened_at=OPENED)
    await f.after_sales_row(other, kind="RETURN_REFUND", opened_at=OPENED + timedelta(days=30))
    now = due + timedelta(days=60)
    _, mine = await after_sales_metrics.for_period(w.shop.id, PERIOD, now)
    _, theirs = await after_sales_metrics.for_period(w.other_shop.id, PERIOD, now)
    _, platform = await after_sales_metrics.for_period(None, PERIOD, now)
    assert (mine.requests, theirs.requests, platform.requests) == (4, 1, 5)
    assert platform.breached == mine.breached + theirs.breached == 3
    _, november = await after_sales_metrics.for_period(w.other_shop.id, "2026-11", now)
    assert (november.requests, november.breached) == (1, 1)
    _, empty = await after_sales_metrics.for_period(w.shop.id, "2026-09", now)
    assert (empty.requests, empty.on_time_rate) == (0, None)


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-1", "26-10", "2026-10-01", "", "２０２６-10", "0000-01", "9999-12"]
)
def test_a_month_is_written_yyyy_mm(period: str) -> None:
    with pytest.raises(ServiceError) as refused:
        after_sales_metrics.month_bounds(period)
    assert refused.value.code == ErrorCode.INVALID_MONTH


def test_december_ends_at_the_new_year() -> None:
    assert after_sales_metrics.month_bounds("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
