"""Public platform rules as versioned data (QS 5.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import PlatformRule, StaffDuty
from pinzhi.services import rules

RULES = """
query { platformRules { key version title titleZh titleEn content effectiveFrom } }"""

DEFAULT_KEYS = sorted(r["key"] for r in rules.DEFAULT_RULES)


async def _snapshot() -> list[tuple]:
    rows = await PlatformRule.all().order_by("key", "version")
    return [(r.key, r.version, r.title_zh, r.title_en, r.content, r.effective_from) for r in rows]


async def test_defaults_are_published_once(db) -> None:
    """QS 5.2: ensure_defaults is idempotent: a second run publishes nothing."""
    before = await _snapshot()
    assert [(k, v) for k, v, *_ in before] == [(k, 1) for k in DEFAULT_KEYS]

    assert await rules.ensure_defaults() == 0
    assert await rules.ensure_defaults() == 0

    assert await _snapshot() == before


async def test_defaults_fill_in_only_what_is_missing(db) -> None:
    """QS 5.2: a key that already has versions is left alone; a missing one is added."""
    await rules.publish(
        "order.limits",
        {"max_lines": 5, "max_quantity_per_line": 9},
        title_zh="下单限制",
        title_en="Order limits",
    )
    await PlatformRule.filter(key="feedback.scale").delete()

    assert await rules.ensure_defaults() == 1

    assert await PlatformRule.filter(key="order.limits").count() == 2
    assert (await rules.current("order.limits")).content["max_lines"] == 5
    assert await PlatformRule.filter(key="feedback.scale").count() == 1


async def test_publish_adds_a_version_and_keeps_the_old_one(db) -> None:
    """QS 5.2: publishing never edits an old version."""
    v1 = await rules.current("complaint.handling")
    old = (v1.id, v1.version, v1.title_zh, v1.title_en, v1.content, v1.effective_from)

    v2 = await rules.publish(
        "complaint.handling",
        {"max_promise_days": 3},
        title_zh="投诉处理时限（修订）",
        title_en="Complaint handling (revised)",
    )

    assert v2.version == 2 and v2.id != v1.id
    again = await PlatformRule.get(key="complaint.handling", version=1)
    assert (
        again.id,
        again.version,
        again.title_zh,
        again.title_en,
        again.content,
        again.effective_from,
    ) == old
    assert again.content == {"max_promise_days": 7}
    current = await rules.current("complaint.handling")
    assert current.version == 2 and current.content == {"max_promise_days": 3}


async def test_current_ignores_a_future_dated_version(db) -> None:
    """QS 5.2: a rule announced ahead of time is public but not yet in force."""
    await rules.publish(
        "feedback.scale",
        {"min_score": 1, "max_score": 5, "max_comment_length": 500},
        title_zh="满意度评价分值",
        title_en="Satisfaction feedback scale",
    )
    future = await rules.publish(
        "feedback.scale",
        {"min_score": 1, "max_score": 10, "max_comment_length": 500},
        title_zh="满意度评价分值（十分制）",
        title_en="Satisfaction feedback scale (ten points)",
        effective_from=datetime.now(UTC) + timedelta(days=30),
    )
    assert future.version == 3

    current = await rules.current("feedback.scale")
    assert current.version == 2 and current.content["max_score"] == 5
    in_force = {r.key: r.version for r in await rules.current_rules()}
    assert in_force == {**dict.fromkeys(DEFAULT_KEYS, 1), "feedback.scale": 2}


async def test_current_of_an_unknown_key_is_rule_missing(db) -> None:
    """QS 5.2: a decision without its rule is refused, not guessed."""
    with pytest.raises(ServiceError) as raised:
        await rules.current("no.such.rule")
    assert raised.value.code == ErrorCode.RULE_MISSING


async def test_rule_only_in_the_future_is_missing_now(db) -> None:
    """QS 5.2: a brand-new key whose first version starts tomorrow is not in force today."""
    await rules.publish(
        "returns.window",
        {"days": 7},
        title_zh="退货时限",
        title_en="Return window",
        effective_from=datetime.now(UTC) + timedelta(days=1),
    )
    with pytest.raises(ServiceError) as raised:
        await rules.current("returns.window")
    assert raised.value.code == ErrorCode.RULE_MISSING
    assert "returns.window" not in {r.key for r in await rules.current_rules()}


async def test_platform_rules_are_public(api) -> None:
    """QS 5.2: anyone, without login, reads the rules in force with their versions."""
    response = await api(RULES)

    assert response.status == 200
    rows = response.data["platformRules"]
    assert [r["key"] for r in rows] == DEFAULT_KEYS
    assert {r["version"] for r in rows} == {1}
    by_key = {r["key"]: r for r in rows}
    assert by_key["order.limits"]["title"] == "下单限制"
    assert by_key["order.limits"]["content"] == {"max_lines": 50, "max_quantity_per_line": 999}
    assert by_key["complaint.handling"]["content"] == {"max_promise_days": 7}
    assert by_key["order.limits"]["effectiveFrom"].startswith("2026-01-01T00:00:00")


async def test_platform_rules_speak_english_on_request(api) -> None:
    """QS 5.2 with QS 9.5.2: Accept-Language: en gives the English titles."""
    response = await api(RULES, headers={"Accept-Language": "en-GB,en;q=0.9"})

    titles = {r["key"]: r["title"] for r in response.data["platformRules"]}
    assert titles["order.limits"] == "Order limits"
    assert titles["complaint.handling"] == "Complaint handling time limits (QS 9.2.4)"
    assert titles["feedback.scale"] == "Satisfaction feedback scale (QS 10.2)"
    for row in response.data["platformRules"]:
        assert row["title"] == row["titleEn"] != row["titleZh"]


async def test_publishing_through_the_cache_shows_the_new_version(api, cache) -> None:
    """QS 5.2: the public list is cached, and publishing invalidates it."""
    first = await api(RULES)
    assert {r["key"]: r["version"] for r in first.data["platformRules"]}["order.limits"] == 1

    await rules.publish(
        "order.limits",
        {"max_lines": 20, "max_quantity_per_line": 99},
        title_zh="下单限制",
        title_en="Order limits",
        cache=cache,
    )

    second = await api(RULES)
    by_key = {r["key"]: r for r in second.data["platformRules"]}
    assert by_key["order.limits"]["version"] == 2
    assert by_key["order.limits"]["content"] == {"max_lines": 20, "max_quantity_per_line": 99}


async def test_keys_added_to_a_default_join_the_rule_in_force_as_a_new_version(db) -> None:
    """QS 5.2: when a default rule gains keys (a new word list, a new indicator), the next
    ``pinzhi migrate`` publishes a new version holding them, with every value in force
    kept as it was; published versions are never edited, and the publication is traced."""
    from pinzhi.services import audit

    in_force = await rules.current("product.grading")
    trimmed = {k: v for k, v in in_force.content.items() if k not in {"min_reviews", "review"}}
    trimmed["weights"] = {**trimmed["weights"], "reviews": 0.5}  # a value an admin changed
    await rules.publish(
        "product.grading", trimmed, title_zh=in_force.title_zh, title_en=in_force.title_en
    )

    assert await rules.ensure_defaults() == 1
    upgraded = await rules.current("product.grading")

    assert upgraded.version == 3
    assert upgraded.content["min_reviews"] == in_force.content["min_reviews"]
    assert upgraded.content["review"] == in_force.content["review"]
    assert upgraded.content["weights"]["reviews"] == 0.5
    assert (await PlatformRule.get(key="product.grading", version=2)).content == trimmed
    trail = await audit.trail("PlatformRule", upgraded.id)
    assert [(e.action, e.actor_role, e.data["version"]) for e in trail] == [
        ("published", "SYSTEM", 3)
    ]
    assert await rules.ensure_defaults() == 0


def test_missing_keys_merge_through_objects_and_keep_lists() -> None:
    merged = rules.with_missing_keys(
        {"a": {"x": 1}, "words": ["好"]}, {"a": {"x": 9, "y": 2}, "words": ["好", "棒"], "b": 3}
    )
    assert merged == {"a": {"x": 1, "y": 2}, "words": ["好"], "b": 3}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"ladder": {"OTHER": ["WARNNG"]}}, ["content", "ladder", "OTHER"]),
        ({"ladder": {"OTHER": []}}, ["content", "ladder", "OTHER"]),
        ({"key_control_days": 10**9}, ["content", "key_control_days"]),
        ({"appeal_days": 1e300}, ["content", "appeal_days"]),
    ],
)
async def test_content_that_would_break_later_decisions_is_refused(db, change, path) -> None:
    """QS 5.2, 6.4: a rule version that keeps its shape but names no real penalty, or a
    period of millions of days, would make every later decision fail: refused at publishing,
    nothing published."""
    from tests import factories as f

    admin = await f.staff(StaffDuty.ADMIN)
    latest = await rules.current("violation.penalties")
    content = dict(latest.content)
    for key, value in change.items():
        content[key] = {**content[key], **value} if isinstance(value, dict) else value
    with pytest.raises(ServiceError) as raised:
        await rules.publish_checked(admin.viewer, "violation.penalties", content, None)
    assert raised.value.field == path
    assert (await rules.current("violation.penalties")).version == latest.version
