"""Violation cases, key control, training and merchant listing: thin glue to the services."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import scope, sees_merchant_internals
from pinzhi.models import StaffDuty
from pinzhi.resolvers.common import attempt
from pinzhi.resolvers.pagination import paginate
from pinzhi.schema.base import Connection, pk_of
from pinzhi.schema.catalog import Product
from pinzhi.schema.enums import CourseTopic, ViolationState
from pinzhi.schema.violations import (
    AppealViolationCaseInput,
    Course,
    CoursePayload,
    CreateCourseInput,
    CreateProductInput,
    DecideAppealInput,
    DecideViolationCaseInput,
    Enrolment,
    EnrolmentPayload,
    KeyControl,
    OpenViolationCaseInput,
    ProductPayload,
    UpdateProductListingInput,
    ViolationCase,
    ViolationCasePayload,
)
from pinzhi.services import catalog, training, violations
from pinzhi.services.key_control import KeyControl as KeyControlStatus

# --- Queries ----------------------------------------------------------------------------------


async def violation_cases(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: ViolationState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[ViolationCase]:
    """A merchant sees its own cases, staff and regulators all, others none (scoping)."""
    query = scope(info.context.viewer, models.ViolationCase)
    if state is not None:
        query = query.filter(state=state)
    if merchant_id is not None:
        query = query.filter(merchant_id=pk_of(merchant_id, "Merchant") or 0)
    return await paginate(
        query, first, after, lambda rows: [ViolationCase.from_row(r) for r in rows]
    )


async def courses(info: Info, topic: CourseTopic | None = None) -> list[Course]:
    return [Course.from_row(r) for r in await training.list_courses(topic)]


def _key_control(status: KeyControlStatus) -> KeyControl:
    return KeyControl(
        until=status.until, restrictions=status.restrictions(), rule_version=status.rule_version
    )


async def merchant_key_control(info: Info, merchant: models.Merchant) -> KeyControl | None:
    """For the merchant itself, staff and regulators; null for others and when the
    merchant is not under key control."""
    if not sees_merchant_internals(info.context.viewer, merchant.id):
        return None
    status = await info.context.loaders.key_control_by_merchant_id.load(merchant.id)
    return _key_control(status) if status else None


async def merchant_training(info: Info, merchant_pk: int) -> list[Enrolment] | None:
    # Admin staff assess training as compliance staff do (QS 6.3).
    if not sees_merchant_internals(info.context.viewer, merchant_pk, also=(StaffDuty.ADMIN,)):
        return None
    rows = await info.context.loaders.enrolments_by_merchant_id.load(merchant_pk)
    return [Enrolment.from_row(r) for r in rows]


# --- Violation cases --------------------------------------------------------------------------


def _case_payload(row: models.ViolationCase | None, errors: list) -> ViolationCasePayload:
    return ViolationCasePayload(
        violation_case=ViolationCase.from_row(row) if row else None, errors=errors
    )


def _case_pk(case_id: strawberry.ID) -> int:
    return pk_of(case_id, "ViolationCase") or 0


async def open_violation_case(info: Info, input: OpenViolationCaseInput) -> ViolationCasePayload:
    evidence = [violations.Evidence(e.description, e.url) for e in input.evidence]
    row, errors = await attempt(
        info,
        violations.open_case(
            info.context.viewer,
            pk_of(input.merchant_id, "Merchant"),
            models.ViolationType(input.type),
            evidence,
        ),
    )
    return _case_payload(row, errors)


async def decide_violation_case(
    info: Info, input: DecideViolationCaseInput
) -> ViolationCasePayload:
    row, errors = await attempt(
        info,
        violations.decide_case(
            info.context.viewer,
            _case_pk(input.case_id),
            violations.Decision(input.decision),
            penalty=models.Penalty(input.penalty) if input.penalty is not None else None,
            note=input.note,
        ),
    )
    return _case_payload(row, errors)


async def appeal_violation_case(
    info: Info, input: AppealViolationCaseInput
) -> ViolationCasePayload:
    row, errors = await attempt(
        info, violations.appeal_case(info.context.viewer, _case_pk(input.case_id), input.text)
    )
    return _case_payload(row, errors)


async def decide_appeal(info: Info, input: DecideAppealInput) -> ViolationCasePayload:
    row, errors = await attempt(
        info,
        violations.decide_appeal(
            info.context.viewer,
            _case_pk(input.case_id),
            violations.AppealOutcome(input.outcome),
            input.note,
        ),
    )
    return _case_payload(row, errors)


# --- Training ---------------------------------------------------------------------------------


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


async def record_assessment(
    info: Info, enrolment_id: strawberry.ID, score: int
) -> EnrolmentPayload:
    row, errors = await attempt(
        info,
        training.record_assessment(info.context.viewer, pk_of(enrolment_id, "Enrolment"), score),
    )
    return EnrolmentPayload(enrolment=Enrolment.from_row(row) if row else None, errors=errors)


# --- Listing ----------------------------------------------------------------------------------


def _product_payload(row: models.Product | None, errors: list) -> ProductPayload:
    return ProductPayload(product=Product.from_row(row) if row else None, errors=errors)


async def create_product(info: Info, input: CreateProductInput) -> ProductPayload:
    row, errors = await attempt(
        info,
        catalog.create_product(
            info.context.viewer,
            title=input.title,
            category=input.category,
            price_minor=input.price_minor,
            stock=input.stock,
            attributes=input.attributes,
            currency=input.currency,
        ),
    )
    return _product_payload(row, errors)


async def update_product_listing(info: Info, input: UpdateProductListingInput) -> ProductPayload:
    row, errors = await attempt(
        info,
        catalog.update_product_listing(
            info.context.viewer,
            pk_of(input.product_id, "Product"),
            is_listed=input.is_listed,
            stock=input.stock,
            price_minor=input.price_minor,
        ),
    )
    return _product_payload(row, errors)
