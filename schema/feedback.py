"""Satisfaction feedback from every party and its aggregates (QS 10.2)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.base import Node, to_global_id
from pinzhi.schema.enums import FeedbackSubject, Role
from pinzhi.services import feedback

SUBJECT_TYPE_NAMES = {
    models.FeedbackSubject.ORDER: "Order",
    models.FeedbackSubject.MERCHANT: "Merchant",
    models.FeedbackSubject.SERVICE_CASE: "Complaint",
}


@strawberry.type(description="One party's satisfaction rating (QS 10.2).")
class Feedback(Node):
    subject_type: FeedbackSubject
    subject_id: strawberry.ID | None = strawberry.field(
        description="The rated order, merchant or complaint; null for the platform."
    )
    author_role: Role
    score: int
    comment: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.Feedback) -> Feedback:
        type_name = SUBJECT_TYPE_NAMES.get(row.subject_type)
        return cls(
            id=to_global_id("Feedback", row.id),
            subject_type=row.subject_type,
            subject_id=to_global_id(type_name, row.subject_id) if type_name else None,
            author_role=row.author_role,
            score=row.score,
            comment=row.comment,
            created_at=row.created_at,
        )


@strawberry.type(description="Count, average and distribution of scores 1–5.")
class FeedbackSummary:
    count: int
    average: float | None
    distribution: list[int] = strawberry.field(
        description="distribution[i] is the number of scores equal to i + 1."
    )


def summary_of(result: feedback.Summary) -> FeedbackSummary:
    return FeedbackSummary(
        count=result.count, average=result.average, distribution=result.distribution
    )


async def merchant_summary(info: Info, merchant_pk: int) -> FeedbackSummary | None:
    subject = models.FeedbackSubject.MERCHANT
    if not feedback.may_read_summary(info.context.viewer, subject, merchant_pk):
        return None
    return summary_of(await info.context.loaders.merchant_feedback_by_merchant_id.load(merchant_pk))
