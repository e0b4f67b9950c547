"""Consumer reviews and their quality praise, fixed on write (QS 7.1.1 reviews)."""

from __future__ import annotations

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import ProductReview
from pinzhi.services import reviews, rules
from tests import factories as f

# The wording of reviews is measured in test_praise.py on the labelled set (review_cases.py).


# --- Writing a review -------------------------------------------------------------------------


async def test_a_consumer_reviews_a_product_of_its_received_order_once(db) -> None:
    """QS 7.1.1: a delivered order's product is reviewed once; praise is fixed on write."""
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    review = await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 5, " 质量非常好 ")
    assert (review.rating, review.text, review.praises_quality) == (5, "质量非常好", True)
    with pytest.raises(ServiceError) as again:
        await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 1, "质量不好")
    assert (again.value.code, again.value.field) == (ErrorCode.REVIEW_EXISTS, ["productId"])
    assert await ProductReview.filter(order_id=placed.id).count() == 1


async def test_negated_praise_is_stored_as_no_praise(db) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    review = await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 2, "质量并不好")
    assert review.praises_quality is False


@pytest.mark.parametrize(
    ("text", "praised"),
    [
        ("质量杠杠的", True),
        ("號稱质量好其实很差", False),
        ("质量好吗？", False),
        ("本以为质量一般，没想到这么好", True),
    ],
)
async def test_the_rule_in_force_reads_the_review(db, text: str, praised: bool) -> None:
    """QS 7.1.1: slang praises; reported, refuted or asked praise does not."""
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    review = await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 4, text)
    assert review.praises_quality is praised


async def test_a_rule_version_without_the_newer_word_lists_is_read_as_before(db) -> None:
    """QS 5.2: the version in force decides; one without question markers counts
    "质量好吗？" as its keyword, as the first version did."""
    current = await rules.current("product.grading")
    older = {k: v for k, v in current.content.items() if k != "question_markers"}
    await rules.publish(
        "product.grading", older, title_zh=current.title_zh, title_en=current.title_en
    )
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    review = await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 4, "质量好吗？")
    assert review.praises_quality is True


async def test_an_order_not_yet_received_cannot_be_reviewed(db) -> None:
    w = await f.world()
    placed, _ = await f.shipped_order(w)
    with pytest.raises(ServiceError) as refused:
        await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, 5, "质量好")
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_ELIGIBLE, ["orderId"])


async def test_another_consumers_order_is_not_found(db) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    with pytest.raises(ServiceError) as refused:
        await reviews.submit_review(w.other_buyer.viewer, placed.id, w.item.id, 5, "质量好")
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, ["orderId"])


async def test_a_product_not_in_the_order_cannot_be_reviewed(db) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    other = await f.product(w.shop)
    with pytest.raises(ServiceError) as refused:
        await reviews.submit_review(w.buyer.viewer, placed.id, other.id, 5, "质量好")
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_ELIGIBLE, ["productId"])


@pytest.mark.parametrize(
    ("rating", "text", "code", "field"),
    [
        (0, "好", ErrorCode.SCORE_OUT_OF_RANGE, ["rating"]),
        (6, "好", ErrorCode.SCORE_OUT_OF_RANGE, ["rating"]),
        (5, "好" * 1001, ErrorCode.INVALID_INPUT, ["text"]),
    ],
)
async def test_bad_rating_or_text_is_refused(db, rating, text, code, field) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    with pytest.raises(ServiceError) as refused:
        await reviews.submit_review(w.buyer.viewer, placed.id, w.item.id, rating, text)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not await ProductReview.exists()


async def test_text_of_exactly_the_limit_and_no_text_are_fine(db) -> None:
    w = await f.world()
    first, _ = await f.delivered_order(w)
    second, _ = await f.delivered_order(w)
    long = await reviews.submit_review(w.buyer.viewer, first.id, w.item.id, 3, "好" * 1000)
    empty = await reviews.submit_review(w.buyer.viewer, second.id, w.item.id, 4)
    assert (len(long.text), empty.text, empty.praises_quality) == (1000, "", False)


async def test_only_consumers_review(db) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    with pytest.raises(ServiceError) as refused:
        await reviews.submit_review(w.seller.viewer, placed.id, w.item.id, 5, "质量好")
    assert refused.value.code == ErrorCode.NOT_ELIGIBLE
