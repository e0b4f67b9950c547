"""Loading a page's selected relations ahead of time (architecture decision 13).

A list resolver reads which relations the query selected under its nodes and loads each
of them for the whole page through the per-request DataLoaders, one batch per relation,
then hands the nodes their relations as plain values. The nested fields return them
without a coroutine each: the per-field async machinery was most of an orders page's
cost (docs/PERFORMANCE.md). What is not selected is not loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
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
    # The relations are independent: their queries run at the same time.
    loaders = info.context.loaders
    keys = [o.pk for o in items]
    jobs = []
    if "lines" in wanted:
        jobs.append(_lines(info, items, keys, wanted["lines"]))
    if "merchant" in wanted:
        jobs.append(merchants(info, items, [o.merchant_pk for o in items]))
    if "payment" in wanted:
        jobs.append(_one_each(items, keys, "payment", loaders.payment_by_order_id, Payment))
    if "shipment" in wanted:
        jobs.append(_one_each(items, keys, "shipment", loaders.shipment_by_order_id, Shipment))
    await _together(jobs)


async def _lines(info: Info, items: Sequence[Order], keys: list[int], wanted: Tree) -> None:
    all_lines: list[OrderLine] = []
    found_lines = await load_all(info.context.loaders.lines_by_order_id, keys)
    for order, rows in zip(items, found_lines, strict=True):
        lines = [OrderLine.from_row(r, order.total.currency) for r in rows]
        order.preloaded["lines"] = lines
        all_lines += lines
    if "product" in wanted:
        rows = await load_all(
            info.context.loaders.product_by_id, [ln.product_pk for ln in all_lines]
        )
        found = [Product.from_row(r) if r else None for r in rows]
        for line, product in zip(all_lines, found, strict=True):
            line.preloaded["product"] = product
        await products(info, [p for p in found if p], wanted["product"])


async def _one_each(
    items: Sequence[Order], keys: list[int], name: str, loader: DataLoader, node: type[Any]
) -> None:
    """Each order's one related node of a kind: its latest payment, its shipment."""
    for order, row in zip(items, await load_all(loader, keys), strict=True):
        order.preloaded[name] = node.from_row(row) if row else None


async def _together(jobs: list[Coroutine[Any, Any, None]]) -> None:
    if len(jobs) == 1:
        await jobs[0]
    elif jobs:
        await asyncio.gather(*jobs)


async def complaints(info: Info, items: Sequence[Complaint], wanted: Tree) -> None:
    jobs = []
    if "order" in wanted:
        jobs.append(_complaint_orders(info, items, wanted["order"]))
    if "merchant" in wanted:
        jobs.append(merchants(info, items, [c.merchant_pk for c in items]))
    await _together(jobs)


async def _complaint_orders(info: Info, items: Sequence[Complaint], wanted: Tree) -> None:
    with_order = [c for c in items if c.order_pk is not None]
    rows = await load_all(info.context.loaders.order_by_id, [c.order_pk for c in with_order])
    found = [Order.from_row(r) if r else None for r in rows]
    for complaint, order in zip(with_order, found, strict=True):
        complaint.preloaded["order"] = order
    await orders(info, [o for o in found if o], wanted)
