"""Merchants' licences, brands and deposits, their review, and onboarding (QS 6.1.1)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import scope, sees_merchant_internals
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.resolvers.common import attempt
from pinzhi.resolvers.pagination import paginate
from pinzhi.schema.accounts import Account
from pinzhi.schema.base import Connection, UserError, from_global_id, pk_of
from pinzhi.schema.catalog import Merchant
from pinzhi.schema.evidence import EvidenceInput
from pinzhi.schema.qualifications import (
    SUBMISSION_TYPES,
    BrandRegistration,
    BrandRegistrationPayload,
    DepositPayment,
    DepositPaymentPayload,
    MerchantLicence,
    MerchantLicencePayload,
    OnboardMerchantInput,
    OnboardMerchantPayload,
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


async def _listing(
    info: Info,
    model: type[models.Model],
    node: Any,
    first: int | None,
    after: str | None,
    state: SubmissionState | None,
    merchant_id: strawberry.ID | None,
) -> Connection[Any]:
    query = scope(info.context.viewer, model)
    if state is not None:
        query = query.filter(state=state)
    if merchant_id is not None:
        query = query.filter(merchant_id=pk_of(merchant_id, "Merchant") or 0)
    return await paginate(query, first, after, lambda rows: [node.from_row(r) for r in rows])


async def merchant_licences(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: SubmissionState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[MerchantLicence]:
    """A merchant's own, or all for compliance staff and regulators (QS 6.1.1)."""
    return await _listing(
        info, models.MerchantLicence, MerchantLicence, first, after, state, merchant_id
    )


async def brand_registrations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: SubmissionState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[BrandRegistration]:
    return await _listing(
        info, models.BrandRegistration, BrandRegistration, first, after, state, merchant_id
    )


async def deposit_payments(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: SubmissionState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[DepositPayment]:
    return await _listing(
        info, models.DepositPayment, DepositPayment, first, after, state, merchant_id
    )


async def merchant_records(info: Info, merchant_pk: int, loader: str, node: Any) -> list | None:
    """One merchant's records of a kind, for the merchant itself, staff and regulators."""
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    rows = await getattr(info.context.loaders, loader).load(merchant_pk)
    return [node.from_row(r) for r in rows]


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
