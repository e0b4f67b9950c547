"""Public platform rules as versioned data (QS 5.2).

A rule is identified by its key; each publication adds a version and never edits an old
one. ``current(key)`` is the version in force now; decisions store that version number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiocache.base import BaseCache
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.viewer import Viewer
from pinzhi.models import PlatformRule, StaffDuty
from pinzhi.services import audit
from pinzhi.services.errors import ErrorCode, ServiceError

CACHE_KEY = "rules:current"

# The rules the platform starts with. Each is used by a service named in its content.
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "key": "order.limits",
        "title_zh": "下单限制",
        "title_en": "Order limits",
        "content": {"max_lines": 50, "max_quantity_per_line": 999},
    },
    {
        "key": "complaint.handling",
        "title_zh": "投诉处理时限（QS 9.2.4）",
        "title_en": "Complaint handling time limits (QS 9.2.4)",
        "content": {"max_promise_days": 7},
    },
    {
        "key": "feedback.scale",
        "title_zh": "满意度评价分值（QS 10.2）",
        "title_en": "Satisfaction feedback scale (QS 10.2)",
        "content": {"min_score": 1, "max_score": 5, "max_comment_length": 1000},
    },
    {
        "key": "merchant.grading",
        "title_zh": "商家分级规则（QS 6.1.1, 6.1.2）",
        "title_en": "Merchant grading (QS 6.1.1, 6.1.2)",
        "content": {
            "window_days": 90,
            "min_orders": 20,
            # With fewer orders the grade is provisional and rate-based dimensions are held
            # at their previous scores, or at this score for a merchant never graded.
            "provisional_rate_score": 80,
            "weights": {
                "brand": 0.15,
                "qualification": 0.15,
                "operation": 0.30,
                "credit": 0.20,
                "service": 0.20,
            },
            "levels": [["A+", 90], ["A", 80], ["B", 65], ["C", 50], ["D", 0]],
            "late_shipment_hours": 48,
            # A shipment counts for the valid-tracking rate once scanned or this old.
            "tracking_grace_hours": 24,
            # Each rate maps linearly to 100 at "good" and 0 at "bad".
            "operation": {
                "order_defect_rate": {"good": 0.0, "bad": 0.05},
                "late_shipment_rate": {"good": 0.0, "bad": 0.10},
                "cancellation_rate": {"good": 0.0, "bad": 0.075},
                "valid_tracking_rate": {"good": 1.0, "bad": 0.85},
            },
            "service": {
                "complaint_timeliness": {"good": 1.0, "bad": 0.5},
                "complaint_rate": {"good": 0.0, "bad": 0.05},
                "satisfaction": {"good": 5.0, "bad": 3.0},
            },
            "credit": {
                "severity": {
                    "COUNTERFEIT": 40,
                    "FAKE_ORDERS": 30,
                    "FALSE_ADVERTISING": 20,
                    "UNSAFE_PRODUCT": 40,
                    "OTHER": 10,
                },
                "half_life_days": 180,
                "deposit_shortfall_points": 20,
            },
            "brand": {
                "points_per_registered_brand": 30,
                "points_per_authorised_brand": 15,
                "max_brand_points": 60,
                "sales_rank_points": 40,
            },
            "qualification": {
                "always": ["BUSINESS_LICENCE"],
                "by_category": {
                    "food": ["FOOD_BUSINESS_LICENCE"],
                    "cosmetics": ["COSMETICS_LICENCE"],
                    "mother_baby": ["MOTHER_BABY_PERMIT"],
                },
            },
        },
    },
    {
        "key": "merchant.warnings",
        "title_zh": "商家监测预警阈值（QS 6.1.2）",
        "title_en": "Merchant monitoring thresholds (QS 6.1.2)",
        "content": {
            "window_days": 30,
            "min_orders": 10,
            "thresholds": {
                "order_defect_rate": {"max": 0.01},
                "late_shipment_rate": {"max": 0.04},
                "cancellation_rate": {"max": 0.025},
                "valid_tracking_rate": {"min": 0.95},
            },
            # A value this many times beyond the threshold is SEVERE.
            "severe_factor": 2.0,
            # Under key control, thresholds tighten by this factor (QS 6.4).
            "key_control_factor": 0.5,
        },
    },
    {
        "key": "merchant.incentives",
        "title_zh": "商家激励：佣金与供应链金融（QS 6.2）",
        "title_en": "Merchant incentives: commission and financing (QS 6.2)",
        "content": {
            "commission_bps_by_level": {"A+": 300, "A": 400, "B": 500, "C": 600, "D": 800},
            "ungraded_commission_bps": 500,
            "key_control_commission_bps": 800,
            "financing_levels": ["A+", "A"],
        },
    },
    {
        "key": "violation.penalties",
        "title_zh": "违规处罚阶梯与重点管控（QS 6.4）",
        "title_en": "Violation penalty ladder and key control (QS 6.4)",
        "content": {
            # The n-th decided case of a type gets the n-th step (the last step repeats).
            "ladder": {
                "COUNTERFEIT": ["LISTING_FREEZE", "SUSPENSION"],
                "FAKE_ORDERS": [
                    "WARNING",
                    "TRAFFIC_RESTRICTION",
                    "DEPOSIT_DEDUCTION",
                    "SUSPENSION",
                ],
                "FALSE_ADVERTISING": ["WARNING", "TRAFFIC_RESTRICTION", "DEPOSIT_DEDUCTION"],
                "UNSAFE_PRODUCT": ["LISTING_FREEZE", "SUSPENSION"],
                "OTHER": ["WARNING", "TRAFFIC_RESTRICTION"],
            },
            "deduction_minor": 500000,
            "appeal_days": 7,
            "serious_types": ["COUNTERFEIT", "UNSAFE_PRODUCT"],
            "serious_penalties": ["LISTING_FREEZE", "SUSPENSION"],
            "key_control_days": 180,
            "key_categories": ["mother_baby", "food", "cosmetics"],
        },
    },
    {
        "key": "product.grading",
        "title_zh": "商品分级与流量扶持（QS 7.1, 7.2）",
        "title_en": "Product grading and traffic support (QS 7.1, 7.2)",
        "content": {
            "weights": {
                "qualification": 0.25,
                "production": 0.15,
                "listing": 0.20,
                "after_sales": 0.20,
                "reviews": 0.20,
            },
            "levels": [["A+", 90], ["A", 80], ["B", 65], ["C", 50], ["D", 0]],
            "key_categories": ["mother_baby", "food", "cosmetics"],
            "required_attributes": {
                "food": ["brand", "origin", "shelf_life", "net_weight"],
                "mother_baby": ["brand", "age_range", "material"],
                "cosmetics": ["brand", "origin", "shelf_life", "volume"],
                "*": ["brand"],
            },
            "quality_complaint_rate": {"good": 0.0, "bad": 0.05},
            "not_as_described_rate": {"good": 0.0, "bad": 0.05},
            "rating": {"good": 5.0, "bad": 3.0},
            "praise_rate": {"good": 0.5, "bad": 0.0},
            "min_reviews": 5,
            # Orders, complaints and reviews of the last window_days count (QS 7.1.1).
            "window_days": 180,
            "qualification_kinds": [
                "NATIONAL_INSPECTION",
                "INDUSTRY_CERTIFICATION",
                "BRAND_AUTHORISATION",
            ],
            "production_kinds": ["ENVIRONMENTAL_COMPLIANCE", "SAFETY_COMPLIANCE"],
            # These count as inspections of key-category products (QS 7.1.2).
            "inspection_kinds": ["THIRD_PARTY_INSPECTION", "NATIONAL_INSPECTION"],
            "review": {"min_rating": 1, "max_rating": 5, "max_text_length": 1000},
            # A review praises quality when a keyword occurs in its words (jieba segmentation),
            # its parts possibly separated by degree adverbs or filler words ("质量很好"), and
            # no negation comes before or between them ("质量不好", "质量一点也不好").
            "praise_keywords": ["质量好", "质量很好", "质量不错", "做工好", "做工精细", "正品"],
            "negations": [
                "不",
                "没",
                "没有",
                "无",
                "非",
                "并非",
                "未",
                "并不",
                "不太",
                "一点也不",
                "一点都不",
            ],
            "degree_adverbs": [
                "很",
                "非常",
                "挺",
                "特别",
                "真",
                "真的",
                "十分",
                "相当",
                "超",
                "超级",
                "比较",
                "蛮",
                "太",
                "极",
                "极其",
                "那么",
                "这么",
            ],
            "filler_words": ["是", "也", "都", "还", "一点", "并", "就", "算", "的", "像"],
            # Key-category products: without a valid passed inspection they cannot reach
            # the top level; a failed or expired one caps them lower (QS 7.1.2).
            "cap_without_inspection": "A",
            "cap_failed_inspection": "C",
            "badge_levels": ["A+", "A"],
            "badge_text": {"zh": "品质优选", "en": "Quality choice"},
            "rank_boost_by_level": {"A+": 40, "A": 30, "B": 20, "C": 10, "D": 0},
            # Traffic support (QS 7.2), the published formula of the default listing order.
            "ranking": "rank_score = rank_boost_by_level[level] + score / 10 (0 until graded); "
            "listings order by rank_score, highest first, then newest first",
        },
    },
    {
        "key": "pii.disclosure",
        "title_zh": "个人信息展示与脱敏（QS 9.4.1）",
        "title_en": "Personal information disclosure and masking (QS 9.4.1)",
        "content": {
            "consumer_own": "whole",
            "merchant_of_order": {"name": "whole", "address": "whole", "phone": "masked"},
            "assigned_logistics_provider": "whole",
            "customer_service_on_open_case": "whole",
            "regulator": "masked",
            "other_staff": "masked",
            "every_whole_read_by_others_is_logged": True,
        },
    },
]


async def current_rules() -> list[PlatformRule]:
    """The version in force of every rule key, ordered by key."""
    now = datetime.now(UTC)
    rows = await PlatformRule.filter(effective_from__lte=now).order_by("key", "-version")
    latest: dict[str, PlatformRule] = {}
    for row in rows:
        latest.setdefault(row.key, row)
    return list(latest.values())


async def current(key: str) -> PlatformRule:
    now = datetime.now(UTC)
    row = await PlatformRule.filter(key=key, effective_from__lte=now).order_by("-version").first()
    if row is None:
        raise ServiceError(ErrorCode.RULE_MISSING, (), key)
    return row


async def publish(
    key: str,
    content: dict[str, Any],
    *,
    title_zh: str,
    title_en: str,
    effective_from: datetime | None = None,
    published_by_id: int | None = None,
    cache: BaseCache | None = None,
) -> PlatformRule:
    async with in_transaction():
        last = await PlatformRule.filter(key=key).order_by("-version").first()
        try:
            row = await PlatformRule.create(
                key=key,
                version=(last.version + 1) if last else 1,
                title_zh=title_zh,
                title_en=title_en,
                content=content,
                effective_from=effective_from or datetime.now(UTC),
                published_by_id=published_by_id,
            )
        except IntegrityError as exc:
            raise ServiceError(ErrorCode.INVALID_INPUT, ("key",), "published concurrently") from exc
    if cache is not None:
        await cache.delete(CACHE_KEY)
    return row


async def ensure_defaults() -> int:
    """Publish version 1 of every default rule that has never been published."""
    existing = set(await PlatformRule.all().distinct().values_list("key", flat=True))
    created = 0
    for rule in DEFAULT_RULES:
        if rule["key"] not in existing:
            await publish(
                rule["key"],
                rule["content"],
                title_zh=rule["title_zh"],
                title_en=rule["title_en"],
                effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            )
            created += 1
    return created


def _same_shape(old: Any, new: Any, path: list[str]) -> None:
    """A new version keeps every key of the old one with a value of the same kind; it may
    add keys (a new indicator joins a list of inputs by being added)."""
    numbers = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        same = isinstance(old, bool) and isinstance(new, bool)
    elif isinstance(old, numbers):
        same = isinstance(new, numbers) and new >= 0
    else:
        same = type(old) is type(new)
    if not same:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("content", *path), "wrong kind of value")
    if isinstance(old, dict):
        for key, value in old.items():
            if key not in new:
                raise ServiceError(ErrorCode.INVALID_INPUT, ("content", *path, key), "missing")
            _same_shape(value, new[key], [*path, key])


async def publish_checked(
    viewer: Viewer,
    key: str,
    content: Any,
    effective_from: datetime | None,
    cache: BaseCache | None = None,
) -> PlatformRule:
    """Staff with the admin duty publish a new version of an existing rule (QS 5.2)."""
    if not viewer.has_duty(StaffDuty.ADMIN):
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    latest = await PlatformRule.filter(key=key).order_by("-version").first()
    if latest is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("key",))
    if not isinstance(content, dict):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("content",), "an object")
    _same_shape(latest.content, content, [])
    now = datetime.now(UTC)
    if effective_from is not None and (
        effective_from.tzinfo is None or effective_from < now - timedelta(minutes=5)
    ):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("effectiveFrom",), "not in the past")
    async with in_transaction():
        row = await publish(
            key,
            content,
            title_zh=latest.title_zh,
            title_en=latest.title_en,
            effective_from=effective_from or now,
            published_by_id=viewer.account_id,
        )
        await audit.append(
            "PlatformRule",
            row.id,
            "published",
            actor=viewer,
            data={"key": key, "version": row.version},
        )
    if cache is not None:
        await cache.delete(CACHE_KEY)
    return row


async def history(key: str) -> list[PlatformRule]:
    return await PlatformRule.filter(key=key).order_by("-version")
