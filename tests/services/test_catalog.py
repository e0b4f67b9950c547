"""Merchant product listing and the restrictions key control brings (QS 6.4, QS 5.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, Product, ViolationCase
from pinzhi.services import catalog, key_control, rules, state, violations
from tests import factories as f

VALID = {
    "title": "有机绿茶 Organic green tea",
    "category": "food",
    "price_minor": 8800,
    "stock": 20,
    "attributes": {"brand": "山野", "origin": "浙江", "shelf_life": "18 months"},
}


async def _refused(action, code: ErrorCode) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    return raised.value


async def _create(seller: f.Actor, **changes) -> Product:
    return await catalog.create_product(seller.viewer, **{**VALID, **changes})


async def _key_control_without_freeze(shop: Merchant) -> None:
    """Key control as a serious-type decision brings it, under a rule version whose ladder
    gives COUNTERFEIT a warning only (so no listing freeze is in force)."""
    old = await rules.current("violation.penalties")
    ladder = {**old.content["ladder"], "COUNTERFEIT": ["WARNING"]}
    await rules.publish(
        "violation.penalties",
        {**old.content, "ladder": ladder},
        title_zh=old.title_zh,
        title_en=old.title_en,
    )
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "COUNTERFEIT")
    assert case.penalty == "WARNING"


# --- Creating and updating listings -----------------------------------------------------------


async def test_merchant_creates_a_listed_product_for_its_own_shop(db) -> None:
    """A merchant lists a product with a slug category, positive price, stock and string
    attributes; the category is normalised so that key categories cannot be dodged."""
    shop, seller = await f.merchant()
    product = await _create(seller, category="  Food ", currency="cny")
    stored = await Product.get(id=product.id)
    assert (stored.merchant_id, stored.category, stored.currency) == (shop.id, "food", "CNY")
    assert (stored.price_minor, stored.stock, stored.is_listed) == (8800, 20, True)
    assert stored.attributes == VALID["attributes"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, ["title"]),
        ({"category": ""}, ["category"]),
        ({"category": "食品"}, ["category"]),
        ({"price_minor": 0}, ["priceMinor"]),
        ({"price_minor": -100}, ["priceMinor"]),
        ({"stock": -1}, ["stock"]),
        ({"currency": "RMB1"}, ["currency"]),
        ({"attributes": ["brand"]}, ["attributes"]),
        ({"attributes": {f"k{i}": "v" for i in range(31)}}, ["attributes"]),
        ({"attributes": {"weight": 500}}, ["attributes", "weight"]),
        ({"attributes": {"": "x"}}, ["attributes"]),
    ],
)
async def test_listing_input_is_checked(db, changes, field) -> None:
    """Title, category, price > 0, stock >= 0 and an object of ≤ 30 string attributes."""
    _, seller = await f.merchant()
    error = await _refused(_create(seller, **changes), ErrorCode.INVALID_INPUT)
    assert error.field == field
    assert await Product.all().count() == 0


async def test_only_merchants_list_products(db) -> None:
    """Consumers and staff are not eligible to create products."""
    for who in [await f.consumer(), await f.compliance_officer()]:
        await _refused(_create(who), ErrorCode.NOT_ELIGIBLE)
    assert await Product.all().count() == 0


async def test_merchant_updates_only_its_own_products(db) -> None:
    """A merchant delists, relists and restocks its products; another shop's product is
    NOT_FOUND, even a listed one it can see."""
    _, seller = await f.merchant()
    other_shop, _ = await f.merchant()
    product = await _create(seller)
    delisted = await catalog.update_product_listing(seller.viewer, product.id, is_listed=False)
    assert delisted.is_listed is False
    relisted = await catalog.update_product_listing(
        seller.viewer, product.id, is_listed=True, stock=5, price_minor=9900
    )
    stored = await Product.get(id=product.id)
    assert (stored.is_listed, stored.stock, stored.price_minor) == (True, 5, 9900)
    assert relisted.stock == 5

    foreign = await f.product(other_shop)
    error = await _refused(
        catalog.update_product_listing(seller.viewer, foreign.id, is_listed=False),
        ErrorCode.NOT_FOUND,
    )
    assert error.field == ["productId"]
    assert (await Product.get(id=foreign.id)).is_listed is True
    await _refused(
        catalog.update_product_listing(seller.viewer, product.id, is_listed=True, stock=-1),
        ErrorCode.INVALID_INPUT,
    )


# --- Key control restrictions -----------------------------------------------------------------


@pytest.mark.parametrize("category", ["mother_baby", "food", "cosmetics"])
async def test_under_key_control_no_new_listings_in_key_categories(db, category) -> None:
    """QS 6.4: under key control a merchant cannot list in the rule's key categories
    (KEY_CONTROL_RESTRICTION) but still can elsewhere; nothing is created."""
    shop, seller = await f.merchant()
    await _key_control_without_freeze(shop)
    assert key_control.is_under_key_control(await Merchant.get(id=shop.id))

    error = await _refused(_create(seller, category=category), ErrorCode.KEY_CONTROL_RESTRICTION)
    assert error.field == ["category"]
    assert await Product.filter(merchant_id=shop.id).count() == 0
    assert (await _create(seller, category="electronics")).is_listed


async def test_under_key_control_an_unlisted_key_category_product_cannot_be_relisted(db) -> None:
    """QS 6.4: relisting is a new listing: refused in a key category under key control;
    delisting and restocking a listed product stay possible."""
    shop, seller = await f.merchant()
    listed = await _create(seller, title="奶粉 Formula", category="mother_baby")
    unlisted = await _create(seller, title="米粉 Rice cereal", category="mother_baby")
    await catalog.update_product_listing(seller.viewer, unlisted.id, is_listed=False)
    await _key_control_without_freeze(shop)

    error = await _refused(
        catalog.update_product_listing(seller.viewer, unlisted.id, is_listed=True),
        ErrorCode.KEY_CONTROL_RESTRICTION,
    )
    assert error.field == ["isListed"]
    assert (await Product.get(id=unlisted.id)).is_listed is False
    restocked = await catalog.update_product_listing(
        seller.viewer, listed.id, is_listed=True, stock=99
    )
    assert (restocked.is_listed, restocked.stock) == (True, 99)
    await catalog.update_product_listing(seller.viewer, listed.id, is_listed=False)
    assert (await Product.get(id=listed.id)).is_listed is False


async def test_a_listing_freeze_in_force_blocks_every_new_listing(db) -> None:
    """QS 6.4: a decided COUNTERFEIT case (LISTING_FREEZE) blocks new listings in every
    category (LISTING_FROZEN), relisting included; delisting still works."""
    shop, seller = await f.merchant()
    product = await _create(seller, category="electronics")
    await catalog.update_product_listing(seller.viewer, product.id, is_listed=False)
    officer = await f.compliance_officer()
    await f.decided_case(officer, shop, "COUNTERFEIT")

    for category in ["electronics", "food"]:
        error = await _refused(_create(seller, category=category), ErrorCode.LISTING_FROZEN)
        assert error.field == ["category"]
    await _refused(
        catalog.update_product_listing(seller.viewer, product.id, is_listed=True),
        ErrorCode.LISTING_FROZEN,
    )
    assert await Product.filter(merchant_id=shop.id).count() == 1


async def test_restrictions_end_with_the_key_control_period(db) -> None:
    """QS 6.4: once key_control_until (and so the penalty's period) has passed, listing in
    any category is allowed again."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "COUNTERFEIT")
    content = (await rules.current("violation.penalties")).content
    past = state.now() - timedelta(days=content["key_control_days"], seconds=1)
    await ViolationCase.filter(id=case.id).update(decided_at=past)
    await Merchant.filter(id=shop.id).update(
        key_control_until=past + timedelta(days=content["key_control_days"])
    )
    assert not key_control.is_under_key_control(await Merchant.get(id=shop.id))
    assert (await _create(seller, category="food")).is_listed


async def test_an_overturned_case_lifts_the_listing_restrictions(db) -> None:
    """QS 6.4: after the appeal overturns the freeze, the merchant lists in key categories
    again."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "UNSAFE_PRODUCT")
    await _refused(_create(seller), ErrorCode.LISTING_FROZEN)
    await violations.appeal_case(seller.viewer, case.id, "检测合格 tests passed")
    await violations.decide_appeal(
        officer.viewer, case.id, violations.AppealOutcome.OVERTURNED, "复检合格"
    )
    assert (await _create(seller, category="mother_baby")).category == "mother_baby"


async def test_other_merchants_are_not_restricted(db) -> None:
    """QS 6.4: one merchant's key control does not touch another's listings."""
    shop, _ = await f.merchant()
    _, other_seller = await f.merchant()
    await f.decided_case(await f.compliance_officer(), shop, "COUNTERFEIT")
    assert (await _create(other_seller, category="food")).is_listed
