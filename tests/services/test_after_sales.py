"""After-sales requests under deadlines, on the service (QS 9.1.1, 9.2.1, 9.2.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesRequest,
    AfterSalesState,
    AuditEvent,
    Order,
    OrderState,
    Payment,
    Product,
    Refund,
    RefundState,
)
from pinzhi.services import accounts, after_sales, audit, orders, refunds, rules
from pinzhi.services.after_sales import LineClaim
from tests import factories as f

K = AfterSalesKind
S = AfterSalesState


async def _counts() -> tuple[int, int, int]:
    return (
        await AfterSalesRequest.all().count(),
        await AfterSalesLine.all().count(),
        await AuditEvent.filter(entity_type="AfterSalesRequest").count(),
    )


async def _refused(code: ErrorCode, action) -> ServiceError:
    before = await _counts()
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    assert await _counts() == before
    return raised.value


# --- Opening, and the limit it is held to ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "stage", "hours", "amount"),
    [
        (K.REFUND_BEFORE_SHIPMENT, "paid", 1, 1000),
        (K.RETURN_REFUND, "shipped", 24, 1000),
        (K.REFUND_ONLY, "delivered", 24, 500),
        (K.EXCHANGE, "delivered", 24, 0),
        (K.QUALITY_ISSUE, "delivered", 36, 1000),
        (K.RESHIPMENT, "shipped", 36, 0),
    ],
)
async def test_each_kind_is_due_by_its_rule_from_opening(db, clock, kind, stage, hours, amount):
    """QS 9.2.3: a refund before shipment is answered within 1 hour, a return or refund
    after shipment within 24 hours, a quality problem or re-shipment within 36 hours, in
    calendar time from opening; the request records the rule version it is held to."""
    w = await f.world()
    placed = {
        "paid": lambda: f.paid_order(w),
        "shipped": lambda: f.shipped_order(w),
        "delivered": lambda: f.delivered_order(w),
    }
    order, _ = await placed[stage]()

    request = await f.after_sales_request(w.buyer, order, kind, amount)

    rule = await rules.current("after_sales.response")
    assert request.state == S.REQUESTED
    assert request.response_due_at == clock.at + timedelta(hours=hours)
    assert request.rule_version == rule.version
    trail = await audit.trail("AfterSalesRequest", request.id)
    assert [(e.action, e.to_state) for e in trail] == [("opened", "REQUESTED")]
    assert trail[0].data["rule_version"] == rule.version


async def test_a_published_limit_holds_new_requests_and_not_old_ones(db, clock):
    """QS 5.2, 9.2.3: limits are versioned rules; a request keeps the version it opened under."""
    w = await f.world()
    first_order, _ = await f.paid_order(w)
    second_order, _ = await f.paid_order(w)
    old = await f.after_sales_request(w.buyer, first_order, K.REFUND_BEFORE_SHIPMENT, 1000)
    current = await rules.current("after_sales.response")
    content = {**current.content, "response_hours": {**current.content["response_hours"]}}
    content["response_hours"]["REFUND_BEFORE_SHIPMENT"] = 2
    await rules.publish(
        "after_sales.response", content, title_zh=current.title_zh, title_en=current.title_en
    )

    new = await f.after_sales_request(w.buyer, second_order, K.REFUND_BEFORE_SHIPMENT, 1000)

    assert new.rule_version == current.version + 1
    assert new.response_due_at == clock.at + timedelta(hours=2)
    reread = await AfterSalesRequest.get(id=old.id)
    assert (reread.rule_version, reread.response_due_at) == (
        current.version,
        clock.at + timedelta(hours=1),
    )


async def test_the_first_response_a_second_before_the_limit_is_on_time(db, clock):
    """QS 9.2.3: the boundary, one second before the limit: on time."""
    w = await f.world()
    order, _ = await f.shipped_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    clock.advance(hours=24, seconds=-1)

    answered = await after_sales.respond(w.seller.viewer, request.id, "请寄回，我们会退款")

    assert answered.state == S.RESPONDED
    assert answered.first_response_at == request.response_due_at - timedelta(seconds=1)
    assert answered.first_responder_id == w.seller.account.id
    last = (await audit.trail("AfterSalesRequest", request.id))[-1]
    assert (last.action, last.data["on_time"]) == ("responded", True)


async def test_the_first_response_a_second_after_the_limit_is_late(db, clock):
    """QS 9.2.3: the boundary, one second after the limit: late, and later answers do not
    move the first response."""
    w = await f.world()
    order, _ = await f.shipped_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    clock.advance(hours=24, seconds=1)

    answered = await after_sales.respond(w.seller.viewer, request.id, "抱歉回复晚了")
    clock.advance(minutes=5)
    again = await after_sales.respond(w.seller.viewer, request.id, "补充说明")

    last = (await audit.trail("AfterSalesRequest", request.id))[-2]
    assert last.data["on_time"] is False
    assert again.first_response_at == answered.first_response_at
    assert again.response_note == "补充说明"


async def test_a_consumer_may_escalate_only_once_the_limit_passed_unanswered(db, clock):
    """QS 9.2.1, 9.2.3: a second before the limit the consumer cannot escalate; a second
    after, the request goes to customer service, who then decide it, not the merchant."""
    w = await f.world()
    order, _ = await f.paid_order(w)
    request = await f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1000)
    clock.advance(hours=1, seconds=-1)
    await _refused(
        ErrorCode.NOT_ELIGIBLE, after_sales.escalate(w.buyer.viewer, request.id, "没人理我")
    )
    clock.advance(seconds=2)

    escalated = await after_sales.escalate(w.buyer.viewer, request.id, "没人理我")

    assert escalated.state == S.ESCALATED and escalated.escalated_at == clock.at
    await _refused(
        ErrorCode.NOT_ELIGIBLE, after_sales.decide(w.seller.viewer, request.id, True, "")
    )
    decided = await after_sales.decide(w.agent.viewer, request.id, True, "客服代为同意")
    assert decided.state == S.APPROVED
    assert decided.first_responder_id == w.agent.account.id


# --- Bad input: coded errors, nothing changed ------------------------------------------------


async def test_an_amount_above_what_was_paid_less_refunded_is_refused(db):
    """QS 9.2.3: never above what was paid less what was refunded."""
    w = await f.world()
    order, payment = await f.paid_order(w, quantity=2)  # 2000 paid
    await refunds.refund_payment(w.seller.viewer, payment.id, 1500, "运费补偿", "refund-key-01")
    await _refused(
        ErrorCode.AMOUNT_NOT_REFUNDABLE,
        f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 501),
    )
    request = await f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 500)
    assert request.amount_minor == 500


async def test_an_amount_above_the_claimed_lines_is_refused(db):
    """QS 9.2.3: a request on one unit cannot ask for two units' price."""
    w = await f.world()
    order, _ = await f.paid_order(w, quantity=2)
    line = await order.lines.all().first()
    assert line is not None
    await _refused(
        ErrorCode.AMOUNT_NOT_REFUNDABLE,
        f.after_sales_request(
            w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1001, lines=[LineClaim(line.id, 1)]
        ),
    )


async def test_a_second_open_request_on_the_same_lines_is_refused(db):
    """QS 9.2.3: one open request per line; after a withdrawal the line is free again."""
    w = await f.world()
    order, _ = await f.delivered_order(w)
    first = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    await _refused(
        ErrorCode.REQUEST_EXISTS, f.after_sales_request(w.buyer, order, K.QUALITY_ISSUE, 1000)
    )
    await after_sales.withdraw(w.buyer.viewer, first.id)

    again = await f.after_sales_request(w.buyer, order, K.QUALITY_ISSUE, 1000)

    assert again.state == S.REQUESTED


async def test_a_request_on_someone_elses_order_is_not_found(db):
    """Scoping: another consumer's order is as missing as none."""
    w = await f.world()
    order, _ = await f.paid_order(w)
    await _refused(
        ErrorCode.NOT_FOUND,
        f.after_sales_request(w.other_buyer, order, K.REFUND_BEFORE_SHIPMENT, 100),
    )


@pytest.mark.parametrize(
    ("kind", "stage"),
    [
        (K.REFUND_ONLY, "paid"),
        (K.REFUND_BEFORE_SHIPMENT, "shipped"),
        (K.EXCHANGE, "shipped"),
        (K.RETURN_REFUND, "pending"),
    ],
)
async def test_a_kind_the_orders_state_does_not_allow_is_refused(db, kind, stage):
    """QS 9.2.3: a refund before shipment is for paid orders not yet shipped; returns and
    exchanges follow delivery; nothing is asked of an unpaid order."""
    w = await f.world()
    if stage == "pending":
        order = await f.order(w.buyer, w.item)
    else:
        order, _ = await {"paid": f.paid_order, "shipped": f.shipped_order}[stage](w)
    amount = 0 if kind == K.EXCHANGE else 100
    await _refused(ErrorCode.KIND_NOT_ALLOWED, f.after_sales_request(w.buyer, order, kind, amount))


@pytest.mark.parametrize("kind", [K.RETURN_REFUND, K.REFUND_ONLY])
async def test_a_return_past_the_window_is_refused(db, clock, kind):
    """QS 9.2.3: returns are asked within the rule's window after delivery (7 days); a
    quality issue still may be raised (90 days)."""
    w = await f.world()
    order, _ = await f.delivered_order(w)
    clock.advance(days=7, hours=1)
    await _refused(ErrorCode.KIND_NOT_ALLOWED, f.after_sales_request(w.buyer, order, kind, 100))
    request = await f.after_sales_request(w.buyer, order, K.QUALITY_ISSUE, 100)
    assert request.state == S.REQUESTED


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"reason": ""}, ErrorCode.INVALID_INPUT),
        ({"reason": "坏了\x00"}, ErrorCode.INVALID_INPUT),
        ({"reason": "长" * 201}, ErrorCode.INVALID_INPUT),
        ({"amount_minor": -1}, ErrorCode.INVALID_INPUT),
        ({"amount_minor": 2**63}, ErrorCode.AMOUNT_NOT_REFUNDABLE),
        ({"evidence": ["a b"]}, ErrorCode.INVALID_INPUT),
        ({"evidence": [f"photo/{i}.jpg" for i in range(10)]}, ErrorCode.INVALID_INPUT),
        ({"lines": [LineClaim(None, 1)]}, ErrorCode.NOT_FOUND),
        ({"lines": []}, ErrorCode.INVALID_INPUT),
        ({"lines": [LineClaim(10**6, 1)]}, ErrorCode.NOT_FOUND),
    ],
)
async def test_bad_input_is_coded_and_changes_nothing(db, change, code):
    w = await f.world()
    order, _ = await f.paid_order(w)
    args = {"reason": "不想要了", "amount_minor": 500, "evidence": [], "lines": None, **change}
    await _refused(
        code,
        after_sales.open_request(
            w.buyer.viewer,
            order.id,
            K.REFUND_BEFORE_SHIPMENT,
            args["reason"],
            amount_minor=args["amount_minor"],
            evidence=args["evidence"],
            lines=args["lines"],
        ),
    )


async def test_illegal_moves_are_refused(db):
    """QS 9.1.1: the machine refuses moves it does not have, and a closed request takes
    no answer."""
    w = await f.world()
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    await _refused(ErrorCode.ILLEGAL_TRANSITION, after_sales.close(w.buyer.viewer, request.id))
    await after_sales.decide(w.seller.viewer, request.id, False, "已使用，不支持退货")
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION, after_sales.decide(w.seller.viewer, request.id, True, "")
    )
    await after_sales.close(w.buyer.viewer, request.id)
    await _refused(
        ErrorCode.REQUEST_CLOSED, after_sales.respond(w.seller.viewer, request.id, "再看看")
    )


async def test_a_rejection_needs_a_reason(db):
    w = await f.world()
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    await _refused(
        ErrorCode.INVALID_INPUT, after_sales.decide(w.seller.viewer, request.id, False, "")
    )


async def test_another_merchant_cannot_answer(db):
    w = await f.world()
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    await _refused(
        ErrorCode.NOT_FOUND, after_sales.respond(w.other_seller.viewer, request.id, "不是我的")
    )


# --- A refund before shipment (QS 9.2.3) -----------------------------------------------------


async def test_a_refund_before_shipment_releases_the_lines_once(db):
    """QS 9.2.3: approving asks the provider; its confirmation refunds the request, cancels
    the refunded units' reservation and returns their stock once; a replayed confirmation
    changes nothing more. An order with nothing left to ship is cancelled."""
    w = await f.world()
    order, payment = await f.paid_order(w, quantity=2)
    assert (await Product.get(id=w.item.id)).stock == 98
    request = await f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 2000)

    await after_sales.decide(w.seller.viewer, request.id, True, "同意退款")
    refund = await Refund.get(request_id=request.id)
    assert (refund.state, refund.amount_minor) == (RefundState.REQUESTED, 2000)
    assert (await Product.get(id=w.item.id)).stock == 98  # not before the money is back
    await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, "RF-9")
    await refunds.confirm_refund(w.payer_actor.viewer, refund.id, True, "RF-9")

    assert (await AfterSalesRequest.get(id=request.id)).state == S.REFUNDED
    assert (await Product.get(id=w.item.id)).stock == 100
    line = await order.lines.all().first()
    assert line is not None and line.cancelled_quantity == 2
    assert (await Order.get(id=order.id)).state == OrderState.CANCELLED
    assert (await Payment.get(id=payment.id)).state == "REFUNDED"
    assert (await audit.verify("AfterSalesRequest", request.id)).valid is True


async def test_a_partial_refund_before_shipment_keeps_the_rest_of_the_order(db):
    """QS 9.2.3: one of two units refunded: one unit's stock back, the order still to ship;
    cancelling it later returns only the other unit's stock."""
    w = await f.world()
    order, _ = await f.paid_order(w, quantity=2)
    line = await order.lines.all().first()
    assert line is not None
    request = await f.after_sales_request(
        w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1000, lines=[LineClaim(line.id, 1)]
    )
    await after_sales.decide(w.seller.viewer, request.id, True, "")
    await f.confirm_refunds(w)

    assert (await Product.get(id=w.item.id)).stock == 99
    assert (await Order.get(id=order.id)).state == OrderState.PAID
    await orders.cancel_order(w.buyer.viewer, order.id, "算了")
    assert (await Product.get(id=w.item.id)).stock == 100


async def test_a_failed_refund_can_be_asked_again(db):
    """A refund the provider failed gives its hold back; asking again makes a new refund."""
    w = await f.world()
    order, payment = await f.paid_order(w)
    request = await f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1000)
    await after_sales.decide(w.seller.viewer, request.id, True, "")
    await f.confirm_refunds(w, succeeded=False)
    assert (await Payment.get(id=payment.id)).refunded_minor == 0

    reread = await AfterSalesRequest.get(id=request.id)
    again = await refunds.ask_for_request(w.seller.viewer, reread)

    assert again.replayed is False and again.refund.state == RefundState.REQUESTED
    assert (await Payment.get(id=payment.id)).refunded_minor == 1000


# --- Queue priority (QS 9.2.1) ---------------------------------------------------------------


async def test_accessibility_and_premium_raise_the_priority_by_the_published_weights(db):
    """QS 9.2.1: requests from consumers with an accessibility profile and about
    quality-service products come first; the weights are the after_sales.queue rule."""
    w = await f.world()
    weights = (await rules.current("after_sales.queue")).content["weights"]
    plain_order, _ = await f.delivered_order(w)
    plain = await f.after_sales_request(w.buyer, plain_order, K.RETURN_REFUND, 1000)
    await accounts.set_accessibility_profile(w.buyer.viewer, True)
    helped_order, _ = await f.delivered_order(w)
    helped = await f.after_sales_request(w.buyer, helped_order, K.RETURN_REFUND, 1000)

    assert plain.priority == 0
    assert helped.priority == weights["accessibility"]
    assert helped.accessibility is True


async def test_cancelling_the_order_withdraws_its_waiting_requests(db):
    """A cancellation refunds everything: a refund before shipment still waiting is
    withdrawn (traced), and the stock goes back once."""
    w = await f.world()
    order, payment = await f.paid_order(w)
    request = await f.after_sales_request(w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1000)

    await orders.cancel_order(w.buyer.viewer, order.id, "不要了")

    assert (await AfterSalesRequest.get(id=request.id)).state == S.WITHDRAWN
    assert (await Product.get(id=w.item.id)).stock == 100
    assert (await Payment.get(id=payment.id)).refunded_minor == 1000


async def test_an_order_cannot_be_cancelled_while_its_refund_before_shipment_runs(db):
    """The approved request's refund releases its units itself: cancelling on top of it
    would put their stock back twice. Refused until the refund settles."""
    w = await f.world()
    order, _ = await f.paid_order(w, quantity=2)
    line = await order.lines.all().first()
    assert line is not None
    request = await f.after_sales_request(
        w.buyer, order, K.REFUND_BEFORE_SHIPMENT, 1000, lines=[LineClaim(line.id, 1)]
    )
    await after_sales.decide(w.seller.viewer, request.id, True, "")

    with pytest.raises(ServiceError) as raised:
        await orders.cancel_order(w.buyer.viewer, order.id, "不要了")
    assert raised.value.code == ErrorCode.REQUEST_EXISTS
    await f.confirm_refunds(w)
    await orders.cancel_order(w.buyer.viewer, order.id, "不要了")
    assert (await Product.get(id=w.item.id)).stock == 100


async def test_what_counts_as_a_response_is_the_requests_own_rule_version(db, clock):
    """QS 5.2, 9.2.3: a rule version that no longer counts a bare answer as a response
    (only a decision) holds the requests opened under it; older ones keep theirs."""
    w = await f.world()
    old_order, _ = await f.shipped_order(w)
    old = await f.after_sales_request(w.buyer, old_order, K.RETURN_REFUND, 1000)
    current = await rules.current("after_sales.response")
    await rules.publish(
        "after_sales.response",
        {**current.content, "responses": ["APPROVE", "REJECT"]},
        title_zh=current.title_zh,
        title_en=current.title_en,
    )
    new_order, _ = await f.shipped_order(w)
    new = await f.after_sales_request(w.buyer, new_order, K.RETURN_REFUND, 1000)

    answered_old = await after_sales.respond(w.seller.viewer, old.id, "请稍等")
    answered_new = await after_sales.respond(w.seller.viewer, new.id, "请稍等")

    assert answered_old.first_response_at == clock.at
    assert answered_new.first_response_at is None and answered_new.state == S.RESPONDED
    decided = await after_sales.decide(w.seller.viewer, new.id, True, "")
    assert decided.first_response_at == clock.at
