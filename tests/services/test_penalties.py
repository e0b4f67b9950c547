"""Penalties act (QS 6.4): each changes what consumers can do, and is lifted when its period
ends or an appeal overturns it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Penalty, Product, ViolationCase
from pinzhi.services import audit, catalog, orders, penalties, rules, violations
from pinzhi.services.orders import LineInput
from pinzhi.services.state import now
from tests import factories as f

LISTED = "query { products(first: 50) { nodes { id } } }"


async def _listed_ids(api) -> list[str]:  # type: ignore[no-untyped-def]
    return [p["id"] for p in (await api(LISTED)).data["products"]["nodes"]]


async def _period_end(case: ViolationCase) -> timedelta:
    content = (await rules.current("violation.penalties")).content
    assert case.decided_at is not None
    return case.decided_at + timedelta(days=content["key_control_days"], minutes=1) - now()


async def _refused_order(w: f.World, code: ErrorCode) -> None:
    with pytest.raises(ServiceError) as raised:
        await orders.place_order(w.buyer.viewer, [LineInput(w.item.id, 1)], f.RECIPIENT)
    assert raised.value.code == code


async def test_a_listing_freeze_delists_the_shop_until_its_period_ends(api) -> None:
    """QS 6.4: a LISTING_FREEZE takes every listed product of the merchant off the shelves
    (consumers no longer see or buy them) and blocks new listings; when its period ends the
    penalties job puts back what it took, and only that."""
    w = await f.world()
    officer = await f.compliance_officer()
    own_choice = await f.product(w.shop, is_listed=False)  # delisted by the merchant itself
    other_shop_item = await f.product(w.other_shop)
    assert f.gid("Product", w.item.id) in await _listed_ids(api)

    case = await f.decided_case(officer, w.shop, "COUNTERFEIT")

    assert case.penalty == Penalty.LISTING_FREEZE
    listed = await _listed_ids(api)
    assert f.gid("Product", w.item.id) not in listed
    assert f.gid("Product", other_shop_item.id) in listed
    await _refused_order(w, ErrorCode.PRODUCT_UNAVAILABLE)
    with pytest.raises(ServiceError) as raised:
        await catalog.create_product(
            w.seller.viewer, title="新商品", category="toys", price_minor=100, stock=1
        )
    assert raised.value.code == ErrorCode.LISTING_FROZEN
    assert await penalties.sweep() == 0  # still in force

    later = now() + await _period_end(case)
    assert await penalties.sweep(later) == 1
    assert await penalties.sweep(later) == 0

    assert f.gid("Product", w.item.id) in await _listed_ids(api)
    assert not (await Product.get(id=own_choice.id)).is_listed
    placed = await orders.place_order(w.buyer.viewer, [LineInput(w.item.id, 1)], f.RECIPIENT)
    assert placed.order.id
    merchant_trail = [e.action for e in await audit.trail("Merchant", w.shop.id)]
    assert "listings_frozen" in merchant_trail and merchant_trail[-1] == "penalty_lifted"
    product_trail = [e.action for e in await audit.trail("Product", w.item.id)]
    assert product_trail[-2:] == ["delisted", "relisted"]


async def test_a_suspension_refuses_orders_until_an_appeal_overturns_it(db) -> None:
    """QS 6.4: a SUSPENSION delists like a freeze and also refuses new orders for the
    merchant's products, even one listed again by hand; an overturned appeal lifts it."""
    w = await f.world()
    officer = await f.compliance_officer()
    await f.decided_case(officer, w.shop, "COUNTERFEIT")  # 1st step: LISTING_FREEZE
    case = await f.decided_case(officer, w.shop, "COUNTERFEIT")  # 2nd step: SUSPENSION
    assert case.penalty == Penalty.SUSPENSION
    await Product.filter(id=w.item.id).update(is_listed=True)

    await _refused_order(w, ErrorCode.MERCHANT_SUSPENDED)

    await violations.appeal_case(w.seller.viewer, case.id, "鉴定报告有误 wrong lab report")
    await violations.decide_appeal(officer.viewer, case.id, violations.AppealOutcome.OVERTURNED)

    placed = await orders.place_order(w.buyer.viewer, [LineInput(w.item.id, 1)], f.RECIPIENT)
    assert placed.order.merchant_id == w.shop.id
    stored = await ViolationCase.get(id=case.id)
    assert stored.state == "OVERTURNED" and stored.effects_lifted_at is not None


async def test_a_lifted_freeze_leaves_products_another_freeze_still_holds(db) -> None:
    """Two standing freezes: overturning one does not relist what the other keeps off."""
    w = await f.world()
    officer = await f.compliance_officer()
    first = await f.decided_case(officer, w.shop, "UNSAFE_PRODUCT")  # LISTING_FREEZE
    assert first.penalty == Penalty.LISTING_FREEZE
    await Product.filter(id=w.item.id).update(is_listed=True)  # listed again meanwhile
    second = await f.decided_case(officer, w.shop, "COUNTERFEIT")  # LISTING_FREEZE
    assert w.item.id in second.effects["delisted_product_ids"]

    await violations.appeal_case(w.seller.viewer, second.id, "误判 wrongly decided")
    await violations.decide_appeal(officer.viewer, second.id, violations.AppealOutcome.OVERTURNED)

    assert not (await Product.get(id=w.item.id)).is_listed


async def _rank_order(api, w: f.World) -> list[str]:  # type: ignore[no-untyped-def]
    ids = await _listed_ids(api)
    return [i for i in ids if i in {f.gid("Product", w.item.id), f.gid("Product", w.other_item)}]


async def test_a_traffic_restriction_lowers_the_shop_in_the_default_ranking(api) -> None:
    """QS 6.4, 7.2: a TRAFFIC_RESTRICTION takes the published penalty off the rank score of
    the merchant's products: they fall below an equal product of another shop, and rise
    again when the appeal overturns it."""
    w = await f.world()
    officer = await f.compliance_officer()
    other = await f.product(w.other_shop)
    for item in (w.item, other):
        await Product.filter(id=item.id).update(grade_level="A", grade_score=85.0, rank_score=38.5)
    w.other_item = other.id  # type: ignore[attr-defined]
    newest_first = await _rank_order(api, w)
    assert newest_first == [f.gid("Product", other.id), f.gid("Product", w.item.id)]
    await f.decided_case(officer, w.shop, "OTHER")  # WARNING
    restricted = await f.decided_case(officer, w.shop, "OTHER")  # TRAFFIC_RESTRICTION
    assert restricted.penalty == Penalty.TRAFFIC_RESTRICTION
    penalty = (await rules.current("violation.penalties")).content[
        "traffic_restriction_rank_penalty"
    ]

    assert (await Product.get(id=w.item.id)).rank_score == round(38.5 - penalty, 2)
    assert (await Product.get(id=other.id)).rank_score == 38.5
    assert (await _rank_order(api, w))[-1] == f.gid("Product", w.item.id)
    await Product.filter(id=other.id).update(rank_score=38.4)  # just below the restored score
    assert (await _rank_order(api, w))[-1] == f.gid("Product", w.item.id)

    await violations.appeal_case(w.seller.viewer, restricted.id, "申诉 appeal text")
    await violations.decide_appeal(
        officer.viewer, restricted.id, violations.AppealOutcome.OVERTURNED
    )

    assert (await Product.get(id=w.item.id)).rank_score == 38.5
    assert (await _rank_order(api, w))[0] == f.gid("Product", w.item.id)


async def test_regrading_keeps_a_restriction_in_force(db) -> None:
    """QS 7.2: the monthly grading recomputes rank scores, and a restriction in force stays
    subtracted; after its period the penalties job restores the grade's own score."""
    from pinzhi.services import product_grading

    w = await f.world()
    officer = await f.compliance_officer()
    await f.decided_case(officer, w.shop, "OTHER")
    case = await f.decided_case(officer, w.shop, "OTHER")
    await product_grading.grade_products("2026-12", now())
    graded = await Product.get(id=w.item.id)
    content = (await rules.current("product.grading")).content
    penalty = case.effects["rank_penalty"]
    base = product_grading.rank_score(graded.grade_level, graded.grade_score, content)
    assert graded.rank_score == round(base - penalty, 2)

    assert await penalties.sweep(now() + await _period_end(case)) == 1
    assert (await Product.get(id=w.item.id)).rank_score == round(base, 2)


async def test_a_warning_changes_nothing_for_consumers(db) -> None:
    w = await f.world()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, w.shop, "OTHER")
    assert case.penalty == Penalty.WARNING and case.effects == {}
    placed = await orders.place_order(w.buyer.viewer, [LineInput(w.item.id, 1)], f.RECIPIENT)
    assert placed.order.id
    assert not await AuditEvent.filter(entity_type="Merchant", action="penalty_lifted").exists()


async def test_products_held_by_two_freezes_come_back_when_the_last_one_ends(db) -> None:
    """The first freeze delists the product; a second freeze, decided meanwhile, finds it
    delisted already. When the first is overturned the second still holds the shop, and
    takes the product over: when the second ends, the product is listed again (it used to
    stay delisted for good)."""
    w = await f.world()
    officer = await f.compliance_officer()
    first = await f.decided_case(officer, w.shop, "UNSAFE_PRODUCT")
    second = await f.decided_case(officer, w.shop, "COUNTERFEIT")
    assert w.item.id in first.effects["delisted_product_ids"]
    assert w.item.id not in second.effects["delisted_product_ids"]

    await violations.appeal_case(w.seller.viewer, first.id, "误判 wrongly decided")
    await violations.decide_appeal(officer.viewer, first.id, violations.AppealOutcome.OVERTURNED)
    assert not (await Product.get(id=w.item.id)).is_listed

    assert await penalties.sweep(now() + await _period_end(second)) == 1
    assert (await Product.get(id=w.item.id)).is_listed


async def test_a_products_public_trail_does_not_name_the_case(api) -> None:
    """A product's trail is public like the product; the sanction behind a delisting is on
    the merchant's trail only."""
    w = await f.world()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, w.shop, "COUNTERFEIT")
    await penalties.sweep(now() + await _period_end(case))
    trail = await api(
        "query($id: ID!) { auditTrail(entityId: $id) { action data } }",
        {"id": f.gid("Product", w.item.id)},
        token=w.buyer.token,
    )
    assert [e for e in trail.data["auditTrail"] if e["action"] in {"delisted", "relisted"}] == [
        {"action": "delisted", "data": {"by": "platform", "is_listed": False}},
        {"action": "relisted", "data": {"by": "platform", "is_listed": True}},
    ]
