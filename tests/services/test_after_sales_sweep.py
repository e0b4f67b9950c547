"""The after-sales sweep (QS 9.2.1, 9.2.3, 9.2.4): breaches found at their limit, escalated
to customer service once, traced, and their merchants notified; overdue promises likewise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from pinzhi.models import (
    AfterSalesRequest,
    AuditEvent,
    Complaint,
    JobRun,
    Notification,
    NotificationKind,
)
from pinzhi.services import after_sales_sweep, audit, complaints, jobs, state
from tests import factories as f
from tests.conftest import DATABASE_URL
from tests.databases import is_postgres
from tests.helpers import count_sql

SECOND = timedelta(seconds=1)


class Clock:
    """``state.now`` under the test's control."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    controlled = Clock(datetime.now(UTC))
    monkeypatch.setattr(state, "now", controlled)
    return controlled


async def _breaches(request_id: int) -> list[AuditEvent]:
    return await AuditEvent.filter(
        entity_type="AfterSalesRequest", entity_id=request_id, action="breached"
    )


async def test_qs_9_2_3_one_second_before_the_limit_nothing_one_second_after_escalated(
    db, clock: Clock
) -> None:
    """QS 9.2.3 (a refund before shipment is answered within 1 hour), QS 9.2.1: a second
    before the limit the sweep leaves the request alone; a second after, it is flagged as
    breached, moved to ESCALATED for customer service with a traced key node, and its
    merchant is notified."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    request = await f.after_sales_row(placed, kind="REFUND_BEFORE_SHIPMENT")
    due = request.response_due_at
    assert due == request.created_at + timedelta(hours=1)

    clock.at = due - SECOND
    early = await after_sales_sweep.sweep()
    assert early.requests_escalated == 0
    row = await AfterSalesRequest.get(id=request.id)
    assert (row.state, row.breached_at, row.escalated_at) == ("REQUESTED", None, None)
    assert await Notification.all().count() == 0

    clock.at = due + SECOND
    late = await after_sales_sweep.sweep()
    assert (late.requests_escalated, late.notifications) == (1, 1)
    row = await AfterSalesRequest.get(id=request.id)
    assert row.state == "ESCALATED"
    assert row.breached_at == row.escalated_at == due + SECOND
    [event] = await _breaches(request.id)
    assert (event.from_state, event.to_state, event.actor_role) == (
        "REQUESTED",
        "ESCALATED",
        "SYSTEM",
    )
    assert event.data["response_due_at"] == due.isoformat()
    assert (await audit.verify("AfterSalesRequest", request.id)).valid
    [notice] = await Notification.all()
    assert notice.recipient_merchant_id == w.shop.id and notice.recipient_account_id is None
    assert notice.kind == NotificationKind.AFTER_SALES_BREACHED
    assert (notice.subject_type, notice.subject_id) == ("AfterSalesRequest", request.id)
    assert "售后申请" in notice.title_zh and "not answered" in notice.title_en


async def test_qs_9_2_3_an_answer_at_the_limit_is_on_time_and_nothing_is_escalated(
    db, clock: Clock
) -> None:
    """QS 9.2.3: a request answered (first_response_at set) is not escalated, however long
    ago its limit passed; one answered at the very limit is on time."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    request = await f.after_sales_row(placed, kind="RETURN_REFUND")
    answered = await f.after_sales_walk(
        request, "RESPONDED", first_response_at=request.response_due_at
    )
    clock.at = request.response_due_at + timedelta(days=3)
    assert (await after_sales_sweep.sweep()).requests_escalated == 0
    row = await AfterSalesRequest.get(id=answered.id)
    assert (row.state, row.breached_at) == ("RESPONDED", None)


async def test_qs_9_2_1_sweeping_twice_escalates_each_request_once(db, clock: Clock) -> None:
    """Idempotent: the second sweep finds nothing to do, appends no node, sends no notice."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    requests = [await f.after_sales_row(placed, kind="RETURN_REFUND") for _ in range(5)]
    clock.at = requests[-1].response_due_at + SECOND
    first = await after_sales_sweep.sweep(batch_size=2)
    assert (first.requests_escalated, first.batches) == (5, 3)
    events, notices = await AuditEvent.all().count(), await Notification.all().count()
    second = await after_sales_sweep.sweep(batch_size=2)
    assert second.summary() == {
        "requests_escalated": 0,
        "complaints_escalated": 0,
        "notifications": 0,
        "batches": 0,
    }
    assert (await AuditEvent.all().count(), await Notification.all().count()) == (events, notices)
    for request in requests:
        assert len(await _breaches(request.id)) == 1


async def test_qs_9_2_1_two_sweeps_at_once_escalate_each_request_once(db, clock: Clock) -> None:
    """Two instances of the job at the same moment (on PostgreSQL, really concurrently):
    every request is escalated exactly once between them, each chain stays valid, each
    merchant is told once."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    requests = [await f.after_sales_row(placed, kind="RETURN_REFUND") for _ in range(40)]
    clock.at = requests[-1].response_due_at + SECOND
    one, two = await asyncio.gather(
        after_sales_sweep.sweep(batch_size=7), after_sales_sweep.sweep(batch_size=7)
    )
    assert one.requests_escalated + two.requests_escalated == 40
    if is_postgres(DATABASE_URL):
        # They did overlap: each took rows the other's locks made it skip.
        assert one.requests_escalated > 0 and two.requests_escalated > 0
    assert one.notifications + two.notifications == 40
    for request in requests:
        assert len(await _breaches(request.id)) == 1
        assert (await audit.verify("AfterSalesRequest", request.id)).valid
    assert await AfterSalesRequest.filter(state="ESCALATED").count() == 40
    assert await Notification.all().count() == 40


@pytest.mark.skipif(not is_postgres(DATABASE_URL), reason="row locks: PostgreSQL")
async def test_a_request_being_answered_is_left_to_the_answer(db, clock: Clock) -> None:
    """While an answer holds the request's row lock, the sweep skips the row instead of
    waiting for it or racing it; once answered, the next run finds nothing to escalate."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    held = await f.after_sales_row(placed, kind="RETURN_REFUND")
    other = await f.after_sales_row(placed, kind="RETURN_REFUND")
    clock.at = other.response_due_at + SECOND
    locked, release = asyncio.Event(), asyncio.Event()

    async def answer() -> None:
        async with in_transaction():
            row = await AfterSalesRequest.filter(id=held.id).select_for_update().get()
            locked.set()
            await release.wait()
            await state.move(
                row, "RESPONDED", actor=None, action="responded", first_response_at=clock.at
            )

    answering = asyncio.create_task(answer())
    await locked.wait()
    swept = await asyncio.wait_for(after_sales_sweep.sweep(), timeout=10)
    release.set()
    await answering
    assert swept.requests_escalated == 1
    assert (await AfterSalesRequest.get(id=held.id)).state == "RESPONDED"
    assert (await AfterSalesRequest.get(id=other.id)).state == "ESCALATED"
    assert (await after_sales_sweep.sweep()).requests_escalated == 0


async def test_requests_already_with_customer_service_or_closed_are_not_swept(
    db, clock: Clock
) -> None:
    """Only requests still waiting on the merchant's first answer are escalated: one the
    consumer withdrew, or staff took over, is left as it is."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    withdrawn = await f.after_sales_walk(await f.after_sales_row(placed), "WITHDRAWN")
    taken = await f.after_sales_walk(await f.after_sales_row(placed), "ESCALATED")
    clock.at = withdrawn.response_due_at + timedelta(days=2)
    assert (await after_sales_sweep.sweep()).requests_escalated == 0
    assert (await AfterSalesRequest.get(id=withdrawn.id)).state == "WITHDRAWN"
    assert (await AfterSalesRequest.get(id=taken.id)).breached_at is None


async def test_the_sweep_costs_the_same_statements_for_5_and_50_requests(db, clock: Clock) -> None:
    """Set-wise: one batch of requests is a fixed number of statements whatever its size
    (docs/PERFORMANCE.md measures 100,000)."""
    w = await f.world()
    placed, _ = await f.paid_order(w)

    async def sweep_of(n: int) -> int:
        made = [await f.after_sales_row(placed, kind="RETURN_REFUND") for _ in range(n)]
        clock.at = made[-1].response_due_at + SECOND
        with count_sql() as sql:
            assert (await after_sales_sweep.sweep()).requests_escalated == n
        return sql.count

    small, large = await sweep_of(5), await sweep_of(50)
    assert small == large
    # requests: the locked batch, the update, the chains' heads, the events, the notices,
    # the empty next batch; complaints: the empty batch
    assert large == 7


async def _promised(w: f.World, clock: Clock) -> Complaint:
    placed, _ = await f.paid_order(w)
    complaint = await f.complaint(w.buyer, placed)
    await complaints.take_complaint(w.agent.viewer, complaint.id)
    return await complaints.handle_complaint(
        w.agent.viewer,
        complaint.id,
        delay_reason="等待质检 awaiting inspection",
        promised_by=clock.at + timedelta(days=2),
    )


async def test_qs_9_2_4_a_promise_passed_unkept_is_escalated_once(db, clock: Clock) -> None:
    """QS 9.2.4: a complaint not resolved by its promised date is escalated a second after
    it, with a traced node, its shop and the agent who promised notified; once."""
    w = await f.world()
    complaint = await _promised(w, clock)
    resolved = await _promised(w, clock)
    await complaints.handle_complaint(
        w.agent.viewer, resolved.id, resolution="已补发 resent", upheld=True
    )
    assert complaint.promised_by is not None

    clock.at = complaint.promised_by - SECOND
    assert (await after_sales_sweep.sweep()).complaints_escalated == 0
    assert (await Complaint.get(id=complaint.id)).escalated_at is None

    clock.at = complaint.promised_by + SECOND
    swept = await after_sales_sweep.sweep()
    assert (swept.complaints_escalated, swept.notifications) == (1, 2)
    row = await Complaint.get(id=complaint.id)
    assert (row.state, row.escalated_at) == ("PROMISED", complaint.promised_by + SECOND)
    [event] = await AuditEvent.filter(
        entity_type="Complaint", entity_id=complaint.id, action="escalated"
    )
    assert (event.from_state, event.to_state) == ("PROMISED", "PROMISED")
    assert (await audit.verify("Complaint", complaint.id)).valid
    notices = await Notification.filter(subject_type="Complaint").order_by("id")
    assert [(n.recipient_merchant_id, n.recipient_account_id) for n in notices] == [
        (w.shop.id, None),
        (None, w.agent.account.id),
    ]
    assert {n.kind for n in notices} == {NotificationKind.COMPLAINT_OVERDUE}
    assert (await Complaint.get(id=resolved.id)).escalated_at is None

    clock.at += timedelta(hours=1)
    assert (await after_sales_sweep.sweep()).complaints_escalated == 0
    assert await Notification.filter(subject_type="Complaint").count() == 2


async def test_the_job_runs_once_a_minute_and_prints_its_progress(db, clock: Clock) -> None:
    """``pinzhi jobs run after-sales-sweep``: its lock is the minute, so cron may run it
    every minute; a second start in the same minute does nothing."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    request = await f.after_sales_row(placed, kind="RETURN_REFUND")
    moment = request.response_due_at + SECOND
    said: list[str] = []
    summary = await jobs.run("after-sales-sweep", progress=said.append, now=moment)
    assert summary is not None and summary["requests_escalated"] == 1
    period = moment.strftime("%Y-%m-%dT%H:%M")
    assert said[0] == f"after-sales-sweep {period}: started"
    assert "  requests escalated: 1" in said and "  notifications sent: 1" in said
    again: list[str] = []
    assert await jobs.run("after-sales-sweep", progress=again.append, now=moment) is None
    assert again == [f"after-sales-sweep {period}: already run, nothing to do"]
    later = await jobs.run("after-sales-sweep", progress=said.append, now=moment + 60 * SECOND)
    assert later is not None and later["requests_escalated"] == 0
    assert await JobRun.filter(name="after-sales-sweep").count() == 2
