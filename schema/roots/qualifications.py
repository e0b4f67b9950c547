"""Merchants' licences, brands and deposits, their review, and onboarding (QS 6.1.1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info
from tortoise.models import Model

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.accounts import Account
from pinzhi.schema.base import Connection, UserError, attempt, from_global_id
from pinzhi.schema.catalog import Merchant
from pinzhi.schema.evidence import EvidenceInput
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.onboarding import OnboardMerchantInput, OnboardMerchantPayload
from pinzhi.schema.qualifications import (
    SUBMISSION_TYPES,
    BrandRegistration,
    BrandRegistrationPayload,
    DepositPayment,
    DepositPaymentPayload,
    MerchantLicence,
    MerchantLicencePayload,
    ReviewSubmissionInput,
    ReviewSubmissionPayload,
    SubmissionState,
    SubmitBrandRegistrationInput,
    SubmitDepositPaymentInput,
    SubmitMerchantLicenceInput,
)
from pinzhi.services import merchants, qualifications
from pinzhi.services.evidence import Evidence


def _evidence(items: list[EvidenceInput]) -> list[Evidence]:
    return [Evidence(item.description, item.url) for item in items]


def _submissions(model: type[Model], node: Any) -> Callable[..., Awaitable[Any]]:
    """The root list of one kind of submission: a merchant's own, or all for compliance
    staff and regulators (scoping), filtered by state and merchant."""

    async def submissions(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        state: SubmissionState | None = None,
        merchant_id: strawberry.ID | None = None,
    ) -> Connection[Any]:
        found = await scoped_page(
            info.context.viewer,
            model,
            Window(first, after, last, before),
            state=state,
            merchant_id=id_filter(merchant_id, "Merchant"),
        )
        return Connection.of(found, [node.from_row(r) for r in found.rows])

    return submissions


async def submit_merchant_licence(
    info: Info, input: SubmitMerchantLicenceInput
) -> MerchantLicencePayload:
    row, errors = await attempt(
        info,
        qualifications.submit_licence(
            info.context.viewer,
            models.LicenceKind(input.kind),
            input.number,
            input.valid_until,
            _evidence(input.evidence),
        ),
    )
    return MerchantLicencePayload(
        licence=MerchantLicence.from_row(row) if row else None, errors=errors
    )


async def submit_brand_registration(
    info: Info, input: SubmitBrandRegistrationInput
) -> BrandRegistrationPayload:
    row, errors = await attempt(
        info,
        qualifications.submit_brand(
            info.context.viewer,
            input.brand,
            models.BrandRelation(input.relation),
            input.registration_number,
            input.valid_until,
            _evidence(input.evidence),
        ),
    )
    return BrandRegistrationPayload(
        brand_registration=BrandRegistration.from_row(row) if row else None, errors=errors
    )


async def submit_deposit_payment(
    info: Info, input: SubmitDepositPaymentInput
) -> DepositPaymentPayload:
    row, errors = await attempt(
        info,
        qualifications.submit_deposit(
            info.context.viewer, input.amount_minor, input.reference, _evidence(input.evidence)
        ),
    )
    return DepositPaymentPayload(
        deposit_payment=DepositPayment.from_row(row) if row else None, errors=errors
    )


async def review_submission(info: Info, input: ReviewSubmissionInput) -> ReviewSubmissionPayload:
    decoded = from_global_id(input.submission_id)
    kind = SUBMISSION_TYPES.get(decoded[0]) if decoded else None
    if decoded is None or kind is None:
        error = ServiceError(ErrorCode.NOT_FOUND, ("submissionId",))
        return ReviewSubmissionPayload(errors=[UserError.of(error, info.context.language)])
    model, node = kind
    row, errors = await attempt(
        info,
        qualifications.review(
            info.context.viewer,
            model,
            decoded[1],
            qualifications.Review(input.decision),
            input.note,
        ),
    )
    return ReviewSubmissionPayload(submission=node.from_row(row) if row else None, errors=errors)


async def onboard_merchant(info: Info, input: OnboardMerchantInput) -> OnboardMerchantPayload:
    done, errors = await attempt(
        info,
        merchants.onboard_merchant(
            info.context.viewer,
            name=input.name,
            description=input.description,
            deposit_required_minor=input.deposit_required_minor,
            email=input.email,
            password=input.password,
            contact_name=input.contact_name,
            contact_phone=input.contact_phone,
        ),
    )
    if done is None:
        return OnboardMerchantPayload(errors=errors)
    return OnboardMerchantPayload(
        merchant=Merchant.from_row(done.merchant), account=Account.from_row(done.account)
    )


@strawberry.type
class QualificationQuery:
    merchant_licences = field(
        _submissions(models.MerchantLicence, MerchantLicence),
        policy.READERS,
        graphql_type=Connection[MerchantLicence],
        description="QS 6.1.1: a merchant's own, or all for compliance staff and regulators.",
    )
    brand_registrations = field(
        _submissions(models.BrandRegistration, BrandRegistration),
        policy.READERS,
        graphql_type=Connection[BrandRegistration],
        description="QS 6.1.1, in scope.",
    )
    deposit_payments = field(
        _submissions(models.DepositPayment, DepositPayment),
        policy.READERS,
        graphql_type=Connection[DepositPayment],
        description="QS 6.1.1, in scope.",
    )


@strawberry.type
class QualificationMutation:
    submit_merchant_licence = mutation(
        submit_merchant_licence,
        Action.SUBMIT_MERCHANT_LICENCE,
        description="QS 6.1.1: counts once verified, until it expires.",
    )
    submit_brand_registration = mutation(
        submit_brand_registration,
        Action.SUBMIT_BRAND_REGISTRATION,
        description="QS 6.1.1: counts once verified, until it expires.",
    )
    submit_deposit_payment = mutation(
        submit_deposit_payment,
        Action.SUBMIT_DEPOSIT_PAYMENT,
        description="QS 6.1.1: held once verified.",
    )
    review_submission = mutation(
        review_submission,
        Action.REVIEW_SUBMISSION,
        description="QS 6.1.1: verify or reject a licence, brand registration or deposit.",
    )
    onboard_merchant = mutation(
        onboard_merchant,
        Action.ONBOARD_MERCHANT,
        description="Open a merchant's shop and its first account (admin duty).",
    )
