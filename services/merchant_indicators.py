"""Merchant indicators from live data (QS 6.1.1, 6.1.2), set-based.

Every function here reads a fixed number of statements whatever the number of merchants:
it loads the window's facts in bulk and counts in Python. The grading job passes no
merchant filter; the live monitor passes the one merchant whose data just changed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count

from pinzhi.models import (
    BrandRegistration,
    BrandRelation,
    Complaint,
    ComplaintState,
    Feedback,
    FeedbackSubject,
    Merchant,
    MerchantLicence,
    Order,
    Product,
    Shipment,
    SubmissionState,
    TrackingEvent,
    ViolationCase,
    ViolationState,
)
from pinzhi.services import after_sales_metrics
from pinzhi.services.lookup import ids_of
from pinzhi.services.scoring import rate

# Decided cases count against credit; dismissed and overturned ones do not.
COUNTED_VIOLATIONS = (ViolationState.DECIDED, ViolationState.APPEALED, ViolationState.UPHELD)


@dataclass
class Operation:
    """Counts behind the operation rates over one window."""

    orders: int = 0
    defects: int = 0
    late_shipments: int = 0
    cancelled_before_shipment: int = 0
    shipments: int = 0
    tracked_shipments: int = 0

    def rates(self) -> dict[str, float | None]:
        return {
            "order_defect_rate": rate(self.defects, self.orders),
            "late_shipment_rate": rate(self.late_shipments, self.orders),
            "cancellation_rate": rate(self.cancelled_before_shipment, self.orders),
            "valid_tracking_rate": rate(self.tracked_shipments, self.shipments),
        }


@dataclass
class Service:
    complaints: int = 0
    # Complaints whose resolution found the consumer right: the only ones held against the
    # merchant (QS 6.1.1); a complaint still open or found groundless is not.
    upheld_complaints: int = 0
    handled_in_time: int = 0
    handled_late: int = 0
    satisfaction_sum: int = 0
    satisfaction_count: int = 0
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3): requests opened in the window
    # answered by their limit, and those answered late or not at all past it.
    after_sales_on_time: int = 0
    after_sales_breached: int = 0


@dataclass
class MerchantFacts:
    """Everything grading needs about one merchant, loaded in bulk."""

    operation: Operation = field(default_factory=Operation)
    service: Service = field(default_factory=Service)
    registered_brands: int = 0
    authorised_brands: int = 0
    sales_percentile: float | None = None
    categories: set[str] = field(default_factory=set)
    valid_licences: set[str] = field(default_factory=set)
    violations: list[tuple[str, datetime]] = field(default_factory=list)
    deposit_required_minor: int = 0
    deposit_held_minor: int = 0
    previous_level: str | None = None
    key_control_until: datetime | None = None


def _in(merchant_ids: list[int] | None, column: str = "merchant_id") -> Q:
    if merchant_ids is None:
        return Q()
    among: dict[str, Any] = {f"{column}__in": merchant_ids}  # Any: see auth/scopes._where
    return Q(**among)


async def operation_counts(
    since: datetime,
    now: datetime,
    late_hours: float,
    merchant_ids: list[int] | None = None,
    tracking_grace_hours: float = 24,
) -> dict[int, Operation]:
    """Orders paid in the window: defects (a 1–2 star rating or an upheld complaint),
    late shipments, cancellations before shipment; shipments with a valid tracking scan."""
    orders = await Order.filter(_in(merchant_ids), paid_at__gte=since).values_list(
        "id", "merchant_id", "paid_at", "shipped_at", "cancelled_at"
    )
    low_rated = set(
        await Feedback.filter(
            _in(merchant_ids, "rated_merchant_id"),
            subject_type=FeedbackSubject.ORDER,
            score__lte=2,
            created_at__gte=since,
        ).values_list("subject_id", flat=True)
    )
    upheld = set(
        await Complaint.filter(
            _in(merchant_ids), upheld=True, order_id__isnull=False, created_at__gte=since
        ).values_list("order_id", flat=True)
    )
    limit = timedelta(hours=late_hours)
    result: dict[int, Operation] = defaultdict(Operation)
    for order_id, merchant_id, paid_at, shipped_at, cancelled_at in orders:
        op = result[merchant_id]
        op.orders += 1
        if order_id in low_rated or order_id in upheld:
            op.defects += 1
        if cancelled_at is not None and shipped_at is None:
            op.cancelled_before_shipment += 1
        elif (shipped_at or now) - paid_at > limit:
            op.late_shipments += 1
    shipments = await Shipment.filter(_in(merchant_ids), created_at__gte=since).values_list(
        "id", "merchant_id", "created_at"
    )
    tracked = set(
        await TrackingEvent.filter(
            _in(merchant_ids, "shipment__merchant_id"), shipment__created_at__gte=since
        )
        .distinct()
        .values_list("shipment_id", flat=True)
    )
    grace = now - timedelta(hours=tracking_grace_hours)
    for shipment_id, merchant_id, created_at in shipments:
        # A shipment handed over minutes ago has had no chance to be scanned yet: it
        # counts once scanned or once its grace period has passed.
        if shipment_id in tracked:
            result[merchant_id].shipments += 1
            result[merchant_id].tracked_shipments += 1
        elif created_at <= grace:
            result[merchant_id].shipments += 1
    return result


async def service_counts(
    since: datetime, now: datetime, merchant_ids: list[int] | None = None
) -> dict[int, Service]:
    """Complaints filed in the window, those upheld, and whether each was handled on the
    spot or by its promised date (QS 9.2.4); satisfaction from merchant and order feedback
    (QS 10.2); after-sales requests opened in the window answered within their response
    limit or not (QS 9.2.3, services/after_sales_metrics.py)."""
    result: dict[int, Service] = defaultdict(Service)
    complaints = await Complaint.filter(_in(merchant_ids), created_at__gte=since).values_list(
        "merchant_id", "state", "promised_by", "resolved_at", "upheld"
    )
    for merchant_id, state, promised_by, resolved_at, upheld in complaints:
        svc = result[merchant_id]
        svc.complaints += 1
        svc.upheld_complaints += upheld is True
        if state == ComplaintState.RESOLVED:
            on_time = promised_by is None or (
                resolved_at is not None and resolved_at <= promised_by
            )
            if on_time:
                svc.handled_in_time += 1
            else:
                svc.handled_late += 1
        elif state == ComplaintState.PROMISED and promised_by is not None and promised_by < now:
            svc.handled_late += 1
    ratings = (
        await Feedback.filter(
            _in(merchant_ids, "rated_merchant_id"),
            subject_type__in=[FeedbackSubject.ORDER, FeedbackSubject.MERCHANT],
            created_at__gte=since,
        )
        .annotate(n=Count("id"))
        .group_by("rated_merchant_id", "score")
        .values_list("rated_merchant_id", "score", "n")
    )
    for merchant_id, score, n in ratings:
        result[merchant_id].satisfaction_sum += score * n
        result[merchant_id].satisfaction_count += n
    for merchant_id, timeliness in (
        await after_sales_metrics.counts(since, None, now, merchant_ids)
    ).items():
        result[merchant_id].after_sales_on_time = timeliness.on_time
        result[merchant_id].after_sales_breached = timeliness.breached
    return result


async def sales_percentiles(since: datetime) -> dict[int, float]:
    """Each merchant's rank among all merchants by orders paid in the window (0 = last,
    1 = first). Peers are every merchant, so this reads all of them even for one."""
    counts = dict(
        await Order.filter(paid_at__gte=since)
        .annotate(n=Count("id"))
        .group_by("merchant_id")
        .values_list("merchant_id", "n")
    )
    merchant_ids = await ids_of(Merchant.all())
    ordered = sorted(counts.get(m, 0) for m in merchant_ids)
    if len(ordered) <= 1:
        return dict.fromkeys(merchant_ids, 1.0)
    result: dict[int, float] = {}
    for merchant_id in merchant_ids:
        n = counts.get(merchant_id, 0)
        result[merchant_id] = round(bisect_left(ordered, n) / (len(ordered) - 1), 4)
    return result


async def load_facts(
    now: datetime, rule: dict[str, Any], merchant_ids: list[int] | None = None
) -> dict[int, MerchantFacts]:
    since = now - timedelta(days=rule["window_days"])
    merchants = await Merchant.filter(_in(merchant_ids, "id")).values_list(
        "id", "deposit_required_minor", "deposit_held_minor", "grade_level", "key_control_until"
    )
    facts: dict[int, MerchantFacts] = {
        m_id: MerchantFacts(
            deposit_required_minor=required,
            deposit_held_minor=held,
            previous_level=level,
            key_control_until=key_until,
        )
        for m_id, required, held, level, key_until in merchants
    }
    ids = list(facts) if merchant_ids is not None else None
    counts = await operation_counts(
        since, now, rule["late_shipment_hours"], ids, rule["tracking_grace_hours"]
    )
    for m_id, op in counts.items():
        if m_id in facts:
            facts[m_id].operation = op
    for m_id, svc in (await service_counts(since, now, ids)).items():
        if m_id in facts:
            facts[m_id].service = svc
    for m_id, share in (await sales_percentiles(since)).items():
        if m_id in facts:
            facts[m_id].sales_percentile = share
    # Only what compliance staff verified counts, and only until it expires (QS 6.1.1).
    verified = SubmissionState.VERIFIED
    brands = await BrandRegistration.filter(
        _in(ids), valid_until__gt=now, state=verified
    ).values_list("merchant_id", "relation")
    for m_id, relation in brands:
        if relation == BrandRelation.REGISTERED:
            facts[m_id].registered_brands += 1
        else:
            facts[m_id].authorised_brands += 1
    for m_id, category in (
        await Product.filter(_in(ids)).distinct().values_list("merchant_id", "category")
    ):
        facts[m_id].categories.add(category)
    for m_id, kind in await MerchantLicence.filter(
        _in(ids), valid_until__gt=now, state=verified
    ).values_list("merchant_id", "kind"):
        facts[m_id].valid_licences.add(str(kind))
    for m_id, kind, decided_at in await ViolationCase.filter(
        _in(ids), state__in=COUNTED_VIOLATIONS, decided_at__isnull=False
    ).values_list("merchant_id", "type", "decided_at"):
        facts[m_id].violations.append((str(kind), decided_at))
    return facts
