"""Consumer reviews of products and the quality-praise keyword rule (QS 7.1.1 reviews).

Whether a review praises quality is decided once, when it is written, from its words:
the text is segmented with jieba, and a praise keyword ("质量好", "做工精细", "正品", ...)
counts when its words occur in order, separated at most by degree adverbs and filler words
("质量很好", "质量非常好", "质量还不错"), and no negation stands before or between them
("质量不好", "质量一点也不好", "质量并不好", "质量没有很好", "不是正品"). Keywords,
negations, adverbs and fillers are rule data (``product.grading``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import jieba
from tortoise.exceptions import IntegrityError

from pinzhi.auth.viewer import Viewer
from pinzhi.models import Order, OrderLine, OrderState, ProductReview, Role
from pinzhi.services import rules, validation
from pinzhi.services.errors import ErrorCode, ServiceError
from pinzhi.services.lookup import get_visible

REVIEWABLE_ORDER_STATES = (OrderState.DELIVERED, OrderState.COMPLETED)
# At most this many words may separate the parts of a keyword, or precede it as a negation.
MAX_GAP_WORDS = 4
MAX_GAP_CHARS = 24

_init_lock = threading.Lock()
_initialised = False


def _ensure_jieba() -> None:
    """Load jieba's dictionary once per process, quietly."""
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _initialised = True


def words(text: str) -> list[str]:
    """The words of ``text`` (jieba, precise mode), without blanks."""
    _ensure_jieba()
    return [w for w in jieba.lcut(text) if w.strip()]


@lru_cache(maxsize=256)
def _keyword_parts(keyword: str, adverbs: frozenset[str]) -> tuple[str, ...]:
    """ "质量很好" → ("质量", "好"): the words of a keyword, its degree adverbs dropped."""
    return tuple(w for w in words(keyword) if w not in adverbs) or (keyword,)


def _pieces(text: str, vocabulary: frozenset[str], longest: int) -> list[str] | None:
    """Split ``text`` wholly into words of ``vocabulary``, longest words first; None when it
    cannot be (the text says something else than adverbs, fillers and negations)."""
    if len(text) > MAX_GAP_CHARS:
        return None
    memo: dict[int, list[str] | None] = {}

    def solve(start: int) -> list[str] | None:
        if start == len(text):
            return []
        if start not in memo:
            memo[start] = None
            for size in range(min(longest, len(text) - start), 0, -1):
                head = text[start : start + size]
                rest = solve(start + size) if head in vocabulary else None
                if rest is not None:
                    memo[start] = [head, *rest]
                    break
        return memo[start]

    return solve(0)


class _Matcher:
    def __init__(
        self, negations: Iterable[str], adverbs: Iterable[str], fillers: Iterable[str]
    ) -> None:
        self.negations = frozenset(negations)
        self.adverbs = frozenset(adverbs)
        self.vocabulary = self.negations | self.adverbs | frozenset(fillers)
        self.longest = max((len(w) for w in self.vocabulary), default=1)

    def gap(self, text: str) -> tuple[bool, bool]:
        """(may stand between keyword words, contains a negation)."""
        pieces = _pieces(text, self.vocabulary, self.longest)
        if pieces is None:
            return False, False
        return True, any(p in self.negations for p in pieces)

    def negated_before(self, tokens: Sequence[str], index: int, prefix: str) -> bool:
        """Whether a negation stands right before the keyword starting at ``tokens[index]``
        (whose first word may carry ``prefix``, as "产品" in "产品质量")."""
        if prefix:
            allowed, negated = self.gap(prefix)
            if not allowed or negated:
                return negated
        for back in range(index - 1, max(-1, index - 1 - MAX_GAP_WORDS), -1):
            allowed, negated = self.gap(tokens[back])
            if not allowed or negated:
                return negated
        return False

    def follows(self, tokens: Sequence[str], start: int, part: str) -> tuple[int, bool] | None:
        """Find ``part`` from ``tokens[start]`` on, over a gap of adverbs, fillers and
        negations: (its index, whether the gap negates it), or None."""
        gap = ""
        for j in range(start, min(len(tokens), start + MAX_GAP_WORDS + 1)):
            token = tokens[j]
            if token.endswith(part):
                allowed, negated = self.gap(gap + token[: -len(part)])
                if allowed:
                    return j, negated
            gap += token
            if not self.gap(gap)[0]:
                return None
        return None

    def matches(self, tokens: Sequence[str], parts: Sequence[str]) -> bool:
        """Whether the keyword made of ``parts`` occurs un-negated in ``tokens``."""
        for i, token in enumerate(tokens):
            if not token.endswith(parts[0]):
                continue
            if self.negated_before(tokens, i, token[: -len(parts[0])]):
                continue
            position, negated = i, False
            for part in parts[1:]:
                found = self.follows(tokens, position + 1, part)
                if found is None:
                    break
                position, gap_negated = found
                negated = negated or gap_negated
            else:
                if not negated:
                    return True
        return False


def praises_quality(
    text: str,
    keywords: Iterable[str],
    negations: Iterable[str],
    adverbs: Iterable[str] = (),
    fillers: Iterable[str] = (),
) -> bool:
    """Whether ``text`` praises the product's quality by one of ``keywords``, un-negated."""
    if not text or not text.strip():
        return False
    matcher = _Matcher(negations, adverbs, fillers)
    tokens = words(text)
    return any(
        matcher.matches(tokens, _keyword_parts(keyword, matcher.adverbs))
        for keyword in keywords
        if keyword
    )


def praises_quality_by_rule(text: str, content: dict[str, Any]) -> bool:
    return praises_quality(
        text,
        content.get("praise_keywords", []),
        content.get("negations", []),
        content.get("degree_adverbs", []),
        content.get("filler_words", []),
    )


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
