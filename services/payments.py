"""Paying for orders and confirming payments (QS 9.1.1, 9.5)."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Order,
    OrderState,
    Payment,
    PaymentState,
    ProviderKind,
    ServiceProvider,
)
from pinzhi.services import state, validation
from pinzhi.services.lookup import lock_after_order, lock_visible
from pinzhi.services.transactions import retry_on_conflict


@retry_on_conflict
async def pay_order(
    viewer: Viewer, order_id: int | None, provider_id: int | None, idempotency_key: str
) -> tuple[Payment, bool]:
    """Create a pending payment. Returns the payment and whether it was created now; the
    same idempotency key for the same order returns the first payment unchanged."""
    require(viewer, Action.PAY_ORDER)
    key = validation.text(idempotency_key, "idempotencyKey", min_len=8, max_len=64)
    earlier = await Payment.get_or_none(consumer_id=viewer.account_id, idempotency_key=key)
    if earlier is not None:
        return _replay(earlier, order_id, provider_id), False
    if order_id is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("orderId",))
    provider = None if provider_id is None else await ServiceProvider.get_or_none(id=provider_id)
    if provider is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("providerId",))
    if provider.kind != ProviderKind.PAYMENT:
        raise ServiceError(ErrorCode.WRONG_PROVIDER_KIND, ("providerId",))
    try:
        async with in_transaction():
            order = await lock_visible(viewer, Order, order_id, "orderId")
            # A retry with the same key that waited on the order lock: answer as a replay.
            raced = await Payment.get_or_none(consumer_id=viewer.account_id, idempotency_key=key)
            if raced is not None:
                return _replay(raced, order.id, provider.id), False
            if order.state != OrderState.PENDING_PAYMENT:
                code = (
                    ErrorCode.ALREADY_PAID
                    if order.paid_at is not None and order.state != OrderState.CANCELLED
                    else ErrorCode.ILLEGAL_TRANSITION
                )
                raise ServiceError(code, ("orderId",), str(order.state))
            if await Payment.filter(order_id=order.id, state=PaymentState.PENDING).exists():
                raise ServiceError(ErrorCode.PAYMENT_IN_PROGRESS, ("orderId",))
            payment = await state.create(
                Payment,
                actor=viewer,
                action="created",
                data={"order_id": order.id, "amount_minor": order.total_minor},
                order_id=order.id,
                provider_id=provider.id,
                consumer_id=order.consumer_id,
                merchant_id=order.merchant_id,
                amount_minor=order.total_minor,
                currency=order.currency,
                idempotency_key=key,
            )
    except IntegrityError:
        # The same key raced in from a second request: answer with the payment it made.
        earlier = await Payment.get_or_none(consumer_id=viewer.account_id, idempotency_key=key)
        if earlier is None:
            raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",)) from None
        return _replay(earlier, order_id, provider_id), False
    return payment, True


def _replay(earlier: Payment, order_id: int | None, provider_id: int | None) -> Payment:
    """The payment an earlier request with the same key made, if this request is its retry:
    the same key for another order or provider is refused."""
    if earlier.order_id != order_id or earlier.provider_id != provider_id:
        raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    return earlier


@retry_on_conflict
async def confirm_payment(
    viewer: Viewer, payment_id: int, succeeded: bool, provider_reference: str
) -> tuple[Payment, bool]:
    """The payment provider reports the outcome; success marks the order paid. The payment
    id is the report's idempotency key: a retry with the same outcome and reference returns
    the payment as it is (second value True, a replay); another outcome or reference for a
    payment already reported is refused (IDEMPOTENCY_KEY_REUSED)."""
    require(viewer, Action.CONFIRM_PAYMENT)
    reference = validation.text(provider_reference, "providerReference", max_len=100)
    async with in_transaction():
        # The order before the payment, as cancel_order locks them, so a confirmation
        # racing a cancellation cannot deadlock.
        payment = await lock_after_order(viewer, Payment, payment_id, "paymentId")
        if payment.confirmed_succeeded is not None:
            if payment.confirmed_succeeded == succeeded and payment.provider_reference == reference:
                return payment, True
            raise ServiceError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED, ("paymentId",), "reported with another outcome"
            )
        target = PaymentState.SUCCEEDED if succeeded else PaymentState.FAILED
        await state.move(
            payment,
            target,
            actor=viewer,
            action="confirmed" if succeeded else "failed",
            field="paymentId",
            data={"provider_reference": reference},
            provider_reference=reference,
            confirmed_succeeded=succeeded,
        )
        if succeeded:
            order = await Order.filter(id=payment.order_id).select_for_update().get()
            await state.move(
                order,
                OrderState.PAID,
                actor=viewer,
                action="paid",
                field="paymentId",
                data={"payment_id": payment.id},
                paid_at=state.now(),
            )
    return payment, False
