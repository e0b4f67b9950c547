"""Row scoping in one place (architecture decision 2).

``scope(viewer, Model)`` returns the query set of the rows of ``Model`` that ``viewer`` may
read. Every connection, ``node(id)`` and nested edge reads through it, so a row outside
the viewer's scope behaves exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Account,
    AfterSalesLine,
    AfterSalesRequest,
    ApiKey,
    AuditEvent,
    BrandRegistration,
    Call,
    CallEvent,
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
    FundParty,
    FundPayout,
    FundRecovery,
    FundTransaction,
    InstallationAppointment,
    Merchant,
    MerchantGrade,
    MerchantLicence,
    MerchantWarning,
    Notification,
    Order,
    OrderLine,
    Payment,
    PiiAccessLog,
    PlatformRule,
    PostAssignment,
    Product,
    ProductCertificate,
    ProductReview,
    Refund,
    RegulatorRead,
    ReturnShipment,
    Role,
    ServiceMessage,
    ServiceProvider,
    ServiceSession,
    Shipment,
    StaffDuty,
    StaffProfile,
    TrackingEvent,
    TradeIn,
    ViolationCase,
)

M = TypeVar("M", bound=Model)

ALL = Q()
NOTHING = Q(id__isnull=True)  # primary keys are never null: matches no row

Rule = Callable[[Viewer], Q]


def _where(lookup: str, value: Any) -> Q:
    """``Q(<lookup>=value)`` for a lookup named at run time (``value`` is Any: typed, mypy
    would match the unpacked keyword against Q's own ``join_type: str``)."""
    return Q(**{lookup: value})


def _regulator(viewer: Viewer) -> bool:
    # Regulators read everything, read-only and masked (decision 4, QS 10.2).
    return viewer.role == Role.REGULATOR


def _compliance(viewer: Viewer) -> bool:
    return viewer.has_duty(StaffDuty.COMPLIANCE)


# Least privilege for staff (QS 9.3.1, 9.4.1): each duty reads what its work needs and a
# staff member with no duty reads nothing private. Customer service works complaints: the
# queue, and the orders complained about with their payments and shipments. Compliance works
# violation cases, merchants' records and grades: the orders of merchants under a case.


def _complained_orders() -> Subquery:
    return Subquery(Complaint.filter(order_id__isnull=False).values("order_id"))


def _after_sales_orders() -> Subquery:
    return Subquery(AfterSalesRequest.all().values("order_id"))


def _merchants_with_cases() -> Subquery:
    return Subquery(ViolationCase.all().values("merchant_id"))


def _staff_orders(viewer: Viewer, order_field: str, merchant_field: str) -> Q:
    """The rows of orders (or of what hangs off them) a staff member's duties need."""
    allowed = NOTHING
    if viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        allowed |= _where(f"{order_field}__in", _complained_orders())
        allowed |= _where(f"{order_field}__in", _after_sales_orders())
    if _compliance(viewer):
        allowed |= _where(f"{merchant_field}__in", _merchants_with_cases())
    return allowed


def _order_rule(prefix: str = "", order_field: str = "id") -> Rule:
    def rule(viewer: Viewer) -> Q:
        if _regulator(viewer):
            return ALL
        if viewer.role == Role.CONSUMER:
            return _where(f"{prefix}consumer_id", viewer.account_id)
        if viewer.role == Role.MERCHANT:
            return _where(f"{prefix}merchant_id", viewer.merchant_id)
        if viewer.role == Role.STAFF:
            return _staff_orders(viewer, order_field, f"{prefix}merchant_id")
        return NOTHING

    return rule


def _complaint_rule(viewer: Viewer) -> Q:
    if viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        return ALL  # the queue they take cases from
    if viewer.role == Role.STAFF:
        return _staff_orders(viewer, "order_id", "merchant_id")
    return _order_rule(order_field="order_id")(viewer)


def _payment_rule(viewer: Viewer) -> Q:
    if viewer.is_payment:
        return Q(provider_id=viewer.provider_id)
    return _order_rule(order_field="order_id")(viewer)


def _shipment_rule(viewer: Viewer) -> Q:
    if viewer.is_logistics:
        return Q(provider_id=viewer.provider_id)
    return _order_rule(order_field="order_id")(viewer)


def _after_sales_rule(prefix: str = "") -> Rule:
    """QS 9.2.3: a request is its consumer's and its merchant's; customer-service staff
    work the whole queue, compliance the requests of merchants under a case; regulators
    read them all. Return shipments and refunds (which carry the same owners) follow it,
    besides the provider that carries or pays them."""

    def rule(viewer: Viewer) -> Q:
        if _regulator(viewer) or viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
            return ALL
        if viewer.role == Role.CONSUMER:
            return _where(f"{prefix}consumer_id", viewer.account_id)
        if viewer.role == Role.MERCHANT:
            return _where(f"{prefix}merchant_id", viewer.merchant_id)
        if _compliance(viewer):
            return _where(f"{prefix}merchant_id__in", _merchants_with_cases())
        return NOTHING

    return rule


def _dispute_rule(viewer: Viewer) -> Q:
    """QS 9.7.7: a dispute and its offers are its consumer's and its merchant's; customer
    service (who arbitrate) and compliance read them all, as regulators do; providers and
    staff of other duties none."""
    if _regulator(viewer) or viewer.has_duty(StaffDuty.CUSTOMER_SERVICE) or _compliance(viewer):
        return ALL
    if viewer.role == Role.CONSUMER:
        return Q(consumer_id=viewer.account_id)
    if viewer.role == Role.MERCHANT:
        return Q(merchant_id=viewer.merchant_id)
    return NOTHING


def _return_shipment_rule(viewer: Viewer) -> Q:
    if viewer.is_logistics:
        return Q(provider_id=viewer.provider_id)
    return _after_sales_rule()(viewer)


def _refund_rule(viewer: Viewer) -> Q:
    if viewer.is_payment:
        return Q(provider_id=viewer.provider_id)
    return _after_sales_rule()(viewer)


def _bulky_rule(viewer: Viewer) -> Q:
    """QS 9.7.5: an installation appointment or a trade-in is its consumer's and its
    merchant's, and the logistics provider's that visits (once assigned); customer-service
    staff, who help consumers with them, and regulators read them all."""
    if _regulator(viewer) or viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        return ALL
    if viewer.is_logistics:
        return Q(provider_id=viewer.provider_id)
    if viewer.role == Role.CONSUMER:
        return Q(consumer_id=viewer.account_id)
    if viewer.role == Role.MERCHANT:
        return Q(merchant_id=viewer.merchant_id)
    return NOTHING


def _tracking_rule(viewer: Viewer) -> Q:
    """An event reads like the shipment or return shipment it belongs to; a carrier reads
    the events it recorded."""
    if viewer.is_logistics:
        return Q(provider_id=viewer.provider_id)
    outbound = _order_rule("shipment__", "shipment__order_id")(viewer)
    inbound = _after_sales_rule("return_shipment__")(viewer)
    on_return = Q(return_shipment_id__isnull=False)
    return (Q(shipment_id__isnull=False) & outbound) | (on_return & inbound)


def _listing_rule(prefix: str = "") -> Rule:
    """Listed products, and a merchant's own unlisted ones; for certificates (public
    records, QS 7.1.2) the same through their product. Regulators and compliance staff
    (who check listings and inspections) see unlisted ones too."""

    def rule(viewer: Viewer) -> Q:
        if _regulator(viewer) or _compliance(viewer):
            return ALL
        listed = _where(f"{prefix}is_listed", True)
        if viewer.role == Role.MERCHANT:
            return listed | _where(f"{prefix}merchant_id", viewer.merchant_id)
        return listed

    return rule


def _feedback_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or _compliance(viewer):
        return ALL  # satisfaction is a grading input that compliance checks (QS 6.1.1, 10.2)
    if viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        return Q(subject_type=FeedbackSubject.SERVICE_CASE) | Q(author_id=viewer.account_id)
    if viewer.role == Role.MERCHANT:
        return Q(author_id=viewer.account_id) | Q(rated_merchant_id=viewer.merchant_id)
    if viewer.is_authenticated:
        return Q(author_id=viewer.account_id)
    return NOTHING


def _account_rule(viewer: Viewer) -> Q:
    if _regulator(viewer):
        return ALL
    if viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        # The consumers whose complaints they handle, and themselves.
        return Q(id=viewer.account_id) | Q(id__in=Subquery(Complaint.all().values("consumer_id")))
    if viewer.is_authenticated:
        return Q(id=viewer.account_id)
    return NOTHING


def _pii_log_rule(viewer: Viewer) -> Q:
    if viewer.role == Role.REGULATOR or viewer.has_duty(StaffDuty.COMPLIANCE):
        return ALL
    return NOTHING


def _compliance_only(viewer: Viewer) -> Q:
    return ALL if _compliance(viewer) else NOTHING


def _public(_: Viewer) -> Q:
    return ALL


def _audit_rule(viewer: Viewer) -> Q:
    # Audit events are read through the visibility of their entity (services/audit.py);
    # a direct listing is for regulators and compliance staff only.
    return ALL if _regulator(viewer) or _compliance(viewer) else NOTHING


def _merchant_rule(*duties: StaffDuty) -> Rule:
    """QS 6.1, 6.3, 6.4: a merchant's cases, grades, warnings, submissions and training are
    its own business, the regulators' and that of the staff duties that work on them."""

    def rule(viewer: Viewer) -> Q:
        if _regulator(viewer) or any(viewer.has_duty(d) for d in duties):
            return ALL
        if viewer.role == Role.MERCHANT:
            return Q(merchant_id=viewer.merchant_id)
        return NOTHING

    return rule


_merchant_governance_rule = _merchant_rule(StaffDuty.COMPLIANCE)


# Advance-compensation fund (QS 9.7.6). The ledger is the fund's own business: regulators
# and the staff duties that work with it (admins keep its money, customer service pays
# consumers, compliance recovers). A payout is its consumer's, and the work of customer
# service (who approve it) and compliance (who recover it); a recovery is the responsible
# party's (a merchant's shop or a provider), customer service's and compliance's.
_FUND_DUTIES = (StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE, StaffDuty.ADMIN)
_CLAIM_DUTIES = (StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE)


def _fund_ledger_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or any(viewer.has_duty(d) for d in _FUND_DUTIES):
        return ALL
    return NOTHING


def _fund_payout_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or any(viewer.has_duty(d) for d in _CLAIM_DUTIES):
        return ALL
    if viewer.role == Role.CONSUMER:
        return Q(consumer_id=viewer.account_id)
    return NOTHING


def _fund_recovery_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or any(viewer.has_duty(d) for d in _CLAIM_DUTIES):
        return ALL
    if viewer.role == Role.MERCHANT:
        return Q(party=FundParty.MERCHANT, merchant_id=viewer.merchant_id)
    if viewer.role == Role.SERVICE_PROVIDER:
        return Q(party=FundParty.PROVIDER, provider_id=viewer.provider_id)
    return NOTHING


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
def _notification_rule(viewer: Viewer) -> Q:
    """A notification is its recipient's: every account of a merchant reads its shop's,
    and an account its own. Nobody reads another's, regulators and staff included."""
    if not viewer.is_authenticated:
        return NOTHING
    own = Q(recipient_account_id=viewer.account_id)
    if viewer.role == Role.MERCHANT and viewer.merchant_id is not None:
        return own | Q(recipient_merchant_id=viewer.merchant_id)
    return own


# Customer-service chat (QS 9.2.2, 9.7.2)
def _service_session_key(viewer: Viewer) -> tuple[str, int | None]:
    """All the session rule reads of the viewer: viewers with one key see the same sessions
    and the same messages."""
    if _regulator(viewer):
        return ("regulator", None)
    if viewer.role == Role.CONSUMER:
        return ("opener", viewer.account_id)
    if viewer.role == Role.MERCHANT and viewer.merchant_id is not None:
        return ("shop", viewer.merchant_id)
    if viewer.has_duty(StaffDuty.CUSTOMER_SERVICE) or viewer.has_duty(StaffDuty.ADMIN):
        return ("all", None)
    return ("none", None)


def _service_session_rule(prefix: str = "", *, regulators: bool) -> Rule:
    """A session is its opener's (a shop's sessions every account of the shop's); the
    agents and their supervisors read every session. Regulators read sessions, which carry
    the timing the standard sets limits on, but not what was said in them: checking a
    response time needs no conversation (PIPL Art. 6, data minimisation)."""

    def rule(viewer: Viewer) -> Q:
        kind, value = _service_session_key(viewer)
        if kind == "regulator":
            return ALL if regulators else NOTHING
        if kind == "opener":
            return _where(f"{prefix}opener_id", value)
        if kind == "shop":
            return _where(f"{prefix}merchant_id", value)
        return ALL if kind == "all" else NOTHING

    return rule


# The phone queue (QS 9.2.2)
def _call_rule(viewer: Viewer) -> Q:
    """A call and its events are the contact centre's that reported them; the staff who
    supervise customer service (its duty, and admins) and regulators read every centre's.
    Nobody else reads any: another contact centre's calls are missing to a centre."""
    if _regulator(viewer) or any(
        viewer.has_duty(d) for d in (StaffDuty.CUSTOMER_SERVICE, StaffDuty.ADMIN)
    ):
        return ALL
    if viewer.is_contact_centre:
        return Q(provider_id=viewer.provider_id)
    return NOTHING


# Staff posts and their qualification (QS 9.3.1-9.3.4)
def _enrolment_rule(viewer: Viewer) -> Q:
    """QS 6.3, 9.3.2: a merchant's training is its own, a staff member's theirs; the
    assessors (admin and compliance staff) and regulators read all of it."""
    if viewer.role == Role.STAFF and not (viewer.has_duty(StaffDuty.ADMIN) or _compliance(viewer)):
        return Q(staff_id=viewer.account_id)
    return _merchant_rule(StaffDuty.COMPLIANCE, StaffDuty.ADMIN)(viewer)


def _staff_record_rule(viewer: Viewer) -> Q:
    """QS 9.3.1: a staff member's profile and posts are their own, and the business of the
    admin staff who record them, the compliance staff who assess training and supervise,
    and regulators. Nobody else's."""
    if _regulator(viewer) or viewer.has_duty(StaffDuty.ADMIN) or _compliance(viewer):
        return ALL
    if viewer.role == Role.STAFF:
        return Q(account_id=viewer.account_id)
    return NOTHING


def staff_performance_rule(viewer: Viewer) -> Q:
    """QS 9.3.3: the staff profiles whose performance the viewer reads: everyone's for
    admin staff and regulators (masked names), a staff member's own otherwise."""
    if _regulator(viewer) or viewer.has_duty(StaffDuty.ADMIN):
        return ALL
    if viewer.role == Role.STAFF:
        return Q(account_id=viewer.account_id)
    return NOTHING


RULES: dict[type[Model], Rule] = {
    Merchant: _public,
    ServiceProvider: _public,
    PlatformRule: _public,
    Product: _listing_rule(),
    ProductCertificate: _listing_rule("product__"),
    ProductReview: _listing_rule("product__"),
    Order: _order_rule(),
    OrderLine: _order_rule("order__", "order_id"),
    Payment: _payment_rule,
    Shipment: _shipment_rule,
    TrackingEvent: _tracking_rule,
    AfterSalesRequest: _after_sales_rule(),
    AfterSalesLine: _after_sales_rule("request__"),
    ReturnShipment: _return_shipment_rule,
    Refund: _refund_rule,
    Dispute: _dispute_rule,
    DisputeOffer: _dispute_rule,
    # Bulky goods: installation and trade-in (QS 9.7.5).
    InstallationAppointment: _bulky_rule,
    TradeIn: _bulky_rule,
    Complaint: _complaint_rule,
    Feedback: _feedback_rule,
    Account: _account_rule,
    PiiAccessLog: _pii_log_rule,
    RegulatorRead: _compliance_only,
    AuditEvent: _audit_rule,
    ViolationCase: _merchant_governance_rule,
    # Assessors hold the admin or the compliance duty (QS 6.3, 9.3.2).
    Enrolment: _enrolment_rule,
    Course: _public,
    MerchantGrade: _merchant_governance_rule,
    # Customer service acknowledges warnings as compliance does (QS 6.1.2).
    MerchantWarning: _merchant_rule(StaffDuty.COMPLIANCE, StaffDuty.CUSTOMER_SERVICE),
    # QS 6.1.1: what a merchant submitted for its grade, with its evidence.
    MerchantLicence: _merchant_governance_rule,
    BrandRegistration: _merchant_governance_rule,
    DepositPayment: _merchant_governance_rule,
    # Advance-compensation fund (QS 9.7.6)
    FundAccount: _fund_ledger_rule,
    FundTransaction: _fund_ledger_rule,
    FundEntry: _fund_ledger_rule,
    FundPayout: _fund_payout_rule,
    FundRecovery: _fund_recovery_rule,
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    Notification: _notification_rule,
    # Customer-service chat (QS 9.2.2, 9.7.2)
    ServiceSession: _service_session_rule(regulators=True),
    ServiceMessage: _service_session_rule("session__", regulators=False),
    # The phone queue (QS 9.2.2)
    Call: _call_rule,
    CallEvent: _call_rule,
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    StaffProfile: _staff_record_rule,
    PostAssignment: _staff_record_rule,
}


# What a rule reads of the viewer, where many viewers share it (the rule is a function of
# the key alone). Other models' key is the viewer itself.
SCOPE_KEYS: dict[type[Model], Callable[[Viewer], Hashable]] = {
    ServiceSession: _service_session_key,
    ServiceMessage: _service_session_key,
}


def scope_key(viewer: Viewer, model: type[Model]) -> Hashable:
    """Viewers with equal keys see the same rows of ``model``: one read can serve them all
    (a worker's subscribers of one session, services/customer_service/live.py)."""
    key = SCOPE_KEYS.get(model)
    return (model.__name__, viewer if key is None else key(viewer))


def scope(viewer: Viewer, model: type[M]) -> QuerySet[M]:
    """The rows of ``model`` that ``viewer`` may read. Unknown models are refused loudly."""
    try:
        rule = RULES[model]
    except KeyError as exc:
        raise LookupError(f"no scoping rule for {model.__name__}") from exc
    return model.filter(rule(viewer))


async def can_see(viewer: Viewer, model: type[Model], pk: int) -> bool:
    return await scope(viewer, model).filter(id=pk).exists()


# --- Who may read an entity's audit trail (QS 9.1.2) -------------------------------------------
# As a rule, whoever may read the entity. A merchant's and an account's trails record their
# standing (grades, key control, deposits, penalties; sessions, keys, deactivation), which is
# not public like the merchant itself is: they have rules of their own.


def _merchant_trail_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or _compliance(viewer):
        return ALL
    if viewer.role == Role.MERCHANT:
        return Q(id=viewer.merchant_id)
    return NOTHING


def _account_trail_rule(viewer: Viewer) -> Q:
    if _regulator(viewer) or viewer.has_duty(StaffDuty.ADMIN) or _compliance(viewer):
        return ALL
    if viewer.is_authenticated:
        return Q(id=viewer.account_id)
    return NOTHING


def _api_key_trail_rule(viewer: Viewer) -> Q:
    if _regulator(viewer):
        return ALL
    if viewer.role == Role.SERVICE_PROVIDER:
        return Q(provider_id=viewer.provider_id)
    return NOTHING


# Every entity with a trail, by the type name in its global id (and in audit_event).
TRACED: dict[str, type[Model]] = {
    model.__name__: model
    for model in (
        Account,
        AfterSalesRequest,
        ApiKey,
        BrandRegistration,
        Call,
        Complaint,
        Course,
        DepositPayment,
        Dispute,
        DisputeOffer,
        Enrolment,
        Feedback,
        FundPayout,
        FundRecovery,
        FundTransaction,
        InstallationAppointment,
        Merchant,
        MerchantLicence,
        MerchantWarning,
        Notification,
        Order,
        Payment,
        PlatformRule,
        PostAssignment,
        Product,
        ProductCertificate,
        ProductReview,
        Refund,
        ReturnShipment,
        ServiceSession,
        Shipment,
        StaffProfile,
        TradeIn,
        ViolationCase,
    )
}

TRAIL_RULES: dict[type[Model], Rule] = {
    Merchant: _merchant_trail_rule,
    Account: _account_trail_rule,
    ApiKey: _api_key_trail_rule,
}


async def can_see_trail(viewer: Viewer, model: type[Model], pk: int) -> bool:
    rule = TRAIL_RULES.get(model) or RULES.get(model)
    if rule is None:
        raise LookupError(f"no trail rule for {model.__name__}")
    return await model.filter(rule(viewer)).filter(id=pk).exists()


def sees_merchant_internals(
    viewer: Viewer, merchant_id: int, also: tuple[StaffDuty, ...] = ()
) -> bool:
    """Grades' sub-scores and inputs, warnings, cases, incentives, submissions and training
    records of a merchant: the merchant itself, compliance staff (and the duties ``also``
    names) and regulators (QS 6.1.1, 5.2)."""
    if _regulator(viewer) or _compliance(viewer) or any(viewer.has_duty(d) for d in also):
        return True
    return viewer.role == Role.MERCHANT and viewer.merchant_id == merchant_id


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
def sees_after_sales_timeliness(viewer: Viewer, merchant_id: int | None) -> bool:
    """A merchant's on-time response counts (``merchant_id``), or the whole platform's
    (None): the merchant its own only; customer-service and compliance staff and regulators
    any merchant's and the platform's."""
    if _regulator(viewer) or _compliance(viewer) or viewer.has_duty(StaffDuty.CUSTOMER_SERVICE):
        return True
    return (
        viewer.role == Role.MERCHANT
        and merchant_id is not None
        and viewer.merchant_id == merchant_id
    )
