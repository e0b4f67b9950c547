"""What merchants submit for their grade (QS 6.1.1): licences, brand registrations and
deposit payments, verified or rejected by compliance staff; and onboarding a merchant."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals

# The module, not its names: it imports this one back (see schema/catalog.py).
from pinzhi.schema import catalog
from pinzhi.schema.base import Money, Node, NodeFromRow, UserError, to_global_id
from pinzhi.schema.evidence import Evidence, EvidenceInput
from pinzhi.services import qualifications
from pinzhi.services.state import now

if TYPE_CHECKING:
    from pinzhi.schema.catalog import Merchant

SubmissionState = models.SubmissionState
strawberry.enum(
    SubmissionState,
    description="SUBMITTED: waiting for compliance staff; VERIFIED: counts; REJECTED: does not.",
)
LicenceKind = models.LicenceKind
strawberry.enum(LicenceKind)
BrandRelation = models.BrandRelation
strawberry.enum(
    BrandRelation,
    description="REGISTERED: the merchant owns the trademark; AUTHORISED: the owner lets it sell.",
)
SubmissionReview = qualifications.Review
strawberry.enum(SubmissionReview, name="SubmissionReview", description="Verify or reject.")


@strawberry.interface(
    description="A record a merchant submitted with evidence for compliance staff to verify "
    "(QS 6.1.1); only a verified one counts in the grade. Its steps are on its audit trail."
)
class MerchantSubmission(Node):
    state: SubmissionState
    evidence: list[Evidence]
    review_note: str
    submitted_at: datetime
    reviewed_at: datetime | None
    merchant_pk: strawberry.Private[int]

    @strawberry.field
    async def merchant(
        self, info: Info
    ) -> Annotated[Merchant, strawberry.lazy("pinzhi.schema.catalog")] | None:
        return await catalog.merchant_of(info, self.merchant_pk)


def _common(type_name: str, row: qualifications.Submission) -> dict:
    return {
        "id": to_global_id(type_name, row.id),
        "merchant_pk": row.merchant_id,
        "state": row.state,
        "evidence": Evidence.many(row.evidence),
        "review_note": row.review_note,
        "submitted_at": row.created_at,
        "reviewed_at": row.reviewed_at,
    }


@strawberry.type(description="A licence or permit of a merchant (QS 6.1.1 qualification).")
class MerchantLicence(MerchantSubmission):
    kind: LicenceKind
    number: str
    valid_until: datetime
    counts: bool = strawberry.field(description="Verified and not expired: counts now.")

    @classmethod
    def from_row(cls, row: models.MerchantLicence) -> MerchantLicence:
        return cls(
            **_common("MerchantLicence", row),
            kind=row.kind,
            number=row.number,
            valid_until=row.valid_until,
            counts=qualifications.is_valid(row, now()),
        )


@strawberry.type(description="A brand a merchant registered or may sell (QS 6.1.1 brand).")
class BrandRegistration(MerchantSubmission):
    brand: str
    relation: BrandRelation
    registration_number: str
    valid_until: datetime
    counts: bool = strawberry.field(description="Verified and not expired: counts now.")

    @classmethod
    def from_row(cls, row: models.BrandRegistration) -> BrandRegistration:
        return cls(
            **_common("BrandRegistration", row),
            brand=row.brand,
            relation=row.relation,
            registration_number=row.registration_number,
            valid_until=row.valid_until,
            counts=qualifications.is_valid(row, now()),
        )


@strawberry.type(description="A payment into the merchant's security deposit (QS 6.1.1 credit).")
class DepositPayment(MerchantSubmission):
    amount: Money
    reference: str = strawberry.field(description="The bank transfer's reference.")

    @classmethod
    def from_row(cls, row: models.DepositPayment) -> DepositPayment:
        return cls(
            **_common("DepositPayment", row),
            amount=Money(amount_minor=row.amount_minor, currency=row.currency),
            reference=row.reference,
        )


# The model is one of services.qualifications.S, known only at run time.
SUBMISSION_TYPES: dict[str, tuple[type[Any], NodeFromRow[MerchantSubmission]]] = {
    "MerchantLicence": (models.MerchantLicence, MerchantLicence),
    "BrandRegistration": (models.BrandRegistration, BrandRegistration),
    "DepositPayment": (models.DepositPayment, DepositPayment),
}


@strawberry.input
class SubmitMerchantLicenceInput:
    kind: LicenceKind
    number: str = strawberry.field(description="2–64 characters, as printed on the licence.")
    valid_until: datetime = strawberry.field(description="Its expiry; in the future.")
    evidence: list[EvidenceInput] = strawberry.field(description="1–20 items, e.g. a scan.")


@strawberry.input
class SubmitBrandRegistrationInput:
    brand: str
    relation: BrandRelation
    registration_number: str = strawberry.field(description="The trademark or authorisation no.")
    valid_until: datetime = strawberry.field(description="Its expiry; in the future.")
    evidence: list[EvidenceInput]


@strawberry.input
class SubmitDepositPaymentInput:
    amount_minor: int = strawberry.field(description="CNY in fen; positive.")
    reference: str = strawberry.field(description="The bank transfer's reference, once per shop.")
    evidence: list[EvidenceInput]


@strawberry.input
class ReviewSubmissionInput:
    submission_id: strawberry.ID = strawberry.field(
        description="A MerchantLicence, BrandRegistration or DepositPayment id."
    )
    decision: SubmissionReview
    note: str = ""


@strawberry.type
class MerchantLicencePayload:
    licence: MerchantLicence | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BrandRegistrationPayload:
    brand_registration: BrandRegistration | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DepositPaymentPayload:
    deposit_payment: DepositPayment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReviewSubmissionPayload:
    submission: MerchantSubmission | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def merchant_records(info: Info, merchant_pk: int, loader: str, node: Any) -> list | None:
    """One merchant's records of a kind, for the merchant itself, staff and regulators."""
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    rows = await getattr(info.context.loaders, loader).load(merchant_pk)
    return [node.from_row(r) for r in rows]
