"""Loading a page's selected relations ahead of time (architecture decision 13).

A list resolver reads which relations the query selected under its nodes and loads each
of them for the whole page through the per-request DataLoaders, one batch per relation,
then hands the nodes their relations as plain values. The nested fields return them
without a coroutine each: the per-field async machinery was most of an orders page's
cost (docs/PERFORMANCE.md). What is not selected is not loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from pinzhi.resolvers.loaders import load_all
from pinzhi.schema.catalog import Merchant, Product
from pinzhi.schema.orders import Order, OrderLine, Payment, Shipment
from pinzhi.schema.service import Complaint

Tree = dict[str, "Tree"]


def _merge(into: Tree, selections: Sequence[Any]) -> Tree:
    for item in selections:
        if isinstance(item, SelectedField):
            _merge(into.setdefault(item.name, {}), item.selections)
        elif isinstance(item, FragmentSpread | InlineFragment):
            _merge(into, item.selections)
    return into


def node_selection(info: Info) -> Tree:
    """What the query selects on each node of the connection being resolved."""
    tree: Tree = {}
    for field in info.selected_fields:
        _merge(tree, field.selections)
    nodes: Tree = {}
    _merge_trees(nodes, tree.get("edges", {}).get("node", {}))
    _merge_trees(nodes, tree.get("nodes", {}))
    return nodes


def _merge_trees(into: Tree, other: Tree) -> None:
    for name, sub in other.items():
        _merge_trees(into.setdefault(name, {}), sub)


async def merchants(info: Info, owners: Sequence[Any], ids: Sequence[int]) -> None:
    rows = await load_all(info.context.loaders.merchant_by_id, list(ids))
    for owner, row in zip(owners, rows, strict=True):
        owner.preloaded["merchant"] = Merchant.from_row(row) if row else None


async def products(info: Info, items: Sequence[Product], wanted: Tree) -> None:
    if "merchant" in wanted:
        await merchants(info, items, [p.merchant_pk for p in items])


async def orders(info: Info, items: Sequence[Order], wanted: Tree) -> None:
    loaders = info.context.loaders
    keys = [o.pk for o in items]
    if "lines" in wanted:
        all_lines: list[OrderLine] = []
        for order, rows in zip(items, await load_all(loaders.lines_by_order_id, keys), strict=True):
            lines = [OrderLine.from_row(r, order.total.currency) for r in rows]
            order.preloaded["lines"] = lines
            all_lines += lines
        if "product" in wanted["lines"]:
            rows = await load_all(loaders.product_by_id, [ln.product_pk for ln in all_lines])
            found = [Product.from_row(r) if r else None for r in rows]
            for line, product in zip(all_lines, found, strict=True):
                line.preloaded["product"] = product
            await products(info, [p for p in found if p], wanted["lines"]["product"])
    if "merchant" in wanted:
        await merchants(info, items, [o.merchant_pk for o in items])
    if "payment" in wanted:
        rows = await load_all(loaders.payment_by_order_id, keys)
        for order, row in zip(items, rows, strict=True):
            order.preloaded["payment"] = Payment.from_row(row) if row else None
    if "shipment" in wanted:
        rows = await load_all(loaders.shipment_by_order_id, keys)
        for order, row in zip(items, rows, strict=True):
            order.preloaded["shipment"] = Shipment.from_row(row) if row else None


async def complaints(info: Info, items: Sequence[Complaint], wanted: Tree) -> None:
    if "order" in wanted:
        with_order = [c for c in items if c.order_pk is not None]
        rows = await load_all(info.context.loaders.order_by_id, [c.order_pk for c in with_order])
        found = [Order.from_row(r) if r else None for r in rows]
        for complaint, order in zip(with_order, found, strict=True):
            complaint.preloaded["order"] = order
        await orders(info, [o for o in found if o], wanted["order"])
    if "merchant" in wanted:
        await merchants(info, items, [c.merchant_pk for c in items])
