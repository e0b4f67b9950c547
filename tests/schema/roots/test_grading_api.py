"""Grades, warnings and public rules through the API (QS 5.2, 6.1.1, 6.1.2, 6.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.models import MerchantWarning, PlatformRule, StaffDuty
from pinzhi.services import merchant_grading, monitoring
from tests import factories as f

NOW = datetime.now(UTC)

MERCHANT = """
query($id: ID!) { node(id: $id) { ... on Merchant {
  grade { level provisional ruleVersion }
  gradeDetail { level score dimensions { name score inputs } reasons ruleVersion }
  gradeHistory { period level }
  liveGrade { level dimensions { name } }
  incentives { commissionBps financingEligible ruleVersion }
} } }"""


async def _graded_world() -> f.World:
    w = await f.world()
    await f.history(w.buyer, w.shop, 25, paid_at=NOW - timedelta(days=1))
    await merchant_grading.grade_merchants("2026-11", NOW)
    return w


async def test_everyone_sees_the_level_and_only_insiders_see_sub_scores(api) -> None:
    """QS 6.1.1: the merchant, compliance staff and regulators see its sub-scores and
    inputs; consumers, anonymous viewers, other merchants and staff of other duties see the
    level alone."""
    w = await _graded_world()
    shop_id = f.gid("Merchant", w.shop.id)
    officer = await f.compliance_officer()
    for token in (w.seller.token, officer.token, w.regulator.token):
        merchant = (await api(MERCHANT, {"id": shop_id}, token=token)).data["node"]
        assert merchant["grade"]["level"] == merchant["gradeDetail"]["level"]
        assert [d["name"] for d in merchant["gradeDetail"]["dimensions"]] == [
            "brand",
            "qualification",
            "operation",
            "credit",
            "service",
        ]
        assert merchant["gradeDetail"]["dimensions"][2]["inputs"]["orders"] == 25
        assert merchant["gradeHistory"] == [
            {"period": "2026-11", "level": merchant["grade"]["level"]}
        ]
        assert merchant["liveGrade"]["level"]
        assert merchant["incentives"]["ruleVersion"] == 1
    for token in (None, w.buyer.token, w.other_seller.token, w.agent.token):
        merchant = (await api(MERCHANT, {"id": shop_id}, token=token)).data["node"]
        assert merchant["grade"]["level"]
        assert merchant["gradeDetail"] is None
        assert merchant["gradeHistory"] is None
        assert merchant["liveGrade"] is None
        assert merchant["incentives"] is None


WARNINGS = "{ merchantWarnings { nodes { indicator value threshold level state merchantId } } }"


async def test_a_merchant_sees_its_own_warnings_and_staff_acknowledge_them(api) -> None:
    """QS 6.1.2: the merchant sees a warning at once; staff acknowledge it."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 20, paid_at=NOW - timedelta(days=1), cancelled=True)
    await f.history(w.buyer, w.other_shop, 20, paid_at=NOW - timedelta(days=1), cancelled=True)
    await monitoring.check(None)
    own = (await api(WARNINGS, token=w.seller.token)).data["merchantWarnings"]["nodes"]
    assert [(n["indicator"], n["merchantId"]) for n in own] == [
        ("cancellation_rate", f.gid("Merchant", w.shop.id))
    ]
    assert (
        len((await api(WARNINGS, token=w.regulator.token)).data["merchantWarnings"]["nodes"]) == 2
    )
    assert (await api(WARNINGS, token=w.buyer.token)).data["merchantWarnings"]["nodes"] == []

    warning = await MerchantWarning.get(merchant_id=w.shop.id)
    ack = (
        "mutation($id: ID!) { acknowledgeWarning(warningId: $id) "
        "{ warning { state } errors { code } } }"
    )
    refused = await api(ack, {"id": f.gid("MerchantWarning", warning.id)}, token=w.seller.token)
    assert refused.error_codes == ["FORBIDDEN"]
    done = await api(ack, {"id": f.gid("MerchantWarning", warning.id)}, token=w.agent.token)
    assert done.data["acknowledgeWarning"] == {"warning": {"state": "ACKNOWLEDGED"}, "errors": []}


PUBLISH = """
mutation($i: PublishRuleInput!) {
  publishRule(input: $i) { rule { key version content } errors { code field } }
}"""
RULES = "{ platformRules { key version content effectiveFrom } }"


async def test_public_rules_show_weights_thresholds_commission_and_penalties(api) -> None:
    """QS 5.2: without login, the numbers every party is judged by, with their versions."""
    rules = {r["key"]: r for r in (await api(RULES)).data["platformRules"]}
    assert rules["merchant.grading"]["content"]["weights"]["operation"] == 0.3
    assert rules["merchant.grading"]["content"]["levels"][0] == ["A+", 90]
    assert rules["merchant.grading"]["content"]["min_orders"] == 20
    assert rules["merchant.warnings"]["content"]["thresholds"]["order_defect_rate"] == {"max": 0.01}
    assert rules["merchant.incentives"]["content"]["commission_bps_by_level"]["A+"] == 300
    assert "ladder" in rules["violation.penalties"]["content"]
    assert all(r["version"] == 1 and r["effectiveFrom"] for r in rules.values())


async def test_admin_staff_publish_a_new_version_and_history_is_kept(api) -> None:
    """QS 5.2: a new version is published by admin staff; the old one is never rewritten."""
    admin = await f.staff(StaffDuty.ADMIN)
    rules = {r["key"]: r for r in (await api(RULES)).data["platformRules"]}
    content = rules["merchant.warnings"]["content"]
    content["thresholds"]["order_defect_rate"]["max"] = 0.008
    published = await api(
        PUBLISH, {"i": {"key": "merchant.warnings", "content": content}}, token=admin.token
    )
    assert published.data["publishRule"]["errors"] == []
    assert published.data["publishRule"]["rule"]["version"] == 2
    now_in_force = {r["key"]: r for r in (await api(RULES)).data["platformRules"]}
    assert now_in_force["merchant.warnings"]["version"] == 2
    history = (
        await api('{ platformRuleHistory(key: "merchant.warnings") { version content } }')
    ).data["platformRuleHistory"]
    assert [h["version"] for h in history] == [2, 1]
    assert history[1]["content"]["thresholds"]["order_defect_rate"]["max"] == 0.01
    assert await PlatformRule.filter(key="merchant.warnings").count() == 2


async def test_a_malformed_rule_version_is_refused_and_nothing_is_published(api) -> None:
    admin = await f.staff(StaffDuty.ADMIN)
    cases = [
        ({"key": "merchant.warnings", "content": {"window_days": 30}}, ["content", "min_orders"]),
        (
            {"key": "order.limits", "content": {"max_lines": "many", "max_quantity_per_line": 9}},
            ["content", "max_lines"],
        ),
        (
            {"key": "order.limits", "content": {"max_lines": -1, "max_quantity_per_line": 9}},
            ["content", "max_lines"],
        ),
        ({"key": "no.such.rule", "content": {}}, ["key"]),
        ({"key": "order.limits", "content": [1, 2]}, ["content"]),
    ]
    for given, field in cases:
        result = await api(PUBLISH, {"i": given}, token=admin.token)
        payload = result.data["publishRule"]
        assert payload["rule"] is None, given
        assert payload["errors"][0]["field"] == field, given
    assert await PlatformRule.filter(version__gt=1).count() == 0


async def test_only_admin_staff_publish_rules(api) -> None:
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    _, seller = await f.merchant()
    for token in (agent.token, seller.token):
        result = await api(PUBLISH, {"i": {"key": "order.limits", "content": {}}}, token=token)
        assert result.error_codes == ["FORBIDDEN"]
    assert await PlatformRule.filter(version__gt=1).count() == 0


@pytest.mark.parametrize("state", ["", "open", "CLOSED", "OPEN'--"])
async def test_warning_state_outside_the_enum_is_a_validation_error(api, state: str) -> None:
    """QS 6.1.2: the filter is the WarningState enum; anything else is refused before any
    resolver runs, with a coded error (it used to reach the database as a string)."""
    officer = await f.compliance_officer()
    result = await api(
        "query($s: WarningState) { merchantWarnings(state: $s) { nodes { id } } }",
        {"s": state},
        token=officer.token,
    )
    assert result.errors
    assert "Internal error" not in str(result.errors)
