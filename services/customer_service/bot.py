"""The AI front of customer service (QS 9.7.1, 9.7.2).

Each customer message in a BOT session is classified (``services/intents``). The AI then
answers from the published FAQ (rule ``customer_service.faq``), or with the order's live
status when asked where a parcel is, or hands the session to a human:

- at once when the customer asks for a person (the HUMAN_AGENT intent, or
  ``requestHumanAgent``);
- at once when it is unsure what the customer means: a confidence below the rule's
  ``ai_min_confidence`` is a LOW_CONFIDENCE handover, because guessing wrong costs the
  customer more than a short wait does;
- after ``ai_max_failures`` misses in a row (REPEATED_FAILURE): a miss is the customer
  asking the same thing again right after the AI answered it, which says the answer did
  not help.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    HandoverReason,
    MessageAuthor,
    Order,
    OrderState,
    Role,
    ServiceMessage,
    ServiceSession,
    Shipment,
    TrackingEvent,
)
from pinzhi.services import rules, state
from pinzhi.services.customer_service import handover
from pinzhi.services.intents import Intent, classify

FAQ_RULE = "customer_service.faq"

ORDER_STATE_TEXT: dict[OrderState, tuple[str, str]] = {
    OrderState.PENDING_PAYMENT: ("待付款", "waiting for payment"),
    OrderState.PAID: ("已付款，等待商家发货", "paid, waiting for the merchant to ship"),
    OrderState.SHIPPED: ("已发货，运输中", "shipped and on its way"),
    OrderState.DELIVERED: ("已签收", "delivered"),
    OrderState.COMPLETED: ("已完成", "completed"),
    OrderState.CANCELLED: ("已取消", "cancelled"),
}


async def _order_for(session: ServiceSession) -> Order | None:
    """The session's order, or the consumer's latest shipped one when the session names
    none ("where is my parcel" usually means the one on its way)."""
    if session.order_id is not None:
        return await Order.get_or_none(id=session.order_id)
    if session.opener_role != Role.CONSUMER:
        return None
    return (
        await Order.filter(consumer_id=session.opener_id, state=OrderState.SHIPPED)
        .order_by("-id")
        .first()
    )


async def logistics_answer(session: ServiceSession, language: str) -> str | None:
    """The order's live status and its latest tracking event."""
    order = await _order_for(session)
    if order is None:
        return None
    english = language == "en"
    zh, en = ORDER_STATE_TEXT[order.state]
    text = f"Order #{order.id} is {en}." if english else f"订单 #{order.id} {zh}。"
    shipment = await Shipment.get_or_none(order_id=order.id)
    if shipment is not None:
        latest = (
            await TrackingEvent.filter(shipment_id=shipment.id)
            .order_by("-occurred_at", "-id")
            .first()
        )
        if latest is not None:
            when = latest.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
            place = [when, latest.location] if latest.location else [when]
            what = latest.description or str(latest.status)
            text += (
                f" Latest tracking ({', '.join(place)}): {what}."
                if english
                else f"最新物流（{'，'.join(place)}）：{what}。"
            )
    return text


async def _previous_intent(session: ServiceSession, before_id: int) -> str | None:
    """What the customer asked last, if the AI answered it (a handover ends the AI's turn)."""
    last = (
        await ServiceMessage.filter(
            session_id=session.id, author_kind=MessageAuthor.CUSTOMER, id__lt=before_id
        )
        .order_by("-id")
        .first()
    )
    return None if last is None else last.intent


async def answer(
    viewer: Viewer, session: ServiceSession, message: ServiceMessage, content: dict[str, Any]
) -> list[ServiceMessage]:
    """Classify the customer's message and answer it, or hand over. Runs inside the send's
    transaction, with the session's row locked."""
    # In a worker thread: the first call builds the model (about a second), which must not
    # hold up the event loop.
    found = await asyncio.to_thread(classify, message.body)
    message.intent, message.confidence = str(found.intent), found.confidence
    await ServiceMessage.filter(id=message.id).update(
        intent=message.intent, confidence=message.confidence
    )
    if found.intent == Intent.HUMAN_AGENT and found.confidence >= content["ai_min_confidence"]:
        return [await handover.hand_over(session, HandoverReason.REQUESTED, content, actor=viewer)]
    if found.confidence < content["ai_min_confidence"]:
        return [
            await handover.hand_over(session, HandoverReason.LOW_CONFIDENCE, content, actor=viewer)
        ]
    repeated = await _previous_intent(session, message.id) == message.intent
    failures = session.ai_failures + 1 if repeated else 0
    if failures >= content["ai_max_failures"]:
        return [
            await handover.hand_over(
                session, HandoverReason.REPEATED_FAILURE, content, actor=viewer
            )
        ]
    if failures != session.ai_failures:
        session.ai_failures = failures
        await ServiceSession.filter(id=session.id).update(ai_failures=failures)
    body = await _reply_text(session, found.intent, found.language)
    reply = await ServiceMessage.create(
        session_id=session.id,
        author_kind=MessageAuthor.AI,
        body=body,
        intent=str(found.intent),
        confidence=found.confidence,
        created_at=state.now(),
    )
    return [reply]


async def _reply_text(session: ServiceSession, intent: Intent, language: str) -> str:
    """The answer in the language the customer wrote in."""
    if intent == Intent.LOGISTICS_STATUS:
        live = await logistics_answer(session, language)
        if live is not None:
            return live
    faq = (await rules.current(FAQ_RULE)).content
    texts = faq["answers"].get(str(intent)) or faq["fallback"]
    return str(texts["en" if language == "en" else "zh"])
