"""Incentives that follow the grade by rule (QS 6.2), withheld under key control (QS 6.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pinzhi.models import Merchant, Order
from pinzhi.services import incentives, rules
from tests import factories as f

NOW = datetime.now(UTC)


async def _grade(shop: Merchant, level: str, provisional: bool = False) -> Merchant:
    await Merchant.filter(id=shop.id).update(
        grade_level=level, grade_provisional=provisional, grade_rule_version=1, graded_at=NOW
    )
    return await Merchant.get(id=shop.id)


async def test_commission_and_financing_follow_the_grade(db) -> None:
    """QS 6.2: a lower commission and financing eligibility for the best grades."""
    shop, _ = await f.merchant()
    ungraded = await incentives.for_merchant(shop, NOW)
    assert (ungraded.commission_bps, ungraded.financing_eligible) == (500, False)
    top = await incentives.for_merchant(await _grade(shop, "A+"), NOW)
    assert (top.commission_bps, top.financing_eligible, top.rule_version) == (300, True, 1)
    low = await incentives.for_merchant(await _grade(shop, "C"), NOW)
    assert (low.commission_bps, low.financing_eligible) == (600, False)
    provisional = await incentives.for_merchant(await _grade(shop, "A", provisional=True), NOW)
    assert (provisional.commission_bps, provisional.financing_eligible) == (400, False)


async def test_key_control_withholds_incentives(db) -> None:
    """QS 6.4: no incentives while under key control."""
    shop, _ = await f.merchant()
    await _grade(shop, "A+")
    await Merchant.filter(id=shop.id).update(key_control_until=NOW + timedelta(days=10))
    result = await incentives.for_merchant(await Merchant.get(id=shop.id), NOW)
    assert (result.commission_bps, result.financing_eligible) == (800, False)
    assert result.reason == "key control"


async def test_an_order_keeps_the_commission_in_force_when_it_was_placed(db) -> None:
    """QS 6.2, 5.2: the rate and rule version are fixed on the order at placement."""
    w = await f.world()
    await _grade(w.shop, "A+")
    first = await f.order(w.buyer, w.item)
    await _grade(w.shop, "D")
    content = (await rules.current("merchant.incentives")).content
    content["commission_bps_by_level"]["D"] = 900
    await rules.publish("merchant.incentives", content, title_zh="激励", title_en="Incentives")
    second = await f.order(w.buyer, w.item)
    first, second = await Order.get(id=first.id), await Order.get(id=second.id)
    assert (first.commission_bps, first.commission_rule_version) == (300, 1)
    assert (second.commission_bps, second.commission_rule_version) == (900, 2)
