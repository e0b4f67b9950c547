"""The traced key nodes and their anchors through the API (QS 9.1.2): verifyAuditTrail
for the parties, verifyAuditPeriod and auditAnchors for regulators and compliance staff."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.models import AuditEvent, Order, StaffDuty
from pinzhi.services import anchors, orders
from tests import factories as f

HOUR = "2026-11-20T08"
START = datetime(2026, 11, 20, 8, tzinfo=UTC)

TRAIL = """
query($id: ID!) {
  verifyAuditTrail(entityId: $id) {
    valid checked problem anchored firstBroken { seq }
    anchoredThrough { period seq hash }
  }
}"""

PERIOD = """
query($period: String!) {
  verifyAuditPeriod(period: $period) {
    period valid anchored eventsChecked chainsChecked eventsDigest problems findingCount
    anchor { seq period eventsDigest hash }
    findings { problem entityId seq expected found message }
  }
}"""

ANCHORS = """
query($first: Int, $after: String) {
  auditAnchors(first: $first, after: $after) {
    edges { cursor node {
      seq period eventCount eventsDigest headCount headsDigest prevHash hash anchoredAt
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _anchored_order(w: f.World, hours: int = 1) -> Order:
    """A completed order whose trail lies in HOUR, and anchors for ``hours`` hours."""
    shipped, _ = await f.delivered_order(w)
    order = await orders.confirm_receipt(w.buyer.viewer, shipped.id)
    await f.stamp_trail_in(START)
    await anchors.catch_up(START + timedelta(hours=hours) + anchors.GRACE)
    return order


async def test_an_untouched_trail_is_valid_and_anchored(api) -> None:
    """QS 9.1.2: the buyer sees the chain valid and anchored through its newest event; the
    regulator sees the hour match its anchor."""
    w = await f.world()
    order = await _anchored_order(w)
    head = (await AuditEvent.filter(entity_type="Order", entity_id=order.id).order_by("-seq"))[0]

    trail = await api(TRAIL, {"id": f.gid("Order", order.id)}, token=w.buyer.token)
    period = await api(PERIOD, {"period": HOUR}, token=w.regulator.token)

    assert trail.data["verifyAuditTrail"] == {
        "valid": True,
        "checked": 5,
        "problem": None,
        "anchored": True,
        "firstBroken": None,
        "anchoredThrough": {"period": HOUR, "seq": 5, "hash": head.hash},
    }
    result = period.data["verifyAuditPeriod"]
    assert (result["valid"], result["anchored"], result["problems"]) == (True, True, [])
    assert result["findings"] == [] and result["findingCount"] == 0
    assert result["eventsDigest"] == result["anchor"]["eventsDigest"]
    assert result["anchor"]["period"] == HOUR and result["eventsChecked"] > 5


def _edit(order: Order):
    return AuditEvent.filter(entity_type="Order", entity_id=order.id, seq=3).update(
        data={"tracking_number": "FORGED"}
    )


def _truncate(order: Order):
    return AuditEvent.filter(entity_type="Order", entity_id=order.id, seq__gte=4).delete()


def _rewrite(order: Order):
    return f.rechain("Order", order.id, lambda e: e.data.update(forged=True))


@pytest.mark.parametrize(
    ("tamper", "problem", "trail_seq", "period_seq"),
    [(_edit, "EDITED", 3, 3), (_truncate, "TRUNCATED", None, 5), (_rewrite, "REWRITTEN", 5, 5)],
    ids=["edit", "truncate", "rewrite"],
)
async def test_each_way_of_tampering_is_detected_by_both_checks(
    api, tamper, problem: str, trail_seq: int | None, period_seq: int
) -> None:
    """QS 9.1.2: TAMPER (edit, truncate, rewrite): verifyAuditTrail names the problem to
    every party of the order, and verifyAuditPeriod names it on the order's chain."""
    w = await f.world()
    order = await _anchored_order(w)
    await tamper(order)

    for token in (w.buyer.token, w.seller.token, w.regulator.token):
        trail = (await api(TRAIL, {"id": f.gid("Order", order.id)}, token=token)).data
        result = trail["verifyAuditTrail"]
        assert (result["valid"], result["problem"]) == (False, problem)
        assert (result["firstBroken"] or {}).get("seq") == trail_seq
        assert result["anchoredThrough"]["seq"] == 5
    period = (await api(PERIOD, {"period": HOUR}, token=w.regulator.token)).data
    result = period["verifyAuditPeriod"]
    assert (result["valid"], result["problems"], result["findingCount"]) == (False, [problem], 1)
    finding = result["findings"][0]
    assert (finding["entityId"], finding["seq"]) == (f.gid("Order", order.id), period_seq)
    assert result["eventsDigest"] != result["anchor"]["eventsDigest"]


async def test_findings_speak_the_viewers_language(api) -> None:
    """QS 9.1.2: a finding's message is in Chinese, or English with Accept-Language: en."""
    w = await f.world()
    order = await _anchored_order(w)
    await _truncate(order)

    zh = (await api(PERIOD, {"period": HOUR}, token=w.regulator.token)).data
    en = await api(
        PERIOD, {"period": HOUR}, token=w.regulator.token, headers={"Accept-Language": "en"}
    )

    assert zh["verifyAuditPeriod"]["findings"][0]["message"].startswith("链被截断")
    assert en.data["verifyAuditPeriod"]["findings"][0]["message"].startswith(
        "The chain was truncated"
    )


async def test_period_verification_and_anchors_are_for_regulators_and_compliance(api) -> None:
    """QS 9.1.2: regulators and compliance staff verify periods and list anchors; every
    other role is refused at the top level."""
    w = await f.world()
    await _anchored_order(w)
    compliance = await f.compliance_officer()
    admin = await f.staff(StaffDuty.ADMIN)

    for token in (w.regulator.token, compliance.token):
        assert (await api(PERIOD, {"period": HOUR}, token=token)).data["verifyAuditPeriod"]["valid"]
        assert (await api(ANCHORS, token=token)).data["auditAnchors"]["edges"]
    for token in (w.buyer.token, w.seller.token, w.carrier_key, w.agent.token, admin.token):
        assert (await api(PERIOD, {"period": HOUR}, token=token)).error_codes == ["FORBIDDEN"]
        assert (await api(ANCHORS, token=token)).error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("period", ["2026-11-20 08", "2026-11-20T24", "20261120T08", "yesterday"])
async def test_a_malformed_period_is_a_bad_user_input(api, period: str) -> None:
    """QS 9.1.2: a period is an hour in UTC; anything else is refused with a coded error."""
    w = await f.world()

    zh = await api(PERIOD, {"period": period}, token=w.regulator.token)
    en = await api(
        PERIOD, {"period": period}, token=w.regulator.token, headers={"Accept-Language": "en"}
    )

    assert zh.error_codes == en.error_codes == ["BAD_USER_INPUT"]
    assert zh.body["data"] is None
    assert zh.errors[0]["message"].startswith("时段无效")
    assert en.errors[0]["message"] == "Invalid period: an hour in UTC, written YYYY-MM-DDTHH"


def _recomputed_hash(anchor: dict) -> str:
    """The anchor hash as docs/API.md tells a regulator to recompute it, outside."""
    body = {
        "seq": anchor["seq"],
        "period": anchor["period"],
        "event_count": anchor["eventCount"],
        "events_digest": anchor["eventsDigest"],
        "head_count": anchor["headCount"],
        "heads_digest": anchor["headsDigest"],
    }
    content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(anchor["prevHash"].encode() + content).hexdigest()


async def test_anchors_page_newest_first_and_can_be_checked_outside(api) -> None:
    """QS 9.1.2: auditAnchors pages by keyset cursors, newest first; from the listed fields
    alone a regulator recomputes each anchor's hash and the links between them."""
    w = await f.world()
    await _anchored_order(w, hours=3)

    first = (await api(ANCHORS, {"first": 2}, token=w.regulator.token)).data["auditAnchors"]
    after = {"first": 2, "after": first["pageInfo"]["endCursor"]}
    rest = (await api(ANCHORS, after, token=w.regulator.token)).data["auditAnchors"]

    listed = [e["node"] for e in first["edges"] + rest["edges"]]
    assert [a["seq"] for a in listed] == [3, 2, 1]
    assert [a["period"] for a in listed] == ["2026-11-20T10", "2026-11-20T09", HOUR]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    for anchor in listed:
        assert _recomputed_hash(anchor) == anchor["hash"]
    assert listed[0]["prevHash"] == listed[1]["hash"] and listed[1]["prevHash"] == listed[2]["hash"]
    assert listed[2]["prevHash"] == "0" * 64
    assert [a["eventCount"] > 0 for a in listed] == [False, False, True]
    too_many = await api(ANCHORS, {"first": 101}, token=w.regulator.token)
    assert too_many.error_codes == ["BAD_USER_INPUT"]
