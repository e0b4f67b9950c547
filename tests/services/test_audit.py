"""The traced key nodes: a tamper-evident hash chain per entity (QS 9.1.2)."""

from __future__ import annotations

import hashlib
import itertools

from pinzhi.models import AuditEvent, Order
from pinzhi.services import audit, orders
from tests import factories as f

VERIFY = """
query($id: ID!) {
  auditTrail(entityId: $id) { seq action }
  verifyAuditTrail(entityId: $id) { valid checked firstBroken { seq action } problem anchored }
}"""


async def _completed(w: f.World) -> Order:
    shipped, _ = await f.delivered_order(w)
    return await orders.confirm_receipt(w.buyer.viewer, shipped.id)


async def test_each_transition_appends_one_linked_event(db) -> None:
    """QS 9.1.2: placed → paid → shipped → delivered → receipt_confirmed, one event each,
    seq 1..n, each prev_hash the previous hash, each hash recomputable."""
    w = await f.world()
    order = await _completed(w)

    trail = await audit.trail("Order", order.id)

    assert [(e.seq, e.action, e.from_state, e.to_state) for e in trail] == [
        (1, "placed", "", "PENDING_PAYMENT"),
        (2, "paid", "PENDING_PAYMENT", "PAID"),
        (3, "shipped", "PAID", "SHIPPED"),
        (4, "delivered", "SHIPPED", "DELIVERED"),
        (5, "receipt_confirmed", "DELIVERED", "COMPLETED"),
    ]
    assert trail[0].prev_hash == audit.GENESIS_HASH
    for earlier, later in itertools.pairwise(trail):
        assert later.prev_hash == earlier.hash
    for event in trail:
        expected = hashlib.sha256(event.prev_hash.encode() + audit.canonical(event)).hexdigest()
        assert event.hash == expected and len(event.hash) == 64
    assert len({e.hash for e in trail}) == 5
    assert [e.actor_role for e in trail] == [
        "CONSUMER",
        "SERVICE_PROVIDER",
        "MERCHANT",
        "SERVICE_PROVIDER",
        "CONSUMER",
    ]


async def test_intact_chain_verifies(db) -> None:
    """QS 9.1.2: verify() recomputes every hash and accepts an untouched chain."""
    w = await f.world()
    order = await _completed(w)

    result = await audit.verify("Order", order.id)

    assert result.valid is True and result.checked == 5 and result.first_broken is None


async def test_chains_are_per_entity(db) -> None:
    """QS 9.1.2: another order's events do not join this chain."""
    w = await f.world()
    one = await f.order(w.buyer, w.item)
    two = await f.order(w.buyer, w.item)
    await orders.cancel_order(w.buyer.viewer, one.id)

    assert [e.seq for e in await audit.trail("Order", one.id)] == [1, 2]
    assert [e.seq for e in await audit.trail("Order", two.id)] == [1]
    assert (await audit.trail("Order", two.id))[0].prev_hash == audit.GENESIS_HASH


async def test_editing_data_behind_the_servers_back_is_detected(db) -> None:
    """QS 9.1.2: TAMPER: rewrite an event's data in the database; verify names it."""
    w = await f.world()
    order = await _completed(w)
    shipped = await AuditEvent.get(entity_type="Order", entity_id=order.id, seq=3)

    await AuditEvent.filter(id=shipped.id).update(
        data={**shipped.data, "tracking_number": "FORGED-0001"}
    )

    result = await audit.verify("Order", order.id)
    assert result.valid is False and result.problem == audit.Problem.EDITED
    assert result.first_broken is not None
    assert result.first_broken.id == shipped.id and result.first_broken.seq == 3
    assert result.checked == 3


async def test_editing_a_state_is_detected(db) -> None:
    """QS 9.1.2: TAMPER: change the recorded to_state of the first event."""
    w = await f.world()
    order = await _completed(w)
    placed = await AuditEvent.get(entity_type="Order", entity_id=order.id, seq=1)

    await AuditEvent.filter(id=placed.id).update(to_state="PAID")

    result = await audit.verify("Order", order.id)
    assert result.valid is False and result.first_broken.seq == 1
    assert result.problem == audit.Problem.EDITED


async def test_editing_and_rehashing_one_event_is_still_detected(db) -> None:
    """QS 9.1.2: a forger who recomputes the edited event's own hash breaks the next link."""
    w = await f.world()
    order = await _completed(w)
    event = await AuditEvent.get(entity_type="Order", entity_id=order.id, seq=2)
    event.data = {"payment_id": 999999}
    forged_hash = audit.chain_hash(event.prev_hash, event)

    await AuditEvent.filter(id=event.id).update(data=event.data, hash=forged_hash)

    result = await audit.verify("Order", order.id)
    assert result.valid is False and result.first_broken.seq == 3
    assert result.problem == audit.Problem.EDITED


async def test_deleting_a_middle_event_is_detected(db) -> None:
    """QS 9.1.2: TAMPER: remove event 3 of 5; the chain breaks where it was."""
    w = await f.world()
    order = await _completed(w)

    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=3).delete()

    result = await audit.verify("Order", order.id)
    assert result.valid is False and result.problem == audit.Problem.MISSING
    assert result.first_broken is not None and result.first_broken.seq == 4
    assert result.checked == 3


async def test_deleting_an_event_and_renumbering_the_rest_is_detected(db) -> None:
    """QS 9.1.2: TAMPER: delete a middle event and renumber the rest to hide the gap."""
    w = await f.world()
    order = await _completed(w)

    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=2).delete()
    for seq in (3, 4, 5):
        await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=seq).update(
            seq=seq - 1
        )

    result = await audit.verify("Order", order.id)
    assert result.valid is False and result.first_broken.seq == 2
    assert result.problem == audit.Problem.EDITED


async def test_the_chain_alone_misses_truncation_and_a_consistent_rewrite(db) -> None:
    """QS 9.1.2: why anchors exist: deleting the newest events, or recomputing the whole
    chain, leaves a chain that verifies by itself (tests/services/test_audit_anchors.py
    shows the anchors catching both)."""
    w = await f.world()
    truncated = await _completed(w)
    rewritten = await _completed(w)

    await AuditEvent.filter(entity_type="Order", entity_id=truncated.id, seq__gte=4).delete()
    await f.rechain("Order", rewritten.id, lambda e: e.data.update(forged=True))

    assert (await audit.verify("Order", truncated.id)).valid
    assert (await audit.verify("Order", rewritten.id)).valid
    assert (await audit.trail("Order", rewritten.id))[0].data["forged"] is True


async def test_api_verify_reports_the_tampered_event(api) -> None:
    """QS 9.1.2: verifyAuditTrail(entityId) for a party of the order shows the break."""
    w = await f.world()
    order = await _completed(w)
    order_gid = f.gid("Order", order.id)
    clean = await api(VERIFY, {"id": order_gid}, token=w.buyer.token)
    # Valid, and not anchored yet: its hour is not over.
    assert clean.data["verifyAuditTrail"] == {
        "valid": True,
        "checked": 5,
        "firstBroken": None,
        "problem": None,
        "anchored": False,
    }

    await AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=4).update(
        to_state="COMPLETED"
    )

    for token in (w.buyer.token, w.seller.token, w.regulator.token):
        tampered = await api(VERIFY, {"id": order_gid}, token=token)
        assert tampered.data["verifyAuditTrail"] == {
            "valid": False,
            "checked": 4,
            "firstBroken": {"seq": 4, "action": "delivered"},
            "problem": "EDITED",
            "anchored": False,
        }
    # Someone outside the order sees nothing, not even that it exists.
    outsider = await api(VERIFY, {"id": order_gid}, token=w.other_buyer.token)
    assert outsider.data == {"auditTrail": [], "verifyAuditTrail": None}


# --- After-sales sweep and timeliness (QS 9.2.1, 9.2.3) ----------------------------------------


async def test_a_batched_append_links_each_chain_as_single_appends_do(db) -> None:
    """QS 9.1.2: append_many (the jobs' batched append, written as plain rows) continues
    each chain from its head, and what it stores hashes back exactly: each chain verifies,
    with single appends before and after it, and an entity new to the trail starts at 1."""
    w = await f.world()
    first = await _completed(w)
    second, _ = await f.paid_order(w)
    before = {o: len(await audit.trail("Order", o)) for o in (first.id, second.id)}
    data = {"zh": "批量 batch", "n": 1.5, "nested": {"list": [1, "二"]}}
    written = await audit.append_many(
        "Order",
        [
            (first.id, "swept", "COMPLETED", "COMPLETED", data),
            (second.id, "swept", "PAID", "PAID", {}),
            (first.id, "swept_again", "COMPLETED", "COMPLETED", {}),
            (999_999, "swept", "", "", {}),
        ],
        actor=w.agent.viewer,
    )
    assert written == 4
    await audit.append("Order", first.id, "after", actor=None)
    for order_id in (first.id, second.id, 999_999):
        assert (await audit.verify("Order", order_id)).valid, order_id
    trail = await audit.trail("Order", first.id)
    assert [e.action for e in trail[before[first.id] :]] == ["swept", "swept_again", "after"]
    swept = trail[before[first.id]]
    assert (swept.data, swept.actor_id, swept.actor_role) == (data, w.agent.account.id, "STAFF")
    assert swept.hash == audit.chain_hash(swept.prev_hash, swept)
    assert len(await audit.trail("Order", second.id)) == before[second.id] + 1
    assert [e.seq for e in await audit.trail("Order", 999_999)] == [1]
