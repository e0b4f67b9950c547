"""Training and its assessment: merchants' (QS 6.3) and staff members' (QS 9.3.2)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals
from pinzhi.models import StaffDuty

# The module, not its names: it imports this one back (see schema/catalog.py).
from pinzhi.schema import catalog
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.enums import CourseTopic

if TYPE_CHECKING:
    from pinzhi.schema.catalog import Merchant


@strawberry.type(
    description="A training course: for merchants (QS 6.3), or for the staff who take "
    "quality-service posts (QS 9.3.2: ETIQUETTE, RIGHTS_HANDLING, ECOMMERCE_LAW)."
)
class Course(Node):
    code: str
    title: str
    topic: CourseTopic
    pass_mark: int = strawberry.field(description="0–100; a score at or above it passes.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.Course) -> Course:
        return cls(
            id=to_global_id("Course", row.id),
            code=row.code,
            title=row.title,
            topic=row.topic,
            pass_mark=row.pass_mark,
            created_at=row.created_at,
        )


@strawberry.type(
    description="A trainee's enrolment in a course and its assessment: a merchant's (QS "
    "6.3) or a staff member's (QS 9.3.2)."
)
class Enrolment(Node):
    enrolled_at: datetime
    score: int | None
    passed: bool | None
    completed_at: datetime | None
    staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member trained (an Account id); null for a merchant's."
    )
    course_pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Enrolment) -> Enrolment:
        return cls(
            id=to_global_id("Enrolment", row.id),
            course_pk=row.course_id,
            merchant_pk=row.merchant_id,
            staff_id=None if row.staff_id is None else to_global_id("Account", row.staff_id),
            enrolled_at=row.enrolled_at,
            score=row.score,
            passed=row.passed,
            completed_at=row.completed_at,
        )

    @strawberry.field
    async def course(self, info: Info) -> Course | None:
        row = await info.context.loaders.course_by_id.load(self.course_pk)
        return Course.from_row(row) if row else None

    @strawberry.field(description="The merchant trained; null for a staff member's.")
    async def merchant(
        self, info: Info
    ) -> Annotated[Merchant, strawberry.lazy("pinzhi.schema.catalog")] | None:
        if self.merchant_pk is None:
            return None
        return await catalog.merchant_of(info, self.merchant_pk)


@strawberry.input
class CreateCourseInput:
    code: str
    title: str
    topic: CourseTopic
    pass_mark: int


@strawberry.type
class CoursePayload:
    course: Course | None
    errors: list[UserError]


@strawberry.type
class EnrolmentPayload:
    enrolment: Enrolment | None
    errors: list[UserError]


async def merchant_training(info: Info, merchant_pk: int) -> list[Enrolment] | None:
    # Admin staff assess training as compliance staff do (QS 6.3).
    if not sees_merchant_internals(info.context.viewer, merchant_pk, also=(StaffDuty.ADMIN,)):
        return None
    rows = await info.context.loaders.enrolments_by_merchant_id.load(merchant_pk)
    return [Enrolment.from_row(r) for r in rows]
