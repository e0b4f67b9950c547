"""Merchant training: courses, enrolment and assessment records (QS 6.3)."""

from __future__ import annotations

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Course, CourseTopic, Enrolment, StaffDuty
from pinzhi.services import audit, training
from tests import factories as f


async def _refused(action, code: ErrorCode) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    return raised.value


async def _course(code: str = "QC-101", pass_mark: int = 60) -> Course:
    admin = await f.staff(StaffDuty.ADMIN)
    return await training.create_course(
        admin.viewer,
        code,
        "质量管控基础 Quality control basics",
        CourseTopic.QUALITY_CONTROL,
        pass_mark,
    )


async def test_admin_staff_create_courses_on_the_four_topics(db) -> None:
    """QS 6.3: training covers quality control, supply chain, compliance and service; the
    code is normalised to upper case and unique; the list is ordered by code."""
    admin = await f.staff(StaffDuty.ADMIN)
    for code, topic in [
        ("sc-201", CourseTopic.SUPPLY_CHAIN),
        ("QC-101", CourseTopic.QUALITY_CONTROL),
        ("CP-301", CourseTopic.COMPLIANCE),
        ("SV-401", CourseTopic.SERVICE),
    ]:
        await training.create_course(admin.viewer, code, f"课程 {code}", topic, 70)
    courses = await training.list_courses()
    assert [c.code for c in courses] == ["CP-301", "QC-101", "SC-201", "SV-401"]
    assert [c.code for c in await training.list_courses(CourseTopic.SERVICE)] == ["SV-401"]

    error = await _refused(
        training.create_course(admin.viewer, "qc-101", "重复 duplicate", CourseTopic.SERVICE, 50),
        ErrorCode.COURSE_CODE_TAKEN,
    )
    assert error.field == ["code"]


@pytest.mark.parametrize(
    ("code", "title", "pass_mark", "field"),
    [
        ("Q", "标题 title", 60, "code"),
        ("QC 101", "标题 title", 60, "code"),
        ("QC-102", " ", 60, "title"),
        ("QC-103", "标题 title", 101, "passMark"),
        ("QC-104", "标题 title", -1, "passMark"),
    ],
)
async def test_course_input_is_checked(db, code, title, pass_mark, field) -> None:
    """QS 6.3: a code of 2–30 letters, digits, _ or -; a title; a pass mark 0–100."""
    admin = await f.staff(StaffDuty.ADMIN)
    error = await _refused(
        training.create_course(admin.viewer, code, title, CourseTopic.SERVICE, pass_mark),
        ErrorCode.INVALID_INPUT,
    )
    assert error.field == [field]
    assert await Course.all().count() == 0


async def test_only_admin_staff_create_courses(db) -> None:
    """QS 6.3: compliance staff, merchants and consumers are not eligible."""
    shop_actor = (await f.merchant())[1]
    for who in [await f.compliance_officer(), shop_actor, await f.consumer()]:
        await _refused(
            training.create_course(who.viewer, "QC-101", "标题 t", CourseTopic.SERVICE, 60),
            ErrorCode.NOT_ELIGIBLE,
        )
    assert await Course.all().count() == 0


async def test_merchant_enrols_once_per_course(db) -> None:
    """QS 6.3: an enrolment per merchant and course; a second is ENROLMENT_EXISTS; another
    merchant enrols independently; the enrolment is traced."""
    course = await _course()
    shop, seller = await f.merchant()
    other_shop, other_seller = await f.merchant()
    enrolment = await training.enrol(seller.viewer, course.id)
    assert (enrolment.merchant_id, enrolment.course_id) == (shop.id, course.id)
    assert (enrolment.score, enrolment.passed, enrolment.completed_at) == (None, None, None)

    error = await _refused(training.enrol(seller.viewer, course.id), ErrorCode.ENROLMENT_EXISTS)
    assert error.field == ["courseId"]
    assert (await training.enrol(other_seller.viewer, course.id)).merchant_id == other_shop.id
    assert await Enrolment.all().count() == 2
    assert [e.action for e in await audit.trail("Enrolment", enrolment.id)] == ["enrolled"]


async def test_enrolling_in_a_missing_course_or_as_a_non_merchant_is_refused(db) -> None:
    """QS 6.3: an unknown course is COURSE_NOT_FOUND; only merchants enrol."""
    course = await _course()
    _, seller = await f.merchant()
    error = await _refused(
        training.enrol(seller.viewer, course.id + 99), ErrorCode.COURSE_NOT_FOUND
    )
    assert error.field == ["courseId"]
    for who in [await f.consumer(), await f.staff(StaffDuty.ADMIN)]:
        await _refused(training.enrol(who.viewer, course.id), ErrorCode.NOT_ELIGIBLE)
    assert await Enrolment.all().count() == 0


@pytest.mark.parametrize(("score", "passed"), [(59, False), (60, True), (100, True), (0, False)])
async def test_assessment_passes_at_the_pass_mark(db, score, passed) -> None:
    """QS 6.3: staff record a score 0–100; passed = score >= pass mark; completed_at set."""
    course = await _course(pass_mark=60)
    _, seller = await f.merchant()
    officer = await f.compliance_officer()
    enrolment = await training.enrol(seller.viewer, course.id)

    assessed = await training.record_assessment(officer.viewer, enrolment.id, score)
    stored = await Enrolment.get(id=enrolment.id)
    assert (stored.score, stored.passed, stored.assessed_by_id) == (
        score,
        passed,
        officer.account.id,
    )
    assert stored.completed_at is not None and assessed.passed is passed


@pytest.mark.parametrize("score", [-1, 101])
async def test_score_out_of_range_is_refused(db, score) -> None:
    """QS 6.3: a score outside 0–100 is SCORE_OUT_OF_RANGE and nothing is recorded."""
    course = await _course()
    _, seller = await f.merchant()
    admin = await f.staff(StaffDuty.ADMIN)
    enrolment = await training.enrol(seller.viewer, course.id)
    error = await _refused(
        training.record_assessment(admin.viewer, enrolment.id, score),
        ErrorCode.SCORE_OUT_OF_RANGE,
    )
    assert error.field == ["score"]
    assert "0–100" in error.message("en")
    assert (await Enrolment.get(id=enrolment.id)).score is None


async def test_a_failed_assessment_can_be_retaken_and_a_pass_is_final(db) -> None:
    """QS 6.3: a failed merchant retakes the assessment; every attempt stays on the trail;
    once passed, the record cannot be changed."""
    course = await _course(pass_mark=80)
    _, seller = await f.merchant()
    admin = await f.staff(StaffDuty.ADMIN)
    enrolment = await training.enrol(seller.viewer, course.id)
    assert not (await training.record_assessment(admin.viewer, enrolment.id, 50)).passed
    assert (await training.record_assessment(admin.viewer, enrolment.id, 85)).passed
    await _refused(
        training.record_assessment(admin.viewer, enrolment.id, 40), ErrorCode.ILLEGAL_TRANSITION
    )
    assert (await Enrolment.get(id=enrolment.id)).score == 85
    trail = await audit.trail("Enrolment", enrolment.id)
    assert [(e.action, e.data.get("score")) for e in trail] == [
        ("enrolled", None),
        ("assessed", 50),
        ("assessed", 85),
    ]


async def test_only_admin_or_compliance_staff_assess(db) -> None:
    """QS 6.3: customer-service staff and merchants cannot record assessments."""
    course = await _course()
    _, seller = await f.merchant()
    enrolment = await training.enrol(seller.viewer, course.id)
    for who in [await f.staff(StaffDuty.CUSTOMER_SERVICE), seller]:
        await _refused(
            training.record_assessment(who.viewer, enrolment.id, 90), ErrorCode.NOT_ELIGIBLE
        )
    admin = await f.staff(StaffDuty.ADMIN)
    await _refused(
        training.record_assessment(admin.viewer, enrolment.id + 9, 90), ErrorCode.NOT_FOUND
    )
    assert (await Enrolment.get(id=enrolment.id)).score is None
