"""Product grades from five dimensions (QS 7.1.1), key-category inspections (QS 7.1.2)
and the ranking score of traffic support (QS 7.2).

The facts of every product are loaded set-wise (a fixed number of grouped queries, whatever
the number of products); ``compute`` is a pure function of one product's facts and the
rule, shared by the grading job, the single-product grading and the live view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Max, Sum
from tortoise.transactions import in_transaction

from pinzhi.models import (
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesState,
    AuditEvent,
    CertificateResult,
    Complaint,
    ComplaintCategory,
    Merchant,
    OrderLine,
    OrderState,
    Product,
    ProductCertificate,
    ProductGrade,
    ProductReview,
)
from pinzhi.services import audit, bulk, key_control, rules
from pinzhi.services.certificates import is_valid as certificate_is_valid
from pinzhi.services.lookup import ids_of, lock_rows
from pinzhi.services.scoring import (
    cap,
    current_period,
    level_for,
    level_rank,
    linear,
    mean,
    rate,
    weighted_total,
)

RULE_KEY = "product.grading"
# Orders that were paid for: they count as sold in the window (the rates' denominator).
SOLD_STATES = (OrderState.PAID, OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED)
COUNTED_COMPLAINTS = (ComplaintCategory.QUALITY, ComplaintCategory.NOT_AS_DESCRIBED)
# A dimension moving by at least this many points is named among the reasons of a grade.
REASON_MIN_CHANGE = 1.0
MAX_DIMENSION_REASONS = 3
# After-sales sweep and timeliness (QS 9.2.1, 9.2.3): the kinds of request whose goods
# come back to the merchant, counted in the return rate.
RETURNED_KINDS = (
    AfterSalesKind.RETURN_REFUND,
    AfterSalesKind.EXCHANGE,
    AfterSalesKind.QUALITY_ISSUE,
)


def is_key_category(category: str, content: dict[str, Any]) -> bool:
    return category in content.get("key_categories", [])


def badge_for(level: str | None, content: dict[str, Any], language: str = "zh") -> str | None:
    """The visible badge of traffic support (QS 7.2), or None below the badge levels."""
    if level is None or level not in content.get("badge_levels", []):
        return None
    text = content["badge_text"]
    return str(text.get(language) or text["zh"])


def rank_score(level: str, score: float, content: dict[str, Any]) -> float:
    """The published formula: rank_boost_by_level[level] + score / 10."""
    return round(float(content["rank_boost_by_level"].get(level, 0)) + score / 10, 2)


# --- facts ------------------------------------------------------------------------------------


@dataclass
class ProductFacts:
    product: Product
    certificates: list[ProductCertificate] = field(default_factory=list)
    orders: int = 0
    complaints: dict[str, int] = field(default_factory=dict)
    reviews: int = 0
    rating_sum: int = 0
    praising_reviews: int = 0
    units_sold: int = 0
    units_returned: int = 0
    # Orders with an upheld quality complaint or an approved quality-issue request.
    quality_orders: set[int] = field(default_factory=set)
    quality_issue_orders: set[int] = field(default_factory=set)


async def load_facts(
    now: datetime, content: dict[str, Any], product_ids: list[int] | None = None
) -> dict[int, ProductFacts]:
    """Every product's (or the given products') facts in eight grouped statements."""
    since = now - timedelta(days=int(content["window_days"]))

    def only(query: Any, key: str = "product_id") -> Any:
        return query if product_ids is None else query.filter(**{f"{key}__in": product_ids})

    products = await only(Product.all(), "id").order_by("id")
    facts = {p.id: ProductFacts(p) for p in products}
    for cert in await only(ProductCertificate.filter(issued_at__lte=now)).order_by("id"):
        if cert.product_id in facts:
            facts[cert.product_id].certificates.append(cert)
    sold = {"order__state__in": SOLD_STATES, "order__created_at__gte": since}
    order_counts = (
        await only(OrderLine.filter(**sold))
        .annotate(
            n=Count("order_id", distinct=True),
            units=Sum("quantity"),
            cancelled=Sum("cancelled_quantity"),
        )
        .group_by("product_id")
        .values("product_id", "n", "units", "cancelled")
    )
    for row in order_counts:
        if row["product_id"] in facts:
            sold_facts = facts[row["product_id"]]
            sold_facts.orders = int(row["n"])
            sold_facts.units_sold = int(row["units"] or 0) - int(row["cancelled"] or 0)
    # Complaints about an order count for each product in it once upheld: one still open
    # or found groundless does not count (QS 7.1.1 after-sales data).
    complaint_rows = (
        await only(
            Complaint.filter(upheld=True, category__in=COUNTED_COMPLAINTS, **sold),
            "order__lines__product_id",
        )
        .distinct()
        .values_list("order__lines__product_id", "category", "id", "order_id")
    )
    counted: dict[tuple[int, str], set[int]] = {}
    for product_id, category, complaint_id, order_id in complaint_rows:
        counted.setdefault((product_id, str(category)), set()).add(complaint_id)
        complained = facts.get(product_id)
        if complained is not None and category == ComplaintCategory.QUALITY:
            complained.quality_orders.add(order_id)
    for (product_id, category), complaint_ids in counted.items():
        if product_id in facts:
            facts[product_id].complaints[category] = len(complaint_ids)
    await _after_sales_facts(facts, sold, only)
    review_rows = (
        await only(ProductReview.filter(created_at__gte=since))
        .annotate(
            n=Count("id"),
            rating_sum=Sum("rating"),
            praised=Count("id", _filter=Q(praises_quality=True)),
        )
        .group_by("product_id")
        .values("product_id", "n", "rating_sum", "praised")
    )
    for row in review_rows:
        found = facts.get(row["product_id"])
        if found is not None:
            found.reviews = int(row["n"])
            found.rating_sum = int(row["rating_sum"] or 0)
            found.praising_reviews = int(row["praised"] or 0)
    return facts


def _reached(target: AfterSalesState) -> Subquery:
    """The after-sales requests that ever moved into ``target``, whatever their state now:
    every move is a traced key node of the request's trail (``state.move``), so the trail
    says it where the current state cannot (a CLOSED request was refunded or rejected)."""
    return Subquery(
        AuditEvent.filter(entity_type="AfterSalesRequest", to_state=str(target)).values("entity_id")
    )


async def _after_sales_facts(
    facts: dict[int, ProductFacts], sold: dict[str, Any], only: Any
) -> None:
    """QS 7.1.1 after-sales data, from the requests on the lines of the window's sold
    orders: units sent back (a return, exchange or quality-issue request that reached
    RETURN_IN_TRANSIT: the consumer handed the goods to a carrier, or the platform's
    pick-up collected them), and the orders of a quality-issue request that was approved
    (by the merchant, customer service or the premium fast review: the claim accepted,
    as an upheld complaint is)."""
    on_sold = {f"order_line__{key}": value for key, value in sold.items()}
    returned = (
        await only(
            AfterSalesLine.filter(
                request__kind__in=RETURNED_KINDS,
                request_id__in=_reached(AfterSalesState.RETURN_IN_TRANSIT),
                **on_sold,
            ),
            "order_line__product_id",
        )
        .annotate(units=Sum("quantity"))
        .group_by("order_line__product_id")
        .values("order_line__product_id", "units")
    )
    for row in returned:
        found = facts.get(row["order_line__product_id"])
        if found is not None:
            found.units_returned = int(row["units"] or 0)
    quality_requests = (
        await only(
            AfterSalesLine.filter(
                request__kind=AfterSalesKind.QUALITY_ISSUE,
                request_id__in=_reached(AfterSalesState.APPROVED),
                **on_sold,
            ),
            "order_line__product_id",
        )
        .distinct()
        .values_list("order_line__product_id", "order_line__order_id")
    )
    for product_id, order_id in quality_requests:
        found = facts.get(product_id)
        if found is not None:
            found.quality_orders.add(order_id)
            found.quality_issue_orders.add(order_id)


async def latest_grades(
    product_ids: list[int] | None = None, before_period: str | None = None
) -> dict[int, ProductGrade]:
    """The latest grade of each product (before ``before_period``), in one statement."""
    latest = ProductGrade.all()
    if before_period is not None:
        latest = latest.filter(period__lt=before_period)
    if product_ids is not None:
        latest = latest.filter(product_id__in=product_ids)
    ids = latest.annotate(last_id=Max("id")).group_by("product_id").values("last_id")
    rows = await ProductGrade.filter(id__in=Subquery(ids))
    return {row.product_id: row for row in rows}


# --- the arithmetic ------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeResult:
    level: str
    score: float
    dimensions: dict[str, dict[str, Any]]
    reasons: list[str]
    rank_score: float
    key_category: bool
    inspection: str | None  # passed, failed, expired, none; None outside key categories


def _certificate_share(
    kinds: list[str], certificates: list[ProductCertificate], now: datetime
) -> dict[str, Any]:
    valid = {
        str(c.kind)
        for c in certificates
        if c.result == CertificateResult.PASS and certificate_is_valid(c, now)
    }
    held = [kind for kind in kinds if kind in valid]
    return {
        "score": round(100.0 * len(held) / len(kinds), 2) if kinds else 100.0,
        "inputs": {
            "required": list(kinds),
            "valid_pass": held,
            "missing": [kind for kind in kinds if kind not in valid],
        },
    }


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _listing(facts: ProductFacts, content: dict[str, Any]) -> dict[str, Any]:
    product = facts.product
    by_category = content["required_attributes"]
    required = list(by_category.get(product.category, by_category.get("*", [])))
    attributes = product.attributes if isinstance(product.attributes, dict) else {}
    missing = [name for name in required if not _filled(attributes.get(name))]
    completeness = rate(len(required) - len(missing), len(required))
    checks: dict[str, bool] = {"price_positive": product.price_minor > 0}
    brand = attributes.get("brand")
    if _filled(brand):
        checks["title_contains_brand"] = str(brand).strip().lower() in product.title.lower()
    consistency = rate(sum(checks.values()), len(checks))
    described = facts.complaints.get(ComplaintCategory.NOT_AS_DESCRIBED, 0)
    described_rate = rate(described, facts.orders)
    score = mean(
        [
            100.0 if completeness is None else round(100.0 * completeness, 2),
            round(100.0 * (consistency or 0.0), 2),
            linear(described_rate, **content["not_as_described_rate"]),
        ]
    )
    return {
        "score": score,
        "inputs": {
            "required_attributes": required,
            "missing_attributes": missing,
            "completeness": completeness,
            **checks,
            "consistency": consistency,
            "orders": facts.orders,
            "not_as_described_complaints": described,
            "not_as_described_rate": described_rate,
        },
    }


def _after_sales(facts: ProductFacts, content: dict[str, Any]) -> dict[str, Any]:
    """QS 7.1.1 after-sales data, by the rule's ``after_sales_formula``: the mean of the
    return rate's sub-score and the quality-complaint share's."""
    quality = facts.complaints.get(ComplaintCategory.QUALITY, 0)
    share = rate(len(facts.quality_orders), facts.orders)
    return_rate = rate(facts.units_returned, facts.units_sold)
    return {
        "score": mean(
            [
                linear(return_rate, **content["return_rate"]),
                linear(share, **content["quality_complaint_rate"]),
            ]
        ),
        "inputs": {
            "orders": facts.orders,
            "units_sold": facts.units_sold,
            "units_returned": facts.units_returned,
            "return_rate": return_rate,
            "quality_complaints": quality,
            "quality_issue_requests": len(facts.quality_issue_orders),
            "quality_orders": len(facts.quality_orders),
            "quality_complaint_share": share,
        },
    }


def _reviews(facts: ProductFacts, content: dict[str, Any]) -> dict[str, Any]:
    count, minimum = facts.reviews, int(content["min_reviews"])
    average = round(facts.rating_sum / count, 2) if count else None
    # A rate over fewer than min_reviews reviews says little: only the average joins then.
    praise_rate = rate(facts.praising_reviews, count) if count >= minimum else None
    return {
        "score": mean(
            [
                linear(average, **content["rating"]),
                linear(praise_rate, **content["praise_rate"]),
            ]
        ),
        "inputs": {
            "reviews": count,
            "min_reviews": minimum,
            "average_rating": average,
            "praising_reviews": facts.praising_reviews,
            "praise_rate": praise_rate,
        },
    }


def inspection_status(
    certificates: list[ProductCertificate], content: dict[str, Any], now: datetime
) -> str:
    """passed (a valid PASS, the latest not failed), failed (the latest inspection failed),
    expired (inspected, but no PASS is valid now) or none."""
    kinds = set(content["inspection_kinds"])
    inspections = [c for c in certificates if str(c.kind) in kinds and c.issued_at <= now]
    if not inspections:
        return "none"
    latest = max(inspections, key=lambda c: (c.issued_at, c.id or 0))
    if latest.result == CertificateResult.FAIL:
        return "failed"
    if any(
        c.result == CertificateResult.PASS and certificate_is_valid(c, now) for c in inspections
    ):
        return "passed"
    return "expired"


CAP_REASONS = {
    "none": "no valid inspection",
    "failed": "the latest inspection failed",
    "expired": "the inspection has expired",
}


def _change_reasons(
    dims: dict[str, dict[str, Any]],
    level: str,
    previous: ProductGrade | None,
    rule_version: int | None,
    levels: list[Any],
) -> list[str]:
    if previous is None:
        return ["first grade"]
    reasons: list[str] = []
    if previous.level != level:
        worse = level_rank(level, levels) > level_rank(previous.level, levels)
        reasons.append(f"{'down' if worse else 'up'}graded {previous.level} → {level}")
    moves = []
    for name, dim in dims.items():
        before = (previous.dimensions or {}).get(name, {}).get("score")
        if before is not None and abs(dim["score"] - before) >= REASON_MIN_CHANGE:
            moves.append((abs(dim["score"] - before), name, before, dim["score"]))
    for _, name, before, after in sorted(moves, reverse=True)[:MAX_DIMENSION_REASONS]:
        direction = "rose" if after > before else "fell"
        reasons.append(f"dimension {name} {direction} from {before:.0f} to {after:.0f}")
    if rule_version is not None and previous.rule_version != rule_version:
        reasons.append(f"rule version {previous.rule_version} → {rule_version}")
    return reasons


def compute(
    facts: ProductFacts,
    content: dict[str, Any],
    now: datetime,
    previous: ProductGrade | None = None,
    rule_version: int | None = None,
) -> GradeResult:
    """One product's grade from its facts and the rule content (already defaulted)."""
    certs = facts.certificates
    dims = {
        "qualification": _certificate_share(content["qualification_kinds"], certs, now),
        "production": _certificate_share(content["production_kinds"], certs, now),
        "listing": _listing(facts, content),
        "after_sales": _after_sales(facts, content),
        "reviews": _reviews(facts, content),
    }
    score = weighted_total({n: d["score"] for n, d in dims.items()}, content["weights"])
    levels = content["levels"]
    level = level_for(score, levels)
    key_category = is_key_category(facts.product.category, content)
    status = inspection_status(certs, content, now) if key_category else None
    cap_reason = None
    if status is not None and status != "passed":
        ceiling = content["cap_without_inspection" if status == "none" else "cap_failed_inspection"]
        capped = cap(level, ceiling, levels)
        if capped != level:
            cap_reason = f"capped at {capped} (from {level}): {CAP_REASONS[status]}"
            level = capped
    dims["qualification"]["inputs"]["key_category"] = key_category
    dims["qualification"]["inputs"]["inspection"] = status
    reasons = _change_reasons(dims, level, previous, rule_version, levels)
    if cap_reason:
        reasons.insert(0, cap_reason)
    return GradeResult(
        level=level,
        score=score,
        dimensions=dims,
        reasons=reasons,
        rank_score=rank_score(level, score, content),
        key_category=key_category,
        inspection=status,
    )


# --- grading and storing ---------------------------------------------------------------------

PRODUCT_GRADE_FIELDS = [
    "grade_level",
    "grade_score",
    "grade_rule_version",
    "graded_at",
    "rank_score",
]


@dataclass
class _Run:
    grades: list[ProductGrade]
    skipped: int
    by_level: dict[str, int]
    capped: int
    rule_version: int


async def _grade(period: str, now: datetime, product_ids: list[int] | None, store: bool) -> _Run:
    rule = await rules.current(RULE_KEY)
    content = rule.content
    done_query = ProductGrade.filter(period=period)
    if product_ids is not None:
        done_query = done_query.filter(product_id__in=product_ids)
    done = set(await ids_of(done_query, "product_id")) if store else set()
    facts = await load_facts(now, content, product_ids)
    previous = await latest_grades(product_ids, before_period=period)
    run = _Run([], 0, {}, 0, rule.version)
    changed: list[Product] = []
    # The rank score of each product's new grade, before any traffic restriction.
    base_rank: dict[int, float] = {}
    transitions: list[tuple[int, str, str, str, dict[str, Any]]] = []
    for product_id, product_facts in facts.items():
        if product_id in done:
            run.skipped += 1
            continue
        last = previous.get(product_id)
        result = compute(product_facts, content, now, last, rule.version)
        run.grades.append(
            ProductGrade(
                product_id=product_id,
                period=period,
                level=result.level,
                previous_level=last.level if last else None,
                score=result.score,
                dimensions=result.dimensions,
                reasons=result.reasons,
                rule_version=rule.version,
            )
        )
        run.by_level[result.level] = run.by_level.get(result.level, 0) + 1
        run.capped += any(r.startswith("capped") for r in result.reasons)
        product = product_facts.product
        product.grade_level = result.level
        product.grade_score = result.score
        product.grade_rule_version = rule.version
        product.graded_at = now
        base_rank[product_id] = result.rank_score
        product.rank_score = result.rank_score
        changed.append(product)
        if last is None or last.level != result.level:
            transitions.append(
                (
                    product_id,
                    "graded",
                    last.level if last else "",
                    result.level,
                    {"period": period, "score": result.score, "rule_version": rule.version},
                )
            )
    if store and run.grades:
        try:
            async with in_transaction():
                # Under the merchants' locks (the ones every decision, listing change and
                # penalty takes first), a restriction decided or lifted meanwhile lands
                # wholly before or after this write, and no request appends to a product's
                # trail between the heads read and the events written.
                merchant_ids = {p.merchant_id for p in changed}
                await lock_rows(Merchant, merchant_ids)
                await _restrict(changed, base_rank, merchant_ids, now)
                await ProductGrade.bulk_create(run.grades, batch_size=1000)
                await bulk.update_fields(Product, changed, PRODUCT_GRADE_FIELDS)
                # Traced key nodes (decision 9): a product's grade moving from level to level.
                await audit.append_many("Product", transitions, actor=None)
        except IntegrityError:
            # Another run graded some of these products for this period first: all is
            # rolled back, and those grades stand.
            return _Run([], run.skipped + len(run.grades), {}, 0, rule.version)
    elif changed:
        await _restrict(changed, base_rank, {p.merchant_id for p in changed}, now)
    return run


async def _restrict(
    products: list[Product], base_rank: dict[int, float], merchant_ids: set[int], now: datetime
) -> None:
    """QS 6.4, 7.2: a traffic restriction in force lowers the published rank score."""
    restricted = await key_control.rank_penalties(merchant_ids, now)
    for product in products:
        penalty = restricted.get(product.merchant_id, 0.0)
        product.rank_score = round(base_rank[product.id] - penalty, 2)


async def grade_products(period: str, now: datetime) -> dict[str, Any]:
    """Grade every product not yet graded for ``period`` (idempotent per period), in a fixed
    number of statements whatever the number of products. Returns a summary."""
    run = await _grade(period, now, None, store=True)
    return {
        "period": period,
        "rule_version": run.rule_version,
        "graded": len(run.grades),
        "skipped": run.skipped,
        "capped": run.capped,
        "by_level": dict(sorted(run.by_level.items())),
    }


async def grade_product(
    product_id: int, now: datetime, *, store: bool = True
) -> ProductGrade | None:
    """Grade one product for the period of ``now`` by the same computation. With ``store``
    the grade is saved (or the period's existing grade returned); without it, the grade is
    computed from live data and not saved (the live view). None for a missing product."""
    period = current_period(now)
    run = await _grade(period, now, [product_id], store=store)
    if not store:
        return run.grades[0] if run.grades else None
    return await ProductGrade.get_or_none(product_id=product_id, period=period)
