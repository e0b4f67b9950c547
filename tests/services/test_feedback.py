"""Satisfaction feedback from every party, called on the service directly (QS 10.2)."""

from __future__ import annotations

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Feedback, FeedbackSubject, Order, OrderState, Role
from pinzhi.services import complaints, feedback
from tests import factories as f

SUMMARY = """
query($type: FeedbackSubject!, $merchant: ID) {
  feedbackSummary(subjectType: $type, merchantId: $merchant) { count average distribution }
}"""


async def _refused(viewer, subject_type, subject_id, score, comment=""):  # type: ignore[no-untyped-def]
    before = await Feedback.all().count()
    with pytest.raises(ServiceError) as raised:
        await feedback.submit_feedback(viewer, subject_type, subject_id, score, comment)
    assert await Feedback.all().count() == before, "a refused feedback must store nothing"
    return raised.value


async def test_consumer_rates_a_delivered_order(db) -> None:
    """QS 10.2: the consumer's rating of an order is stored against the order's merchant."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)

    row = await feedback.submit_feedback(
        w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, 4, "  很好 Good  "
    )

    stored = await Feedback.get(id=row.id)
    assert stored.score == 4 and stored.comment == "很好 Good"
    assert stored.subject_type == FeedbackSubject.ORDER and stored.subject_id == delivered.id
    assert stored.rated_merchant_id == w.shop.id
    assert stored.author_id == w.buyer.account.id and stored.author_role == Role.CONSUMER
    assert stored.consumer_id == w.buyer.account.id


@pytest.mark.parametrize("score", [0, 6, -1, 100])
async def test_scores_outside_the_scale_are_refused(db, score: int) -> None:
    """QS 10.2: scores run from 1 to 5 (rule feedback.scale)."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)

    error = await _refused(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, score)

    assert error.code == ErrorCode.SCORE_OUT_OF_RANGE
    assert error.field == ["score"]


@pytest.mark.parametrize("score", [1, 5])
async def test_scores_at_the_ends_of_the_scale_are_accepted(db, score: int) -> None:
    """QS 10.2: 1 and 5 are legal."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)

    row = await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, score)

    assert (await Feedback.get(id=row.id)).score == score


async def test_comment_longer_than_the_rule_is_refused(db) -> None:
    """QS 10.2: max_comment_length 1000."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)

    error = await _refused(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, 3, "好" * 1001)

    assert error.code == ErrorCode.INVALID_INPUT
    assert error.field == ["comment"]


async def test_second_feedback_on_the_same_subject_is_refused(db) -> None:
    """QS 10.2: one rating per author and subject; the first stays as it was."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)
    await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, 5)

    error = await _refused(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, 1)

    assert error.code == ErrorCode.FEEDBACK_EXISTS
    rows = await Feedback.filter(subject_type=FeedbackSubject.ORDER, subject_id=delivered.id)
    assert [r.score for r in rows] == [5]


async def test_consumer_cannot_rate_an_undelivered_order(db) -> None:
    """QS 10.2: an order is rated after it is received."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    shipped, _ = await f.shipped_order(w)

    for order_id in (placed.id, shipped.id):
        error = await _refused(w.buyer.viewer, FeedbackSubject.ORDER, order_id, 5)
        assert error.code == ErrorCode.NOT_ELIGIBLE
        assert error.field == ["subjectId"]


async def test_consumer_cannot_rate_someone_elses_order(db) -> None:
    """QS 10.2: another consumer's order is out of scope."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)

    error = await _refused(w.other_buyer.viewer, FeedbackSubject.ORDER, delivered.id, 1)

    assert error.code == ErrorCode.NOT_FOUND


async def test_consumer_rates_a_merchant_only_after_receiving_from_it(db) -> None:
    """QS 10.2: a merchant rating needs a received order from that merchant."""
    w = await f.world()
    await f.delivered_order(w)

    error = await _refused(w.other_buyer.viewer, FeedbackSubject.MERCHANT, w.shop.id, 1)
    assert error.code == ErrorCode.NOT_ELIGIBLE
    error = await _refused(w.buyer.viewer, FeedbackSubject.MERCHANT, w.other_shop.id, 1)
    assert error.code == ErrorCode.NOT_ELIGIBLE
    error = await _refused(w.buyer.viewer, FeedbackSubject.MERCHANT, 999999, 1)
    assert error.code == ErrorCode.NOT_FOUND

    row = await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.MERCHANT, w.shop.id, 4)
    assert row.rated_merchant_id == w.shop.id and row.subject_id == w.shop.id


async def test_consumer_rates_a_service_case_once_it_is_resolved(db) -> None:
    """QS 10.2 with QS 9.2.4: the service case is rated after it is closed."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    case = await complaints.file_complaint(w.buyer.viewer, placed.id, None, "发错货了 Wrong item")

    error = await _refused(w.buyer.viewer, FeedbackSubject.SERVICE_CASE, case.id, 5)
    assert error.code == ErrorCode.NOT_ELIGIBLE

    await complaints.handle_complaint(w.agent.viewer, case.id, resolution="已补发", upheld=True)
    row = await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.SERVICE_CASE, case.id, 5)
    assert row.subject_id == case.id and row.rated_merchant_id is None


async def test_merchant_and_provider_rate_the_platform(db) -> None:
    """QS 10.2: merchants and service providers give feedback on the platform."""
    w = await f.world()

    by_merchant = await feedback.submit_feedback(
        w.seller.viewer, FeedbackSubject.PLATFORM, None, 4, "结算及时"
    )
    by_carrier = await feedback.submit_feedback(
        w.carrier_actor.viewer, FeedbackSubject.PLATFORM, None, 2
    )
    by_payer = await feedback.submit_feedback(w.payer_actor.viewer, FeedbackSubject.PLATFORM, 0, 3)

    assert by_merchant.author_role == Role.MERCHANT and by_merchant.subject_id == 0
    assert by_carrier.author_role == Role.SERVICE_PROVIDER
    assert by_payer.rated_merchant_id is None
    assert await feedback.summary(FeedbackSubject.PLATFORM) == feedback.Summary(
        3, 3.0, [0, 1, 1, 1, 0]
    )
    error = await _refused(w.seller.viewer, FeedbackSubject.PLATFORM, None, 5)
    assert error.code == ErrorCode.FEEDBACK_EXISTS


async def test_consumer_may_not_rate_the_platform(db) -> None:
    """QS 10.2: consumers rate orders, merchants and service cases."""
    w = await f.world()

    error = await _refused(w.buyer.viewer, FeedbackSubject.PLATFORM, None, 5)

    assert error.code == ErrorCode.NOT_ELIGIBLE
    assert error.field == ["subjectType"]


@pytest.mark.parametrize("subject", [FeedbackSubject.ORDER, FeedbackSubject.MERCHANT])
async def test_merchant_and_regulator_cannot_rate_orders_or_merchants(db, subject) -> None:
    """QS 10.2: only consumers rate what they bought; regulators never write."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)
    subject_id = delivered.id if subject == FeedbackSubject.ORDER else w.shop.id

    for actor in (w.seller, w.regulator, w.agent):
        error = await _refused(actor.viewer, subject, subject_id, 5)
        assert error.code == ErrorCode.NOT_ELIGIBLE


async def test_staff_and_regulators_rate_nothing_and_nothing_is_stored(db) -> None:
    """QS 10.2: feedback comes from consumers, merchants and providers; the service's guard
    reads the same policy entry as the submitFeedback field, so a direct call by staff or a
    regulator (a job, the CLI) is refused before anything is read or written."""
    w = await f.world()
    for actor in (w.regulator, w.agent):
        error = await _refused(actor.viewer, FeedbackSubject.PLATFORM, None, 5)
        assert (error.code, error.field) == (ErrorCode.NOT_ELIGIBLE, [])
    assert await Feedback.all().count() == 0


async def test_summary_counts_averages_and_distributes(db) -> None:
    """QS 10.2: count, average (2 decimals) and the per-score distribution, per merchant."""
    w = await f.world()
    scores = [5, 4, 5, 1]
    for score in scores:
        delivered, _ = await f.delivered_order(w)
        await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, score)
    # Another merchant's rating must not leak into the first merchant's summary.
    other_item = await f.product(w.other_shop, stock=5)
    other_order = await f.order(w.other_buyer, other_item)
    # Shortcut to a received order: only the state matters to eligibility here.
    await Order.filter(id=other_order.id).update(state=OrderState.COMPLETED)
    await feedback.submit_feedback(w.other_buyer.viewer, FeedbackSubject.ORDER, other_order.id, 2)

    mine = await feedback.summary(FeedbackSubject.ORDER, w.shop.id)
    assert mine == feedback.Summary(4, 3.75, [1, 0, 0, 1, 2])
    theirs = await feedback.summary(FeedbackSubject.ORDER, w.other_shop.id)
    assert theirs == feedback.Summary(1, 2.0, [0, 1, 0, 0, 0])
    everyone = await feedback.summary(FeedbackSubject.ORDER)
    assert everyone == feedback.Summary(5, 3.4, [1, 1, 0, 1, 2])
    nobody = await feedback.summary(FeedbackSubject.MERCHANT, w.shop.id)
    assert nobody == feedback.Summary(0, None, [0, 0, 0, 0, 0])
    batched = await feedback.summaries_by_merchant(
        FeedbackSubject.ORDER, [w.shop.id, w.other_shop.id]
    )
    assert batched == {w.shop.id: mine, w.other_shop.id: theirs}


async def test_average_is_rounded_to_two_decimals(db) -> None:
    """QS 10.2: (5 + 4 + 4) / 3 = 4.33."""
    w = await f.world()
    for score in (5, 4, 4):
        delivered, _ = await f.delivered_order(w)
        await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, score)

    assert (await feedback.summary(FeedbackSubject.ORDER, w.shop.id)).average == 4.33


async def test_who_may_read_a_summary(db) -> None:
    """QS 10.2, 9.4.1: the rated merchant reads its own; compliance staff and regulators
    read all; staff of other duties, consumers and providers none."""
    w = await f.world()
    mine, other = w.shop.id, w.other_shop.id
    S = FeedbackSubject

    assert feedback.may_read_summary(w.seller.viewer, S.MERCHANT, mine) is True
    assert feedback.may_read_summary(w.seller.viewer, S.ORDER, mine) is True
    assert feedback.may_read_summary(w.seller.viewer, S.MERCHANT, other) is False
    assert feedback.may_read_summary(w.seller.viewer, S.MERCHANT, None) is False
    assert feedback.may_read_summary(w.seller.viewer, S.PLATFORM, mine) is False
    for reader in (await f.compliance_officer(), w.regulator):
        for subject in S:
            assert feedback.may_read_summary(reader.viewer, subject, other) is True
            assert feedback.may_read_summary(reader.viewer, subject, None) is True
    for outsider in (w.buyer, w.carrier_actor, w.payer_actor, w.agent):
        for subject in S:
            assert feedback.may_read_summary(outsider.viewer, subject, mine) is False


async def test_summary_through_the_api_is_for_the_merchant_itself(api) -> None:
    """QS 10.2: feedbackSummary for the own shop answers; for another shop it is FORBIDDEN."""
    w = await f.world()
    delivered, _ = await f.delivered_order(w)
    await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.MERCHANT, w.shop.id, 4)
    await feedback.submit_feedback(w.buyer.viewer, FeedbackSubject.ORDER, delivered.id, 2)
    own = {"type": "MERCHANT", "merchant": f.gid("Merchant", w.shop.id)}

    allowed = await api(SUMMARY, own, token=w.seller.token)
    assert allowed.data["feedbackSummary"] == {
        "count": 1,
        "average": 4.0,
        "distribution": [0, 0, 0, 1, 0],
    }

    refused = await api(SUMMARY, own, token=w.other_seller.token)
    assert refused.error_codes == ["FORBIDDEN"]
    assert refused.body["data"] is None or refused.body["data"].get("feedbackSummary") is None

    consumer = await api(SUMMARY, own, token=w.buyer.token)
    assert consumer.error_codes == ["FORBIDDEN"]

    regulator = await api(SUMMARY, own, token=w.regulator.token)
    assert regulator.data["feedbackSummary"]["count"] == 1

    anonymous = await api(SUMMARY, own)
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
