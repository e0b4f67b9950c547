"""Public platform rules as versioned data (QS 5.2).

A rule is identified by its key; each publication adds a version and never edits an old
one. ``current(key)`` is the version in force now; decisions store that version number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiocache.base import BaseCache
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.models import PlatformRule
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
