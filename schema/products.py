"""Product grading, certificates and reviews (QS 7.1.1, 7.1.2, 7.2)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pinzhi import models
from pinzhi.auth import permissions as p
from pinzhi.models import Role, StaffDuty
from pinzhi.schema.base import UserError, to_global_id
from pinzhi.schema.enums import CertificateKind, CertificateResult
from pinzhi.schema.grading import GradeDimension, stored_grade
from pinzhi.schema.reviews import ProductReview
from pinzhi.services.state import now


@strawberry.type(
    description="An inspection, certification, authorisation or compliance record of a "
    "product (QS 7.1.1, 7.1.2): a public record."
)
class ProductCertificate:
    id: strawberry.ID
    product_id: strawberry.ID
    kind: CertificateKind
    agency: str = strawberry.field(description="Who inspected or certified.")
    report_number: str
    result: CertificateResult
    issued_at: datetime
    valid_until: datetime
    valid: bool = strawberry.field(description="Issued and not expired at the time of asking.")

    @classmethod
    def from_row(cls, row: models.ProductCertificate) -> ProductCertificate:
        return cls(
            id=to_global_id("ProductCertificate", row.id),
            product_id=to_global_id("Product", row.product_id),
            kind=row.kind,
            agency=row.agency,
            report_number=row.report_number,
            result=row.result,
            issued_at=row.issued_at,
            valid_until=row.valid_until,
            valid=row.issued_at <= now() < row.valid_until,
        )


@strawberry.type(
    description="A product's grade with its five sub-scores, their inputs and the reasons "
    "of its change (QS 7.1.1, 7.1.2)."
)
class ProductGradeDetail:
    period: str
    level: str
    previous_level: str | None
    score: float
    dimensions: list[GradeDimension]
    reasons: list[str] = strawberry.field(
        description="The main reasons of a change from the previous grade, e.g. a dimension "
        "that fell, or a cap for want of a valid inspection."
    )
    rule_version: int
    computed_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ProductGrade) -> ProductGradeDetail:
        return cls(**stored_grade(row))


@strawberry.input
class SubmitProductReviewInput:
    order_id: strawberry.ID
    product_id: strawberry.ID
    rating: int = strawberry.field(description="1–5.")
    text: str = strawberry.field(default="", description="At most 1000 characters.")


@strawberry.input
class RecordProductCertificateInput:
    product_id: strawberry.ID
    kind: CertificateKind
    agency: str
    report_number: str
    result: CertificateResult
    issued_at: datetime = strawberry.field(description="Not in the future.")
    valid_until: datetime = strawberry.field(description="After issuedAt.")


@strawberry.type
class ProductReviewPayload:
    review: ProductReview | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductCertificatePayload:
    certificate: ProductCertificate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- Root fields ------------------------------------------------------------------------------

# Imported here, after the types it returns: the resolvers import them from this module.
from pinzhi.resolvers import products as resolvers  # noqa: E402
from pinzhi.schema.fields import field, mutation  # noqa: E402

CERTIFICATE_RECORDERS = p.allow(Role.MERCHANT, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
GRADE_READERS = p.allow(Role.MERCHANT, Role.STAFF, Role.REGULATOR)


@strawberry.type
class ProductQuery:
    product_grade_preview = field(
        resolvers.grade_preview,
        GRADE_READERS,
        description="The grade a product would get now, from live data, not stored (QS 7.1.1): "
        "for the product's merchant, staff and regulators; null for others.",
    )


@strawberry.type
class ProductMutation:
    submit_product_review = mutation(
        resolvers.submit_product_review,
        p.CONSUMER,
        description="A consumer reviews a product of its received order, once (QS 7.1.1).",
    )
    record_product_certificate = mutation(
        resolvers.record_product_certificate,
        CERTIFICATE_RECORDERS,
        description="The product's merchant or compliance staff record an inspection or "
        "certification (QS 7.1.1, 7.1.2).",
    )
