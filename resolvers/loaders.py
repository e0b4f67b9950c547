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
    Course,
    Enrolment,
    Feedback,
    FeedbackSubject,
    Merchant,
    MerchantGrade,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductCertificate,
    ServiceProvider,
    Shipment,
    TrackingEvent,
    ViolationCase,
)
from pinzhi.services.feedback import summaries_by_merchant
from pinzhi.services.key_control import statuses as key_control_statuses
from pinzhi.services.product_grading import latest_grades
from pinzhi.services.rules import current_rules


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


async def _key_control(keys: Sequence[int]) -> list[Any]:
    found = await key_control_statuses(keys)
    return [found.get(k) for k in keys]


async def _latest_product_grade(keys: Sequence[int]) -> list[Any]:
    found = await latest_grades(list(set(keys)))
    return [found.get(k) for k in keys]


async def _current_rule(keys: Sequence[str]) -> list[Any]:
    found = {rule.key: rule for rule in await current_rules()}
    return [found.get(k) for k in keys]


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
        self.certificates_by_product_id = _many_by(viewer, ProductCertificate, "product_id")
        # Who may see a product's grade detail is decided by the field; this loads it.
        self.latest_grade_by_product_id = DataLoader(load_fn=_latest_product_grade)
        self.current_rule_by_key = DataLoader(load_fn=_current_rule)
        self.violation_case_by_id = _one_by(viewer, ViolationCase, "id")
        self.course_by_id = _one_by(viewer, Course, "id")
        self.enrolment_by_id = _one_by(viewer, Enrolment, "id")
        self.enrolments_by_merchant_id = _many_by(viewer, Enrolment, "merchant_id")
        # Who may see a merchant's key control is decided by the field; this loads it.
        self.key_control_by_merchant_id = DataLoader(load_fn=_key_control)
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
            ViolationCase: self.violation_case_by_id.load,
            Course: self.course_by_id.load,
            Enrolment: self.enrolment_by_id.load,
        }.get(model)
