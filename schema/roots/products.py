"""Root fields of the product graphs: grade previews, reviews, certificates (QS 7.1.1,
7.1.2) and the merchant's own listing (QS 6.4 restrictions)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import sees_merchant_internals
from pinzhi.schema.base import UserError, attempt, pk_of, pk_or_missing
from pinzhi.schema.catalog import Product
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.products import (
    CreateProductInput,
    ProductCertificate,
    ProductCertificatePayload,
    ProductGradeDetail,
    ProductPayload,
    ProductReview,
    ProductReviewPayload,
    RecordProductCertificateInput,
    SubmitProductReviewInput,
    UpdateProductListingInput,
)
from pinzhi.services import catalog, product_grading, reviews
from pinzhi.services import certificates as certificate_service
from pinzhi.services.state import now


async def grade_preview(info: Info, product_id: strawberry.ID) -> ProductGradeDetail | None:
    pk = pk_of(product_id, "Product")
    product = await info.context.loaders.product_by_id.load(pk) if pk else None
    if (
        pk is None
        or product is None
        or not sees_merchant_internals(info.context.viewer, product.merchant_id)
    ):
        return None
    row = await product_grading.grade_product(pk, now(), store=False)
    return ProductGradeDetail.from_row(row) if row else None


async def submit_product_review(
    info: Info, input: SubmitProductReviewInput
) -> ProductReviewPayload:
    row, errors = await attempt(
        info,
        reviews.submit_review(
            info.context.viewer,
            pk_or_missing(input.order_id, "Order"),
            pk_or_missing(input.product_id, "Product"),
            input.rating,
            input.text,
        ),
    )
    if row is None:
        return ProductReviewPayload(errors=errors)
    account = await models.Account.get(id=row.consumer_id).only("id", "name_enc")
    reviewer = info.context.disclosure.public_name(row.consumer_id, account.name_enc)
    return ProductReviewPayload(review=ProductReview.from_row(row, reviewer, show_order=True))


async def record_product_certificate(
    info: Info, input: RecordProductCertificateInput
) -> ProductCertificatePayload:
    row, errors = await attempt(
        info,
        certificate_service.record_certificate(
            info.context.viewer,
            pk_or_missing(input.product_id, "Product"),
            models.CertificateKind(input.kind),
            input.agency,
            input.report_number,
            models.CertificateResult(input.result),
            input.issued_at,
            input.valid_until,
        ),
    )
    return ProductCertificatePayload(
        certificate=ProductCertificate.from_row(row) if row else None, errors=errors
    )


def _product_payload(row: models.Product | None, errors: list[UserError]) -> ProductPayload:
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


@strawberry.type
class ProductQuery:
    product_grade_preview = field(
        grade_preview,
        policy.GRADE_READERS,
        description="The grade a product would get now, from live data, not stored (QS 7.1.1): "
        "for the product's merchant, staff and regulators; null for others.",
    )


@strawberry.type
class ProductMutation:
    submit_product_review = mutation(
        submit_product_review,
        Action.SUBMIT_PRODUCT_REVIEW,
        description="A consumer reviews a product of its received order, once (QS 7.1.1).",
    )
    record_product_certificate = mutation(
        record_product_certificate,
        Action.RECORD_PRODUCT_CERTIFICATE,
        description="The product's merchant or compliance staff record an inspection or "
        "certification (QS 7.1.1, 7.1.2).",
    )
    create_product = mutation(
        create_product, Action.CREATE_PRODUCT, description="A listed product of the viewer's shop."
    )
    update_product_listing = mutation(
        update_product_listing,
        Action.UPDATE_PRODUCT_LISTING,
        description="List or delist one of the viewer's products (QS 6.4 restrictions).",
    )
