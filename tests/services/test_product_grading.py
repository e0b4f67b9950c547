"""Product grades from five dimensions (QS 7.1.1), inspections of key categories (QS 7.1.2),
the ranking score of traffic support (QS 7.2), under versioned rules (QS 5.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.auth.crypto import encrypt
from pinzhi.models import (
    AuditEvent,
    CertificateKind,
    CertificateResult,
    Complaint,
    ComplaintCategory,
    Merchant,
    Order,
    OrderLine,
    OrderState,
    Product,
    ProductCertificate,
    ProductGrade,
    ProductReview,
)
from pinzhi.services import audit, product_grading, rules
from pinzhi.services.scoring import current_period
from tests import factories as f
from tests.helpers import count_sql

NOW = datetime.now(UTC)
PERIOD = current_period(NOW)
NEXT = "9999-01"  # a later period, graded with the same clock
FULL_FOOD = {"brand": "良品", "origin": "浙江", "shelf_life": "12 个月", "net_weight": "500 g"}
ALL_BUT_INSPECTION = [
    CertificateKind.INDUSTRY_CERTIFICATION,
    CertificateKind.BRAND_AUTHORISATION,
    CertificateKind.ENVIRONMENTAL_COMPLIANCE,
    CertificateKind.SAFETY_COMPLIANCE,
]


async def _product(shop: Merchant, category: str = "food", **kw: object) -> Product:
    attributes = kw.pop("attributes", FULL_FOOD if category == "food" else {"brand": "良品"})
    return await f.product(
        shop, category=category, title=kw.pop("title", "良品 坚果礼盒"), attributes=attributes, **kw
    )


async def _cert(
    product: Product,
    kind: CertificateKind,
    result: CertificateResult = CertificateResult.PASS,
    *,
    issued_days_ago: float = 30,
    valid_days: float = 365,
) -> ProductCertificate:
    issued = NOW - timedelta(days=issued_days_ago)
    return await ProductCertificate.create(
        product_id=product.id,
        kind=kind,
        agency="国家食品质量检验检测中心",
        report_number=f"R{product.id}-{kind}-{issued_days_ago}",
        result=result,
        issued_at=issued,
        valid_until=issued + timedelta(days=valid_days),
    )


async def _orders(buyer: f.Actor, product: Product, n: int) -> list[Order]:
    """``n`` delivered orders of ``product``, inserted directly."""
    before = set(await Order.filter(consumer_id=buyer.account.id).values_list("id", flat=True))
    await Order.bulk_create(
        [
            Order(
                consumer_id=buyer.account.id,
                merchant_id=product.merchant_id,
                state=OrderState.DELIVERED,
                total_minor=product.price_minor,
                currency="CNY",
                recipient_name_enc=encrypt("张三"),
                recipient_phone_enc=encrypt("13812345678"),
                address_enc=encrypt("北京市朝阳区建国路 88 号"),
            )
            for _ in range(n)
        ]
    )
    made = await Order.filter(consumer_id=buyer.account.id, id__not_in=before).order_by("id")
    await OrderLine.bulk_create(
        [
            OrderLine(
                order_id=o.id, product_id=product.id, quantity=1, unit_price_minor=o.total_minor
            )
            for o in made
        ]
    )
    return made


async def _complaints(
    orders: list[Order], category: ComplaintCategory, upheld: bool | None = True
) -> None:
    await Complaint.bulk_create(
        [
            Complaint(
                consumer_id=o.consumer_id,
                merchant_id=o.merchant_id,
                order_id=o.id,
                description="质量问题 / quality problem",
                category=category,
                upheld=upheld,
            )
            for o in orders
        ]
    )


async def _reviews(orders: list[Order], product: Product, rating: int, praised: bool) -> None:
    await ProductReview.bulk_create(
        [
            ProductReview(
                product_id=product.id,
                order_id=o.id,
                consumer_id=o.consumer_id,
                rating=rating,
                text="质量很好" if praised else "一般",
                praises_quality=praised,
            )
            for o in orders
        ]
    )


async def _grade(product: Product, period: str) -> ProductGrade:
    await product_grading.grade_products(period, NOW)
    return await ProductGrade.get(product_id=product.id, period=period)


def _score(grade: ProductGrade, dimension: str) -> float:
    return grade.dimensions[dimension]["score"]


async def test_every_dimension_has_a_score_and_visible_inputs(db) -> None:
    """QS 7.1.1: five dimensions, each 0–100 with the inputs behind it; without a unit
    sold the return rate has no value (and leaves the after-sales score alone)."""
    shop, _ = await f.merchant()
    item = await _product(shop, category="electronics")
    grade = await _grade(item, PERIOD)
    assert set(grade.dimensions) == {
        "qualification",
        "production",
        "listing",
        "after_sales",
        "reviews",
    }
    assert all(0 <= d["score"] <= 100 for d in grade.dimensions.values())
    qualification = grade.dimensions["qualification"]["inputs"]
    assert qualification["missing"] == [
        "NATIONAL_INSPECTION",
        "INDUSTRY_CERTIFICATION",
        "BRAND_AUTHORISATION",
    ]
    after_sales = grade.dimensions["after_sales"]["inputs"]
    assert (after_sales["units_sold"], after_sales["return_rate"]) == (0, None)
    assert after_sales["quality_complaint_share"] is None
    assert grade.rule_version == 1 and grade.reasons == ["first grade"]
    row = await Product.get(id=item.id)
    assert (row.grade_level, row.grade_score, row.grade_rule_version) == (
        grade.level,
        grade.score,
        1,
    )


async def test_adding_a_certificate_raises_qualification(db) -> None:
    """QS 7.1.1 qualifications: a valid passed certificate raises the dimension and the
    total, and the reason names the move; a failed or expired one adds nothing."""
    shop, _ = await f.merchant()
    item = await _product(shop, category="electronics")
    before = await _grade(item, PERIOD)
    assert _score(before, "qualification") == 0
    await _cert(item, CertificateKind.INDUSTRY_CERTIFICATION)
    await _cert(item, CertificateKind.BRAND_AUTHORISATION, CertificateResult.FAIL)
    await _cert(item, CertificateKind.NATIONAL_INSPECTION, valid_days=10)  # expired
    after = await _grade(item, NEXT)
    assert _score(after, "qualification") == pytest.approx(33.33)
    assert after.dimensions["qualification"]["inputs"]["valid_pass"] == ["INDUSTRY_CERTIFICATION"]
    assert after.score > before.score
    assert "dimension qualification rose from 0 to 33" in after.reasons


async def test_production_counts_environmental_and_safety_compliance(db) -> None:
    """QS 7.1.1 production standards: the share of valid passed compliance records."""
    shop, _ = await f.merchant()
    item = await _product(shop, category="electronics")
    await _cert(item, CertificateKind.SAFETY_COMPLIANCE)
    grade = await _grade(item, PERIOD)
    assert _score(grade, "production") == 50.0
    assert grade.dimensions["production"]["inputs"]["missing"] == ["ENVIRONMENTAL_COMPLIANCE"]


async def test_quality_complaints_lower_after_sales(db) -> None:
    """QS 7.1.1 after-sales data: the share of quality complaints among the orders with the
    product lowers the dimension; complaints found groundless, or not yet decided, do not
    count: only upheld ones do."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(shop, category="electronics")
    orders = await _orders(buyer, item, 40)
    before = await _grade(item, PERIOD)
    assert _score(before, "after_sales") == 100.0
    await _complaints(orders[:1], ComplaintCategory.QUALITY)
    await _complaints(orders[1:5], ComplaintCategory.QUALITY, upheld=False)
    await _complaints(orders[5:9], ComplaintCategory.DELIVERY)
    await _complaints(orders[9:12], ComplaintCategory.QUALITY, upheld=None)
    after = await _grade(item, NEXT)
    inputs = after.dimensions["after_sales"]["inputs"]
    assert (inputs["orders"], inputs["quality_complaints"]) == (40, 1)
    assert inputs["quality_complaint_share"] == 0.025
    # The mean of the quality share's sub-score (50) and the return rate's (nothing
    # returned: 100), by the rule's after_sales_formula.
    assert inputs["return_rate"] == 0.0
    assert _score(after, "after_sales") == 75.0
    assert after.score < before.score
    assert "dimension after_sales fell from 100 to 75" in after.reasons


async def test_listing_checks_completeness_consistency_and_not_as_described(db) -> None:
    """QS 7.1.1 listing information: required attributes of the category, a title that
    carries the brand, a real price, and few not-as-described complaints."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(
        shop,
        title="坚果礼盒",
        attributes={"brand": "良品", "origin": "浙江"},  # half, no brand
    )
    orders = await _orders(buyer, item, 20)
    await _complaints(orders[:1], ComplaintCategory.NOT_AS_DESCRIBED)  # 5%: the bad end
    grade = await _grade(item, PERIOD)
    inputs = grade.dimensions["listing"]["inputs"]
    assert inputs["missing_attributes"] == ["shelf_life", "net_weight"]
    assert inputs["completeness"] == 0.5
    assert (inputs["price_positive"], inputs["title_contains_brand"]) == (True, False)
    assert inputs["not_as_described_rate"] == 0.05
    assert _score(grade, "listing") == pytest.approx((50 + 50 + 0) / 3, abs=0.01)


async def test_reviews_use_rating_and_praise_rate_once_there_are_enough(db) -> None:
    """QS 7.1.1 consumer reviews: the average rating always, the praise-keyword rate from
    min_reviews reviews on (a rate over fewer says little)."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(shop, category="electronics")
    orders = await _orders(buyer, item, 10)
    await _reviews(orders[:2], item, 4, praised=False)
    few = await _grade(item, PERIOD)
    inputs = few.dimensions["reviews"]["inputs"]
    assert (inputs["reviews"], inputs["average_rating"], inputs["praise_rate"]) == (2, 4.0, None)
    assert _score(few, "reviews") == 50.0
    await _reviews(orders[2:10], item, 5, praised=True)
    enough = await _grade(item, NEXT)
    inputs = enough.dimensions["reviews"]["inputs"]
    assert (inputs["reviews"], inputs["praising_reviews"], inputs["praise_rate"]) == (10, 8, 0.8)
    assert inputs["average_rating"] == 4.8
    assert _score(enough, "reviews") == pytest.approx((90 + 100) / 2)


async def _top_product(shop: Merchant, category: str) -> Product:
    item = await _product(shop, category=category)
    for kind in ALL_BUT_INSPECTION:
        await _cert(item, kind)
    return item


async def test_key_category_product_without_inspection_is_capped_below_the_top(db) -> None:
    """QS 7.1.2: a key-category (food) product that would be A+ stays at A without a valid
    passed inspection, with the reason; the same record outside key categories is A+; a
    third-party inspection lifts the cap."""
    shop, _ = await f.merchant()
    food = await _top_product(shop, "food")
    gadget = await _top_product(shop, "electronics")
    await product_grading.grade_products(PERIOD, NOW)
    capped = await ProductGrade.get(product_id=food.id, period=PERIOD)
    free = await ProductGrade.get(product_id=gadget.id, period=PERIOD)
    assert capped.score == free.score >= 90
    assert (capped.level, free.level) == ("A", "A+")
    assert capped.reasons[0] == "capped at A (from A+): no valid inspection"
    assert capped.dimensions["qualification"]["inputs"]["inspection"] == "none"
    assert free.dimensions["qualification"]["inputs"]["inspection"] is None
    await _cert(food, CertificateKind.THIRD_PARTY_INSPECTION)
    lifted = await _grade(food, NEXT)
    assert lifted.level == "A+" and lifted.previous_level == "A"
    assert lifted.reasons[0] == "upgraded A → A+"


@pytest.mark.parametrize(
    ("history", "status"),
    [
        ([("FAIL", 10, 365)], "failed"),
        ([("PASS", 400, 365)], "expired"),
        ([("PASS", 60, 365), ("FAIL", 5, 365)], "failed"),  # a later failure overrides
    ],
)
async def test_failed_or_expired_inspection_caps_at_c(
    db, history: list[tuple[str, int, int]], status: str
) -> None:
    """QS 7.1.2: a key-category product whose latest inspection failed, or whose passed
    inspection expired, is capped at the rule's cap_failed_inspection (C)."""
    shop, _ = await f.merchant()
    item = await _top_product(shop, "cosmetics")
    await item.update_from_dict({"attributes": {**FULL_FOOD, "volume": "50 ml"}}).save()
    for result, days_ago, valid_days in history:
        await _cert(
            item,
            CertificateKind.NATIONAL_INSPECTION,
            CertificateResult(result),
            issued_days_ago=days_ago,
            valid_days=valid_days,
        )
    grade = await _grade(item, PERIOD)
    assert grade.level == "C" and grade.score >= 65
    assert grade.dimensions["qualification"]["inputs"]["inspection"] == status
    assert grade.reasons[0].startswith("capped at C")


async def test_a_later_pass_after_a_failure_lifts_the_cap(db) -> None:
    """QS 7.1.2: a failed sampling inspection followed by a passed re-inspection."""
    shop, _ = await f.merchant()
    item = await _top_product(shop, "food")
    await _cert(
        item, CertificateKind.THIRD_PARTY_INSPECTION, CertificateResult.FAIL, issued_days_ago=60
    )
    await _cert(
        item, CertificateKind.THIRD_PARTY_INSPECTION, CertificateResult.PASS, issued_days_ago=5
    )
    grade = await _grade(item, PERIOD)
    assert grade.level == "A+"
    assert grade.dimensions["qualification"]["inputs"]["inspection"] == "passed"


async def test_rank_score_follows_the_published_formula(db) -> None:
    """QS 7.2: rank_score = rank_boost_by_level[level] + score / 10."""
    shop, _ = await f.merchant()
    item = await _top_product(shop, "electronics")
    grade = await _grade(item, PERIOD)
    row = await Product.get(id=item.id)
    assert row.rank_score == pytest.approx(40 + grade.score / 10, abs=0.01)
    content = (await rules.current("product.grading")).content
    assert "score / 10" in content["ranking"]


async def test_regrading_twice_in_one_period_changes_nothing(db) -> None:
    """Decision 11: the grading is idempotent per period; the second run skips every
    product and writes nothing, even when the facts moved in between."""
    shop, _ = await f.merchant()
    items = [await _product(shop, category="electronics") for _ in range(3)]
    first = await product_grading.grade_products(PERIOD, NOW)
    assert (first["graded"], first["skipped"]) == (3, 0)
    grades = await ProductGrade.all().order_by("id").values()
    products = await Product.all().order_by("id").values()
    events = await AuditEvent.all().count()
    await _cert(items[0], CertificateKind.INDUSTRY_CERTIFICATION)
    second = await product_grading.grade_products(PERIOD, NOW)
    assert (second["graded"], second["skipped"], second["by_level"]) == (0, 3, {})
    assert await ProductGrade.all().order_by("id").values() == grades
    assert await Product.all().order_by("id").values() == products
    assert await AuditEvent.all().count() == events
    assert (await product_grading.grade_product(items[0].id, NOW)).id == grades[0]["id"]


async def test_a_rule_change_leaves_old_grades_on_their_version(db) -> None:
    """QS 5.2: a new version of product.grading applies to new grades only; the old grades
    keep the version they were computed by, and the change is named as a reason."""
    shop, _ = await f.merchant()
    item = await _product(shop, category="electronics")
    old = await _grade(item, PERIOD)
    current = await rules.current("product.grading")
    content = {**current.content, "weights": {**current.content["weights"], "qualification": 2}}
    await rules.publish(
        "product.grading",
        content,
        title_zh=current.title_zh,
        title_en=current.title_en,
        effective_from=NOW - timedelta(seconds=1),
    )
    new = await _grade(item, NEXT)
    assert (old.rule_version, new.rule_version) == (1, 2)
    assert (await ProductGrade.get(id=old.id)).rule_version == 1
    assert new.score < old.score  # qualification (0) now weighs far more
    assert "rule version 1 → 2" in new.reasons
    assert (await Product.get(id=item.id)).grade_rule_version == 2


async def test_grade_product_without_store_is_a_live_view(db) -> None:
    """The live view computes by the same code and writes nothing."""
    shop, _ = await f.merchant()
    item = await _product(shop, category="electronics")
    live = await product_grading.grade_product(item.id, NOW, store=False)
    assert live is not None and live.id is None and live.level in {"A+", "A", "B", "C", "D"}
    assert not await ProductGrade.exists()
    stored = await product_grading.grade_product(item.id, NOW)
    assert stored.id is not None and stored.score == live.score
    assert await product_grading.grade_product(10**6, NOW) is None


async def test_grade_changes_are_traced_in_a_verifiable_chain(db) -> None:
    """Decision 9, QS 9.1.2: a product's level moving appends a traced key node."""
    shop, _ = await f.merchant()
    item = await _top_product(shop, "food")
    await _grade(item, PERIOD)
    await _cert(item, CertificateKind.THIRD_PARTY_INSPECTION)
    await _grade(item, NEXT)
    trail = await audit.trail("Product", item.id)
    assert [(e.from_state, e.to_state) for e in trail] == [("", "A"), ("A", "A+")]
    assert (await audit.verify("Product", item.id)).valid


async def _world_of(n: int, shop: Merchant, buyer: f.Actor) -> None:
    for i in range(n):
        item = await _product(shop, category=["food", "electronics"][i % 2])
        await _cert(item, CertificateKind.THIRD_PARTY_INSPECTION)
        orders = await _orders(buyer, item, 2)
        await _complaints(orders[:1], ComplaintCategory.QUALITY)
        await _reviews(orders, item, 5, praised=True)


async def test_grading_costs_the_same_sql_for_5_and_50_products(db) -> None:
    """Decision 7 for jobs: grade_products reads and writes set-wise, a fixed number of
    statements whatever the number of products."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    await _world_of(5, shop, buyer)
    with count_sql() as small:
        summary = await product_grading.grade_products("2030-01", NOW)
    assert summary["graded"] == 5
    await _world_of(45, shop, buyer)
    with count_sql() as large:
        summary = await product_grading.grade_products("2030-02", NOW)
    assert summary["graded"] == 50
    assert small.count == large.count, (small.statements, large.statements)
    # rule, graded set, products, certificates, orders, complaints, returned units,
    # quality-issue requests, reviews, previous grades, the merchants' locks, traffic
    # restrictions in force, grades insert, products update, audit heads, audit insert
    assert large.count == 16, large.statements


# --- After-sales sweep and timeliness (QS 9.2.1, 9.2.3) ----------------------------------------


async def test_qs_7_1_1_units_sent_back_give_the_return_rate_and_lower_the_grade(db) -> None:
    """QS 7.1.1 after-sales data, the return rate: units of return, exchange and
    quality-issue requests count once the goods are on their way back (the request moved
    into RETURN_IN_TRANSIT, whatever it became after); an approval alone, a refund without
    return, a rejection or a withdrawal does not. Returned units over units sold."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(shop, category="electronics")
    orders = await _orders(buyer, item, 40)
    before = await _grade(item, PERIOD)
    assert before.dimensions["after_sales"]["inputs"]["return_rate"] == 0.0

    async def request(placed: Order, kind: str, *states: str) -> None:
        await f.after_sales_walk(await f.after_sales_row(placed, kind=kind), *states)

    await request(orders[0], "RETURN_REFUND", "APPROVED", "RETURN_IN_TRANSIT")
    await request(
        orders[1], "RETURN_REFUND", "APPROVED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED", "REFUNDED"
    )
    await request(orders[2], "EXCHANGE", "APPROVED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED")
    await request(orders[3], "RETURN_REFUND", "APPROVED", "RETURN_IN_TRANSIT", "REFUNDED", "CLOSED")
    await request(orders[4], "RETURN_REFUND", "APPROVED")  # not sent back yet
    await request(orders[5], "REFUND_ONLY", "APPROVED", "REFUNDED", "CLOSED")  # nothing back
    await request(orders[6], "RETURN_REFUND", "REJECTED", "CLOSED")
    await request(orders[7], "EXCHANGE", "APPROVED", "WITHDRAWN")
    after = await _grade(item, NEXT)
    inputs = after.dimensions["after_sales"]["inputs"]
    assert (inputs["units_sold"], inputs["units_returned"]) == (40, 4)
    assert inputs["return_rate"] == 0.1
    assert inputs["quality_complaint_share"] == 0.0
    # mean(linear(0.1, good 0, bad 0.2) = 50, quality share 100), by after_sales_formula
    assert _score(after, "after_sales") == 75.0
    assert after.score < before.score
    assert "dimension after_sales fell from 100 to 75" in after.reasons


async def test_qs_7_1_1_part_of_a_line_sent_back_counts_its_units(db) -> None:
    """The rate is of units: one of three units of a line sent back is a third of it;
    units refunded before shipment were never sold."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(shop, category="electronics")
    [placed] = await _orders(buyer, item, 1)
    await OrderLine.filter(order_id=placed.id).update(quantity=4, cancelled_quantity=1)
    returned = await f.after_sales_row(placed, kind="RETURN_REFUND", quantity=1)
    await f.after_sales_walk(returned, "APPROVED", "RETURN_IN_TRANSIT")
    grade = await _grade(item, PERIOD)
    inputs = grade.dimensions["after_sales"]["inputs"]
    assert (inputs["units_sold"], inputs["units_returned"], inputs["return_rate"]) == (3, 1, 0.3333)
    assert _score(grade, "after_sales") == 50.0  # mean(0: 0.33 is past bad, 100)


async def test_qs_7_1_1_approved_quality_issues_join_upheld_quality_complaints(db) -> None:
    """QS 7.1.1 after-sales data, the share of quality complaints: orders with an upheld
    QUALITY complaint or an approved QUALITY_ISSUE request about the product, each order
    once, over the product's orders; a rejected or undecided quality issue does not count,
    and a request counts only for the products on its lines."""
    shop, _ = await f.merchant()
    buyer = await f.consumer()
    item = await _product(shop, category="electronics")
    other = await _product(shop, category="electronics")
    orders = await _orders(buyer, item, 40)
    await _orders(buyer, other, 10)
    before = await _grade(item, PERIOD)
    await _complaints(orders[:1], ComplaintCategory.QUALITY)
    for placed, states in [
        (orders[0], ("APPROVED",)),  # the same order as the complaint: counted once
        (orders[1], ("APPROVED", "RESHIPPED", "CLOSED")),
        (orders[2], ("REJECTED", "CLOSED")),
        (orders[3], ()),  # waiting for an answer
    ]:
        await f.after_sales_walk(await f.after_sales_row(placed, kind="QUALITY_ISSUE"), *states)
    after = await _grade(item, NEXT)
    inputs = after.dimensions["after_sales"]["inputs"]
    assert (inputs["quality_complaints"], inputs["quality_issue_requests"]) == (1, 2)
    assert (inputs["quality_orders"], inputs["orders"]) == (2, 40)
    assert inputs["quality_complaint_share"] == 0.05
    # mean(linear(0.05, good 0, bad 0.05) = 0, nothing sent back: 100)
    assert _score(after, "after_sales") == 50.0
    assert after.score < before.score
    untouched = await ProductGrade.get(product_id=other.id, period=NEXT)
    assert untouched.dimensions["after_sales"]["inputs"]["quality_orders"] == 0


async def test_qs_7_1_1_the_rule_states_the_after_sales_formula(db) -> None:
    """QS 5.2: the formula the grade applies is published with the rule, and a rule in
    force before it gains it (and the return rate's bounds) as a new version."""
    content = (await rules.current(product_grading.RULE_KEY)).content
    assert content["return_rate"] == {"good": 0.0, "bad": 0.2}
    formula = content["after_sales_formula"]
    for term in (
        "return_rate",
        "quality_complaint_share",
        "quality_complaint_rate",
        "QUALITY_ISSUE",
    ):
        assert term in formula
    older = {k: v for k, v in content.items() if k not in ("return_rate", "after_sales_formula")}
    await rules.publish(product_grading.RULE_KEY, older, title_zh="商品分级", title_en="Grading")
    assert await rules.ensure_defaults() == 1
    assert (await rules.current(product_grading.RULE_KEY)).content == content
