"""Notifications and after-sales timeliness through the API (QS 9.2.1, 9.2.3, 9.2.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.models import AuditEvent, Notification, StaffDuty
from pinzhi.services import after_sales_sweep, complaints, state
from tests import factories as f

SECOND = timedelta(seconds=1)
# The services' clock (state.now), in the middle of a month whatever the day of the run.
NOW = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    controlled = Clock()
    monkeypatch.setattr(state, "now", controlled)
    return controlled


NOTIFICATIONS = """query($unread: Boolean) { notifications(first: 10, unread: $unread) {
  nodes { id kind subjectId title titleZh titleEn readAt } } }"""
READ = """mutation($id: ID!) { markNotificationRead(notificationId: $id) {
  notification { id readAt } errors { code field } } }"""
TIMELINESS = """query($merchantId: ID, $period: String) {
  afterSalesTimeliness(merchantId: $merchantId, period: $period) {
    merchantId period requests responded onTime breached pending escalated onTimeRate } }"""


async def _breached(w: f.World) -> int:
    """A request of the shop whose limit passed unanswered, swept: its notice's id."""
    placed, _ = await f.paid_order(w)
    request = await f.after_sales_row(placed, kind="REFUND_BEFORE_SHIPMENT")
    await after_sales_sweep.sweep(request.response_due_at + SECOND)
    notice = await Notification.get(subject_type="AfterSalesRequest", subject_id=request.id)
    return notice.id


async def test_qs_9_2_3_a_shop_reads_the_notice_of_its_breach_and_marks_it_read(api) -> None:
    """QS 9.2.3: every account of the shop sees the notice, in its language; marking it
    read is traced on the notice's trail, once."""
    w = await f.world()
    notice_id = await _breached(w)
    seen = (await api(NOTIFICATIONS, token=w.seller.token)).data["notifications"]["nodes"]
    [node] = seen
    assert node["id"] == f.gid("Notification", notice_id)
    assert node["kind"] == "AFTER_SALES_BREACHED"
    request = await Notification.get(id=notice_id)
    assert node["subjectId"] == f.gid("AfterSalesRequest", request.subject_id)
    assert node["title"] == node["titleZh"] and node["readAt"] is None
    english = await api(NOTIFICATIONS, token=w.seller.token, headers={"Accept-Language": "en"})
    assert english.data["notifications"]["nodes"][0]["title"] == node["titleEn"]

    read = (await api(READ, {"id": node["id"]}, token=w.seller.token)).data
    assert read["markNotificationRead"]["errors"] == []
    read_at = read["markNotificationRead"]["notification"]["readAt"]
    assert read_at is not None
    again = (await api(READ, {"id": node["id"]}, token=w.seller.token)).data
    assert again["markNotificationRead"]["notification"]["readAt"] == read_at
    events = await AuditEvent.filter(entity_type="Notification", entity_id=notice_id)
    assert [(e.seq, e.action, e.actor_id) for e in events] == [(1, "read", w.seller.account.id)]
    unread = await api(NOTIFICATIONS, {"unread": True}, token=w.seller.token)
    assert unread.data["notifications"]["nodes"] == []


async def test_another_party_neither_sees_nor_marks_a_shops_notice(api) -> None:
    """Decision 2: another shop, the consumer, staff and regulators see none of the shop's
    notices, and marking one is NOT_FOUND, exactly as for a missing one."""
    w = await f.world()
    notice_id = await _breached(w)
    officer = await f.compliance_officer()
    for token in (w.other_seller.token, w.buyer.token, w.agent.token, officer.token):
        seen = (await api(NOTIFICATIONS, token=token)).data["notifications"]["nodes"]
        assert seen == [], token
    for token in (w.other_seller.token, w.buyer.token, w.agent.token):
        for target in (notice_id, 999999):
            refused = (await api(READ, {"id": f.gid("Notification", target)}, token=token)).data
            assert refused["markNotificationRead"] == {
                "notification": None,
                "errors": [{"code": "NOT_FOUND", "field": ["notificationId"]}],
            }
    assert (await Notification.get(id=notice_id)).read_at is None
    regulator = (await api(NOTIFICATIONS, token=w.regulator.token)).data
    assert regulator["notifications"]["nodes"] == []


async def test_qs_9_2_4_the_agent_who_promised_is_told_and_the_complaint_shows_it(
    api, clock: Clock
) -> None:
    """QS 9.2.4: a promise passed unkept notifies the agent who made it (and the shop); the
    complaint shows when it was escalated."""
    w = await f.world()
    placed, _ = await f.paid_order(w)
    complaint = await f.complaint(w.buyer, placed)
    await complaints.take_complaint(w.agent.viewer, complaint.id)
    promised = NOW + timedelta(days=1)
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, delay_reason="等待质检 inspection", promised_by=promised
    )
    clock.at = promised + SECOND
    await after_sales_sweep.sweep()
    for token in (w.agent.token, w.seller.token):
        [node] = (await api(NOTIFICATIONS, token=token)).data["notifications"]["nodes"]
        assert (node["kind"], node["subjectId"]) == (
            "COMPLAINT_OVERDUE",
            f.gid("Complaint", complaint.id),
        )
    shown = await api(
        "query($id: ID!) { node(id: $id) { ... on Complaint { overdue escalatedAt } } }",
        {"id": f.gid("Complaint", complaint.id)},
        token=w.agent.token,
    )
    assert shown.data["node"]["overdue"] is True
    assert shown.data["node"]["escalatedAt"] is not None


async def _month(w: f.World) -> str:
    """This month: two requests of the shop (one answered in time, one breached) and one of
    the other shop (breached)."""
    opened = NOW - timedelta(hours=30)
    placed, _ = await f.paid_order(w)
    await f.after_sales_row(placed, opened_at=opened, first_response_at=opened)
    await f.after_sales_row(placed, opened_at=opened)
    other, _, _ = await f.other_side_order(w, "paid")
    await f.after_sales_row(other, opened_at=opened)
    await after_sales_sweep.sweep()
    return opened.strftime("%Y-%m")


async def test_qs_9_2_3_a_merchant_reads_its_own_timeliness_and_no_one_elses(api) -> None:
    """QS 9.2.3: the merchant reads its own counts (with or without its id); another shop's
    id, or one that does not exist, is null, the same answer."""
    w = await f.world()
    period = await _month(w)
    shop_id = f.gid("Merchant", w.shop.id)
    for variables in ({}, {"merchantId": shop_id}, {"merchantId": shop_id, "period": period}):
        mine = (await api(TIMELINESS, variables, token=w.seller.token)).data
        assert mine["afterSalesTimeliness"] == {
            "merchantId": shop_id,
            "period": period,
            "requests": 2,
            "responded": 1,
            "onTime": 1,
            "breached": 1,
            "pending": 0,
            "escalated": 1,
            "onTimeRate": 0.5,
        }
    for other in (f.gid("Merchant", w.other_shop.id), f.gid("Merchant", 999999), "junk"):
        hidden = await api(TIMELINESS, {"merchantId": other}, token=w.seller.token)
        assert hidden.data == {"afterSalesTimeliness": None}


async def test_qs_9_2_3_staff_and_regulators_read_any_merchant_and_the_platform(api) -> None:
    """Customer-service and compliance staff and regulators read any shop's counts and the
    platform's; consumers and staff of other duties are refused."""
    w = await f.world()
    period = await _month(w)
    officer = await f.compliance_officer()
    for token in (w.agent.token, officer.token, w.regulator.token):
        platform = (await api(TIMELINESS, {"period": period}, token=token)).data
        counts = platform["afterSalesTimeliness"]
        assert (counts["merchantId"], counts["requests"], counts["breached"]) == (None, 3, 2)
        other = f.gid("Merchant", w.other_shop.id)
        theirs = (await api(TIMELINESS, {"merchantId": other}, token=token)).data
        assert theirs["afterSalesTimeliness"]["onTimeRate"] == 0.0
    admin = await f.staff(StaffDuty.ADMIN)
    for token in (w.buyer.token, admin.token, w.carrier_actor.token):
        refused = await api(TIMELINESS, {}, token=token)
        assert refused.error_codes == ["FORBIDDEN"]
    assert (await api(TIMELINESS, {})).error_codes == ["UNAUTHENTICATED"]


async def test_a_month_that_is_not_yyyy_mm_is_bad_input(api) -> None:
    w = await f.world()
    refused = await api(TIMELINESS, {"period": "2026-13"}, token=w.seller.token)
    assert refused.error_codes == ["BAD_USER_INPUT"]
    assert "YYYY-MM" in refused.errors[0]["message"]
