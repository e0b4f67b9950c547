"""Merchant grades from live data (QS 6.1.1, 6.1.2) under versioned rules (QS 5.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pinzhi.models import (
    BrandRegistration,
    BrandRelation,
    Complaint,
    Merchant,
    MerchantGrade,
    MerchantLicence,
    ViolationCase,
    ViolationState,
    ViolationType,
)
from pinzhi.services import merchant_grading, rules
from pinzhi.services.merchant_indicators import MerchantFacts, Operation, Service
from tests import factories as f
from tests.helpers import count_sql

NOW = datetime.now(UTC)


async def _rule() -> dict:
    return (await rules.current("merchant.grading")).content


def _clean_facts(orders: int = 100) -> MerchantFacts:
    return MerchantFacts(
        operation=Operation(orders=orders, shipments=orders, tracked_shipments=orders),
        service=Service(satisfaction_sum=5 * orders, satisfaction_count=orders),
        registered_brands=2,
        sales_percentile=1.0,
        categories={"food"},
        valid_licences={"BUSINESS_LICENCE", "FOOD_BUSINESS_LICENCE"},
    )


async def test_a_clean_record_earns_the_top_level_and_every_dimension_shows_inputs(db) -> None:
    """QS 6.1.1: five dimensions, each 0–100 with the inputs the merchant can see."""
    result = merchant_grading.compute(_clean_facts(), await _rule(), NOW)
    assert set(result.dimensions) == {"brand", "qualification", "operation", "credit", "service"}
    assert all(0 <= d["score"] <= 100 for d in result.dimensions.values())
    assert result.dimensions["operation"]["inputs"]["order_defect_rate"] == 0.0
    assert result.dimensions["qualification"]["inputs"]["missing"] == []
    assert result.level == "A+" and result.score == 100.0 and not result.provisional


async def test_the_grade_moves_when_its_inputs_move(db) -> None:
    """QS 6.1.1: defects, late shipments and a missing licence each lower the grade."""
    rule = await _rule()
    clean = merchant_grading.compute(_clean_facts(), rule, NOW)
    worse = _clean_facts()
    worse.operation.defects = 4  # 4% defect rate
    worse.operation.late_shipments = 8
    worse.valid_licences = {"BUSINESS_LICENCE"}  # the food licence lapsed
    moved = merchant_grading.compute(worse, rule, NOW, clean.dimensions)
    assert moved.dimensions["operation"]["score"] < clean.dimensions["operation"]["score"]
    assert moved.dimensions["qualification"]["inputs"]["missing"] == ["FOOD_BUSINESS_LICENCE"]
    assert moved.score < clean.score
    assert moved.level != clean.level
    assert any(r.startswith("operation fell") for r in moved.reasons)


async def test_violations_weigh_by_severity_and_fade_with_time(db) -> None:
    """QS 6.1.1 credit: a counterfeit case costs more than a minor one, less as it ages."""
    rule = await _rule()
    fresh, old, minor = _clean_facts(), _clean_facts(), _clean_facts()
    fresh.violations = [("COUNTERFEIT", NOW)]
    old.violations = [("COUNTERFEIT", NOW - timedelta(days=360))]  # two half-lives
    minor.violations = [("OTHER", NOW)]
    credit = {
        name: merchant_grading.compute(facts, rule, NOW).dimensions["credit"]["score"]
        for name, facts in [("fresh", fresh), ("old", old), ("minor", minor)]
    }
    assert credit == {"fresh": 60.0, "old": 90.0, "minor": 90.0}


async def test_a_deposit_shortfall_lowers_credit(db) -> None:
    facts = _clean_facts()
    facts.deposit_required_minor, facts.deposit_held_minor = 100000, 50000
    credit = merchant_grading.compute(facts, await _rule(), NOW).dimensions["credit"]
    assert credit["score"] == 80.0 and credit["inputs"]["deposit_held_minor"] == 50000


async def test_the_minimum_order_floor_protects_a_small_merchant(db) -> None:
    """QS 6.1.1: too few orders give a provisional grade, not a downgrade on rates alone."""
    rule = await _rule()
    previous = merchant_grading.compute(_clean_facts(), rule, NOW)
    small = _clean_facts(orders=5)
    small.operation.defects = 3  # 60% over five orders: noise, not a record
    small.operation.late_shipments = 3
    result = merchant_grading.compute(small, rule, NOW, previous.dimensions)
    assert result.provisional
    assert result.level == previous.level == "A+"
    assert result.dimensions["operation"]["score"] == 50.0  # shown to the merchant all the same
    assert result.reasons[0].startswith("provisional: 5 orders < 20")


async def test_credit_still_moves_a_provisional_grade(db) -> None:
    rule = await _rule()
    previous = merchant_grading.compute(_clean_facts(), rule, NOW)
    small = _clean_facts(orders=5)
    small.violations = [("COUNTERFEIT", NOW), ("UNSAFE_PRODUCT", NOW)]
    result = merchant_grading.compute(small, rule, NOW, previous.dimensions)
    assert result.provisional and result.level != "A+"


async def test_grading_from_the_database_reads_live_orders_complaints_and_licences(db) -> None:
    """QS 6.1.2: indicators come from orders, complaints, feedback, licences and cases."""
    w = await f.world()
    paid_at = NOW - timedelta(days=3)
    orders = await f.history(w.buyer, w.shop, 25, paid_at=paid_at)
    await f.history(w.buyer, w.shop, 5, paid_at=paid_at, shipped_after_hours=72)  # late
    await Complaint.create(
        consumer_id=w.buyer.account.id,
        merchant_id=w.shop.id,
        order_id=orders[0].id,
        description="坏了 / broken",
        upheld=True,
        state="RESOLVED",
        resolved_at=NOW,
    )
    await MerchantLicence.create(
        state="VERIFIED",
        merchant_id=w.shop.id,
        kind="BUSINESS_LICENCE",
        number="L1",
        valid_until=NOW + timedelta(days=9),
    )
    await BrandRegistration.create(
        state="VERIFIED",
        merchant_id=w.shop.id,
        brand="青禾",
        relation=BrandRelation.REGISTERED,
        registration_number="TM1",
        valid_until=NOW + timedelta(days=300),
    )
    summary = await merchant_grading.grade_merchants("2026-11", NOW)
    assert summary["graded"] == await Merchant.all().count()
    grade = await MerchantGrade.get(merchant_id=w.shop.id, period="2026-11")
    op = grade.dimensions["operation"]["inputs"]
    assert op["orders"] == 30
    assert op["order_defect_rate"] == round(1 / 30, 4)
    assert op["late_shipment_rate"] == round(5 / 30, 4)
    assert grade.dimensions["qualification"]["inputs"]["missing"] == ["FOOD_BUSINESS_LICENCE"]
    assert grade.dimensions["brand"]["inputs"]["registered_brands"] == 1
    shop = await Merchant.get(id=w.shop.id)
    assert (shop.grade_level, shop.grade_rule_version) == (grade.level, grade.rule_version)


async def test_regrading_twice_in_one_period_changes_nothing(db) -> None:
    """QS 6.1.2: re-grading is idempotent per period."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 25, paid_at=NOW - timedelta(days=1))
    first = await merchant_grading.grade_merchants("2026-11", NOW)
    rows = [(g.id, g.level, g.score) for g in await MerchantGrade.all().order_by("id")]
    await f.history(w.buyer, w.shop, 10, paid_at=NOW, shipped_after_hours=None, cancelled=True)
    second = await merchant_grading.grade_merchants("2026-11", NOW)
    assert first["graded"] == 2 and second == {"graded": 0, "skipped": 2, "by_level": {}}
    assert [(g.id, g.level, g.score) for g in await MerchantGrade.all().order_by("id")] == rows


async def test_history_keeps_old_and_new_grade_with_reasons(db) -> None:
    """QS 6.1.2: history keeps old and new grade, per-dimension scores and why."""
    w = await f.world()
    for kind in ("BUSINESS_LICENCE", "FOOD_BUSINESS_LICENCE"):
        await MerchantLicence.create(
            state="VERIFIED",
            merchant_id=w.shop.id,
            kind=kind,
            number="L",
            valid_until=NOW + timedelta(days=90),
        )
    await f.history(w.buyer, w.shop, 30, paid_at=NOW - timedelta(days=2))
    await merchant_grading.grade_merchants("2026-10", NOW)
    await f.history(w.buyer, w.shop, 10, paid_at=NOW, shipped_after_hours=None, cancelled=True)
    await merchant_grading.grade_merchants("2026-11", NOW)
    old, new = await MerchantGrade.filter(merchant_id=w.shop.id).order_by("id")
    assert (old.level, new.level, new.previous_level) == ("A+", "A", "A+")
    assert new.reasons[0] == f"downgraded {old.level} → {new.level}"
    assert any(r.startswith("operation fell") for r in new.reasons)


async def test_a_rule_change_leaves_old_grades_on_their_old_version(db) -> None:
    """QS 5.2: every grade records the rule version it applied; history is not rewritten."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 30, paid_at=NOW - timedelta(days=2))
    await merchant_grading.grade_merchants("2026-10", NOW)
    content = await _rule()
    content["levels"] = [["A+", 99.5], ["A", 95], ["B", 65], ["C", 50], ["D", 0]]
    await rules.publish(
        "merchant.grading", content, title_zh="商家分级", title_en="Merchant grading"
    )
    await merchant_grading.grade_merchants("2026-11", NOW)
    old, new = await MerchantGrade.filter(merchant_id=w.shop.id).order_by("id")
    assert (old.rule_version, new.rule_version) == (1, 2)
    assert (await MerchantGrade.get(id=old.id)).level == old.level


async def test_decided_violations_count_and_dismissed_ones_do_not(db) -> None:
    w = await f.world()
    for state in (ViolationState.DECIDED, ViolationState.DISMISSED, ViolationState.OVERTURNED):
        await ViolationCase.create(
            merchant_id=w.shop.id,
            type=ViolationType.FAKE_ORDERS,
            state=state,
            opened_by_id=w.agent.account.id,
            decided_at=NOW,
        )
    await merchant_grading.grade_merchants("2026-11", NOW)
    grade = await MerchantGrade.get(merchant_id=w.shop.id)
    assert grade.dimensions["credit"]["inputs"]["violations"] == 1
    assert grade.dimensions["credit"]["score"] == 70.0


async def test_grading_costs_the_same_statements_for_few_and_many_merchants(db) -> None:
    """Set-based re-grading: the statement count does not grow with the merchants."""
    buyer = await f.consumer()
    counts = []
    for period, extra in (("2026-09", 2), ("2026-10", 10)):
        for _ in range(extra):
            shop, _ = await f.merchant()
            await f.history(buyer, shop, 3, paid_at=NOW - timedelta(days=1))
        with count_sql() as sql:
            summary = await merchant_grading.grade_merchants(period, NOW)
        counts.append(sql.count)
        assert summary["graded"] == await Merchant.all().count()
    assert counts[0] == counts[1], counts


async def test_a_shipment_counts_for_valid_tracking_once_scanned_or_past_its_grace(db) -> None:
    """QS 6.1.1 operation: a parcel handed over minutes ago is not yet 'untracked'."""
    from pinzhi.models import Shipment
    from pinzhi.services.merchant_indicators import operation_counts

    w = await f.world()
    await f.shipped_order(w)  # handed over just now, not yet scanned
    _, old = await f.shipped_order(w)
    await Shipment.filter(id=old.id).update(created_at=NOW - timedelta(hours=30))
    since = NOW - timedelta(days=30)
    counts = (await operation_counts(since, NOW, 48, [w.shop.id], 24))[w.shop.id]
    assert (counts.shipments, counts.tracked_shipments) == (1, 0)
    later = NOW + timedelta(hours=25)
    counts = (await operation_counts(since, later, 48, [w.shop.id], 24))[w.shop.id]
    assert (counts.shipments, counts.tracked_shipments) == (2, 0)


# --- After-sales sweep and timeliness (QS 9.2.1, 9.2.3) ----------------------------------------


async def test_qs_9_2_3_after_sales_timeliness_moves_the_service_dimension(db) -> None:
    """QS 6.1.1 service level, QS 9.2.3: the on-time response rate joins the service
    dimension by its published bounds (100 at 1.0, 0 at 0.8); no request, no effect."""
    rule = await _rule()
    assert rule["service"]["after_sales_timeliness"] == {"good": 1.0, "bad": 0.8}
    clean = merchant_grading.compute(_clean_facts(), rule, NOW)
    assert clean.dimensions["service"]["inputs"]["after_sales_timeliness"] is None
    assert clean.dimensions["service"]["score"] == 100.0
    prompt = _clean_facts()
    prompt.service.after_sales_on_time = 10
    assert merchant_grading.compute(prompt, rule, NOW).dimensions["service"]["score"] == 100.0
    slow = _clean_facts()
    slow.service.after_sales_on_time, slow.service.after_sales_breached = 9, 1
    moved = merchant_grading.compute(slow, rule, NOW, clean.dimensions)
    service = moved.dimensions["service"]
    assert service["inputs"]["after_sales_timeliness"] == 0.9
    assert (
        service["inputs"]["after_sales_on_time"],
        service["inputs"]["after_sales_breached"],
    ) == (
        9,
        1,
    )
    # The mean of complaint rate (100), satisfaction (100) and timeliness (50).
    assert service["score"] == 83.33
    assert moved.score < clean.score
    assert "service fell from 100 to 83" in moved.reasons


async def test_qs_9_2_3_requests_left_unanswered_lower_the_merchants_grade(db) -> None:
    """QS 6.1.2, 9.2.3: graded from live data, a shop that answers its after-sales requests
    in time keeps its service score; once requests pass their limit unanswered (and the
    sweep escalates them), the next grading's service dimension and total fall."""
    from pinzhi.services import after_sales_sweep

    w = await f.world()
    orders = await f.history(w.buyer, w.shop, 25, paid_at=NOW - timedelta(days=5))
    opened = NOW - timedelta(days=2)
    for placed in orders[:8]:
        await f.after_sales_row(placed, opened_at=opened, first_response_at=opened)
    await merchant_grading.grade_merchants("2026-10", NOW)
    before = await MerchantGrade.get(merchant_id=w.shop.id, period="2026-10")
    assert before.dimensions["service"]["inputs"]["after_sales_timeliness"] == 1.0
    for placed in orders[8:10]:
        await f.after_sales_row(placed, opened_at=opened)  # a 24-hour limit, long past
    assert (await after_sales_sweep.sweep(NOW)).requests_escalated == 2
    await merchant_grading.grade_merchants("2026-11", NOW)
    after = await MerchantGrade.get(merchant_id=w.shop.id, period="2026-11")
    service = after.dimensions["service"]
    assert (
        service["inputs"]["after_sales_on_time"],
        service["inputs"]["after_sales_breached"],
    ) == (
        8,
        2,
    )
    assert service["inputs"]["after_sales_timeliness"] == 0.8
    assert service["score"] < before.dimensions["service"]["score"]
    assert after.score < before.score
    assert any(r.startswith("service fell") for r in after.reasons)


async def test_a_grading_rule_without_timeliness_gains_it_keeping_its_values(db) -> None:
    """QS 5.2: the new indicator joins the rule in force as a new version (ensure_defaults),
    with the values in force kept and the new key at its default."""
    content = await _rule()
    del content["service"]["after_sales_timeliness"]
    content["service"]["satisfaction"] = {"good": 4.8, "bad": 3.5}
    published = await rules.publish(
        "merchant.grading", content, title_zh="商家分级", title_en="Merchant grading"
    )
    assert await rules.ensure_defaults() == 1
    latest = await rules.current("merchant.grading")
    assert latest.version == published.version + 1
    assert latest.content["service"]["satisfaction"] == {"good": 4.8, "bad": 3.5}
    assert latest.content["service"]["after_sales_timeliness"] == {"good": 1.0, "bad": 0.8}
