"""Merchant product listing, under the restrictions of QS 6.4.

A merchant creates products for its own shop and lists or delists them. A new listing (a
product created, or an unlisted one listed again) is refused while a LISTING_FREEZE or
SUSPENSION is in force, and in the rule's key categories while the merchant is under key
control (services/key_control.py). Delisting and stock or price changes stay possible.
"""

from __future__ import annotations

import re
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, Product
from pinzhi.services import audit, key_control, state, validation

# Categories are lower-case slugs (food, mother_baby, ...), so that a key category cannot be
# dodged by spelling it differently.
CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,49}")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_PRICE_MINOR = 10**12
MAX_STOCK = 10**9
MAX_ATTRIBUTES = 30
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 500


def _merchant_id(viewer: Viewer, action: Action) -> int:
    require(viewer, action)
    if viewer.merchant_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    return viewer.merchant_id


def check_category(value: str | None, field: str = "category") -> str:
    cleaned = (value or "").strip().lower()
    if not CATEGORY.fullmatch(cleaned):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "a slug such as food or mother_baby")
    return cleaned


def check_price(value: int, field: str = "priceMinor") -> int:
    if not 0 < value <= MAX_PRICE_MINOR:
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "must be positive")
    return value


def check_stock(value: int, field: str = "stock") -> int:
    if not 0 <= value <= MAX_STOCK:
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "must be 0 or more")
    return value


def check_attributes(value: Any, field: str = "attributes") -> dict[str, str]:
    """An object of at most 30 string attributes (brand, origin, shelf_life, ...)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "must be an object")
    if len(value) > MAX_ATTRIBUTES:
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), f"at most {MAX_ATTRIBUTES}")
    cleaned: dict[str, str] = {}
    for name, item in value.items():
        key = name.strip() if isinstance(name, str) else ""
        if not 1 <= len(key) <= MAX_ATTRIBUTE_NAME:
            raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "names are 1–50 characters")
        if not isinstance(item, str) or len(item) > MAX_ATTRIBUTE_VALUE:
            raise ServiceError(
                ErrorCode.INVALID_INPUT, (field, key), "values are strings of ≤500 characters"
            )
        cleaned[key] = item.strip()
    return cleaned


async def _locked_merchant(merchant_id: int) -> Merchant:
    # The same lock a violation decision takes: a listing and a decision on one merchant
    # never interleave.
    return await Merchant.filter(id=merchant_id).select_for_update().get()


async def create_product(
    viewer: Viewer,
    *,
    title: str,
    category: str,
    price_minor: int,
    stock: int,
    attributes: Any = None,
    currency: str = "CNY",
) -> Product:
    """A new listed product of the viewer's merchant."""
    merchant_id = _merchant_id(viewer, Action.CREATE_PRODUCT)
    clean_title = validation.text(title, "title", min_len=2, max_len=200)
    clean_category = check_category(category)
    clean_price = check_price(price_minor)
    clean_currency = (currency or "").strip().upper()
    if not CURRENCY.fullmatch(clean_currency):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("currency",), "an ISO 4217 code")
    clean_stock = check_stock(stock)
    clean_attributes = check_attributes(attributes)
    async with in_transaction():
        merchant = await _locked_merchant(merchant_id)
        await key_control.check_new_listing(merchant, clean_category, "category")
        product = await state.create(
            Product,
            actor=viewer,
            action="created",
            data={
                "merchant_id": merchant_id,
                "category": clean_category,
                "price_minor": clean_price,
                "currency": clean_currency,
                "stock": clean_stock,
                "is_listed": True,
            },
            merchant_id=merchant_id,
            title=clean_title,
            category=clean_category,
            price_minor=clean_price,
            currency=clean_currency,
            stock=clean_stock,
            attributes=clean_attributes,
            is_listed=True,
        )
    return product


async def update_product_listing(
    viewer: Viewer,
    product_id: int | None,
    *,
    is_listed: bool,
    stock: int | None = None,
    price_minor: int | None = None,
) -> Product:
    """List or delist one of the viewer's products, optionally with new stock or price."""
    merchant_id = _merchant_id(viewer, Action.UPDATE_PRODUCT_LISTING)
    updates: dict[str, Any] = {"is_listed": is_listed}
    if stock is not None:
        updates["stock"] = check_stock(stock)
    if price_minor is not None:
        updates["price_minor"] = check_price(price_minor)
    async with in_transaction():
        merchant = await _locked_merchant(merchant_id)
        product = (
            await Product.filter(id=product_id or 0, merchant_id=merchant_id)
            .select_for_update()
            .first()
        )
        if product is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("productId",))
        if is_listed and not product.is_listed:
            await key_control.check_new_listing(merchant, product.category, "isListed")
        changes = {
            name: [getattr(product, name), value]
            for name, value in updates.items()
            if getattr(product, name) != value
        }
        if changes:
            for name, (_, value) in changes.items():
                setattr(product, name, value)
            await product.save(update_fields=list(changes))
            # QS 9.1.2: listing, price and stock changes are traced key nodes.
            await audit.append("Product", product.id, "listing_changed", actor=viewer, data=changes)
    return product
