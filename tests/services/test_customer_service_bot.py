"""The AI front of customer service (QS 9.7.1, 9.7.2): it recognises what the customer
means and answers from the published FAQ or with the order's live status, and it hands
over to a human when asked, when unsure, and when it keeps failing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pinzhi.models import (
    HandoverReason,
    MessageAuthor,
    ServiceMessage,
    ServiceSession,
    ServiceSessionState,
    ShipmentState,
)
from pinzhi.services import logistics
from pinzhi.services.customer_service import sessions
from tests import factories as f

S = ServiceSessionState
pytestmark = pytest.mark.usefixtures("db")


async def _say(buyer: f.Actor, session_id: int, text: str) -> sessions.Sent:
    return await sessions.send_message(buyer.viewer, session_id, text)


async def test_the_ai_answers_a_refund_question_from_the_faq_in_the_customers_language() -> None:
    """QS 9.7.1: the intent is recognised and stored; the answer is the rule's, in Chinese
    or English as the customer wrote."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    sent = await _say(buyer, session.id, "退款多久能到账啊")
    assert sent.message.intent == "REFUND" and sent.message.confidence > 0.9
    [reply] = sent.replies
    assert reply.author_kind == MessageAuthor.AI and reply.intent == "REFUND"
    assert reply.body.startswith("退款会在商家同意后原路退回")
    english = await _say(buyer, session.id, "how long does a refund take?")
    assert english.replies[0].body.startswith("Refunds go back to your original payment")
    assert (await ServiceSession.get(id=session.id)).state == S.BOT


async def test_where_is_my_parcel_gets_the_orders_live_status() -> None:
    """QS 9.7.1: a logistics question about an order is answered with its latest scan."""
    w = await f.world()
    placed, shipment = await f.shipped_order(w)
    await logistics.record_tracking_event(
        w.carrier_actor.viewer,
        shipment.id,
        "EV-HZ",
        ShipmentState.IN_TRANSIT,
        datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
        location="杭州转运中心",
        description="已到达",
    )
    session = await sessions.open_session(w.buyer.viewer, order_id=placed.id)
    sent = await _say(w.buyer, session.id, "我的快递到哪了")
    assert sent.replies[0].body == (
        f"订单 #{placed.id} 已发货，运输中。"
        "最新物流（2026-11-30 08:15 UTC，杭州转运中心）：已到达。"
    )
    # Without an order named, the consumer's latest shipped order.
    plain = await sessions.open_session(w.buyer.viewer)
    answer = await _say(w.buyer, plain.id, "where is my parcel")
    assert answer.replies[0].body == (
        f"Order #{placed.id} is shipped and on its way. "
        "Latest tracking (2026-11-30 08:15 UTC, 杭州转运中心): 已到达."
    )


async def test_asking_for_a_person_in_words_hands_over() -> None:
    """QS 9.7.2: "转人工" is a request for a human, like requestHumanAgent."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    sent = await _say(buyer, session.id, "转人工")
    row = await ServiceSession.get(id=session.id)
    assert row.state == S.WAITING and row.handover_reason == HandoverReason.REQUESTED
    assert [r.author_kind for r in sent.replies] == [MessageAuthor.SYSTEM]
    assert sent.session.state == S.WAITING


async def test_a_message_the_ai_is_unsure_of_hands_over_at_once() -> None:
    """QS 9.7.2: below the rule's confidence the AI does not guess."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    sent = await _say(buyer, session.id, "嗯嗯")
    assert sent.message.confidence is not None and sent.message.confidence < 0.55
    row = await ServiceSession.get(id=session.id)
    assert row.handover_reason == HandoverReason.LOW_CONFIDENCE and row.state == S.WAITING


async def test_asking_the_same_thing_again_and_again_hands_over() -> None:
    """QS 9.7.2: the same question right after its answer is a miss; two in a row hand over."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    await _say(buyer, session.id, "退款多久到账")
    await _say(buyer, session.id, "我的退款还没到")
    assert (await ServiceSession.get(id=session.id)).state == S.BOT
    await _say(buyer, session.id, "退款到底什么时候到")
    row = await ServiceSession.get(id=session.id)
    assert row.handover_reason == HandoverReason.REPEATED_FAILURE and row.state == S.WAITING
    # Once with a human, the AI stays out of it.
    after = await _say(buyer, session.id, "退款呢")
    assert after.replies == []
    assert await ServiceMessage.filter(author_kind=MessageAuthor.AI).count() == 2


async def test_a_new_question_resets_the_misses() -> None:
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    await _say(buyer, session.id, "退款多久到账")
    await _say(buyer, session.id, "我的退款还没到")
    await _say(buyer, session.id, "怎么开发票")
    await _say(buyer, session.id, "退款到底什么时候到")
    row = await ServiceSession.get(id=session.id)
    assert row.state == S.BOT and row.ai_failures == 0
