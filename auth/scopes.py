"""Row scoping in one place (architecture decision 2).

``scope(viewer, Model)`` returns the query set of the rows of ``Model`` that ``viewer`` may
read. Every connection, ``node(id)`` and nested edge reads through it, so a row outside
the viewer's scope behaves exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Account,
    AuditEvent,
    BrandRegistration,
    Complaint,
    Course,
    DepositPayment,
    Enrolment,
    Feedback,
    Merchant,
    MerchantGrade,
    MerchantLicence,
    MerchantWarning,
    Order,
    OrderLine,
    Payment,
    PiiAccessLog,
    PlatformRule,
    Product,
    ProductCertificate,
    Role,
    ServiceProvider,
    Shipment,
    StaffDuty,
    TrackingEvent,
    ViolationCase,
)

M = TypeVar("M", bound=Model)

ALL = Q()
NOTHING = Q(id__isnull=True)  # primary keys are never null: matches no row

Rule = Callable[[Viewer], Q]


def _readers_of_everything(viewer: Viewer) -> bool:
    return viewer.role in (Role.REGULATOR, Role.STAFF)


def _order_rule(prefix: str = "") -> Rule:
    def rule(viewer: Viewer) -> Q:
        if _readers_of_everything(viewer):
            return ALL
        if viewer.role == Role.CONSUMER:
            return Q(**{f"{prefix}consumer_id": viewer.account_id})
        if viewer.role == Role.MERCHANT:
            return Q(**{f"{prefix}merchant_id": viewer.merchant_id})
        return NOTHING

    return rule


def _payment_rule(viewer: Viewer) -> Q:
    if viewer.is_payment:
        return Q(provider_id=viewer.provider_id)
    return _order_rule()(viewer)


def _shipment_rule(prefix: str = "") -> Rule:
    def rule(viewer: Viewer) -> Q:
        if viewer.is_logistics:
            return Q(**{f"{prefix}provider_id": viewer.provider_id})
        return _order_rule(prefix)(viewer)

    return rule


def _listing_rule(prefix: str = "") -> Rule:
    """Listed products, and a merchant's own unlisted ones; for certificates (public
    records, QS 7.1.2) the same through their product."""

    def rule(viewer: Viewer) -> Q:
        if _readers_of_everything(viewer):
            return ALL
        listed = Q(**{f"{prefix}is_listed": True})
        if viewer.role == Role.MERCHANT:
            return listed | Q(**{f"{prefix}merchant_id": viewer.merchant_id})
        return listed

    return rule


def _feedback_rule(viewer: Viewer) -> Q:
    if _readers_of_everything(viewer):
        return ALL
    if viewer.role == Role.MERCHANT:
        return Q(author_id=viewer.account_id) | Q(rated_merchant_id=viewer.merchant_id)
    if viewer.is_authenticated:
        return Q(author_id=viewer.account_id)
    return NOTHING


def _account_rule(viewer: Viewer) -> Q:
    if _readers_of_everything(viewer):
        return ALL
    if viewer.is_authenticated:
        return Q(id=viewer.account_id)
    return NOTHING


def _pii_log_rule(viewer: Viewer) -> Q:
    if viewer.role == Role.REGULATOR or viewer.has_duty(StaffDuty.COMPLIANCE):
        return ALL
    return NOTHING


def _public(_: Viewer) -> Q:
    return ALL


def _audit_rule(viewer: Viewer) -> Q:
    # Audit events are read through the visibility of their entity (services/audit.py);
    # a direct listing is for regulators and staff only.
    return ALL if _readers_of_everything(viewer) else NOTHING


def _merchant_governance_rule(viewer: Viewer) -> Q:
    """QS 6.3, 6.4: violation cases and training records of a merchant are its own
    business, the platform's staff's and the regulators'; nobody else's."""
    if _readers_of_everything(viewer):
        return ALL
    if viewer.role == Role.MERCHANT:
        return Q(merchant_id=viewer.merchant_id)
    return NOTHING


RULES: dict[type[Model], Rule] = {
    Merchant: _public,
    ServiceProvider: _public,
    PlatformRule: _public,
    Product: _listing_rule(),
    ProductCertificate: _listing_rule("product__"),
    Order: _order_rule(),
    OrderLine: _order_rule("order__"),
    Payment: _payment_rule,
    Shipment: _shipment_rule(),
    TrackingEvent: _shipment_rule("shipment__"),
    Complaint: _order_rule(),
    Feedback: _feedback_rule,
    Account: _account_rule,
    PiiAccessLog: _pii_log_rule,
    AuditEvent: _audit_rule,
    ViolationCase: _merchant_governance_rule,
    Enrolment: _merchant_governance_rule,
    Course: _public,
    MerchantGrade: _merchant_governance_rule,
    MerchantWarning: _merchant_governance_rule,
    # QS 6.1.1: what a merchant submitted for its grade, with its evidence.
    MerchantLicence: _merchant_governance_rule,
    BrandRegistration: _merchant_governance_rule,
    DepositPayment: _merchant_governance_rule,
}


def scope(viewer: Viewer, model: type[M]) -> QuerySet[M]:
    """The rows of ``model`` that ``viewer`` may read. Unknown models are refused loudly."""
    try:
        rule = RULES[model]
    except KeyError as exc:
        raise LookupError(f"no scoping rule for {model.__name__}") from exc
    return model.filter(rule(viewer))


async def can_see(viewer: Viewer, model: type[Model], pk: int) -> bool:
    return await scope(viewer, model).filter(id=pk).exists()


def sees_merchant_internals(viewer: Viewer, merchant_id: int) -> bool:
    """Grades' sub-scores and inputs, warnings, cases, incentives and training records of a
    merchant: the merchant itself, staff and regulators (QS 6.1.1, 5.2)."""
    if _readers_of_everything(viewer):
        return True
    return viewer.role == Role.MERCHANT and viewer.merchant_id == merchant_id
