"""Product graphs: grading, certificates and reviews (QS 7.1.1, 7.1.2, 7.2), and the
merchant's own listing, which key control restricts (QS 6.4)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.resolvers.pagination import decode_cursor, encode_cursor, page_of, page_size
from pinzhi.schema.base import Connection, UserError, to_global_id
from pinzhi.schema.enums import CertificateKind, CertificateResult
from pinzhi.schema.grading import GradeDimension, stored_grade
from pinzhi.schema.reviews import ProductReview
from pinzhi.services import certificates as certificate_service
from pinzhi.services import product_grading
from pinzhi.services.state import now

if TYPE_CHECKING:
    from pinzhi.schema.catalog import Product


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
            valid=certificate_service.is_valid(row, now()),
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
class ProductPayload:
    # Lazy: the catalog module imports this one for the product's nested fields.
    product: Annotated[Product, strawberry.lazy("pinzhi.schema.catalog")] | None
    errors: list[UserError]


# --- A product's nested fields ----------------------------------------------------------------


async def _grading_rule(info: Info) -> dict[str, Any]:
    rule = await info.context.loaders.current_rule_by_key.load(product_grading.RULE_KEY)
    if rule is None:
        raise ServiceError(ErrorCode.RULE_MISSING, (), product_grading.RULE_KEY)
    return rule.content


async def is_key_category(info: Info, category: str) -> bool:
    return product_grading.is_key_category(category, await _grading_rule(info))


async def badge(info: Info, level: str | None) -> str | None:
    if level is None:
        return None
    return product_grading.badge_for(level, await _grading_rule(info), info.context.language)


async def certificates(info: Info, product_pk: int) -> list[ProductCertificate]:
    rows = await info.context.loaders.certificates_by_product_id.load(product_pk)
    return [ProductCertificate.from_row(row) for row in rows]


async def grade_detail(info: Info, product_pk: int, merchant_pk: int) -> ProductGradeDetail | None:
    """Sub-scores and inputs: the product's merchant, staff and regulators only."""
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    row = await info.context.loaders.latest_grade_by_product_id.load(product_pk)
    return ProductGradeDetail.from_row(row) if row else None


async def product_reviews(
    info: Info, product_pk: int, merchant_pk: int, first: int | None, after: str | None
) -> Connection[ProductReview]:
    """A product's reviews, newest first, for everyone who can see the product: the parent
    product was read through the viewer's scope, and its reviews are as public as it is."""
    size = page_size(first)
    before = decode_cursor(after) if after else None
    rows = await info.context.loaders.reviews_by_product.load((product_pk, size + 1, before))
    found = page_of(
        rows, size, lambda item: encode_cursor(item[0].id), has_previous_page=after is not None
    )
    viewer = info.context.viewer
    merchant_side = sees_merchant_internals(viewer, merchant_pk)
    disclosure = info.context.disclosure

    def node(item: tuple[models.ProductReview, str]) -> ProductReview:
        row, name = item
        return ProductReview.from_row(
            row,
            disclosure.public_name(row.consumer_id, name),
            show_order=merchant_side or viewer.account_id == row.consumer_id,
        )

    return Connection.of(found, [node(item) for item in found.rows])
