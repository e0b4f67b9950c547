"""The state machines of the service process (QS 9.1.1) and their traced moves (QS 9.1.2)."""

from __future__ import annotations

import itertools

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AuditEvent,
    Complaint,
    ComplaintState,
    Order,
    OrderState,
    Payment,
    PaymentState,
    Product,
    Shipment,
    ShipmentState,
)
from pinzhi.services import audit, state
from tests import factories as f

ORDER_TABLE = state.TRANSITIONS[Order]
ILLEGAL_ORDER_MOVES = [
    (current, target)
    for current, target in itertools.product(OrderState, OrderState)
    if target not in ORDER_TABLE[current]
]
LEGAL_ORDER_MOVES = [(c, t) for c in OrderState for t in sorted(ORDER_TABLE[c])]


def test_the_order_table_is_the_documented_process() -> None:
    """QS 9.1.1: the order process, spelled out; a change to it must be deliberate."""
    S = OrderState
    assert {c: set(t) for c, t in ORDER_TABLE.items()} == {
        S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
        S.PAID: {S.SHIPPED, S.CANCELLED},
        S.SHIPPED: {S.DELIVERED, S.COMPLETED},
        S.DELIVERED: {S.COMPLETED},
        S.COMPLETED: set(),
        S.CANCELLED: set(),
    }
    assert len(ILLEGAL_ORDER_MOVES) == 36 - 7


@pytest.mark.parametrize(
    ("model", "states"),
    [
        (Order, OrderState),
        (Payment, PaymentState),
        (Shipment, ShipmentState),
        (Complaint, ComplaintState),
    ],
)
def test_every_state_has_a_row_and_none_moves_to_itself(model, states) -> None:
    """QS 9.1.1: every state is covered by the table; no self-loops (a repeat is not a move)."""
    table = state.TRANSITIONS[model]
    assert set(table) == set(states)
    for current, targets in table.items():
        assert current not in targets
        assert targets <= set(states)


@pytest.mark.parametrize(
    ("model", "current", "target"),
    [
        (Payment, PaymentState.FAILED, PaymentState.SUCCEEDED),
        (Payment, PaymentState.REFUNDED, PaymentState.SUCCEEDED),
        (Payment, PaymentState.PENDING, PaymentState.REFUNDED),
        (Shipment, ShipmentState.DELIVERED, ShipmentState.IN_TRANSIT),
        (Shipment, ShipmentState.IN_TRANSIT, ShipmentState.CREATED),
        (Complaint, ComplaintState.RESOLVED, ComplaintState.OPEN),
        (Complaint, ComplaintState.PROMISED, ComplaintState.IN_PROGRESS),
    ],
)
def test_check_refuses_illegal_moves_of_other_machines(model, current, target) -> None:
    """QS 9.1.1: payment, shipment and complaint machines refuse backward moves."""
    assert state.allowed(model, current, target) is False
    with pytest.raises(ServiceError) as raised:
        state.check(model, current, target, "x")
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION and raised.value.field == ["x"]


async def _order_in(current: OrderState) -> Order:
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    await Order.filter(id=placed.id).update(state=current)
    return await Order.get(id=placed.id)


@pytest.mark.parametrize(
    ("current", "target"), ILLEGAL_ORDER_MOVES, ids=[f"{c}->{t}" for c, t in ILLEGAL_ORDER_MOVES]
)
async def test_move_refuses_every_illegal_order_transition(db, current, target) -> None:
    """QS 9.1.1: each (state, target) pair not in the table is refused with a coded error;
    the row and its trail stay as they were."""
    order = await _order_in(current)
    events = await AuditEvent.filter(entity_type="Order", entity_id=order.id).count()

    with pytest.raises(ServiceError) as raised:
        await state.move(order, target, actor=None, action="test", field="orderId")

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.field == ["orderId"]
    assert f"{current} → {target}" in raised.value.detail
    assert order.state == current
    assert (await Order.get(id=order.id)).state == current
    assert await AuditEvent.filter(entity_type="Order", entity_id=order.id).count() == events


@pytest.mark.parametrize(
    ("current", "target"), LEGAL_ORDER_MOVES, ids=[f"{c}->{t}" for c, t in LEGAL_ORDER_MOVES]
)
async def test_move_performs_every_legal_order_transition(db, current, target) -> None:
    """QS 9.1.1, 9.1.2: a legal move changes the row and appends exactly one event."""
    order = await _order_in(current)

    await state.move(order, target, actor=None, action="test", data={"k": 1})

    assert order.state == target
    assert (await Order.get(id=order.id)).state == target
    trail = await audit.trail("Order", order.id)
    assert len(trail) == 2
    last = trail[-1]
    assert (last.seq, last.from_state, last.to_state, last.actor_role) == (
        2,
        str(current),
        str(target),
        "SYSTEM",
    )
    assert last.data == {"k": 1}


async def test_move_refuses_a_stale_row_without_tracing(db) -> None:
    """QS 9.1.1: compare-and-set: a row object read before someone else moved the row is
    refused, the other writer's state stands and no audit event is written for the loser."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    fresh = await Order.get(id=placed.id)
    stale = await Order.get(id=placed.id)
    await state.move(fresh, OrderState.PAID, actor=w.payer_actor.viewer, action="paid")
    events = await AuditEvent.filter(entity_type="Order", entity_id=placed.id).count()
    assert events == 2

    with pytest.raises(ServiceError) as raised:
        await state.move(
            stale,
            OrderState.CANCELLED,
            actor=w.buyer.viewer,
            action="cancelled",
            field="orderId",
            cancelled_at=state.now(),
        )

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.detail == "concurrent"
    stored = await Order.get(id=placed.id)
    assert stored.state == OrderState.PAID and stored.cancelled_at is None
    assert stale.state == OrderState.PENDING_PAYMENT
    assert await AuditEvent.filter(entity_type="Order", entity_id=placed.id).count() == events
    assert (await audit.verify("Order", placed.id)).valid is True


async def test_move_writes_the_extra_updates(db) -> None:
    """QS 9.1.1: the timestamps given with a move land on the row and the object."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    at = state.now()

    await state.move(
        placed, OrderState.CANCELLED, actor=w.buyer.viewer, action="x", cancelled_at=at
    )

    assert placed.cancelled_at == at
    stored = await Order.get(id=placed.id)
    assert stored.cancelled_at is not None and abs((stored.cancelled_at - at).total_seconds()) < 1


async def test_create_starts_a_machine_in_its_initial_state_with_a_traced_first_node(db) -> None:
    """QS 9.1.1, 9.1.2: a complaint is created OPEN, and its trail starts with the event
    that created it, chained from nothing."""
    w = await f.world()

    complaint = await state.create(
        Complaint,
        actor=w.buyer.viewer,
        action="filed",
        data={"merchant_id": w.shop.id},
        consumer_id=w.buyer.account.id,
        merchant_id=w.shop.id,
        description="The parcel arrived damaged.",
    )

    assert (await Complaint.get(id=complaint.id)).state == ComplaintState.OPEN
    events = await AuditEvent.filter(entity_type="Complaint", entity_id=complaint.id)
    assert [(e.seq, e.action, e.from_state, e.to_state) for e in events] == [
        (1, "filed", "", "OPEN")
    ]
    assert events[0].data == {"merchant_id": w.shop.id}
    assert (await audit.verify("Complaint", complaint.id)).valid is True


async def test_create_refuses_a_row_born_in_a_later_state(db) -> None:
    """QS 9.1.1: no row skips its process: a payment cannot be created SUCCEEDED."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ValueError):
        await state.create(
            Payment,
            actor=w.buyer.viewer,
            action="created",
            state=PaymentState.SUCCEEDED,
            order_id=placed.id,
            provider_id=w.payer.id,
            consumer_id=w.buyer.account.id,
            merchant_id=w.shop.id,
            amount_minor=placed.total_minor,
            idempotency_key="k-1",
        )

    assert not await Payment.filter(order_id=placed.id).exists()
    assert not await AuditEvent.filter(entity_type="Payment").exists()


async def test_create_traces_a_row_without_a_state_machine_without_a_state(db) -> None:
    """QS 9.1.2: a product listed is a traced key node too, with no state to move to."""
    shop, seller = await f.merchant()

    product = await state.create(
        Product,
        actor=seller.viewer,
        action="created",
        merchant_id=shop.id,
        title="Rice",
        category="food",
        price_minor=100,
        stock=1,
    )

    [event] = await AuditEvent.filter(entity_type="Product", entity_id=product.id)
    assert (event.seq, event.action, event.to_state, event.data) == (1, "created", "", {})
