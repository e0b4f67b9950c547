"""Per-request DataLoaders (architecture decision 7): one batched, scoped query per relation.

Every loader reads through ``scope(viewer, Model)``, so a nested edge can never reach a row
the viewer could not fetch directly: it comes back as null, like a missing one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Account,
    Complaint,
    Feedback,
    FeedbackSubject,
    Merchant,
    MerchantGrade,
    Order,
    OrderLine,
    Payment,
    Product,
    ServiceProvider,
    Shipment,
    TrackingEvent,
)
from pinzhi.services.feedback import summaries_by_merchant


def _one_by(viewer: Viewer | None, model: type[Model], key: str) -> DataLoader:
    async def load(keys: Sequence[Any]) -> list[Any]:
        query = model.filter if viewer is None else scope(viewer, model).filter
        rows = await query(**{f"{key}__in": list(set(keys))})
        by_key = {getattr(row, key): row for row in rows}
        return [by_key.get(k) for k in keys]

    return DataLoader(load_fn=load)


def _many_by(
    viewer: Viewer | None, model: type[Model], key: str, order_by: str = "id"
) -> DataLoader:
    async def load(keys: Sequence[Any]) -> list[list[Any]]:
        query = model.filter if viewer is None else scope(viewer, model).filter
        rows = await query(**{f"{key}__in": list(set(keys))}).order_by(order_by)
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, key)].append(row)
        return [grouped.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def _latest_by(viewer: Viewer, model: type[Model], key: str) -> DataLoader:
    """The newest row per key, e.g. an order's current payment."""

    async def load(keys: Sequence[Any]) -> list[Any]:
        rows = await scope(viewer, model).filter(**{f"{key}__in": list(set(keys))}).order_by("id")
        latest = {getattr(row, key): row for row in rows}
        return [latest.get(k) for k in keys]

    return DataLoader(load_fn=load)


async def _merchant_feedback(keys: Sequence[int]) -> list[Any]:
    found = await summaries_by_merchant(FeedbackSubject.MERCHANT, list(set(keys)))
    return [found[k] for k in keys]


class Loaders:
    """``<Entity>By<Key>`` loaders for one request and one viewer."""

    def __init__(self, viewer: Viewer):
        self.merchant_by_id = _one_by(viewer, Merchant, "id")
        self.product_by_id = _one_by(viewer, Product, "id")
        self.provider_by_id = _one_by(viewer, ServiceProvider, "id")
        self.account_by_id = _one_by(viewer, Account, "id")
        self.order_by_id = _one_by(viewer, Order, "id")
        self.payment_by_id = _one_by(viewer, Payment, "id")
        self.shipment_by_id = _one_by(viewer, Shipment, "id")
        self.complaint_by_id = _one_by(viewer, Complaint, "id")
        self.feedback_by_id = _one_by(viewer, Feedback, "id")
        self.lines_by_order_id = _many_by(viewer, OrderLine, "order_id")
        self.payment_by_order_id = _latest_by(viewer, Payment, "order_id")
        self.payments_by_order_id = _many_by(viewer, Payment, "order_id")
        self.shipment_by_order_id = _one_by(viewer, Shipment, "order_id")
        self.events_by_shipment_id = _many_by(viewer, TrackingEvent, "shipment_id", "occurred_at")
        # Unscoped on purpose: a shipment's destination is the order's recipient, which the
        # assigned carrier needs although the order itself is not in its scope. What it
        # may see of it is decided by masking, not by this loader.
        self.order_row_for_delivery = _one_by(None, Order, "id")
        self.merchant_feedback_by_merchant_id = DataLoader(load_fn=_merchant_feedback)
        self.grades_by_merchant_id = _many_by(viewer, MerchantGrade, "merchant_id")
        self.latest_grade_by_merchant_id = _latest_by(viewer, MerchantGrade, "merchant_id")

    def for_model(self, model: type[Model]) -> Callable[[int], Awaitable[Any]] | None:
        return {
            Merchant: self.merchant_by_id.load,
            Product: self.product_by_id.load,
            ServiceProvider: self.provider_by_id.load,
            Order: self.order_by_id.load,
            Payment: self.payment_by_id.load,
            Shipment: self.shipment_by_id.load,
            Complaint: self.complaint_by_id.load,
            Feedback: self.feedback_by_id.load,
            Account: self.account_by_id.load,
        }.get(model)
