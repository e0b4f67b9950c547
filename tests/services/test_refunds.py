"""Refunds are money: idempotent, executed by the provider, never above what was captured
(QS 9.2.3, 9.5)."""

from __future__ import annotations

import asyncio
import time

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Payment, PaymentState, Refund, RefundState
from pinzhi.services import audit, refunds
from tests import factories as f

CONCURRENT = 100


async def _totals(payment_id: int) -> tuple[int, int]:
    payment = await Payment.get(id=payment_id)
    live = await Refund.filter(
        payment_id=payment_id, state__in=(RefundState.REQUESTED, RefundState.SUCCEEDED)
    )
    return payment.refunded_minor, sum(r.amount_minor for r in live)


async def test_a_refund_is_asked_then_executed_by_the_provider(db):
    """QS 9.2.3: request → the provider confirms; the payment holds the amount from the
    moment it is asked, and is REFUNDED when refunds reach what was captured."""
    w = await f.world()
    _, payment = await f.paid_order(w)

    asked = await refunds.refund_payment(w.seller.viewer, payment.id, 400, "少发一件", "rf-key-001")
    assert asked.refund.state == RefundState.REQUESTED and asked.replayed is False
    assert await _totals(payment.id) == (400, 400)
    rest = await refunds.refund_payment(w.seller.viewer, payment.id, 600, "整单退", "rf-key-002")
    for refund in (asked.refund, rest.refund):
        await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, f"RF{refund.id}")

    assert (await Payment.get(id=payment.id)).state == PaymentState.REFUNDED
    trail = await audit.trail("Refund", asked.refund.id)
    assert [(e.action, e.to_state) for e in trail] == [
        ("requested", "REQUESTED"),
        ("succeeded", "SUCCEEDED"),
    ]


async def test_a_replayed_key_returns_the_first_refund_and_another_use_is_refused(db):
    """Idempotency: the same key and amount return the first refund (replayed), whatever
    its state; the same key for another amount is IDEMPOTENCY_KEY_REUSED."""
    w = await f.world()
    _, payment = await f.paid_order(w)
    first = await refunds.refund_payment(w.seller.viewer, payment.id, 300, "运费", "rf-key-101")
    await refunds.confirm_refund(w.payer_actor.viewer, first.refund.id, False, "DECLINED")

    again = await refunds.refund_payment(w.seller.viewer, payment.id, 300, "运费", "rf-key-101")

    assert again.replayed is True and again.refund.id == first.refund.id
    assert again.refund.state == RefundState.FAILED
    with pytest.raises(ServiceError) as raised:
        await refunds.refund_payment(w.seller.viewer, payment.id, 301, "运费", "rf-key-101")
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert await Refund.all().count() == 1


async def test_a_report_contradicting_the_first_is_refused(db):
    w = await f.world()
    _, payment = await f.paid_order(w)
    asked = await refunds.refund_payment(w.seller.viewer, payment.id, 300, "运费", "rf-key-201")
    await refunds.confirm_refund(w.payer_actor.viewer, asked.refund.id, True, "RF-A")

    replay, replayed = await refunds.confirm_refund(
        w.payer_actor.viewer, asked.refund.id, True, "RF-A"
    )
    assert replayed is True and replay.state == RefundState.SUCCEEDED
    with pytest.raises(ServiceError) as raised:
        await refunds.confirm_refund(w.payer_actor.viewer, asked.refund.id, False, "RF-A")
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED


@pytest.mark.parametrize("amount", [0, -5, 1001, 2**62])
async def test_an_amount_outside_what_is_refundable_is_refused(db, amount):
    w = await f.world()
    _, payment = await f.paid_order(w)
    events = await AuditEvent.all().count()
    with pytest.raises(ServiceError) as raised:
        await refunds.refund_payment(w.seller.viewer, payment.id, amount, "退款", "rf-key-301")
    assert raised.value.code in (ErrorCode.INVALID_INPUT, ErrorCode.AMOUNT_NOT_REFUNDABLE)
    assert await Refund.all().count() == 0
    assert await AuditEvent.all().count() == events
    assert (await Payment.get(id=payment.id)).refunded_minor == 0


async def test_only_its_parties_refund_a_payment(db):
    """Scoping: another shop's merchant cannot refund this payment; another payment
    provider cannot confirm its refund."""
    w = await f.world()
    _, payment = await f.paid_order(w)
    with pytest.raises(ServiceError) as raised:
        await refunds.refund_payment(w.other_seller.viewer, payment.id, 100, "退款", "rf-key-401")
    assert raised.value.code == ErrorCode.NOT_FOUND
    asked = await refunds.refund_payment(w.seller.viewer, payment.id, 100, "退款", "rf-key-402")
    _, other_payer, _ = await f.provider(w.payer.kind)
    with pytest.raises(ServiceError) as raised:
        await refunds.confirm_refund(other_payer.viewer, asked.refund.id, True, "RF")
    assert raised.value.code == ErrorCode.NOT_FOUND


async def test_a_hundred_concurrent_refunds_never_exceed_what_was_captured(db):
    """QS 9.2.3, 9.5: a hundred refunds of 30 fen each on a 1,000-fen payment at once:
    exactly 33 are asked, the rest refused AMOUNT_NOT_REFUNDABLE, and the payment's hold
    equals the refunds asked. On PostgreSQL the payment's row lock contends for real."""
    w = await f.world()
    _, payment = await f.paid_order(w)
    started = time.perf_counter()

    results = await asyncio.gather(
        *(
            refunds.refund_payment(w.seller.viewer, payment.id, 30, "并发退款", f"rf-race-{n:04d}")
            for n in range(CONCURRENT)
        ),
        return_exceptions=True,
    )

    elapsed = time.perf_counter() - started
    asked = [r for r in results if isinstance(r, refunds.Asked)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(asked) == 33, (len(asked), refused[:3])
    assert all(
        isinstance(r, ServiceError) and r.code == ErrorCode.AMOUNT_NOT_REFUNDABLE for r in refused
    ), refused[:3]
    assert await _totals(payment.id) == (990, 990)
    print(f"\n{CONCURRENT} concurrent refunds: {len(asked)} asked in {elapsed:.2f} s")


async def test_a_client_key_cannot_take_a_key_the_platform_derives(db):
    """The platform keys its own refunds "after-sales:<id>:<attempt>", "cancel:<id>", …: a
    merchant's key with a colon is refused, so the request's own refund is never blocked."""
    w = await f.world()
    _, payment = await f.paid_order(w)
    with pytest.raises(ServiceError) as raised:
        await refunds.refund_payment(w.seller.viewer, payment.id, 100, "抢先", "cancel:1:x")
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert await Refund.all().count() == 0


async def test_a_refund_for_a_request_stays_within_what_the_request_asked(db):
    """QS 9.2.3: a refund naming an after-sales request is for a request still to be refunded,
    and never above what it asked less the refunds asked or made for it."""
    from pinzhi.models import AfterSalesKind
    from pinzhi.services import after_sales

    w = await f.world()
    order, payment = await f.paid_order(w, quantity=3)
    request = await f.after_sales_request(
        w.buyer, order, AfterSalesKind.REFUND_BEFORE_SHIPMENT, 1000
    )
    with pytest.raises(ServiceError) as raised:  # not approved yet
        await refunds.refund_payment(
            w.seller.viewer, payment.id, 100, "部分退款", "rq-early-01", request.id
        )
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    await after_sales.decide(w.seller.viewer, request.id, True, "")  # asks 1000 itself
    with pytest.raises(ServiceError) as raised:
        await refunds.refund_payment(
            w.seller.viewer, payment.id, 1, "多退一分", "rq-over-01", request.id
        )
    assert raised.value.code == ErrorCode.AMOUNT_NOT_REFUNDABLE
    await f.confirm_refunds(w)
    with pytest.raises(ServiceError) as raised:  # refunded already
        await refunds.refund_payment(
            w.seller.viewer, payment.id, 100, "再退", "rq-done-01", request.id
        )
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert await Refund.filter(request_id=request.id).count() == 1
