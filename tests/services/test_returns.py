"""Returns, replacements and premium after-sales for quality products (QS 9.2.3,
9.7.3, 9.7.4, 9.7.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AfterSalesRequest,
    AfterSalesState,
    Product,
    Refund,
    RefundState,
    ReturnShipment,
    ShipmentState,
)
from pinzhi.services import after_sales, audit, logistics, returns, rules
from tests import factories as f

K = AfterSalesKind
S = AfterSalesState


async def _graded(product: Product, level: str) -> None:
    await Product.filter(id=product.id).update(grade_level=level)


async def _scan(w: f.World, shipment: ReturnShipment, status: ShipmentState, n: int = 1) -> None:
    await logistics.record_tracking_event(
        w.carrier_actor.viewer,
        shipment.id,
        f"RT-EV-{shipment.id}-{n}",
        status,
        datetime.now(UTC),
        returning=True,
    )


async def test_a_premium_return_is_approved_at_once_picked_up_free_and_refunded_at_pickup(db):
    """QS 9.7.3, 9.7.4, 9.7.5: a return of an A+ product within the fast-review limit is
    approved by the platform when opened, the platform books the delivering carrier for a
    free pick-up, and the carrier's pick-up scan asks for the refund there and then."""
    w = await f.world()
    await _graded(w.item, "A+")
    order, delivery = await f.delivered_order(w)

    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)

    premium = await rules.current("after_sales.premium")
    assert request.premium is True and request.product_level == "A+"
    assert request.premium_rule_version == premium.version
    assert set(request.benefits) >= {"FREE_PICKUP", "FAST_REVIEW", "INSTANT_REFUND", "PRIORITY"}
    assert request.state == S.APPROVED and request.first_response_at is not None
    trail = await audit.trail("AfterSalesRequest", request.id)
    assert [e.action for e in trail] == ["opened", "auto_approved"]
    assert trail[1].actor_id is None  # the platform's decision
    pickup = await ReturnShipment.get(request_id=request.id)
    assert pickup.platform_pickup is True and pickup.provider_id == delivery.provider_id

    await _scan(w, pickup, ShipmentState.IN_TRANSIT)

    assert (await AfterSalesRequest.get(id=request.id)).state == S.RETURN_IN_TRANSIT
    refund = await Refund.get(request_id=request.id)
    assert (refund.state, refund.amount_minor) == (RefundState.REQUESTED, 1000)
    await f.confirm_refunds(w)
    assert (await AfterSalesRequest.get(id=request.id)).state == S.REFUNDED
    await _scan(w, pickup, ShipmentState.DELIVERED, 2)  # the goods arrive later
    assert (await ReturnShipment.get(id=pickup.id)).state == ShipmentState.DELIVERED
    assert await Refund.filter(request_id=request.id).count() == 1


async def test_a_request_above_the_fast_review_limit_waits_for_the_merchant(db):
    """QS 9.7.4: only requests within the published limits are approved automatically."""
    w = await f.world()
    expensive = await f.product(w.shop, stock=5, price=60000)
    await _graded(expensive, "A")
    placed = await f.order(w.buyer, expensive)
    await f.pay(w, placed)
    order, _ = await f.deliver(w, placed)

    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 60000)

    assert request.premium is True and "FAST_REVIEW" not in request.benefits
    assert request.state == S.REQUESTED


async def test_products_below_the_premium_levels_earn_no_benefits(db):
    """QS 9.7.3: eligibility is the grade's, decided at opening; a B product earns none."""
    w = await f.world()
    await _graded(w.item, "B")
    order, _ = await f.delivered_order(w)

    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)

    assert (request.premium, request.benefits, request.priority) == (False, [], 0)
    assert request.state == S.REQUESTED
    assert not await ReturnShipment.filter(request_id=request.id).exists()


async def test_eligibility_is_kept_when_the_grade_later_falls(db):
    """QS 9.7.3: decided when the request opens, recorded with its rule version."""
    w = await f.world()
    await _graded(w.item, "A+")
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.EXCHANGE, 0)
    await _graded(w.item, "D")

    reread = await AfterSalesRequest.get(id=request.id)

    assert reread.premium is True and "FREE_PICKUP" in reread.benefits


async def test_premium_products_have_a_longer_return_window(db, clock):
    """QS 9.7.5: ten days after delivery a refund without return is refused for an
    ordinary product (7-day window) and accepted for a premium one (15 days)."""
    w = await f.world()
    plain_item = await f.product(w.shop, stock=5)
    placed = await f.order(w.buyer, plain_item)
    await f.pay(w, placed)
    plain, _ = await f.deliver(w, placed)
    await _graded(w.item, "A+")
    premium, _ = await f.delivered_order(w)
    clock.advance(days=10)

    with pytest.raises(ServiceError) as raised:
        await f.after_sales_request(w.buyer, plain, K.REFUND_ONLY, 500)
    assert raised.value.code == ErrorCode.KIND_NOT_ALLOWED
    request = await f.after_sales_request(w.buyer, premium, K.REFUND_ONLY, 500)
    assert "EXTENDED_RETURN_WINDOW" in request.benefits


async def test_premium_requests_are_prioritised(db):
    """QS 9.2.1, 9.7.5: priority handling, by the queue rule's weight."""
    w = await f.world()
    await _graded(w.item, "A")
    order, _ = await f.delivered_order(w)
    weights = (await rules.current("after_sales.queue")).content["weights"]

    request = await f.after_sales_request(w.buyer, order, K.QUALITY_ISSUE, 0)

    assert request.priority == weights["premium"]
    assert "REPLACE_NOT_REPAIR" in request.benefits


async def test_an_exchange_goes_back_then_a_replacement_goes_out(db):
    """QS 9.2.3: approved → the consumer ships it back → the merchant confirms receipt →
    ships the replacement → exchanged → closed; every step traced."""
    w = await f.world()
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.EXCHANGE, 0)
    await after_sales.decide(w.seller.viewer, request.id, True, "请寄回换货")

    back = await returns.ship_return(w.buyer.viewer, request.id, w.carrier.id, "RTSF00001")
    assert back.replacement is False and back.platform_pickup is False
    await _scan(w, back, ShipmentState.DELIVERED)
    await returns.confirm_received(w.seller.viewer, request.id)
    out = await returns.ship_replacement(w.seller.viewer, request.id, w.carrier.id, "RSSF00001")
    closed = await after_sales.close(w.buyer.viewer, request.id)

    assert out.replacement is True
    assert closed.state == S.CLOSED and closed.closed_at is not None
    assert not await Refund.filter(request_id=request.id).exists()
    actions = [e.action for e in await audit.trail("AfterSalesRequest", request.id)]
    assert actions == [
        "opened",
        "approved",
        "return_shipped",
        "return_received",
        "replacement_shipped",
        "closed",
    ]


async def test_a_return_refund_is_refunded_after_the_goods_come_back(db):
    w = await f.world()
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    await after_sales.decide(w.seller.viewer, request.id, True, "")
    await returns.ship_return(w.buyer.viewer, request.id, w.carrier.id, "RTSF00002")
    assert not await Refund.filter(request_id=request.id).exists()

    await returns.confirm_received(w.seller.viewer, request.id)
    await f.confirm_refunds(w)

    assert (await AfterSalesRequest.get(id=request.id)).state == S.REFUNDED


async def test_a_reshipment_goes_out_once_approved(db):
    w = await f.world()
    order, _ = await f.shipped_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RESHIPMENT, 0)
    with pytest.raises(ServiceError) as raised:
        await returns.ship_replacement(w.seller.viewer, request.id, w.carrier.id, "RSSF00002")
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    await after_sales.decide(w.seller.viewer, request.id, True, "补发")

    await returns.ship_replacement(w.seller.viewer, request.id, w.carrier.id, "RSSF00002")

    assert (await AfterSalesRequest.get(id=request.id)).state == S.RESHIPPED


async def test_nothing_is_returned_for_a_refund_only_or_twice(db):
    w = await f.world()
    order, _ = await f.delivered_order(w)
    only = await f.after_sales_request(w.buyer, order, K.REFUND_ONLY, 100)
    await after_sales.decide(w.seller.viewer, only.id, True, "")
    with pytest.raises(ServiceError) as raised:
        await returns.ship_return(w.buyer.viewer, only.id, w.carrier.id, "RTSF00003")
    assert raised.value.code == ErrorCode.KIND_NOT_ALLOWED


async def test_only_the_assigned_carrier_records_a_returns_events(db):
    """Scoping: another carrier's event on this return is NOT_FOUND and changes nothing."""
    w = await f.world()
    await _graded(w.item, "A+")
    order, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, order, K.RETURN_REFUND, 1000)
    pickup = await ReturnShipment.get(request_id=request.id)
    other = await f.provider_actor(w.other_carrier)

    with pytest.raises(ServiceError) as raised:
        await logistics.record_tracking_event(
            other.viewer,
            pickup.id,
            "OTHER-1",
            ShipmentState.IN_TRANSIT,
            datetime.now(UTC) - timedelta(minutes=1),
            returning=True,
        )
    assert raised.value.code == ErrorCode.NOT_FOUND
    assert (await AfterSalesRequest.get(id=request.id)).state == S.APPROVED
