"""Paying for orders and confirming payments, called on the service directly (QS 9.1.1)."""

from __future__ import annotations

import asyncio

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AuditEvent,
    Order,
    OrderState,
    Payment,
    PaymentState,
    Product,
    ProviderKind,
    Refund,
    RefundState,
)
from pinzhi.services import audit, orders, payments, refunds
from tests import factories as f


async def _counts() -> tuple[int, int]:
    return await Payment.all().count(), await AuditEvent.filter(entity_type="Payment").count()


async def test_pay_order_creates_one_pending_payment(db) -> None:
    """QS 9.1.1: a payment starts PENDING for the order's amount and is traced."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item, 3)

    payment, created = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-0001")

    assert created is True
    assert payment.state == PaymentState.PENDING
    assert payment.amount_minor == 3000 and payment.currency == "CNY"
    assert payment.order_id == placed.id and payment.provider_id == w.payer.id
    assert (await Order.get(id=placed.id)).state == OrderState.PENDING_PAYMENT
    trail = await audit.trail("Payment", payment.id)
    assert [(e.action, e.to_state) for e in trail] == [("created", "PENDING")]


async def test_same_key_returns_the_same_payment(db) -> None:
    """QS 9.1.1: payOrder is idempotent on the consumer's key: one row, created False."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    first, created = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-same-1")
    assert created is True

    again, created_again = await payments.pay_order(
        w.buyer.viewer, placed.id, w.payer.id, "key-same-1"
    )

    assert created_again is False
    assert again.id == first.id and again.state == PaymentState.PENDING
    assert await _counts() == (1, 1)


async def test_same_key_for_another_order_is_refused(db) -> None:
    """QS 9.1.1: an idempotency key belongs to one order."""
    w = await f.world()
    one = await f.order(w.buyer, w.item)
    two = await f.order(w.buyer, w.item)
    await payments.pay_order(w.buyer.viewer, one.id, w.payer.id, "key-shared")

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, two.id, w.payer.id, "key-shared")

    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert raised.value.field == ["idempotencyKey"]
    assert await Payment.filter(order_id=two.id).count() == 0
    assert await _counts() == (1, 1)


async def test_keys_are_per_consumer(db) -> None:
    """QS 9.1.1: another consumer's key of the same text does not collide."""
    w = await f.world()
    mine = await f.order(w.buyer, w.item)
    theirs = await f.order(w.other_buyer, w.item)
    await payments.pay_order(w.buyer.viewer, mine.id, w.payer.id, "key-common")

    payment, created = await payments.pay_order(
        w.other_buyer.viewer, theirs.id, w.payer.id, "key-common"
    )

    assert created is True and payment.order_id == theirs.id


async def test_paying_twice_after_success_is_already_paid(db) -> None:
    """QS 9.1.1: a paid order takes no second payment."""
    w = await f.world()
    paid, _ = await f.paid_order(w)
    before = await _counts()

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, paid.id, w.payer.id, "key-second")

    assert raised.value.code == ErrorCode.ALREADY_PAID
    assert raised.value.field == ["orderId"]
    assert await _counts() == before


async def test_second_key_while_one_is_pending_is_in_progress(db) -> None:
    """QS 9.1.1: one pending payment per order at a time."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-first-1")

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-other-2")

    assert raised.value.code == ErrorCode.PAYMENT_IN_PROGRESS
    assert await _counts() == (1, 1)


async def test_paying_someone_elses_order_is_not_found(db) -> None:
    """QS 9.1.1: another consumer's order is out of scope; nothing is created."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.other_buyer.viewer, placed.id, w.payer.id, "key-stranger")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.field == ["orderId"]
    assert await _counts() == (0, 0)
    # The key was not consumed: the intruder can still use it for its own order.
    own = await f.order(w.other_buyer, w.item)
    _, created = await payments.pay_order(w.other_buyer.viewer, own.id, w.payer.id, "key-stranger")
    assert created is True


async def test_logistics_provider_cannot_take_payments(db) -> None:
    """QS 9.1.1: the provider must be of kind PAYMENT."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, placed.id, w.carrier.id, "key-carrier")

    assert raised.value.code == ErrorCode.WRONG_PROVIDER_KIND
    assert raised.value.field == ["providerId"]
    assert await _counts() == (0, 0)


@pytest.mark.parametrize("provider_id", [None, 424242])
async def test_unknown_provider_is_not_found(db, provider_id: int | None) -> None:
    """QS 9.1.1: a missing provider is NOT_FOUND on providerId."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, placed.id, provider_id, "key-nobody")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.field == ["providerId"]
    assert await _counts() == (0, 0)


@pytest.mark.parametrize("key", ["", "short", "x" * 65])
async def test_bad_idempotency_key_is_refused(db, key: str) -> None:
    """QS 9.1.1: the key is 8–64 characters."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ServiceError) as raised:
        await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, key)

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.field == ["idempotencyKey"]
    assert await _counts() == (0, 0)


async def test_confirm_marks_the_order_paid(db) -> None:
    """QS 9.1.1, 9.1.2: success moves payment and order, each traced."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-confirm")

    confirmed, replayed = await payments.confirm_payment(
        w.payer_actor.viewer, payment.id, True, "SP-77"
    )

    assert confirmed.state == PaymentState.SUCCEEDED and replayed is False
    stored = await Payment.get(id=payment.id)
    assert stored.state == PaymentState.SUCCEEDED and stored.provider_reference == "SP-77"
    order = await Order.get(id=placed.id)
    assert order.state == OrderState.PAID and order.paid_at is not None
    assert [e.action for e in await audit.trail("Payment", payment.id)] == ["created", "confirmed"]
    assert [e.action for e in await audit.trail("Order", placed.id)] == ["placed", "paid"]


async def test_confirm_by_another_payment_provider_is_not_found(db) -> None:
    """QS 9.1.1: only the payment's own provider may report its outcome."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-foreign")
    _, stranger, _ = await f.provider(ProviderKind.PAYMENT)

    with pytest.raises(ServiceError) as raised:
        await payments.confirm_payment(stranger.viewer, payment.id, True, "SP-X")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.field == ["paymentId"]
    assert (await Payment.get(id=payment.id)).state == PaymentState.PENDING
    assert (await Order.get(id=placed.id)).state == OrderState.PENDING_PAYMENT


async def test_logistics_provider_cannot_confirm_payments(db) -> None:
    """QS 9.1.1: confirming is for payment providers only."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-logist")

    with pytest.raises(ServiceError) as raised:
        await payments.confirm_payment(w.carrier_actor.viewer, payment.id, True, "SP-X")

    assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    assert (await Payment.get(id=payment.id)).state == PaymentState.PENDING


async def test_a_retried_confirmation_is_a_replay_and_a_contradicting_one_refused(db) -> None:
    """QS 9.1.1, 9.6.2: the payment id is the report's idempotency key. The provider's retry
    (same outcome, same reference) returns the payment unchanged, marked as a replay; a
    report with another outcome or reference is IDEMPOTENCY_KEY_REUSED, and nothing moves."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-twice-1")
    await payments.confirm_payment(w.payer_actor.viewer, payment.id, True, "SP-1")

    again, replayed = await payments.confirm_payment(w.payer_actor.viewer, payment.id, True, "SP-1")
    assert replayed is True and again.state == PaymentState.SUCCEEDED
    for succeeded, reference in ((True, "SP-2"), (False, "SP-1"), (False, "SP-2")):
        with pytest.raises(ServiceError) as raised:
            await payments.confirm_payment(w.payer_actor.viewer, payment.id, succeeded, reference)
        assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
        assert raised.value.field == ["paymentId"]

    stored = await Payment.get(id=payment.id)
    assert stored.state == PaymentState.SUCCEEDED and stored.provider_reference == "SP-1"
    assert await AuditEvent.filter(entity_type="Payment", entity_id=payment.id).count() == 2
    assert await AuditEvent.filter(entity_type="Order", entity_id=placed.id).count() == 2


async def test_failed_payment_leaves_order_pending_and_allows_a_new_attempt(db) -> None:
    """QS 9.1.1: a failed payment is final for itself only."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    first, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-fail-01")

    failed, _ = await payments.confirm_payment(w.payer_actor.viewer, first.id, False, "DECLINED")

    assert failed.state == PaymentState.FAILED
    order = await Order.get(id=placed.id)
    assert order.state == OrderState.PENDING_PAYMENT and order.paid_at is None
    # Replaying the failed attempt's key returns it unchanged.
    replay, created = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-fail-01")
    assert created is False and replay.id == first.id and replay.state == PaymentState.FAILED

    second, created = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-fail-02")
    assert created is True and second.id != first.id
    await payments.confirm_payment(w.payer_actor.viewer, second.id, True, "OK-2")
    assert (await Order.get(id=placed.id)).state == OrderState.PAID


async def test_cancelling_a_paid_order_refunds_the_payment(db) -> None:
    """QS 9.1.1: cancel before shipment asks the payment provider to refund what was
    captured and restores stock; the payment is REFUNDED once the provider confirms."""
    w = await f.world()
    paid, payment = await f.paid_order(w, quantity=2)
    assert (await Product.get(id=w.item.id)).stock == 98

    await orders.cancel_order(w.buyer.viewer, paid.id, "no longer needed")

    assert (await Order.get(id=paid.id)).state == OrderState.CANCELLED
    assert (await Product.get(id=w.item.id)).stock == 100
    held = await Payment.get(id=payment.id)
    assert held.state == PaymentState.SUCCEEDED and held.refunded_minor == 2000
    refund = await Refund.get(payment_id=payment.id)
    assert (refund.state, refund.amount_minor) == (RefundState.REQUESTED, 2000)

    await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, "RF-1")

    assert (await Payment.get(id=payment.id)).state == PaymentState.REFUNDED
    trail = await audit.trail("Payment", payment.id)
    assert [(e.action, e.from_state, e.to_state) for e in trail] == [
        ("created", "", "PENDING"),
        ("confirmed", "PENDING", "SUCCEEDED"),
        ("refunded", "SUCCEEDED", "REFUNDED"),
    ]
    assert (await audit.verify("Payment", payment.id)).valid is True
    assert (await audit.verify("Refund", refund.id)).valid is True


async def test_cancelling_with_a_pending_payment_fails_it(db) -> None:
    """QS 9.1.1: a pending payment of a cancelled order can no longer succeed."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-pend-1")

    await orders.cancel_order(w.buyer.viewer, placed.id)

    assert (await Payment.get(id=payment.id)).state == PaymentState.FAILED
    with pytest.raises(ServiceError) as raised:
        await payments.confirm_payment(w.payer_actor.viewer, payment.id, True, "LATE")
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert (await Order.get(id=placed.id)).state == OrderState.CANCELLED


async def test_same_key_racing_in_twice_gives_one_payment(db) -> None:
    """QS 9.1.1: a client's retry that arrives while the first request is still running is
    answered as a replay (created False), not refused as a second payment."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    results = await asyncio.gather(
        payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-retry-1"),
        payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-retry-1"),
        return_exceptions=True,
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].id == results[1][0].id
    assert await _counts() == (1, 1)


async def test_two_keys_racing_give_one_pending_payment(db) -> None:
    """QS 9.1.1: two different keys at once: one payment, the other PAYMENT_IN_PROGRESS."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    results = await asyncio.gather(
        payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-race-a"),
        payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-race-b"),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ServiceError)
    assert refused[0].code == ErrorCode.PAYMENT_IN_PROGRESS
    assert await _counts() == (1, 1)


async def test_confirmation_racing_a_cancellation_never_deadlocks(db) -> None:
    """QS 9.1.1: the provider confirming while the consumer cancels: either the payment
    succeeds and a refund of it is asked, or it is failed and the late confirmation refused. Never a
    database error (both take the order lock first). Repeated, as the race is timing."""
    w = await f.world()
    for round_ in range(6):
        placed = await f.order(w.buyer, w.item, 2)
        payment, _ = await payments.pay_order(
            w.buyer.viewer, placed.id, w.payer.id, f"key-dead-{round_}"
        )

        confirmed, cancelled = await asyncio.gather(
            payments.confirm_payment(w.payer_actor.viewer, payment.id, True, "SP-R"),
            orders.cancel_order(w.buyer.viewer, placed.id, "race"),
            return_exceptions=True,
        )

        assert isinstance(cancelled, Order), cancelled
        assert (await Order.get(id=placed.id)).state == OrderState.CANCELLED
        settled = (await Payment.get(id=payment.id)).state
        if isinstance(confirmed, tuple):
            assert settled == PaymentState.SUCCEEDED
            refund = await Refund.get(payment_id=payment.id)
            assert refund.amount_minor == 2000 and refund.state == RefundState.REQUESTED
        else:
            assert isinstance(confirmed, ServiceError), repr(confirmed)
            assert confirmed.code == ErrorCode.ILLEGAL_TRANSITION
            assert settled == PaymentState.FAILED
        assert (await audit.verify("Order", placed.id)).valid is True
        assert (await audit.verify("Payment", payment.id)).valid is True
    assert (await Product.get(id=w.item.id)).stock == 100
