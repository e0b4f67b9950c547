"""Consumer reviews and the negation-aware quality-praise keyword rate (QS 7.1.1 reviews)."""

from __future__ import annotations

import pytest

from pinzhi.models import ProductReview
from pinzhi.services import reviews
from pinzhi.services.errors import ErrorCode, ServiceError
from pinzhi.services.rules import DEFAULT_RULES
from tests import factories as f

RULE = next(r["content"] for r in DEFAULT_RULES if r["key"] == "product.grading")


def _by_rule(text: str) -> bool:
    return reviews.praises_quality(
        text,
        RULE["praise_keywords"],
        RULE["negations"],
        RULE["degree_adverbs"],
        RULE["filler_words"],
    )


PRAISES = [
    "质量好",
    "质量很好",
    "质量非常好",
    "质量挺好的",
    "质量特别好",
    "质量真好",
    "质量真的很好",
    "质量超好",
    "质量十分好",
    "质量相当好",
    "质量不错",  # "不错" is praise, though it starts with 不
    "质量还不错",
    "产品质量很好",
    "做工好",
    "做工精细",
    "做工很精细",
    "正品",
    "保证正品",
    "做工精细，正品",
    "东西不错，质量好",
    "包装一般，但质量很好",
    "质量 很 好",
    "质量好到没话说",
]

NOT_PRAISES = [
    "",
    "   ",
    "物流很快",
    "质量一般",
    "质量很一般",
    "质量不好",
    "质量一点也不好",
    "质量一点都不好",
    "质量并不好",
    "质量没有很好",
    "质量没那么好",
    "质量不太好",
    "质量很不好",
    "质量不是很好",
    "质量真的不好",
    "质量好不好",
    "质量好差",
    "做工不精细",
    "不是正品",
    "非正品",
    "并非正品",
    "一点也不像正品",
    "包装好但质量不好",
    "好评，质量嘛不好说",
]


@pytest.mark.parametrize("text", PRAISES)
def test_praise_keywords_count_with_degree_adverbs_between(text: str) -> None:
    """QS 7.1.1: a keyword counts when its words occur in order, degree adverbs allowed
    between them ("质量很好", "质量非常好"), and "做工精细，正品" counts."""
    assert _by_rule(text) is True


@pytest.mark.parametrize("text", NOT_PRAISES)
def test_negated_or_absent_keywords_do_not_count(text: str) -> None:
    """QS 7.1.1: a negation before or between the words of a keyword ("质量不好",
    "质量一点也不好", "质量并不好", "质量没有很好", "不是正品") is no praise."""
    assert _by_rule(text) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("质量很好", True),
        ("质量非常好", True),
        ("质量不好", False),
        ("质量一点也不好", False),
        ("质量并不好", False),
        ("质量没有很好", False),
        ("做工精细，正品", True),
    ],
)
def test_the_pure_function_takes_its_words_as_arguments(text: str, expected: bool) -> None:
    """QS 5.2: keywords, negations and adverbs are rule data, passed in (no fillers here)."""
    keywords = ["质量好", "做工精细", "正品"]
    negations = ["不", "没", "没有", "并不", "一点也不"]
    adverbs = ["很", "非常"]
    assert reviews.praises_quality(text, keywords, negations, adverbs) is expected


def test_keywords_come_from_the_rule() -> None:
    """QS 5.2: a word that is not a keyword of the rule is not praise, and a new keyword
    counts as soon as the rule names it."""
    assert reviews.praises_quality("味道好", ["质量好"], ["不"], ["很"]) is False
    assert reviews.praises_quality("味道很好", ["味道好"], ["不"], ["很"]) is True
    assert reviews.praises_quality("味道不好", ["味道好"], ["不"], ["很"]) is False


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
