"""Consumer reviews of products (QS 7.1.1 reviews).

Whether a review praises quality is decided once, when it is written, from its words by the
praise rule of ``product.grading`` (see ``praise``): "质量很好" counts, "质量一点也不好",
"质量好吗？" and "号称质量好其实很差" do not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Order, OrderLine, OrderState, ProductReview
from pinzhi.services import rules, state, validation
from pinzhi.services.lookup import get_visible
from pinzhi.services.praise import praises_quality, praises_quality_by_rule
from pinzhi.services.praise_rule import words

__all__ = ["praises_quality", "praises_quality_by_rule", "submit_review", "words"]

REVIEWABLE_ORDER_STATES = (OrderState.DELIVERED, OrderState.COMPLETED)


async def submit_review(
    viewer: Viewer, order_id: int | None, product_id: int | None, rating: int, text: str = ""
) -> ProductReview:
    """A consumer reviews a product of its own received order, once per order and product."""
    require(viewer, Action.SUBMIT_PRODUCT_REVIEW)
    content = (await rules.current("product.grading")).content
    limits = {
        "min_rating": 1,
        "max_rating": 5,
        "max_text_length": 1000,
        **content.get("review", {}),
    }
    if not isinstance(rating, int) or not limits["min_rating"] <= rating <= limits["max_rating"]:
        raise ServiceError(ErrorCode.SCORE_OUT_OF_RANGE, ("rating",))
    text = validation.text(
        text, "text", min_len=0, max_len=int(limits["max_text_length"]), multiline=True
    )
    order = await get_visible(viewer, Order, order_id, "orderId")
    if order.state not in REVIEWABLE_ORDER_STATES:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("orderId",), "not received yet")
    if (
        product_id is None
        or not await OrderLine.filter(order_id=order.id, product_id=product_id).exists()
    ):
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("productId",), "not in this order")
    if await ProductReview.filter(order_id=order.id, product_id=product_id).exists():
        raise ServiceError(ErrorCode.REVIEW_EXISTS, ("productId",))
    # Segmentation is CPU work (and the first call loads the dictionary): off the loop.
    praised = await asyncio.to_thread(praises_quality_by_rule, text, content)
    try:
        async with in_transaction():
            review = await state.create(
                ProductReview,
                actor=viewer,
                action="submitted",
                data={"product_id": product_id, "rating": rating, "praises_quality": praised},
                product_id=product_id,
                order_id=order.id,
                consumer_id=viewer.account_id,
                rating=rating,
                text=text,
                praises_quality=praised,
            )
    except IntegrityError as exc:  # a second submission racing the first
        raise ServiceError(ErrorCode.REVIEW_EXISTS, ("productId",)) from exc
    return review


REVIEW_COLUMNS: tuple[str, ...] = ("id", "product_id", "order_id", "consumer_id", "rating", "text")
REVIEW_COLUMNS += ("praises_quality", "created_at")


async def newest_reviews(
    product_ids: Sequence[int], size: int, before_id: int | None = None
) -> dict[int, list[ProductReview]]:
    """The newest ``size`` reviews of each product (with an id below ``before_id``), newest
    first, in one statement for any number of products: a window over each product's
    reviews, so a page of products with their reviews is a fixed number of queries."""
    ids = sorted({int(pk) for pk in product_ids})
    found: dict[int, list[ProductReview]] = {pk: [] for pk in ids}
    if not ids or size <= 0:
        return found
    columns = ", ".join(REVIEW_COLUMNS)
    below = f" AND id < {int(before_id)}" if before_id is not None else ""
    # Every value is an int formatted here, so the statement carries no client text.
    rows: list[ProductReview] = await ProductReview.raw(
        f"SELECT {columns} FROM (SELECT {columns}, ROW_NUMBER() OVER "
        "(PARTITION BY product_id ORDER BY id DESC) AS position FROM product_review "
        f"WHERE product_id IN ({', '.join(map(str, ids))}){below}) AS ranked "
        f"WHERE position <= {int(size)} ORDER BY product_id, id DESC"
    )
    for review in rows:
        found[review.product_id].append(review)
    return found
