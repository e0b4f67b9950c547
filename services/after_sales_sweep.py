"""Deadlines watched (QS 9.2.1, 9.2.3, 9.2.4): the ``after-sales-sweep`` job.

Every after-sales request still unanswered past its response limit (``response_due_at``,
fixed at opening by the rule ``after_sales.response``) is flagged as breached, moved to
ESCALATED, where customer-service staff answer and decide it (QS 9.2.1), and its merchant
is notified. Every complaint whose promised date (QS 9.2.4) passed unresolved is escalated
the same way: flagged, traced, and its shop and the agent who promised are notified. Each,
once: a second run finds nothing more to do.

The work is set-wise. Requests are taken in batches, the longest overdue first, straight
from the index on (state, response_due_at): a batch escalated leaves the state the next
one selects, so no offset or cursor is kept, and a run with nothing to do reads an empty
index range. Each batch is one transaction of a fixed number of statements whatever its
size: the locking select, one compare-and-set update, the chains' heads, the key nodes and
the notifications (``state.move_many``, ``audit.append_many``, ``bulk.insert_rows``). Rows
are locked with SKIP LOCKED on PostgreSQL: a second sweep running at the same time takes
other rows, and a request that is being answered right now (its row locked by the answer)
is left to the answer; the next run finds it answered. A row that changed between the
select and the update fails its batch, which is taken again once.

A request counts as answered when ``first_response_at`` is set (by an answer, an approval
or a rejection, from the merchant or customer service); "past its limit" is
``response_due_at < now``, so an answer at the limit itself is on time, and the sweep one
second after it escalates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    AfterSalesState,
    Complaint,
    ComplaintState,
    Notification,
    NotificationKind,
)
from pinzhi.services import audit, bulk, state
from pinzhi.services.transactions import is_conflict

BATCH_SIZE = 1000
# Waiting on the first answer: what a breach escalates from. A request answered has left
# REQUESTED (an answer moves it to RESPONDED, an approval or a rejection further, each
# stamping first_response_at); one already ESCALATED (by its consumer, or taken over by
# staff) is with customer service already. The index (state, response_due_at) then holds
# exactly the requests to escalate, so a run with nothing to do reads nothing else.
WAITING = (AfterSalesState.REQUESTED,)
# The action of the key node a breach appends to the request's trail.
BREACH_ACTION = "breached"
# The key node of a complaint whose promise passed unkept (its state stays PROMISED).
COMPLAINT_ACTION = "escalated"

Progress = Callable[[str], None]


@dataclass
class SweepResult:
    requests_escalated: int = 0
    complaints_escalated: int = 0
    notifications: int = 0
    batches: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "requests_escalated": self.requests_escalated,
            "complaints_escalated": self.complaints_escalated,
            "notifications": self.notifications,
            "batches": self.batches,
        }


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


# A notice as a plain row (services/bulk.insert_rows), in this order.
NOTICE_COLUMNS = (
    "recipient_merchant_id",
    "recipient_account_id",
    "kind",
    "subject_type",
    "subject_id",
    "title_zh",
    "title_en",
    "created_at",
)
Notice = tuple[int | None, int | None, str, str, int, str, str, datetime]


def _breach_notice(
    request_id: int, merchant_id: int, due_at: datetime, sent_at: datetime
) -> Notice:
    due = _moment(due_at)
    return (
        merchant_id,
        None,
        str(NotificationKind.AFTER_SALES_BREACHED),
        "AfterSalesRequest",
        request_id,
        f"售后申请 #{request_id} 未在响应时限（{due}）内响应，已转平台客服处理",
        f"After-sales request #{request_id} was not answered by its limit ({due}) "
        "and has gone to platform customer service",
        sent_at,
    )


def _overdue_notices(complaint: Complaint, sent_at: datetime) -> list[Notice]:
    assert complaint.promised_by is not None  # selected as PROMISED with a date
    promised = _moment(complaint.promised_by)
    text = (
        str(NotificationKind.COMPLAINT_OVERDUE),
        "Complaint",
        complaint.id,
        f"投诉 #{complaint.id} 未在承诺时间（{promised}）前解决，已升级处理",
        f"Complaint #{complaint.id} was not resolved by the date promised ({promised}) "
        "and has been escalated",
        sent_at,
    )
    notices: list[Notice] = [(complaint.merchant_id, None, *text)]
    if complaint.assignee_id is not None:
        notices.append((None, complaint.assignee_id, *text))
    return notices


async def _request_batch(now: datetime, size: int) -> tuple[int, int]:
    """Escalate the next batch of breached requests, the longest overdue first; returns the
    number escalated (0: none is left that another sweep does not hold) and the notices."""
    async with in_transaction():
        # Model rows, not values_list: tortoise drops FOR UPDATE from a values query.
        found = (
            await AfterSalesRequest.filter(
                state__in=WAITING,
                first_response_at__isnull=True,
                breached_at__isnull=True,
                response_due_at__lt=now,
            )
            .order_by("response_due_at", "id")
            .limit(size)
            .select_for_update(skip_locked=True)
            .only("id", "state", "merchant_id", "response_due_at", "rule_version")
        )
        if not found:
            return 0, 0
        rows = [(r.id, r.state, r.merchant_id, r.response_due_at, r.rule_version) for r in found]
        await state.move_many(
            AfterSalesRequest,
            [
                (
                    pk,
                    AfterSalesState(current),
                    {
                        "response_due_at": due.isoformat(),
                        "rule_version": version,
                        "notified": "merchant",
                    },
                )
                for pk, current, _, due, version in rows
            ],
            AfterSalesState.ESCALATED,
            actor=None,
            action=BREACH_ACTION,
            breached_at=now,
            escalated_at=now,
        )
        sent_at = datetime.now(UTC)
        notices = [_breach_notice(pk, shop, due, sent_at) for pk, _, shop, due, _ in rows]
        await bulk.insert_rows(Notification, NOTICE_COLUMNS, notices)
    return len(rows), len(notices)


async def _complaint_batch(now: datetime, size: int) -> tuple[int, int]:
    async with in_transaction():
        rows = (
            await Complaint.filter(
                state=ComplaintState.PROMISED,
                promised_by__lt=now,
                escalated_at__isnull=True,
            )
            .order_by("promised_by", "id")
            .limit(size)
            .select_for_update(skip_locked=True)
            .only("id", "merchant_id", "assignee_id", "promised_by", "rule_version")
        )
        if not rows:
            return 0, 0
        ids = [r.id for r in rows]
        # Compare-and-set, as state.move does: a complaint resolved or escalated since it
        # was read fails the batch rather than being escalated twice.
        changed = await Complaint.filter(
            id__in=ids, state=ComplaintState.PROMISED, escalated_at__isnull=True
        ).update(escalated_at=now)
        if changed != len(ids):
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, (), "concurrent")
        promised = str(ComplaintState.PROMISED)
        await audit.append_many(
            "Complaint",
            [
                (
                    r.id,
                    COMPLAINT_ACTION,
                    promised,
                    promised,
                    {
                        "promised_by": r.promised_by.isoformat() if r.promised_by else None,
                        "rule_version": r.rule_version,
                        "notified": "merchant and assignee" if r.assignee_id else "merchant",
                    },
                )
                for r in rows
            ],
            actor=None,
        )
        sent_at = datetime.now(UTC)
        notices = [notice for r in rows for notice in _overdue_notices(r, sent_at)]
        await bulk.insert_rows(Notification, NOTICE_COLUMNS, notices)
    return len(rows), len(notices)


Batch = Callable[[datetime, int], Awaitable[tuple[int, int]]]


async def _batch_with_retry(batch: Batch, now: datetime, size: int) -> tuple[int, int]:
    """A batch that lost a race (a row moved meanwhile, a deadlock, a trail appended to by
    a writer that did not hold the row's lock) changed nothing: it is taken again once."""
    for attempt in range(2):
        try:
            return await batch(now, size)
        except Exception as error:
            lost = isinstance(error, ServiceError | IntegrityError) or is_conflict(error)
            if not lost or attempt == 1:
                raise
    raise AssertionError("unreachable")


async def sweep(
    now: datetime | None = None, progress: Progress | None = None, batch_size: int = BATCH_SIZE
) -> SweepResult:
    """Escalate every breached request and every overdue promise (idempotent)."""
    now = now or state.now()
    say = progress or (lambda _: None)
    result = SweepResult()
    for name, batch in (("requests", _request_batch), ("complaints", _complaint_batch)):
        escalated = 0
        while True:
            moved, notices = await _batch_with_retry(batch, now, batch_size)
            if not moved:
                break
            escalated += moved
            result.batches += 1
            result.notifications += notices
            say(f"    {name}: {escalated} escalated so far")
        if name == "requests":
            result.requests_escalated = escalated
        else:
            result.complaints_escalated = escalated
        say(f"  {name} escalated: {escalated}")
    say(f"  notifications sent: {result.notifications}")
    return result
