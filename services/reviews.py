"""Consumer reviews of products (QS 7.1.1 reviews).

Whether a review praises quality is decided once, when it is written, from its words by the
praise rule of ``product.grading`` (see ``praise``): "质量很好" counts, "质量一点也不好",
"质量好吗？" and "号称质量好其实很差" do not.
"""

from __future__ import annotations

import asyncio

from tortoise.exceptions import IntegrityError

from pinzhi.auth.viewer import Viewer
from pinzhi.models import Order, OrderLine, OrderState, ProductReview, Role
from pinzhi.services import rules, validation
from pinzhi.services.errors import ErrorCode, ServiceError
from pinzhi.services.lookup import get_visible
from pinzhi.services.praise import praises_quality, praises_quality_by_rule
from pinzhi.services.praise_rule import words

__all__ = ["praises_quality", "praises_quality_by_rule", "submit_review", "words"]

REVIEWABLE_ORDER_STATES = (OrderState.DELIVERED, OrderState.COMPLETED)


async def submit_review(
    viewer: Viewer, order_id: int | None, product_id: int | None, rating: int, text: str = ""
) -> ProductReview:
    """A consumer reviews a product of its own received order, once per order and product."""
    if viewer.role != Role.CONSUMER:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
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
        return await ProductReview.create(
            product_id=product_id,
            order_id=order.id,
            consumer_id=viewer.account_id,
            rating=rating,
            text=text,
            praises_quality=praised,
        )
    except IntegrityError as exc:  # a second submission racing the first
        raise ServiceError(ErrorCode.REVIEW_EXISTS, ("productId",)) from exc
