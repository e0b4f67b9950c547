"""Complaints and satisfaction feedback."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import scope
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema import preload
from pinzhi.schema.base import Connection, attempt, listing, pk_of, pk_or_missing
from pinzhi.schema.enums import ComplaintState, FeedbackSubject
from pinzhi.schema.feedback import SUBJECT_TYPE_NAMES, Feedback, FeedbackSummary, summary_of
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.inputs import (
    ComplaintPayload,
    FeedbackPayload,
    FileComplaintInput,
    HandleComplaintInput,
    SubmitFeedbackInput,
)
from pinzhi.schema.permissions import forbidden
from pinzhi.schema.service import Complaint
from pinzhi.services import complaints, feedback
from pinzhi.services.state import now


async def complaint_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: ComplaintState | None = None,
    overdue: bool | None = None,
) -> Connection[Complaint]:
    query = scope(info.context.viewer, models.Complaint)
    if state is not None:
        query = query.filter(state=state)
    if overdue is True:
        query = query.filter(state=models.ComplaintState.PROMISED, promised_by__lt=now())

    async def nodes(rows: Sequence[models.Complaint]) -> list[Complaint]:
        found = [Complaint.from_row(r) for r in rows]
        await preload.complaints(info, found, preload.node_selection(info))
        return found

    return await listing(query, Window(first, after, last, before), nodes)


async def feedback_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    subject_type: FeedbackSubject | None = None,
) -> Connection[Feedback]:
    found = await scoped_page(
        info.context.viewer,
        models.Feedback,
        Window(first, after, last, before),
        subject_type=subject_type,
    )
    return Connection.of(found, [Feedback.from_row(r) for r in found.rows])


def _complaint_payload(row: models.Complaint | None, errors: list) -> ComplaintPayload:
    return ComplaintPayload(complaint=Complaint.from_row(row) if row else None, errors=errors)


async def file_complaint(info: Info, input: FileComplaintInput) -> ComplaintPayload:
    order_pk = pk_of(input.order_id, "Order") if input.order_id is not None else None
    merchant_pk = pk_of(input.merchant_id, "Merchant") if input.merchant_id is not None else None
    if input.order_id is not None and order_pk is None:
        order_pk = 0  # an id that is not an order's: reported as not found
    if input.merchant_id is not None and merchant_pk is None:
        merchant_pk = 0
    row, errors = await attempt(
        info,
        complaints.file_complaint(
            info.context.viewer,
            order_pk,
            merchant_pk,
            input.description,
            models.ComplaintCategory(input.category),
        ),
    )
    return _complaint_payload(row, errors)


async def take_complaint(info: Info, complaint_id: strawberry.ID) -> ComplaintPayload:
    row, errors = await attempt(
        info,
        complaints.take_complaint(info.context.viewer, pk_or_missing(complaint_id, "Complaint")),
    )
    return _complaint_payload(row, errors)


async def handle_complaint(info: Info, input: HandleComplaintInput) -> ComplaintPayload:
    row, errors = await attempt(
        info,
        complaints.handle_complaint(
            info.context.viewer,
            pk_or_missing(input.complaint_id, "Complaint"),
            resolution=input.resolution,
            delay_reason=input.delay_reason,
            promised_by=input.promised_by,
            upheld=input.upheld,
            category=models.ComplaintCategory(input.category) if input.category else None,
        ),
    )
    return _complaint_payload(row, errors)


async def submit_feedback(info: Info, input: SubmitFeedbackInput) -> FeedbackPayload:
    subject = models.FeedbackSubject(input.subject_type)
    type_name = SUBJECT_TYPE_NAMES.get(subject)
    subject_pk = pk_of(input.subject_id, type_name) if type_name and input.subject_id else None
    row, errors = await attempt(
        info,
        feedback.submit_feedback(
            info.context.viewer, subject, subject_pk, input.score, input.comment
        ),
    )
    return FeedbackPayload(feedback=Feedback.from_row(row) if row else None, errors=errors)


async def feedback_summary(
    info: Info, subject_type: FeedbackSubject, merchant_id: strawberry.ID | None = None
) -> FeedbackSummary:
    """Aggregates for the rated party, staff and regulators (QS 10.2)."""
    subject = models.FeedbackSubject(subject_type)
    merchant_pk = pk_of(merchant_id, "Merchant") if merchant_id else None
    if not feedback.may_read_summary(info.context.viewer, subject, merchant_pk):
        raise forbidden()
    return summary_of(await feedback.summary(subject, merchant_pk))


@strawberry.type
class ServiceQuery:
    complaints = field(complaint_list, policy.READERS)
    feedback = field(feedback_list, policy.READERS)
    feedback_summary = field(feedback_summary, policy.READERS)


@strawberry.type
class ServiceMutation:
    file_complaint = mutation(file_complaint, Action.FILE_COMPLAINT)
    take_complaint = mutation(take_complaint, Action.TAKE_COMPLAINT)
    handle_complaint = mutation(handle_complaint, Action.HANDLE_COMPLAINT, description="QS 9.2.4.")
    submit_feedback = mutation(submit_feedback, Action.SUBMIT_FEEDBACK, description="QS 10.2.")
