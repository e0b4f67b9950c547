"""Bulky goods: trade-in, the old item collected with the delivery and its value credited
(QS 9.7.5, 9.1.1, 9.1.2, 9.6.2).

With a bulky line (``services/bulky.py``) the consumer may hand over an old item of the
same category (以旧换新): asked after payment and before delivery (the order states of
``trade_in.order_states`` in the ``bulky_goods`` rule, else ``TRADE_IN_TOO_LATE``), one
live trade-in per line. Its value is agreed when asked, and stored with the rule version:
the fixed credit of the category (``trade_in.credit_minor``; a category without one is
``TRADE_IN_NOT_ACCEPTED``) times the share its declared condition earns
(``condition_percent``), never above ``max_share_percent`` of the line's price.

- The merchant accepts it, scheduling the pick-up with the delivery (SCHEDULED): the
  order's carrier collects it, unless the merchant names another logistics provider;
  before the order ships one must be named. Or the merchant rejects it (REJECTED), with
  the reason; the visiting carrier may also refuse the item at the door.
- The consumer may cancel it until it is collected.
- The carrier records the old item collected (COLLECTED), with its own event id. It is
  idempotent on the trade-in: once collected, any further report (a replay, or a second
  device reporting the same pick-up at the same moment) is answered with the trade-in as
  it is and changes nothing.
- Collecting it asks the payment provider for the credit: a refund of the agreed value on
  the order's payment (``refunds.ask``, keyed ``trade-in:<id>:<attempt>``, so one refund
  per attempt whatever the races), which carries the trade-in's id. When the provider
  reports that refund done (``refunds.confirm_refund``), the trade-in becomes CREDITED in
  the same transaction: one credit per trade-in, the move being a compare-and-set. A
  failed refund leaves it COLLECTED, as does a payment that can no longer cover the
  credit (a ``credit_deferred`` node says so); customer-service staff then ask again
  (``retry_credit``), never while a credit is under way or made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Order,
    OrderLine,
    OrderState,
    Refund,
    RefundState,
    TradeIn,
    TradeInCondition,
    TradeInState,
)
from pinzhi.services import audit, bulky, refunds, rules, state, validation
from pinzhi.services.lookup import lock_after_order
from pinzhi.services.transactions import retry_on_conflict

S = TradeInState

# Trade-ins that hold their line: another on it is refused.
LIVE = frozenset({S.REQUESTED, S.SCHEDULED, S.COLLECTED, S.CREDITED})
# Reports of a collection already recorded are answered as they stand.
COLLECTED = frozenset({S.COLLECTED, S.CREDITED})
# The old item goes with the delivery: collected once the order is on its way.
COLLECTABLE_ORDER_STATES = frozenset(
    {OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED}
)
# Carrier clocks drift; a collection further in the future than this is refused.
CLOCK_SKEW = timedelta(minutes=5)


def valuation(
    content: dict[str, Any], category: str, condition: TradeInCondition, line: OrderLine
) -> int:
    """QS 9.7.5: the credit an old item of ``category`` in ``condition`` earns against
    ``line``: the category's fixed credit times its condition's share, capped at the
    rule's share of the line's price (what of it was not refunded)."""
    trade = content["trade_in"]
    base = trade["credit_minor"].get(category)
    if base is None:
        raise ServiceError(ErrorCode.TRADE_IN_NOT_ACCEPTED, ("orderLineId",), category)
    earned = int(base) * int(trade["condition_percent"].get(str(condition), 0)) // 100
    price = line.unit_price_minor * (line.quantity - line.cancelled_quantity)
    cap = price * int(trade["max_share_percent"]) // 100
    value = min(earned, cap)
    if value < 1:
        raise ServiceError(ErrorCode.TRADE_IN_NOT_ACCEPTED, ("condition",), "worth nothing")
    return int(value)


@retry_on_conflict
async def request(
    viewer: Viewer,
    order_line_id: int | None,
    condition: TradeInCondition,
    description: str,
) -> TradeIn:
    """QS 9.7.5: the consumer asks to trade in an old item against a bulky line of their
    paid order, before it is delivered; its value is agreed now."""
    require(viewer, Action.REQUEST_TRADE_IN)
    condition = TradeInCondition(condition)
    text = validation.text(description, "description", min_len=2, max_len=200)
    rule = await rules.current(bulky.RULE_KEY)
    async with in_transaction():
        found = await bulky.lock_bulky_line(viewer, order_line_id, rule.content)
        if str(found.order.state) not in rule.content["trade_in"]["order_states"]:
            raise ServiceError(
                ErrorCode.TRADE_IN_TOO_LATE, ("orderLineId",), str(found.order.state)
            )
        if await TradeIn.filter(order_line_id=found.line.id, state__in=LIVE).exists():
            raise ServiceError(ErrorCode.TRADE_IN_EXISTS, ("orderLineId",))
        category = found.product.category
        value = valuation(rule.content, category, condition, found.line)
        return await state.create(
            TradeIn,
            actor=viewer,
            action="requested",
            data={
                "order_id": found.order.id,
                "order_line_id": found.line.id,
                "condition": str(condition),
                "value_minor": value,
                "rule_version": rule.version,
            },
            order_id=found.order.id,
            order_line_id=found.line.id,
            consumer_id=found.order.consumer_id,
            merchant_id=found.order.merchant_id,
            category=category,
            condition=condition,
            description=text,
            value_minor=value,
            currency=found.order.currency,
            rule_version=rule.version,
        )


async def _lock(viewer: Viewer, trade_in_id: int) -> TradeIn:
    return await lock_after_order(viewer, TradeIn, trade_in_id, "tradeInId")


@retry_on_conflict
async def accept(viewer: Viewer, trade_in_id: int, provider_id: int | None = None) -> TradeIn:
    """The merchant accepts the trade-in: its pick-up rides with the delivery, by the
    order's carrier or the logistics provider the merchant names."""
    require(viewer, Action.ACCEPT_TRADE_IN)
    async with in_transaction():
        trade_in = await _lock(viewer, trade_in_id)
        state.check(TradeIn, trade_in.state, S.SCHEDULED, "tradeInId")
        await bulky.refuse_cancelled(trade_in.order_id, "tradeInId")
        visitor = await bulky.visiting_provider(
            viewer, trade_in.order_id, trade_in.provider_id, provider_id
        )
        await state.move(
            trade_in,
            S.SCHEDULED,
            actor=viewer,
            action="scheduled",
            field="tradeInId",
            data={"provider_id": visitor},
            provider_id=visitor,
        )
    return trade_in


@retry_on_conflict
async def reject(viewer: Viewer, trade_in_id: int, reason: str) -> TradeIn:
    """The merchant declines the trade-in, or the visiting carrier refuses the item at the
    door (not as declared); the reason is recorded."""
    require(viewer, Action.REJECT_TRADE_IN)
    text = validation.text(reason, "reason", min_len=2, max_len=500, multiline=True)
    async with in_transaction():
        trade_in = await _lock(viewer, trade_in_id)
        await state.move(
            trade_in,
            S.REJECTED,
            actor=viewer,
            action="rejected",
            field="tradeInId",
            data={"reason": text},
            decision_note=text,
        )
    return trade_in


@retry_on_conflict
async def cancel(viewer: Viewer, trade_in_id: int) -> TradeIn:
    """The consumer withdraws the trade-in before the old item is collected."""
    require(viewer, Action.CANCEL_TRADE_IN)
    async with in_transaction():
        trade_in = await _lock(viewer, trade_in_id)
        await state.move(trade_in, S.CANCELLED, actor=viewer, action="cancelled", field="tradeInId")
    return trade_in


async def _ask_credit(actor: Viewer, trade_in: TradeIn, *, strict: bool) -> Refund | None:
    """Ask the payment provider for the trade-in's credit, a refund on the order's payment;
    the caller holds the order's and the trade-in's locks. When the payment cannot cover
    it, ``strict`` refuses (AMOUNT_NOT_REFUNDABLE); otherwise the credit is deferred (and
    traced as such) for customer service to ask again."""
    payment = await refunds.lock_payment(trade_in.order_id)
    if payment is None or refunds.refundable(payment) < trade_in.value_minor:
        if strict:
            raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("tradeInId",))
        await audit.append(
            "TradeIn",
            trade_in.id,
            "credit_deferred",
            actor=actor,
            data={"reason": "the payment cannot cover the credit"},
        )
        return None
    failed = await Refund.filter(trade_in_id=trade_in.id, state=RefundState.FAILED).count()
    asked = await refunds.ask(
        payment,
        trade_in.value_minor,
        key=f"trade-in:{trade_in.id}:{failed + 1}",
        actor=actor,
        reason=f"trade-in credit / 以旧换新抵扣 #{trade_in.id}",
        trade_in_id=trade_in.id,
    )
    await audit.append(
        "TradeIn",
        trade_in.id,
        "credit_asked",
        actor=actor,
        data={"refund_id": asked.refund.id, "amount_minor": trade_in.value_minor},
    )
    return asked.refund


@retry_on_conflict
async def record_collected(
    viewer: Viewer, trade_in_id: int, event_id: str, collected_at: datetime | None
) -> tuple[TradeIn, bool]:
    """QS 9.7.5, 9.6.2: the carrier reports the old item collected, and its credit is asked
    of the payment provider. Once collected, a report again changes nothing and is
    answered with the trade-in as it is (second value True)."""
    require(viewer, Action.RECORD_TRADE_IN_COLLECTED)
    external_id = validation.text(event_id, "eventId", max_len=100)
    at = validation.moment(collected_at, "collectedAt")
    if at > state.now() + CLOCK_SKEW:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("collectedAt",), "in the future")
    async with in_transaction():
        trade_in = await _lock(viewer, trade_in_id)
        if trade_in.state in COLLECTED:
            return trade_in, True
        state.check(TradeIn, trade_in.state, S.COLLECTED, "tradeInId")
        order = await Order.get(id=trade_in.order_id)
        if order.state not in COLLECTABLE_ORDER_STATES:
            raise ServiceError(ErrorCode.NOT_DELIVERED, ("tradeInId",), str(order.state))
        await state.move(
            trade_in,
            S.COLLECTED,
            actor=viewer,
            action="collected",
            field="tradeInId",
            data={"event_id": external_id, "collected_at": at.isoformat()},
            collection_event_id=external_id,
            collected_at=at,
        )
        await _ask_credit(viewer, trade_in, strict=False)
    return trade_in, False


@retry_on_conflict
async def retry_credit(viewer: Viewer, trade_in_id: int) -> TradeIn:
    """Customer-service staff ask again for the credit of a collected trade-in whose last
    credit failed or was deferred; never while one is under way or made."""
    require(viewer, Action.RETRY_TRADE_IN_CREDIT)
    async with in_transaction():
        trade_in = await _lock(viewer, trade_in_id)
        if trade_in.state != S.COLLECTED:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("tradeInId",), str(trade_in.state))
        live = Refund.filter(
            trade_in_id=trade_in.id, state__in=(RefundState.REQUESTED, RefundState.SUCCEEDED)
        )
        if await live.exists():
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("tradeInId",), "credit under way")
        await _ask_credit(viewer, trade_in, strict=True)
    return trade_in
