"""Satisfaction feedback from every party (QS 10.2)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Complaint,
    ComplaintState,
    Feedback,
    FeedbackSubject,
    Merchant,
    Order,
    OrderState,
    Role,
    StaffDuty,
)
from pinzhi.services import monitoring, rules, state, validation
from pinzhi.services.lookup import get_visible

RATEABLE_ORDER_STATES = (OrderState.DELIVERED, OrderState.COMPLETED)


@dataclass(frozen=True)
class Summary:
    count: int
    average: float | None
    # distribution[i] is the number of scores equal to i + 1.
    distribution: list[int]


async def _subject(
    viewer: Viewer, subject_type: FeedbackSubject, subject_id: int | None
) -> tuple[int, int | None, int | None]:
    """Check eligibility; return (subject id, rated merchant, consumer) for the record."""
    if viewer.role == Role.CONSUMER:
        if subject_type == FeedbackSubject.ORDER:
            order = await get_visible(viewer, Order, subject_id, "subjectId")
            if order.state not in RATEABLE_ORDER_STATES:
                raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "not received yet")
            return order.id, order.merchant_id, viewer.account_id
        if subject_type == FeedbackSubject.MERCHANT:
            if subject_id is None or not await Merchant.filter(id=subject_id).exists():
                raise ServiceError(ErrorCode.NOT_FOUND, ("subjectId",))
            bought = await Order.filter(
                consumer_id=viewer.account_id,
                merchant_id=subject_id,
                state__in=RATEABLE_ORDER_STATES,
            ).exists()
            if not bought:
                raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "no received order")
            return subject_id, subject_id, viewer.account_id
        if subject_type == FeedbackSubject.SERVICE_CASE:
            case = await get_visible(viewer, Complaint, subject_id, "subjectId")
            if case.state != ComplaintState.RESOLVED:
                raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "case not closed")
            return case.id, None, viewer.account_id
    if viewer.role in (Role.MERCHANT, Role.SERVICE_PROVIDER) and (
        subject_type == FeedbackSubject.PLATFORM
    ):
        return 0, None, None
    raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectType",))


async def submit_feedback(
    viewer: Viewer,
    subject_type: FeedbackSubject,
    subject_id: int | None,
    score: int,
    comment: str = "",
) -> Feedback:
    require(viewer, Action.SUBMIT_FEEDBACK)
    scale = (await rules.current("feedback.scale")).content
    if not scale["min_score"] <= score <= scale["max_score"]:
        raise ServiceError(
            ErrorCode.SCORE_OUT_OF_RANGE, ("score",), f"{scale['min_score']}–{scale['max_score']}"
        )
    comment = validation.text(
        comment, "comment", min_len=0, max_len=int(scale["max_comment_length"]), multiline=True
    )
    sid, merchant_id, consumer_id = await _subject(viewer, subject_type, subject_id)
    if await Feedback.filter(
        author_id=viewer.account_id, subject_type=subject_type, subject_id=sid
    ).exists():
        raise ServiceError(ErrorCode.FEEDBACK_EXISTS, ("subjectId",))
    try:
        async with in_transaction():
            row = await state.create(
                Feedback,
                actor=viewer,
                action="submitted",
                data={"subject_type": str(subject_type), "subject_id": sid, "score": score},
                author_id=viewer.account_id,
                author_role=viewer.role,
                subject_type=subject_type,
                subject_id=sid,
                rated_merchant_id=merchant_id,
                consumer_id=consumer_id,
                score=score,
                comment=comment,
            )
    except IntegrityError as exc:  # a second submission racing the first
        raise ServiceError(ErrorCode.FEEDBACK_EXISTS, ("subjectId",)) from exc
    if merchant_id is not None and subject_type == FeedbackSubject.ORDER and score <= 2:
        await monitoring.check_quietly(merchant_id)  # a low rating is an order defect
    return row


def may_read_summary(
    viewer: Viewer, subject_type: FeedbackSubject, merchant_id: int | None
) -> bool:
    """The rated party, compliance staff and regulators read aggregates (QS 10.2)."""
    if viewer.role == Role.REGULATOR or viewer.has_duty(StaffDuty.COMPLIANCE):
        return True
    return (
        viewer.role == Role.MERCHANT
        and subject_type in (FeedbackSubject.ORDER, FeedbackSubject.MERCHANT)
        and merchant_id is not None
        and merchant_id == viewer.merchant_id
    )


def _from_counts(counts: dict[int, int]) -> Summary:
    distribution = [counts.get(score, 0) for score in range(1, 6)]
    count = sum(distribution)
    total = sum(score * n for score, n in zip(range(1, 6), distribution, strict=True))
    return Summary(count, round(total / count, 2) if count else None, distribution)


async def summary(subject_type: FeedbackSubject, merchant_id: int | None = None) -> Summary:
    query = Feedback.filter(subject_type=subject_type)
    if merchant_id is not None:
        query = query.filter(rated_merchant_id=merchant_id)
    rows = await query.annotate(n=Count("id")).group_by("score").values("score", "n")
    return _from_counts({row["score"]: row["n"] for row in rows})


async def summaries_by_merchant(
    subject_type: FeedbackSubject, merchant_ids: list[int]
) -> dict[int, Summary]:
    """One grouped query for many merchants (used by a DataLoader)."""
    rows = (
        await Feedback.filter(subject_type=subject_type, rated_merchant_id__in=merchant_ids)
        .annotate(n=Count("id"))
        .group_by("rated_merchant_id", "score")
        .values("rated_merchant_id", "score", "n")
    )
    counts: dict[int, dict[int, int]] = {mid: {} for mid in merchant_ids}
    for row in rows:
        counts[row["rated_merchant_id"]][row["score"]] = row["n"]
    return {mid: _from_counts(c) for mid, c in counts.items()}
