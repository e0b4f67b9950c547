"""Training (QS 6.3, 9.3.2): courses on quality control, supply chain, compliance and
service for merchants, on etiquette, rights handling and e-commerce law for the staff who
take quality-service posts. A trainee (a merchant, or a staff member enrolling themselves)
enrols once per course; admin or compliance staff record the assessment, which passes at
the course's pass mark, and never assess their own. Enrolment and assessment are traced
(entity ``Enrolment``)."""

from __future__ import annotations

import re
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Course, CourseTopic, Enrolment
from pinzhi.services import audit, state, validation
from pinzhi.services.lookup import lock_visible

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,29}")
MIN_SCORE, MAX_SCORE = 0, 100


def _score(value: int, field: str) -> int:
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise ServiceError(ErrorCode.SCORE_OUT_OF_RANGE, (field,), f"{MIN_SCORE}–{MAX_SCORE}")
    return value


async def create_course(
    viewer: Viewer, code: str, title: str, topic: CourseTopic, pass_mark: int
) -> Course:
    """Staff with the ADMIN duty publish a course; codes are unique (upper case)."""
    require(viewer, Action.CREATE_COURSE)
    code = (code or "").strip().upper()
    if not CODE.fullmatch(code):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("code",), "2–30 of A–Z, 0–9, _ and -")
    title = validation.text(title, "title", min_len=2, max_len=200)
    if not MIN_SCORE <= pass_mark <= MAX_SCORE:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("passMark",), f"{MIN_SCORE}–{MAX_SCORE}")
    if await Course.filter(code=code).exists():
        raise ServiceError(ErrorCode.COURSE_CODE_TAKEN, ("code",))
    try:
        async with in_transaction():
            course = await state.create(
                Course,
                actor=viewer,
                action="created",
                data={"code": code, "topic": str(topic), "pass_mark": pass_mark},
                code=code,
                title=title,
                topic=CourseTopic(topic),
                pass_mark=pass_mark,
            )
            return course
    except IntegrityError as exc:  # created concurrently with the same code
        raise ServiceError(ErrorCode.COURSE_CODE_TAKEN, ("code",)) from exc


async def list_courses(topic: CourseTopic | None = None) -> list[Course]:
    query = Course.all() if topic is None else Course.filter(topic=topic)
    return await query.order_by("code")


async def enrol(viewer: Viewer, course_id: int | None) -> Enrolment:
    """The viewer's merchant enrols in a course, once."""
    require(viewer, Action.ENROL_COURSE)
    if viewer.merchant_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    return await _enrol(viewer, course_id, {"merchant_id": viewer.merchant_id})


# Staff posts and their qualification (QS 9.3.2)
async def enrol_staff(viewer: Viewer, course_id: int | None) -> Enrolment:
    """A staff member enrols themselves in a course, once: the training a post needs
    (rule customer_service.posts)."""
    require(viewer, Action.ENROL_STAFF_COURSE)
    if viewer.account_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    return await _enrol(viewer, course_id, {"staff_id": viewer.account_id})


async def _enrol(viewer: Viewer, course_id: int | None, trainee: dict[str, Any]) -> Enrolment:
    """One enrolment of ``trainee`` (a merchant_id or a staff_id: exactly one) in a
    course."""
    course = None if course_id is None else await Course.filter(id=course_id).first()
    if course is None:
        raise ServiceError(ErrorCode.COURSE_NOT_FOUND, ("courseId",))
    if await Enrolment.filter(course_id=course.id, **trainee).exists():
        raise ServiceError(ErrorCode.ENROLMENT_EXISTS, ("courseId",))
    try:
        async with in_transaction():
            enrolment = await Enrolment.create(course_id=course.id, **trainee)
            await audit.append(
                "Enrolment",
                enrolment.id,
                "enrolled",
                actor=viewer,
                data={"course": course.code, **trainee},
            )
    except IntegrityError as exc:  # enrolled concurrently
        raise ServiceError(ErrorCode.ENROLMENT_EXISTS, ("courseId",)) from exc
    return enrolment


async def record_assessment(viewer: Viewer, enrolment_id: int | None, score: int) -> Enrolment:
    """Staff (ADMIN or COMPLIANCE duty) record a score 0–100; it passes at the course's
    pass mark. A failed assessment may be retaken (recorded again); a passed one is final.
    Every assessment is a traced event, so earlier scores stay on the record. A staff
    member's own training is assessed by someone else (QS 9.3.2: SELF_ASSESSMENT)."""
    require(viewer, Action.RECORD_ASSESSMENT)
    score = _score(score, "score")
    async with in_transaction():
        enrolment = await lock_visible(viewer, Enrolment, enrolment_id or 0, "enrolmentId")
        if enrolment.staff_id is not None and enrolment.staff_id == viewer.account_id:
            raise ServiceError(ErrorCode.SELF_ASSESSMENT, ("enrolmentId",))
        if enrolment.passed:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("enrolmentId",), "already passed")
        course = await Course.get(id=enrolment.course_id)
        enrolment.score = score
        enrolment.passed = score >= course.pass_mark
        enrolment.assessed_by_id = viewer.account_id
        enrolment.completed_at = state.now()
        await enrolment.save(update_fields=["score", "passed", "assessed_by_id", "completed_at"])
        await audit.append(
            "Enrolment",
            enrolment.id,
            "assessed",
            actor=viewer,
            data={"score": score, "pass_mark": course.pass_mark, "passed": enrolment.passed},
        )
    return enrolment
