"""Notifications to a shop or an account (QS 9.2.3, 9.2.4)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pinzhi import models
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.enums import NotificationKind


@strawberry.type(
    description="A notice to the viewer's shop or to the viewer: what happened, to which "
    "entity (subjectId is its global id), in Chinese and English."
)
class Notification(Node):
    kind: NotificationKind
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of what it is about: a request, a complaint."
    )
    title_zh: str
    title_en: str
    title: str = strawberry.field(description="In the request's language.")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_row(cls, row: models.Notification, language: str = "zh") -> Notification:
        return cls(
            id=to_global_id("Notification", row.id),
            kind=row.kind,
            subject_id=to_global_id(row.subject_type, row.subject_id),
            title_zh=row.title_zh,
            title_en=row.title_en,
            title=row.title_en if language == "en" else row.title_zh,
            created_at=row.created_at,
            read_at=row.read_at,
        )


@strawberry.type
class NotificationPayload:
    notification: Notification | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="After-sales timeliness over a month (QS 9.2.3): the requests opened in it, "
    "answered within their response limit or not. onTimeRate = onTime / (onTime + "
    "breached), null while no request's outcome is known."
)
class AfterSalesTimeliness:
    merchant_id: strawberry.ID | None = strawberry.field(
        description="The merchant; null for the whole platform."
    )
    period: str = strawberry.field(description="The month, e.g. 2026-11 (UTC).")
    requests: int = strawberry.field(description="Requests opened in the month.")
    responded: int = strawberry.field(description="Answered, on time or late.")
    on_time: int = strawberry.field(description="First answered at or before the limit.")
    breached: int = strawberry.field(
        description="Answered after the limit, or unanswered with the limit passed."
    )
    pending: int = strawberry.field(description="Unanswered, the limit not reached yet.")
    escalated: int = strawberry.field(
        description="Escalated to customer service by the sweep when the limit passed."
    )
    on_time_rate: float | None
