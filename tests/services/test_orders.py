"""Placing, cancelling and completing orders, called on the service directly (QS 9.1.1)."""

from __future__ import annotations

import asyncio

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Order, OrderLine, OrderState, Product
from pinzhi.services import audit, orders
from pinzhi.services.orders import LineInput, Recipient
from tests import factories as f


async def _snapshot() -> tuple[int, int, int, list[tuple[int, int]]]:
    """Orders, order lines, audit events and every product's stock: what a refusal keeps."""
    stock = await Product.all().order_by("id").values_list("id", "stock")
    return (
        await Order.all().count(),
        await OrderLine.all().count(),
        await AuditEvent.all().count(),
        [tuple(row) for row in stock],
    )


async def _refused(viewer, lines, recipient=f.RECIPIENT) -> ServiceError:  # type: ignore[no-untyped-def]
    before = await _snapshot()
    with pytest.raises(ServiceError) as raised:
        await orders.place_order(viewer, lines, recipient)
    assert await _snapshot() == before, "a refused order must change nothing"
    return raised.value


async def test_place_order_reserves_stock_and_records_the_placement(db) -> None:
    """QS 9.1.1: placing an order reserves the stock and traces the key node."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5, price=1250)

    placed = (await orders.place_order(buyer.viewer, [LineInput(item.id, 3)], f.RECIPIENT)).order

    assert placed.state == OrderState.PENDING_PAYMENT
    assert placed.total_minor == 3750 and placed.currency == "CNY"
    assert placed.consumer_id == buyer.account.id and placed.merchant_id == shop.id
    assert (await Product.get(id=item.id)).stock == 2
    lines = await OrderLine.filter(order_id=placed.id).values_list(
        "product_id", "quantity", "unit_price_minor"
    )
    assert [tuple(row) for row in lines] == [(item.id, 3, 1250)]
    trail = await audit.trail("Order", placed.id)
    assert [(e.seq, e.action, e.to_state) for e in trail] == [(1, "placed", "PENDING_PAYMENT")]
    assert trail[0].data["lines"] == [[item.id, 3]]


@pytest.mark.parametrize("quantity", [0, -1, 1000, 10**9])
async def test_quantity_out_of_range_is_refused(db, quantity: int) -> None:
    """QS 9.1.1: quantities outside 1..999 (rule order.limits) are refused, field named."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=10**9 + 5)

    error = await _refused(buyer.viewer, [LineInput(item.id, quantity)])

    assert error.code == ErrorCode.INVALID_QUANTITY
    assert error.field == ["lines", "0", "quantity"]


async def test_quantity_at_the_limits_is_accepted(db) -> None:
    """QS 9.1.1: the bounds 1 and 999 themselves are legal."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=1000)
    other = await f.product(shop, stock=1)

    placed = (
        await orders.place_order(
            buyer.viewer, [LineInput(item.id, 999), LineInput(other.id, 1)], f.RECIPIENT
        )
    ).order

    assert (await Product.get(id=item.id)).stock == 1
    assert (await Product.get(id=other.id)).stock == 0
    assert await OrderLine.filter(order_id=placed.id).count() == 2


async def test_more_than_stock_is_refused_and_changes_nothing(db) -> None:
    """QS 9.1.1: INSUFFICIENT_STOCK; stock unchanged and no order row created."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=2)

    error = await _refused(buyer.viewer, [LineInput(item.id, 3)])

    assert error.code == ErrorCode.INSUFFICIENT_STOCK
    assert error.field == ["lines", "0", "quantity"]
    assert (await Product.get(id=item.id)).stock == 2
    assert await Order.all().count() == 0


async def test_second_line_short_of_stock_rolls_back_the_first_reservation(db) -> None:
    """QS 9.1.1: the reservation is atomic across lines."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    plenty = await f.product(shop, stock=10)
    scarce = await f.product(shop, stock=1)

    error = await _refused(buyer.viewer, [LineInput(plenty.id, 4), LineInput(scarce.id, 2)])

    assert error.code == ErrorCode.INSUFFICIENT_STOCK
    assert error.field == ["lines", "1", "quantity"]
    assert (await Product.get(id=plenty.id)).stock == 10
    assert (await Product.get(id=scarce.id)).stock == 1


@pytest.mark.parametrize("missing", [None, 987654])
async def test_unknown_product_is_not_found(db, missing: int | None) -> None:
    """QS 9.1.1: an id that does not decode (None) or names no product → NOT_FOUND."""
    buyer = await f.consumer()
    shop, _ = await f.merchant()
    await f.product(shop)

    error = await _refused(buyer.viewer, [LineInput(missing, 1)])

    assert error.code == ErrorCode.NOT_FOUND
    assert error.field == ["lines", "0", "productId"]


async def test_unlisted_product_is_unavailable(db) -> None:
    """QS 9.1.1: a product taken off sale cannot be ordered."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5, is_listed=False)

    error = await _refused(buyer.viewer, [LineInput(item.id, 1)])

    assert error.code == ErrorCode.PRODUCT_UNAVAILABLE
    assert error.field == ["lines", "0", "productId"]
    assert (await Product.get(id=item.id)).stock == 5


async def test_products_of_two_merchants_are_refused(db) -> None:
    """QS 9.1.1: one order, one merchant."""
    shop, _ = await f.merchant()
    other_shop, _ = await f.merchant()
    buyer = await f.consumer()
    mine = await f.product(shop)
    theirs = await f.product(other_shop)

    error = await _refused(buyer.viewer, [LineInput(mine.id, 1), LineInput(theirs.id, 1)])

    assert error.code == ErrorCode.MIXED_MERCHANTS
    assert error.field == ["lines"]


async def test_duplicate_product_lines_are_refused(db) -> None:
    """QS 9.1.1: a product appears on one line only."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop)

    error = await _refused(buyer.viewer, [LineInput(item.id, 1), LineInput(item.id, 2)])

    assert error.code == ErrorCode.INVALID_INPUT
    assert error.field == ["lines", "1", "productId"]


async def test_no_lines_is_refused(db) -> None:
    """QS 9.1.1: an empty order is malformed input."""
    buyer = await f.consumer()

    error = await _refused(buyer.viewer, [])

    assert error.code == ErrorCode.INVALID_INPUT
    assert error.field == ["lines"]


async def test_too_many_lines_is_refused_by_the_published_rule(db) -> None:
    """QS 9.1.1 with QS 5.2: the line limit is rule order.limits (max_lines 50)."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    items = [await f.product(shop, stock=1) for _ in range(51)]

    error = await _refused(buyer.viewer, [LineInput(p.id, 1) for p in items])

    assert error.code == ErrorCode.TOO_MANY_LINES
    assert error.field == ["lines"]
    # Exactly the limit is fine.
    placed = (
        await orders.place_order(
            buyer.viewer, [LineInput(p.id, 1) for p in items[:50]], f.RECIPIENT
        )
    ).order
    assert await OrderLine.filter(order_id=placed.id).count() == 50


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        (Recipient("张三", "not-a-phone", "北京市朝阳区建国路 88 号"), "recipient.phone"),
        (Recipient("张三", "12345", "北京市朝阳区建国路 88 号"), "recipient.phone"),
        (Recipient("张三", "", "北京市朝阳区建国路 88 号"), "recipient.phone"),
        (Recipient("张三", "13812345678", "北京"), "recipient.address"),
        (Recipient("张三", "13812345678", "   "), "recipient.address"),
        (Recipient("张三", "13812345678", "路" * 301), "recipient.address"),
        (Recipient("", "13812345678", "北京市朝阳区建国路 88 号"), "recipient.name"),
    ],
)
async def test_bad_recipient_is_refused(db, recipient: Recipient, field: str) -> None:
    """QS 9.1.1: the recipient's phone and address are checked before anything is reserved."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=3)

    error = await _refused(buyer.viewer, [LineInput(item.id, 1)], recipient)

    assert error.code == ErrorCode.INVALID_INPUT
    assert error.field == [field]


async def test_only_consumers_place_orders(db) -> None:
    """QS 9.1.1: a merchant cannot place an order."""
    shop, seller = await f.merchant()
    item = await f.product(shop, stock=3)

    error = await _refused(seller.viewer, [LineInput(item.id, 1)])

    assert error.code == ErrorCode.NOT_ELIGIBLE


async def test_two_buyers_racing_for_the_last_item_one_wins(db) -> None:
    """QS 9.1.1: the stock check and reservation are one statement, so exactly one of two
    concurrent buyers gets the last item and stock never goes below zero."""
    shop, _ = await f.merchant()
    first = await f.consumer()
    second = await f.consumer("李四", "13987654321")
    item = await f.product(shop, stock=1)

    results = await asyncio.gather(
        orders.place_order(first.viewer, [LineInput(item.id, 1)], f.RECIPIENT),
        orders.place_order(second.viewer, [LineInput(item.id, 1)], f.RECIPIENT),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, orders.Placed)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], ServiceError)
    assert lost[0].code == ErrorCode.INSUFFICIENT_STOCK
    assert (await Product.get(id=item.id)).stock == 0
    assert await Order.all().count() == 1
    assert await OrderLine.all().count() == 1
    assert await AuditEvent.filter(entity_type="Order").count() == 1


async def test_cancel_before_payment_restores_stock_and_is_traced(db) -> None:
    """QS 9.1.1, 9.1.2: cancelling a pending order puts the stock back, records the move."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item, 4)
    assert (await Product.get(id=w.item.id)).stock == 96

    cancelled = await orders.cancel_order(w.buyer.viewer, placed.id, "  changed my mind  ")

    assert cancelled.state == OrderState.CANCELLED
    stored = await Order.get(id=placed.id)
    assert stored.state == OrderState.CANCELLED and stored.cancelled_at is not None
    assert (await Product.get(id=w.item.id)).stock == 100
    trail = await audit.trail("Order", placed.id)
    assert [(e.seq, e.action, e.from_state, e.to_state) for e in trail] == [
        (1, "placed", "", "PENDING_PAYMENT"),
        (2, "cancelled", "PENDING_PAYMENT", "CANCELLED"),
    ]
    assert trail[1].data == {"reason": "changed my mind"}
    assert trail[1].actor_id == w.buyer.account.id and trail[1].actor_role == "CONSUMER"
    assert (await audit.verify("Order", placed.id)).valid is True


async def test_cancel_twice_is_illegal_and_does_not_restore_stock_again(db) -> None:
    """QS 9.1.1: CANCELLED is final; a second cancel must not put the stock back twice."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item, 2)
    await orders.cancel_order(w.buyer.viewer, placed.id)

    with pytest.raises(ServiceError) as raised:
        await orders.cancel_order(w.buyer.viewer, placed.id)

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert (await Product.get(id=w.item.id)).stock == 100
    assert await AuditEvent.filter(entity_type="Order", entity_id=placed.id).count() == 2


async def test_cancel_of_another_consumers_order_is_not_found(db) -> None:
    """QS 9.1.1: out of scope is the same as missing; the order stays as it was."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item, 1)

    with pytest.raises(ServiceError) as raised:
        await orders.cancel_order(w.other_buyer.viewer, placed.id)

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert (await Order.get(id=placed.id)).state == OrderState.PENDING_PAYMENT
    assert (await Product.get(id=w.item.id)).stock == 99


async def test_cancel_after_shipment_is_illegal(db) -> None:
    """QS 9.1.1: a shipped order cannot be cancelled; nothing changes."""
    w = await f.world()
    shipped, _ = await f.shipped_order(w)
    events = await AuditEvent.filter(entity_type="Order", entity_id=shipped.id).count()

    with pytest.raises(ServiceError) as raised:
        await orders.cancel_order(w.buyer.viewer, shipped.id, "too late")

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.field == ["orderId"]
    assert (await Order.get(id=shipped.id)).state == OrderState.SHIPPED
    assert (await Product.get(id=w.item.id)).stock == 99
    assert await AuditEvent.filter(entity_type="Order", entity_id=shipped.id).count() == events


async def test_confirm_receipt_of_unshipped_order_is_illegal(db) -> None:
    """QS 9.1.1: receipt can be confirmed only after shipment."""
    w = await f.world()
    paid, _ = await f.paid_order(w)

    with pytest.raises(ServiceError) as raised:
        await orders.confirm_receipt(w.buyer.viewer, paid.id)

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    stored = await Order.get(id=paid.id)
    assert stored.state == OrderState.PAID and stored.completed_at is None


async def test_confirm_receipt_of_shipped_order_completes_it(db) -> None:
    """QS 9.1.1: the consumer closes the order once it is shipped."""
    w = await f.world()
    shipped, _ = await f.shipped_order(w)

    await orders.confirm_receipt(w.buyer.viewer, shipped.id)

    stored = await Order.get(id=shipped.id)
    assert stored.state == OrderState.COMPLETED and stored.completed_at is not None
    assert [e.action for e in await audit.trail("Order", shipped.id)] == [
        "placed",
        "paid",
        "shipped",
        "receipt_confirmed",
    ]


async def test_two_cancellations_at_once_restore_stock_once(db) -> None:
    """QS 9.1.1: consumer and merchant cancelling together: one wins, stock comes back once."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item, 3)

    results = await asyncio.gather(
        orders.cancel_order(w.buyer.viewer, placed.id, "buyer"),
        orders.cancel_order(w.seller.viewer, placed.id, "seller"),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ServiceError)
    assert refused[0].code == ErrorCode.ILLEGAL_TRANSITION
    assert (await Product.get(id=w.item.id)).stock == 100
    assert await AuditEvent.filter(entity_type="Order", entity_id=placed.id).count() == 2


# --- idempotent placement ----------------------------------------------------------------


async def test_a_resubmitted_order_with_its_key_reserves_stock_once(db) -> None:
    """QS 9.1.1: a double submit (the same key, lines and recipient) returns the first
    order, marked as a replay: one order, one reservation, one traced placement."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5)
    lines = [LineInput(item.id, 2)]

    first = await orders.place_order(buyer.viewer, lines, f.RECIPIENT, "order-key-0001")
    again = await orders.place_order(buyer.viewer, lines, f.RECIPIENT, "order-key-0001")

    assert first.replayed is False and again.replayed is True
    assert again.order.id == first.order.id
    assert (await Product.get(id=item.id)).stock == 3
    assert await Order.all().count() == 1
    assert await AuditEvent.filter(entity_type="Order").count() == 1


@pytest.mark.parametrize(
    "other",
    [
        {"quantity": 3},
        {"recipient": Recipient("李四", "13812345678", "北京市朝阳区建国路 88 号")},
    ],
)
async def test_the_same_order_key_for_another_order_is_refused(db, other: dict) -> None:
    """QS 9.1.1: reusing a key with other lines or another recipient is
    IDEMPOTENCY_KEY_REUSED, and changes nothing."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5)
    await orders.place_order(buyer.viewer, [LineInput(item.id, 2)], f.RECIPIENT, "order-key-0002")

    lines = [LineInput(item.id, other.get("quantity", 2))]
    error = await _refused_with_key(buyer, lines, other.get("recipient", f.RECIPIENT))

    assert error.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert error.field == ["idempotencyKey"]


async def _refused_with_key(buyer, lines, recipient) -> ServiceError:  # type: ignore[no-untyped-def]
    before = await _snapshot()
    with pytest.raises(ServiceError) as raised:
        await orders.place_order(buyer.viewer, lines, recipient, "order-key-0002")
    assert await _snapshot() == before
    return raised.value


async def test_order_keys_belong_to_their_consumer(db) -> None:
    """Two consumers may choose the same key: each gets its own order."""
    shop, _ = await f.merchant()
    item = await f.product(shop, stock=5)
    one, two = await f.consumer(), await f.consumer("李四", "13987654321")

    first = await orders.place_order(one.viewer, [LineInput(item.id, 1)], f.RECIPIENT, "shared-key")
    second = await orders.place_order(
        two.viewer, [LineInput(item.id, 1)], f.RECIPIENT, "shared-key"
    )

    assert first.order.id != second.order.id and not second.replayed


async def test_a_double_submit_racing_in_reserves_stock_once(db) -> None:
    """QS 9.1.1: the second of two simultaneous submissions with one key is answered with the
    first's order, not a second reservation."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5)
    lines = [LineInput(item.id, 1)]

    results = await asyncio.gather(
        *(orders.place_order(buyer.viewer, lines, f.RECIPIENT, "order-key-race") for _ in range(4))
    )

    assert len({r.order.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert (await Product.get(id=item.id)).stock == 4


@pytest.mark.parametrize("key", ["short", "x" * 65, "key\nwith newline"])
async def test_a_malformed_order_key_is_refused(db, key: str) -> None:
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=5)
    error = await _refused_key(buyer, item, key)
    assert error.code == ErrorCode.INVALID_INPUT and error.field == ["idempotencyKey"]


async def _refused_key(buyer, item, key) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as raised:
        await orders.place_order(buyer.viewer, [LineInput(item.id, 1)], f.RECIPIENT, key)
    assert await Order.all().count() == 0
    return raised.value


async def test_a_retry_that_finds_the_last_item_taken_by_its_first_submission_is_a_replay(
    db, monkeypatch
) -> None:
    """The first submission takes the last item; its retry, which waited on the stock row
    while the first was uncommitted, then finds no stock: it is answered with the first's
    order (a replay), not INSUFFICIENT_STOCK, since that order exists."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await f.product(shop, stock=1)
    lines = [LineInput(item.id, 1)]
    first = await orders.place_order(buyer.viewer, lines, f.RECIPIENT, "order-key-last")
    # Simulate the interleaving: the retry did not see the first order before reserving.
    real = orders._earlier
    calls = {"n": 0}

    async def not_yet_then_real(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return None if calls["n"] == 1 else await real(*args, **kwargs)

    monkeypatch.setattr(orders, "_earlier", not_yet_then_real)
    again = await orders.place_order(buyer.viewer, lines, f.RECIPIENT, "order-key-last")
    assert again.replayed and again.order.id == first.order.id
    assert (await Product.get(id=item.id)).stock == 0
