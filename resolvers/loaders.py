"""Per-request DataLoaders (architecture decision 7): one batched, scoped query per relation.

Every loader reads through ``scope(viewer, Model)``, so a nested edge can never reach a row
the viewer could not fetch directly: it comes back as null, like a missing one.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Account,
    AfterSalesLine,
    AfterSalesRequest,
    BrandRegistration,
    Complaint,
    Course,
    DepositPayment,
    Dispute,
    DisputeOffer,
    Enrolment,
    Feedback,
    FeedbackSubject,
    FundAccount,
    FundEntry,
    FundPayout,
    FundRecovery,
    FundTransaction,
    InstallationAppointment,
    Merchant,
    MerchantGrade,
    MerchantLicence,
    Order,
    OrderLine,
    Payment,
    PostAssignment,
    Product,
    ProductCertificate,
    Refund,
    ReturnShipment,
    ServiceMessage,
    ServiceProvider,
    ServiceSession,
    Shipment,
    StaffProfile,
    TrackingEvent,
    TradeIn,
    ViolationCase,
)
from pinzhi.services.feedback import summaries_by_merchant
from pinzhi.services.fund.ledger import balances_by_id as fund_balances_by_id
from pinzhi.services.key_control import statuses as key_control_statuses
from pinzhi.services.product_grading import latest_grades
from pinzhi.services.reviews import newest_reviews
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


async def _newest_reviews(keys: Sequence[tuple[int, int, int | None]]) -> list[Any]:
    """Keys are (product id, page size, below this review id); values are lists of
    (review, the reviewer's encrypted name). One window query per distinct page shape and
    one for the names, whatever the number of products."""
    by_shape: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for product_id, size, before in keys:
        by_shape[(size, before)].append(product_id)
    found: dict[tuple[int, int, int | None], list[Any]] = {}
    for (size, before), product_ids in by_shape.items():
        pages = await newest_reviews(product_ids, size, before)
        for product_id in product_ids:
            found[(product_id, size, before)] = pages[product_id]
    reviewers = {r.consumer_id for page in found.values() for r in page}
    names = await _public_names(reviewers)
    return [[(r, names.get(r.consumer_id, "")) for r in found[key]] for key in keys]


async def _fund_balances(keys: Sequence[int]) -> list[Any]:
    found = await fund_balances_by_id(list(set(keys)))
    return [found[k] for k in keys]


async def _public_names(account_ids: set[int]) -> dict[int, str]:
    # Unscoped on purpose: a reviewer's name is shown beside a public review, always masked
    # for others by auth/masking.py (Disclosure.public_name); nothing else of the account.
    if not account_ids:
        return {}
    return dict(await Account.filter(id__in=list(account_ids)).values_list("id", "name_enc"))


async def load_all(loader: DataLoader, keys: Sequence[Any]) -> list[Any]:
    """``loader.load_many(keys)`` for a page whose keys are all known at once: the keys not
    yet cached go to the batch function in one direct call. ``load_many`` made a future, a
    gather callback and a batch task for every key, hundreds per page of orders. The
    futures of the keys being loaded are cached first, so a concurrent load of the same
    keys waits for this one instead of querying again."""
    cache = loader.cache_map
    missing = [key for key in dict.fromkeys(keys) if cache.get(key) is None]
    if missing:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in missing]
        for key, future in zip(missing, futures, strict=True):
            cache.set(key, future)
        try:
            values = await loader.load_fn(missing)
        except BaseException as error:
            for key, future in zip(missing, futures, strict=True):
                cache.delete(key)
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(error)
                    future.exception()  # seen: raised here, and to any concurrent waiter
            raise
        for future, value in zip(futures, values, strict=True):
            future.set_result(value)
    results = []
    for key in keys:
        cached = cache.get(key)
        assert cached is not None  # cached above, or by the load this one waits for
        results.append(cached.result() if cached.done() else await cached)
    return results


class Loaders:
    """``<Entity>By<Key>`` loaders for one request and one viewer."""

    def __init__(self, viewer: Viewer):
        # Each loader is made on first use: a request touches few of them, and making all
        # of them was an eighth of the cost of a small request.
        self.viewer = viewer

    @cached_property
    def merchant_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Merchant, "id")

    @cached_property
    def product_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Product, "id")

    @cached_property
    def provider_by_id(self) -> DataLoader:
        return _one_by(self.viewer, ServiceProvider, "id")

    @cached_property
    def account_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Account, "id")

    @cached_property
    def order_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Order, "id")

    @cached_property
    def payment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Payment, "id")

    @cached_property
    def shipment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Shipment, "id")

    @cached_property
    def complaint_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Complaint, "id")

    @cached_property
    def feedback_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Feedback, "id")

    @cached_property
    def lines_by_order_id(self) -> DataLoader:
        return _many_by(self.viewer, OrderLine, "order_id")

    @cached_property
    def payment_by_order_id(self) -> DataLoader:
        return _latest_by(self.viewer, Payment, "order_id")

    @cached_property
    def payments_by_order_id(self) -> DataLoader:
        return _many_by(self.viewer, Payment, "order_id")

    @cached_property
    def shipment_by_order_id(self) -> DataLoader:
        return _one_by(self.viewer, Shipment, "order_id")

    @cached_property
    def events_by_shipment_id(self) -> DataLoader:
        return _many_by(self.viewer, TrackingEvent, "shipment_id", "occurred_at")

    @cached_property
    def order_row_for_delivery(self) -> DataLoader:
        # Unscoped on purpose: a shipment's destination is the order's recipient, which the
        # assigned carrier needs although the order itself is not in its scope. What it
        # may see of it is decided by masking, not by this loader.
        return _one_by(None, Order, "id")

    @cached_property
    def merchant_feedback_by_merchant_id(self) -> DataLoader:
        return DataLoader(load_fn=_merchant_feedback)

    @cached_property
    def certificates_by_product_id(self) -> DataLoader:
        return _many_by(self.viewer, ProductCertificate, "product_id")

    @cached_property
    def latest_grade_by_product_id(self) -> DataLoader:
        # Who may see a product's grade detail is decided by the field; this loads it.
        return DataLoader(load_fn=_latest_product_grade)

    @cached_property
    def current_rule_by_key(self) -> DataLoader:
        return DataLoader(load_fn=_current_rule)

    @cached_property
    def violation_case_by_id(self) -> DataLoader:
        return _one_by(self.viewer, ViolationCase, "id")

    @cached_property
    def course_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Course, "id")

    @cached_property
    def enrolment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Enrolment, "id")

    @cached_property
    def enrolments_by_merchant_id(self) -> DataLoader:
        return _many_by(self.viewer, Enrolment, "merchant_id")

    @cached_property
    def key_control_by_merchant_id(self) -> DataLoader:
        # Who may see a merchant's key control is decided by the field; this loads it.
        return DataLoader(load_fn=_key_control)

    @cached_property
    def grades_by_merchant_id(self) -> DataLoader:
        return _many_by(self.viewer, MerchantGrade, "merchant_id")

    @cached_property
    def latest_grade_by_merchant_id(self) -> DataLoader:
        return _latest_by(self.viewer, MerchantGrade, "merchant_id")

    @cached_property
    def reviews_by_product(self) -> DataLoader:
        return DataLoader(load_fn=_newest_reviews)

    @cached_property
    def licences_by_merchant_id(self) -> DataLoader:
        return _many_by(self.viewer, MerchantLicence, "merchant_id")

    @cached_property
    def brands_by_merchant_id(self) -> DataLoader:
        return _many_by(self.viewer, BrandRegistration, "merchant_id")

    @cached_property
    def deposits_by_merchant_id(self) -> DataLoader:
        return _many_by(self.viewer, DepositPayment, "merchant_id")

    @cached_property
    def licence_by_id(self) -> DataLoader:
        return _one_by(self.viewer, MerchantLicence, "id")

    @cached_property
    def brand_by_id(self) -> DataLoader:
        return _one_by(self.viewer, BrandRegistration, "id")

    @cached_property
    def deposit_by_id(self) -> DataLoader:
        return _one_by(self.viewer, DepositPayment, "id")

    @cached_property
    def order_line_by_id(self) -> DataLoader:
        return _one_by(self.viewer, OrderLine, "id")

    @cached_property
    def after_sales_request_by_id(self) -> DataLoader:
        return _one_by(self.viewer, AfterSalesRequest, "id")

    @cached_property
    def after_sales_lines_by_request_id(self) -> DataLoader:
        return _many_by(self.viewer, AfterSalesLine, "request_id")

    @cached_property
    def return_shipment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, ReturnShipment, "id")

    @cached_property
    def return_shipments_by_request_id(self) -> DataLoader:
        return _many_by(self.viewer, ReturnShipment, "request_id")

    @cached_property
    def events_by_return_shipment_id(self) -> DataLoader:
        return _many_by(self.viewer, TrackingEvent, "return_shipment_id", "occurred_at")

    @cached_property
    def refund_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Refund, "id")

    @cached_property
    def refunds_by_request_id(self) -> DataLoader:
        return _many_by(self.viewer, Refund, "request_id")

    # Advance-compensation fund (QS 9.7.6)
    @cached_property
    def fund_payout_by_id(self) -> DataLoader:
        return _one_by(self.viewer, FundPayout, "id")

    @cached_property
    def fund_recovery_by_id(self) -> DataLoader:
        return _one_by(self.viewer, FundRecovery, "id")

    @cached_property
    def fund_recovery_by_payout_id(self) -> DataLoader:
        return _one_by(self.viewer, FundRecovery, "payout_id")

    @cached_property
    def fund_payout_row_for_recovery(self) -> DataLoader:
        # Unscoped on purpose: the responsible party reads why it is asked to pay (the
        # cause, the subject's and order's ids) though not the payout and its consumer.
        return _one_by(None, FundPayout, "id")

    @cached_property
    def fund_transaction_by_id(self) -> DataLoader:
        return _one_by(self.viewer, FundTransaction, "id")

    @cached_property
    def fund_entries_by_transaction_id(self) -> DataLoader:
        return _many_by(self.viewer, FundEntry, "transaction_id")

    @cached_property
    def fund_account_by_id(self) -> DataLoader:
        return _one_by(self.viewer, FundAccount, "id")

    @cached_property
    def fund_balance_by_account_id(self) -> DataLoader:
        # Who may see an account is decided by its scope; this loads the balance.
        return DataLoader(load_fn=_fund_balances)

    @cached_property
    def dispute_by_id(self) -> DataLoader:
        return _one_by(self.viewer, Dispute, "id")

    @cached_property
    def dispute_offer_by_id(self) -> DataLoader:
        return _one_by(self.viewer, DisputeOffer, "id")

    @cached_property
    def offers_by_dispute_id(self) -> DataLoader:
        return _many_by(self.viewer, DisputeOffer, "dispute_id")

    # Bulky goods: installation and trade-in (QS 9.7.5).
    @cached_property
    def installation_appointment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, InstallationAppointment, "id")

    @cached_property
    def trade_in_by_id(self) -> DataLoader:
        return _one_by(self.viewer, TradeIn, "id")

    @cached_property
    def service_session_by_id(self) -> DataLoader:
        return _one_by(self.viewer, ServiceSession, "id")

    @cached_property
    def service_message_by_id(self) -> DataLoader:
        return _one_by(self.viewer, ServiceMessage, "id")

    @cached_property
    def refunds_by_trade_in_id(self) -> DataLoader:
        return _many_by(self.viewer, Refund, "trade_in_id")

    # Staff posts and their qualification (QS 9.3.1-9.3.4).
    @cached_property
    def staff_profile_by_id(self) -> DataLoader:
        return _one_by(self.viewer, StaffProfile, "id")

    @cached_property
    def staff_profile_by_account_id(self) -> DataLoader:
        return _one_by(self.viewer, StaffProfile, "account_id")

    @cached_property
    def post_assignment_by_id(self) -> DataLoader:
        return _one_by(self.viewer, PostAssignment, "id")

    @cached_property
    def post_assignments_by_account_id(self) -> DataLoader:
        return _many_by(self.viewer, PostAssignment, "account_id")

    @cached_property
    def enrolments_by_staff_id(self) -> DataLoader:
        return _many_by(self.viewer, Enrolment, "staff_id")

    @cached_property
    def staff_account_by_id(self) -> DataLoader:
        # The account behind a staff record the viewer already reads through the record's
        # scope: its role, duties and standing, and its name (masked by auth/masking.py).
        return _one_by(None, Account, "id")

    def for_model(self, model: type[Model]) -> Callable[[int], Awaitable[Any]] | None:
        name = _BY_ID.get(model)
        return None if name is None else getattr(self, name).load


# The by-id loader of each model that node(id) can reach.
_BY_ID: dict[type[Model], str] = {
    Merchant: "merchant_by_id",
    Product: "product_by_id",
    ServiceProvider: "provider_by_id",
    Order: "order_by_id",
    Payment: "payment_by_id",
    Shipment: "shipment_by_id",
    Complaint: "complaint_by_id",
    Feedback: "feedback_by_id",
    Account: "account_by_id",
    ViolationCase: "violation_case_by_id",
    Course: "course_by_id",
    Enrolment: "enrolment_by_id",
    MerchantLicence: "licence_by_id",
    BrandRegistration: "brand_by_id",
    DepositPayment: "deposit_by_id",
    AfterSalesRequest: "after_sales_request_by_id",
    ReturnShipment: "return_shipment_by_id",
    Refund: "refund_by_id",
    FundPayout: "fund_payout_by_id",
    FundRecovery: "fund_recovery_by_id",
    FundTransaction: "fund_transaction_by_id",
    FundAccount: "fund_account_by_id",
    Dispute: "dispute_by_id",
    DisputeOffer: "dispute_offer_by_id",
    InstallationAppointment: "installation_appointment_by_id",
    TradeIn: "trade_in_by_id",
    ServiceSession: "service_session_by_id",
    ServiceMessage: "service_message_by_id",
    StaffProfile: "staff_profile_by_id",
    PostAssignment: "post_assignment_by_id",
}
