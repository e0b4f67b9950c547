"""Product grades, badges, certificates and reviews (QS 7.1.1, 7.1.2, 7.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.resolvers.common import attempt
from pinzhi.resolvers.pagination import connection_of, decode_cursor, page_size
from pinzhi.schema.base import Connection, pk_of
from pinzhi.schema.products import (
    ProductCertificate,
    ProductCertificatePayload,
    ProductGradeDetail,
    ProductReview,
    ProductReviewPayload,
    RecordProductCertificateInput,
    SubmitProductReviewInput,
)
from pinzhi.services import certificates as certificate_service
from pinzhi.services import product_grading, reviews
from pinzhi.services.state import now


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


async def grade_preview(info: Info, product_id: strawberry.ID) -> ProductGradeDetail | None:
    pk = pk_of(product_id, "Product")
    product = await info.context.loaders.product_by_id.load(pk) if pk else None
    if product is None or not sees_merchant_internals(info.context.viewer, product.merchant_id):
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
            pk_of(input.order_id, "Order") or 0,
            pk_of(input.product_id, "Product") or 0,
            input.rating,
            input.text,
        ),
    )
    if row is None:
        return ProductReviewPayload(errors=errors)
    account = await models.Account.get(id=row.consumer_id).only("id", "name_enc")
    reviewer = info.context.disclosure.public_name(row.consumer_id, account.name_enc)
    return ProductReviewPayload(review=ProductReview.from_row(row, reviewer, show_order=True))


async def product_reviews(
    info: Info, product_pk: int, merchant_pk: int, first: int | None, after: str | None
) -> Connection[ProductReview]:
    """A product's reviews, newest first, for everyone who can see the product: the parent
    product was read through the viewer's scope, and its reviews are as public as it is."""
    size = page_size(first)
    before = decode_cursor(after) if after else None
    rows = await info.context.loaders.reviews_by_product.load((product_pk, size + 1, before))
    viewer = info.context.viewer
    merchant_side = sees_merchant_internals(viewer, merchant_pk)

    def nodes(page: Sequence[tuple[models.ProductReview, str]]) -> list[ProductReview]:
        disclosure = info.context.disclosure
        return [
            ProductReview.from_row(
                row,
                disclosure.public_name(row.consumer_id, name),
                show_order=merchant_side or viewer.account_id == row.consumer_id,
            )
            for row, name in page
        ]

    return await connection_of(rows, size, nodes, key=lambda item: item[0].id)


async def record_product_certificate(
    info: Info, input: RecordProductCertificateInput
) -> ProductCertificatePayload:
    row, errors = await attempt(
        info,
        certificate_service.record_certificate(
            info.context.viewer,
            pk_of(input.product_id, "Product") or 0,
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
