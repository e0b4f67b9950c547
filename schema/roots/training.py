"""Root fields of training (QS 6.3, 9.3.2): courses, enrolment and assessment."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.policy import Action
from pinzhi.schema.base import attempt, pk_of
from pinzhi.schema.enums import CourseTopic
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.training import (
    Course,
    CoursePayload,
    CreateCourseInput,
    Enrolment,
    EnrolmentPayload,
)
from pinzhi.services import training


async def courses(info: Info, topic: CourseTopic | None = None) -> list[Course]:
    return [Course.from_row(r) for r in await training.list_courses(topic)]


async def create_course(info: Info, input: CreateCourseInput) -> CoursePayload:
    row, errors = await attempt(
        info,
        training.create_course(
            info.context.viewer,
            input.code,
            input.title,
            models.CourseTopic(input.topic),
            input.pass_mark,
        ),
    )
    return CoursePayload(course=Course.from_row(row) if row else None, errors=errors)


async def enrol_course(info: Info, course_id: strawberry.ID) -> EnrolmentPayload:
    row, errors = await attempt(
        info, training.enrol(info.context.viewer, pk_of(course_id, "Course"))
    )
    return EnrolmentPayload(enrolment=Enrolment.from_row(row) if row else None, errors=errors)


# Staff posts and their qualification (QS 9.3.2)
async def enrol_staff_course(info: Info, course_id: strawberry.ID) -> EnrolmentPayload:
    row, errors = await attempt(
        info, training.enrol_staff(info.context.viewer, pk_of(course_id, "Course"))
    )
    return EnrolmentPayload(enrolment=Enrolment.from_row(row) if row else None, errors=errors)


async def record_assessment(
    info: Info, enrolment_id: strawberry.ID, score: int
) -> EnrolmentPayload:
    row, errors = await attempt(
        info,
        training.record_assessment(info.context.viewer, pk_of(enrolment_id, "Enrolment"), score),
    )
    return EnrolmentPayload(enrolment=Enrolment.from_row(row) if row else None, errors=errors)


@strawberry.type
class TrainingQuery:
    courses = field(courses, description="Training courses (QS 6.3); public.")


@strawberry.type
class TrainingMutation:
    create_course = mutation(create_course, Action.CREATE_COURSE, description="QS 6.3.")
    enrol_course = mutation(enrol_course, Action.ENROL_COURSE, description="QS 6.3.")
    record_assessment = mutation(
        record_assessment,
        Action.RECORD_ASSESSMENT,
        description="QS 6.3, 9.3.2: a staff member's own training is assessed by someone "
        "else (SELF_ASSESSMENT).",
    )
    enrol_staff_course = mutation(
        enrol_staff_course,
        Action.ENROL_STAFF_COURSE,
        description="QS 9.3.2: a staff member enrols themselves in a course, once; admin or "
        "compliance staff record the assessment (recordAssessment).",
    )
