"""Complaints and their handling in time (QS 9.2.4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Complaint,
    ComplaintCategory,
    ComplaintState,
    Merchant,
    Order,
    PlatformRule,
)
from pinzhi.services import monitoring, rules, state, validation
from pinzhi.services.lookup import get_visible, ids_of, lock_visible

OPEN_STATES = (ComplaintState.OPEN, ComplaintState.IN_PROGRESS, ComplaintState.PROMISED)


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """A promise not kept: still unresolved after the promised date."""
    now = now or state.now()
    return (
        complaint.state == ComplaintState.PROMISED
        and complaint.promised_by is not None
        and complaint.promised_by < now
    )


async def file_complaint(
    viewer: Viewer,
    order_id: int | None,
    merchant_id: int | None,
    description: str,
    category: ComplaintCategory = ComplaintCategory.OTHER,
) -> Complaint:
    require(viewer, Action.FILE_COMPLAINT)
    text = validation.text(description, "description", min_len=5, max_len=2000, multiline=True)
    if (order_id is None) == (merchant_id is None):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("orderId",), "give an order or a merchant")
    if order_id is not None:
        order = await get_visible(viewer, Order, order_id, "orderId")
        merchant_id = order.merchant_id
    elif not await Merchant.filter(id=merchant_id).exists():
        raise ServiceError(ErrorCode.NOT_FOUND, ("merchantId",))
    async with in_transaction():
        complaint = await state.create(
            Complaint,
            actor=viewer,
            action="filed",
            data={"order_id": order_id, "merchant_id": merchant_id, "category": str(category)},
            consumer_id=viewer.account_id,
            merchant_id=merchant_id,
            order_id=order_id,
            description=text,
            category=ComplaintCategory(category),
        )
    return complaint


def _require_assignee(viewer: Viewer, complaint: Complaint) -> None:
    if complaint.assignee_id not in (None, viewer.account_id):
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("complaintId",), "assigned to someone else")


async def take_complaint(viewer: Viewer, complaint_id: int) -> Complaint:
    """A customer-service agent takes an open case."""
    require(viewer, Action.TAKE_COMPLAINT)
    async with in_transaction():
        complaint = await lock_visible(viewer, Complaint, complaint_id, "complaintId")
        _require_assignee(viewer, complaint)
        await state.move(
            complaint,
            ComplaintState.IN_PROGRESS,
            actor=viewer,
            action="taken",
            field="complaintId",
            assignee_id=viewer.account_id,
        )
    return complaint


async def handle_complaint(
    viewer: Viewer,
    complaint_id: int,
    *,
    resolution: str | None = None,
    delay_reason: str | None = None,
    promised_by: datetime | None = None,
    upheld: bool | None = None,
    category: ComplaintCategory | None = None,
) -> Complaint:
    """QS 9.2.4: resolve now (a resolution), or explain why not and promise a date
    (a reason and a date within the rule's limit). Nothing in between is accepted.
    A resolution must say whether the consumer was right (``upheld``): only an upheld
    complaint counts against the merchant's and the product's grade (QS 6.1.1, 7.1.1), so
    nothing is upheld by default. It may also correct the consumer's ``category``."""
    require(viewer, Action.HANDLE_COMPLAINT)
    resolving = resolution is not None and resolution.strip() != ""
    promising = delay_reason is not None or promised_by is not None
    if resolving == promising:
        raise ServiceError(
            ErrorCode.INVALID_INPUT,
            ("resolution",),
            "give a resolution, or a reason and a promised date",
        )
    if resolving and upheld is None:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("upheld",), "say whether it is upheld")
    if promising and (upheld is not None or category is not None):
        field = "upheld" if upheld is not None else "category"
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "decided with the resolution")
    rule = await rules.current("complaint.handling")
    async with in_transaction():
        complaint = await lock_visible(viewer, Complaint, complaint_id, "complaintId")
        _require_assignee(viewer, complaint)
        if resolving:
            text = validation.text(resolution, "resolution", max_len=2000, multiline=True)
            data: dict[str, object] = {
                "on_the_spot": complaint.promised_by is None,
                "upheld": upheld,
                "rule_version": rule.version,
            }
            final = ComplaintCategory(category or complaint.category)
            if final != complaint.category:
                data["category"] = [str(complaint.category), str(final)]
            await state.move(
                complaint,
                ComplaintState.RESOLVED,
                actor=viewer,
                action="resolved",
                field="complaintId",
                data=data,
                resolution=text,
                resolved_at=state.now(),
                assignee_id=viewer.account_id,
                rule_version=rule.version,
                upheld=upheld,
                category=final,
            )
        else:
            await _promise(viewer, complaint, rule, delay_reason, promised_by)
    if resolving and upheld and complaint.order_id is not None:
        # An upheld complaint is an order defect: the merchant's warning may fire now.
        await monitoring.check_quietly(complaint.merchant_id)
    return complaint


async def _promise(
    viewer: Viewer,
    complaint: Complaint,
    rule: PlatformRule,
    delay_reason: str | None,
    promised_by: datetime | None,
) -> None:
    reason = validation.text(delay_reason, "delayReason", min_len=2, max_len=1000, multiline=True)
    limit = timedelta(days=rule.content["max_promise_days"])
    now = state.now()
    promised_by = validation.moment(promised_by, "promisedBy", ErrorCode.PROMISE_OUT_OF_RANGE)
    if not now < promised_by <= now + limit:
        raise ServiceError(ErrorCode.PROMISE_OUT_OF_RANGE, ("promisedBy",))
    await state.move(
        complaint,
        ComplaintState.PROMISED,
        actor=viewer,
        action="promised",
        field="complaintId",
        data={
            "reason": reason,
            "promised_by": promised_by.isoformat(),
            "rule_version": rule.version,
        },
        delay_reason=reason,
        promised_by=promised_by,
        assignee_id=viewer.account_id,
        rule_version=rule.version,
    )


async def case_consumer_ids(staff_account_id: int) -> frozenset[int]:
    """Consumers whose open complaints this agent handles: the cases it may see whole."""
    assigned = Complaint.filter(assignee_id=staff_account_id, state__in=OPEN_STATES)
    return frozenset(await ids_of(assigned, "consumer_id"))
