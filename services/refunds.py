"""Refunds: money going back on a payment, executed by its payment provider (QS 9.2.3, 9.5).

A refund is asked of the provider (REQUESTED) and the provider reports it done or failed,
as it reports payments. From the moment it is asked, its amount is held on the payment
(``Payment.refunded_minor``), so the refunds asked and made on a payment never add up to
more than was captured: the hold is taken under the payment's row lock, in the same
statement that checks it, and a failed refund gives its hold back. A refund is idempotent
on its payment and key: a replay returns the first refund, in whatever state it is.

A refund that settles an after-sales request moves the request to REFUNDED; one made
before shipment releases the refunded lines' reservation and puts their stock back, once
(the request's move is a compare-and-set, and the release rides on it). A refund that pays
a trade-in's credit (QS 9.7.5, ``services/trade_ins.py``) moves the trade-in to CREDITED,
once, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesRequest,
    AfterSalesState,
    Order,
    OrderLine,
    OrderState,
    Payment,
    PaymentState,
    Product,
    Refund,
    RefundState,
    TradeIn,
    TradeInState,
)
from pinzhi.services import state, validation
from pinzhi.services.lookup import get_visible, lock_after_order, lock_visible
from pinzhi.services.transactions import retry_on_conflict

# The states an after-sales request is refunded from.
REFUNDABLE_REQUEST_STATES = frozenset(
    {AfterSalesState.APPROVED, AfterSalesState.RETURN_IN_TRANSIT, AfterSalesState.RETURN_RECEIVED}
)


@dataclass(frozen=True)
class Asked:
    refund: Refund
    # True when an earlier call with the same key made this refund.
    replayed: bool = False


def refundable(payment: Payment) -> int:
    """What may still be refunded on ``payment``: captured less refunds asked or made."""
    if payment.state not in (PaymentState.SUCCEEDED, PaymentState.REFUNDED):
        return 0
    return int(payment.amount_minor - payment.refunded_minor)


def _replay(
    earlier: Refund, amount_minor: int, request_id: int | None, trade_in_id: int | None = None
) -> Asked:
    if (earlier.amount_minor, earlier.request_id, earlier.trade_in_id) != (
        amount_minor,
        request_id,
        trade_in_id,
    ):
        raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    return Asked(earlier, replayed=True)


async def ask(
    payment: Payment,
    amount_minor: int,
    *,
    key: str,
    actor: Viewer | None,
    reason: str = "",
    request_id: int | None = None,
    trade_in_id: int | None = None,
) -> Asked:
    """Ask the payment's provider for a refund (for an after-sales request, or to pay a
    trade-in's credit). The caller holds the payment's row lock (``lock_payment``) inside
    its transaction."""
    earlier = await Refund.get_or_none(payment_id=payment.id, idempotency_key=key)
    if earlier is not None:
        return _replay(earlier, amount_minor, request_id, trade_in_id)
    if amount_minor < 1:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("amount",), "at least 1")
    # The check and the hold are one statement: two refunds racing on a payment whose row
    # lock they do not share (SQLite has none) still cannot both pass it.
    held = await Payment.filter(
        id=payment.id,
        state=PaymentState.SUCCEEDED,
        refunded_minor__lte=payment.amount_minor - amount_minor,
    ).update(refunded_minor=F("refunded_minor") + amount_minor)
    if held != 1:
        raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("amount",))
    payment.refunded_minor += amount_minor
    refund = await state.create(
        Refund,
        actor=actor,
        action="requested",
        data={
            "payment_id": payment.id,
            "amount_minor": amount_minor,
            "request_id": request_id,
            "trade_in_id": trade_in_id,
            "reason": reason,
        },
        payment_id=payment.id,
        request_id=request_id,
        trade_in_id=trade_in_id,
        order_id=payment.order_id,
        provider_id=payment.provider_id,
        consumer_id=payment.consumer_id,
        merchant_id=payment.merchant_id,
        amount_minor=amount_minor,
        currency=payment.currency,
        reason=reason,
        idempotency_key=key,
    )
    return Asked(refund)


async def lock_payment(order_id: int) -> Payment | None:
    """The order's captured payment, row-locked; the caller has locked the order."""
    return (
        await Payment.filter(
            order_id=order_id, state__in=(PaymentState.SUCCEEDED, PaymentState.REFUNDED)
        )
        .select_for_update()
        .first()
    )


async def ask_for_request(actor: Viewer | None, request: AfterSalesRequest) -> Asked:
    """Ask the provider to refund an after-sales request's amount; the caller has locked
    the order. The key is the request's and its attempt's: a retry after a failed refund
    asks again, a replay of the same attempt does not."""
    payment = await lock_payment(request.order_id)
    if payment is None:
        raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("requestId",), "nothing captured")
    failed = await Refund.filter(request_id=request.id, state=RefundState.FAILED).count()
    return await ask(
        payment,
        request.amount_minor,
        key=f"after-sales:{request.id}:{failed + 1}",
        actor=actor,
        reason=f"after-sales {request.kind}",
        request_id=request.id,
    )


@retry_on_conflict
async def refund_payment(
    viewer: Viewer,
    payment_id: int,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
    request_id: int | None = None,
) -> Asked:
    """A merchant (its shop's payments) or customer-service staff refund part or all of a
    captured payment, optionally for one of the order's after-sales requests."""
    require(viewer, Action.REFUND_PAYMENT)
    key = validation.text(idempotency_key, "idempotencyKey", min_len=8, max_len=64)
    if ":" in key:
        # The platform's own refunds are keyed "<what>:<id>:…" (an after-sales request, a
        # cancellation, a dispute, a trade-in): a client's key can never take one first.
        raise ServiceError(ErrorCode.INVALID_INPUT, ("idempotencyKey",), "no ':' in a key")
    reason = validation.text(reason, "reason", min_len=2, max_len=200)
    try:
        async with in_transaction():
            payment = await lock_after_order(viewer, Payment, payment_id, "paymentId")
            if request_id is not None:
                earlier = await Refund.get_or_none(payment_id=payment.id, idempotency_key=key)
                if earlier is None:
                    await _check_for_request(viewer, payment, request_id, amount_minor)
            return await ask(
                payment, amount_minor, key=key, actor=viewer, reason=reason, request_id=request_id
            )
    except IntegrityError:
        # The same key raced in from a second request: answer with the refund it made.
        earlier = await Refund.get_or_none(payment_id=payment_id, idempotency_key=key)
        if earlier is None:
            raise
        return _replay(earlier, amount_minor, request_id)


async def _check_for_request(
    viewer: Viewer, payment: Payment, request_id: int, amount_minor: int
) -> None:
    """A refund that settles an after-sales request is for one of its order that is still to
    be refunded, and, with the refunds asked or made for it, at most what it asked."""
    request = await get_visible(viewer, AfterSalesRequest, request_id, "requestId")
    if request.order_id != payment.order_id:
        raise ServiceError(ErrorCode.NOT_FOUND, ("requestId",), "another order's")
    request = await AfterSalesRequest.filter(id=request.id).select_for_update().get()
    if request.state not in REFUNDABLE_REQUEST_STATES:
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), str(request.state))
    live = await Refund.filter(
        request_id=request.id, state__in=(RefundState.REQUESTED, RefundState.SUCCEEDED)
    )
    if amount_minor > request.amount_minor - sum(r.amount_minor for r in live):
        raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("amount",), "above the request's")


@retry_on_conflict
async def confirm_refund(
    viewer: Viewer, refund_id: int, succeeded: bool, provider_reference: str
) -> tuple[Refund, bool]:
    """The payment provider reports a refund done or failed. Like a payment's report, the
    refund id is its idempotency key: the same report again returns the refund as it is
    (second value True); another outcome for a refund already reported is refused."""
    require(viewer, Action.CONFIRM_REFUND)
    reference = validation.text(provider_reference, "providerReference", max_len=100)
    seen = await get_visible(viewer, Refund, refund_id, "refundId")
    async with in_transaction():
        await Order.filter(id=seen.order_id).select_for_update().first()
        if seen.request_id is not None:
            await AfterSalesRequest.filter(id=seen.request_id).select_for_update().first()
        if seen.trade_in_id is not None:
            await TradeIn.filter(id=seen.trade_in_id).select_for_update().first()
        payment = await Payment.filter(id=seen.payment_id).select_for_update().get()
        refund = await lock_visible(viewer, Refund, refund_id, "refundId")
        if refund.state != RefundState.REQUESTED:
            same = (refund.state == RefundState.SUCCEEDED) == succeeded
            if same and refund.provider_reference == reference:
                return refund, True
            raise ServiceError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED, ("refundId",), "reported with another outcome"
            )
        await state.move(
            refund,
            RefundState.SUCCEEDED if succeeded else RefundState.FAILED,
            actor=viewer,
            action="succeeded" if succeeded else "failed",
            field="refundId",
            data={"provider_reference": reference},
            provider_reference=reference,
            settled_at=state.now(),
        )
        if succeeded:
            await _settled(viewer, refund, payment)
        else:
            # The hold goes back: what failed was never paid out.
            await Payment.filter(id=payment.id).update(
                refunded_minor=F("refunded_minor") - refund.amount_minor
            )
    return refund, False


async def _settled(viewer: Viewer, refund: Refund, payment: Payment) -> None:
    made = await Refund.filter(payment_id=payment.id, state=RefundState.SUCCEEDED)
    if sum(r.amount_minor for r in made) == payment.amount_minor:
        await state.move(
            payment,
            PaymentState.REFUNDED,
            actor=viewer,
            action="refunded",
            data={"refund_id": refund.id},
        )
    if refund.trade_in_id is not None:
        await _credited(viewer, refund)
    if refund.request_id is None:
        return
    request = await AfterSalesRequest.get(id=refund.request_id)
    if request.state not in REFUNDABLE_REQUEST_STATES:
        return  # a goodwill refund beside a request carried out another way
    await state.move(
        request,
        AfterSalesState.REFUNDED,
        actor=viewer,
        action="refunded",
        data={"refund_id": refund.id, "amount_minor": refund.amount_minor},
    )
    if request.kind == AfterSalesKind.REFUND_BEFORE_SHIPMENT:
        await release_lines(viewer, request)


async def _credited(viewer: Viewer, refund: Refund) -> None:
    """QS 9.7.5: the refund paid a collected trade-in's credit; the move is a
    compare-and-set under the trade-in's lock, so a trade-in is credited once."""
    trade_in = await TradeIn.get(id=refund.trade_in_id)
    if trade_in.state != TradeInState.COLLECTED:
        return
    await state.move(
        trade_in,
        TradeInState.CREDITED,
        actor=viewer,
        action="credited",
        data={"refund_id": refund.id, "amount_minor": refund.amount_minor},
        credited_at=state.now(),
    )


async def release_lines(actor: Viewer | None, request: AfterSalesRequest) -> None:
    """QS 9.2.3: a refund before shipment cancels the refunded units' reservation and puts
    their stock back; an order with nothing left to ship is cancelled. The caller has just
    moved ``request`` (a compare-and-set), so this runs once per request."""
    claims = await AfterSalesLine.filter(request_id=request.id).order_by("order_line_id")
    lines = {
        line.id: line for line in await OrderLine.filter(id__in=[c.order_line_id for c in claims])
    }
    for claim in claims:
        line = lines[claim.order_line_id]
        await OrderLine.filter(id=line.id).update(
            cancelled_quantity=F("cancelled_quantity") + claim.quantity
        )
        line.cancelled_quantity += claim.quantity
    # Stock in product id order, as placing an order locks it.
    for claim in sorted(claims, key=lambda c: lines[c.order_line_id].product_id):
        product_id = lines[claim.order_line_id].product_id
        await Product.filter(id=product_id).update(stock=F("stock") + claim.quantity)
    order_lines = await OrderLine.filter(order_id=request.order_id)
    remaining = [line for line in order_lines if line.quantity > line.cancelled_quantity]
    order = await Order.get(id=request.order_id)
    if not remaining and order.state == OrderState.PAID:
        await state.move(
            order,
            OrderState.CANCELLED,
            actor=actor,
            action="refunded_before_shipment",
            data={"request_id": request.id},
            cancelled_at=state.now(),
        )
