"""Merchants, products and service providers."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import NOTHING, scope
from pinzhi.resolvers.pagination import Window, ranked_page
from pinzhi.schema import preload
from pinzhi.schema.base import Connection, connection_of, listing, pk_or_missing
from pinzhi.schema.catalog import Merchant, Product, ServiceProvider
from pinzhi.schema.enums import ProductOrder, ProviderKind
from pinzhi.schema.fields import field


async def merchants(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    search: str | None = None,
) -> Connection[Merchant]:
    query = scope(info.context.viewer, models.Merchant)
    if search:
        query = query.filter(name__icontains=search.strip()[:50])
    return await listing(
        query, Window(first, after, last, before), lambda rows: [Merchant.from_row(r) for r in rows]
    )


async def products(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    merchant_id: strawberry.ID | None = None,
    category: str | None = None,
    search: str | None = None,
    order_by: ProductOrder = ProductOrder.RANK,
) -> Connection[Product]:
    query = scope(info.context.viewer, models.Product)
    if merchant_id is not None:
        query = query.filter(merchant_id=pk_or_missing(merchant_id, "Merchant"))
    if category:
        # A category is a slug of at most 50 characters: anything else lists nothing.
        query = query.filter(category=category) if len(category) <= 50 else query.filter(NOTHING)
    if search:
        query = query.filter(title__icontains=search.strip()[:50])

    async def nodes(rows: Sequence[models.Product]) -> list[Product]:
        found = [Product.from_row(r) for r in rows]
        await preload.products(info, found, preload.node_selection(info))
        return found

    if order_by == ProductOrder.NEWEST:
        return await listing(query, Window(first, after), nodes)
    # Traffic support (QS 7.2): the published rank score first, then newest.
    return await connection_of(await ranked_page(query, "rank_score", first, after), nodes)


async def service_providers(info: Info, kind: ProviderKind | None = None) -> list[ServiceProvider]:
    query = scope(info.context.viewer, models.ServiceProvider)
    if kind is not None:
        query = query.filter(kind=kind)
    return [ServiceProvider.from_row(r) for r in await query.order_by("id")]


@strawberry.type
class CatalogQuery:
    merchants = field(merchants, description="Public.")
    products = field(products, description="Public; listed products only.")
    service_providers = field(service_providers, description="Public.")
