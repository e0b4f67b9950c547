"""Merchant governance graphs: violation cases and key control (QS 6.4), training
(QS 6.3), and the merchant's own product listing that key control restricts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import permissions as p
from pinzhi.models import Role, StaffDuty
from pinzhi.schema.base import Money, Node, UserError, to_global_id
from pinzhi.schema.catalog import Merchant, Product
from pinzhi.schema.enums import CourseTopic, Penalty, ViolationState, ViolationType
from pinzhi.schema.evidence import Evidence, EvidenceInput
from pinzhi.schema.fields import READERS, field, mutation
from pinzhi.services import violations as violation_service

ViolationDecision = strawberry.enum(
    violation_service.Decision, name="ViolationDecision", description="Decide or dismiss."
)
AppealOutcome = strawberry.enum(
    violation_service.AppealOutcome,
    name="AppealOutcome",
    description="UPHELD: the penalty stands. OVERTURNED: it is lifted.",
)

COMPLIANCE = p.allow(Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
COURSE_ADMINS = p.allow(Role.STAFF, duties=(StaffDuty.ADMIN,))
ASSESSORS = p.allow(Role.STAFF, duties=(StaffDuty.ADMIN, StaffDuty.COMPLIANCE))

# --- Types ------------------------------------------------------------------------------------


@strawberry.type(description="A case against a merchant for a violation (QS 6.4).")
class ViolationCase(Node):
    type: ViolationType
    state: ViolationState
    evidence: list[Evidence]
    decision_note: str
    penalty: Penalty | None
    deduction: Money | None = strawberry.field(
        description="The deposit actually deducted (DEPOSIT_DEDUCTION); refunded if overturned."
    )
    repeat_count: int = strawberry.field(
        description="Earlier standing cases of the same type: the ladder step is this + 1."
    )
    appeal_deadline: datetime | None
    appeal_text: str
    appealed_at: datetime | None
    outcome_note: str
    rule_version: int | None = strawberry.field(
        description="The version of rule violation.penalties the decision applied (QS 5.2)."
    )
    created_at: datetime
    decided_at: datetime | None
    closed_at: datetime | None
    merchant_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ViolationCase) -> ViolationCase:
        return cls(
            id=to_global_id("ViolationCase", row.id),
            merchant_pk=row.merchant_id,
            type=row.type,
            state=row.state,
            evidence=Evidence.many(row.evidence),
            decision_note=row.decision_note,
            penalty=row.penalty,
            deduction=Money(amount_minor=row.deduction_minor, currency="CNY")
            if row.penalty == models.Penalty.DEPOSIT_DEDUCTION
            else None,
            repeat_count=row.repeat_count,
            appeal_deadline=row.appeal_deadline,
            appeal_text=row.appeal_text,
            appealed_at=row.appealed_at,
            outcome_note=row.outcome_note,
            rule_version=row.rule_version,
            created_at=row.created_at,
            decided_at=row.decided_at,
            closed_at=row.closed_at,
        )

    @strawberry.field
    async def merchant(self, info: Info) -> Merchant | None:
        row = await info.context.loaders.merchant_by_id.load(self.merchant_pk)
        return Merchant.from_row(row) if row else None


@strawberry.type(description="A merchant's key control (QS 6.4): until when, and what it bars.")
class KeyControl:
    until: datetime
    restrictions: list[str] = strawberry.field(
        description="Stable codes: NO_NEW_LISTINGS, NO_NEW_LISTINGS_IN_CATEGORY:<category>, "
        "PENALTY_IN_FORCE:<penalty>, CLOSER_MONITORING, KEY_CONTROL_COMMISSION."
    )
    rule_version: int


@strawberry.type(description="A training course for merchants (QS 6.3).")
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


@strawberry.type(description="A merchant's enrolment in a course and its assessment (QS 6.3).")
class Enrolment(Node):
    enrolled_at: datetime
    score: int | None
    passed: bool | None
    completed_at: datetime | None
    course_pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Enrolment) -> Enrolment:
        return cls(
            id=to_global_id("Enrolment", row.id),
            course_pk=row.course_id,
            merchant_pk=row.merchant_id,
            enrolled_at=row.enrolled_at,
            score=row.score,
            passed=row.passed,
            completed_at=row.completed_at,
        )

    @strawberry.field
    async def course(self, info: Info) -> Course | None:
        row = await info.context.loaders.course_by_id.load(self.course_pk)
        return Course.from_row(row) if row else None

    @strawberry.field
    async def merchant(self, info: Info) -> Merchant | None:
        row = await info.context.loaders.merchant_by_id.load(self.merchant_pk)
        return Merchant.from_row(row) if row else None


# --- Inputs and payloads ----------------------------------------------------------------------


@strawberry.input
class OpenViolationCaseInput:
    merchant_id: strawberry.ID
    type: ViolationType
    evidence: list[EvidenceInput] = strawberry.field(description="1–20 items.")


@strawberry.input
class DecideViolationCaseInput:
    case_id: strawberry.ID
    decision: ViolationDecision
    penalty: Penalty | None = strawberry.field(
        default=None,
        description="Optional check: must be the ladder's step for this case, or the "
        "decision is refused (PENALTY_NOT_IN_LADDER). Omit to apply the step.",
    )
    note: str = ""


@strawberry.input
class AppealViolationCaseInput:
    case_id: strawberry.ID
    text: str = strawberry.field(description="Why the decision is wrong; 5–2000 characters.")


@strawberry.input
class DecideAppealInput:
    case_id: strawberry.ID
    outcome: AppealOutcome
    note: str = ""


@strawberry.input
class CreateCourseInput:
    code: str
    title: str
    topic: CourseTopic
    pass_mark: int


@strawberry.input
class CreateProductInput:
    title: str
    category: str = strawberry.field(description="A lower-case slug, e.g. food, mother_baby.")
    price_minor: int
    currency: str = "CNY"
    stock: int
    attributes: JSON | None = strawberry.field(
        default=None, description="At most 30 string attributes, e.g. {brand, origin}."
    )


@strawberry.input
class UpdateProductListingInput:
    product_id: strawberry.ID
    is_listed: bool
    stock: int | None = None
    price_minor: int | None = None


@strawberry.type
class ViolationCasePayload:
    violation_case: ViolationCase | None
    errors: list[UserError]


@strawberry.type
class CoursePayload:
    course: Course | None
    errors: list[UserError]


@strawberry.type
class EnrolmentPayload:
    enrolment: Enrolment | None
    errors: list[UserError]


@strawberry.type
class ProductPayload:
    product: Product | None
    errors: list[UserError]


# --- Root fields ------------------------------------------------------------------------------
# Imported here, after the types it returns: the resolvers import them from this module.
from pinzhi.resolvers import violations as r  # noqa: E402


@strawberry.type
class ViolationQuery:
    violation_cases = field(
        r.violation_cases, READERS, description="QS 6.4: a merchant's own, or all for staff."
    )
    courses = field(r.courses, description="Training courses (QS 6.3); public.")


@strawberry.type
class ViolationMutation:
    open_violation_case = mutation(r.open_violation_case, COMPLIANCE, description="QS 6.4.")
    decide_violation_case = mutation(r.decide_violation_case, COMPLIANCE, description="QS 6.4.")
    appeal_violation_case = mutation(r.appeal_violation_case, p.MERCHANT, description="QS 6.4.")
    decide_appeal = mutation(r.decide_appeal, COMPLIANCE, description="QS 6.4.")
    create_course = mutation(r.create_course, COURSE_ADMINS, description="QS 6.3.")
    enrol_course = mutation(r.enrol_course, p.MERCHANT, description="QS 6.3.")
    record_assessment = mutation(r.record_assessment, ASSESSORS, description="QS 6.3.")
    create_product = mutation(
        r.create_product, p.MERCHANT, description="A listed product of the viewer's shop."
    )
    update_product_listing = mutation(
        r.update_product_listing,
        p.MERCHANT,
        description="List or delist one of the viewer's products (QS 6.4 restrictions).",
    )
