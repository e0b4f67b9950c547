"""Complaints handled in time, called on the service directly (QS 9.2.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Complaint, ComplaintCategory, ComplaintState, StaffDuty
from pinzhi.services import audit, complaints, merchant_grading, rules
from tests import factories as f


def _now() -> datetime:
    return datetime.now(UTC)


async def _filed(w: f.World) -> Complaint:
    placed = await f.order(w.buyer, w.item)
    return await complaints.file_complaint(
        w.buyer.viewer, placed.id, None, "商品与描述不符 Not as described"
    )


async def _unchanged(complaint: Complaint) -> None:
    """A refused handling leaves the complaint and its trail as they were."""
    stored = await Complaint.get(id=complaint.id)
    assert stored.state == complaint.state
    assert stored.resolution == complaint.resolution
    assert stored.delay_reason == complaint.delay_reason
    assert stored.promised_by == complaint.promised_by
    assert stored.assignee_id == complaint.assignee_id
    assert stored.rule_version == complaint.rule_version


async def test_filing_about_an_order_names_its_merchant(db) -> None:
    """QS 9.2.4: a complaint starts OPEN against the order's merchant and is traced."""
    w = await f.world()
    complaint = await _filed(w)

    assert complaint.state == ComplaintState.OPEN
    assert complaint.merchant_id == w.shop.id and complaint.consumer_id == w.buyer.account.id
    trail = await audit.trail("Complaint", complaint.id)
    assert [(e.action, e.to_state) for e in trail] == [("filed", "OPEN")]


async def test_complaint_about_another_consumers_order_is_not_found(db) -> None:
    """QS 9.2.4: a consumer complains only about its own orders; nothing is created."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)

    with pytest.raises(ServiceError) as raised:
        await complaints.file_complaint(w.other_buyer.viewer, placed.id, None, "不是我的订单啊")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.field == ["orderId"]
    assert await Complaint.all().count() == 0
    assert await AuditEvent.filter(entity_type="Complaint").count() == 0


@pytest.mark.parametrize("which", ["both", "neither"])
async def test_complaint_names_an_order_or_a_merchant(db, which: str) -> None:
    """QS 9.2.4: exactly one of order and merchant."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    order_id, merchant_id = (placed.id, w.shop.id) if which == "both" else (None, None)

    with pytest.raises(ServiceError) as raised:
        await complaints.file_complaint(w.buyer.viewer, order_id, merchant_id, "服务态度很差")

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert await Complaint.all().count() == 0


async def test_resolve_on_the_spot(db) -> None:
    """QS 9.2.4: solved at once: RESOLVED with the resolution and the rule version."""
    w = await f.world()
    complaint = await _filed(w)
    rule = await rules.current("complaint.handling")

    handled = await complaints.handle_complaint(
        w.agent.viewer, complaint.id, resolution="已退款 Refunded in full", upheld=True
    )

    assert handled.state == ComplaintState.RESOLVED
    stored = await Complaint.get(id=complaint.id)
    assert stored.state == ComplaintState.RESOLVED
    assert stored.resolution == "已退款 Refunded in full"
    assert stored.resolved_at is not None and stored.promised_by is None
    assert stored.assignee_id == w.agent.account.id
    assert stored.rule_version == rule.version == 1
    trail = await audit.trail("Complaint", complaint.id)
    assert [(e.action, e.from_state, e.to_state) for e in trail] == [
        ("filed", "", "OPEN"),
        ("resolved", "OPEN", "RESOLVED"),
    ]
    assert trail[1].data == {"on_the_spot": True, "upheld": True, "rule_version": 1}
    assert complaints.is_overdue(stored) is False


async def test_promise_with_reason_and_date(db) -> None:
    """QS 9.2.4: not solved at once: a reason and a promised date within the rule."""
    w = await f.world()
    complaint = await _filed(w)
    await complaints.take_complaint(w.agent.viewer, complaint.id)
    promised_by = _now() + timedelta(days=3)

    handled = await complaints.handle_complaint(
        w.agent.viewer,
        complaint.id,
        delay_reason="需要质检 Needs a lab test",
        promised_by=promised_by,
    )

    assert handled.state == ComplaintState.PROMISED
    stored = await Complaint.get(id=complaint.id)
    assert stored.state == ComplaintState.PROMISED
    assert stored.delay_reason == "需要质检 Needs a lab test"
    assert abs(stored.promised_by - promised_by) < timedelta(milliseconds=1)
    assert stored.rule_version == 1
    assert complaints.is_overdue(stored) is False
    trail = await audit.trail("Complaint", complaint.id)
    assert [e.action for e in trail] == ["filed", "taken", "promised"]
    assert trail[2].data["reason"] == "需要质检 Needs a lab test"
    assert trail[2].data["rule_version"] == 1

    # The promise is kept later: the resolution is no longer on the spot.
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, resolution="已换货 Replaced", upheld=True
    )
    trail = await audit.trail("Complaint", complaint.id)
    assert trail[-1].action == "resolved" and trail[-1].data["on_the_spot"] is False
    assert (await Complaint.get(id=complaint.id)).state == ComplaintState.RESOLVED


async def test_promise_at_exactly_the_rule_limit_is_accepted(db) -> None:
    """QS 9.2.4 with QS 5.2: the limit is max_promise_days of rule complaint.handling."""
    w = await f.world()
    complaint = await _filed(w)

    await complaints.handle_complaint(
        w.agent.viewer,
        complaint.id,
        delay_reason="等待厂家",
        promised_by=_now() + timedelta(days=7) - timedelta(seconds=5),
    )

    assert (await Complaint.get(id=complaint.id)).state == ComplaintState.PROMISED


@pytest.mark.parametrize(
    ("delay", "reason", "code", "field"),
    [
        (timedelta(days=-1), "等待厂家", ErrorCode.PROMISE_OUT_OF_RANGE, "promisedBy"),
        (timedelta(seconds=-1), "等待厂家", ErrorCode.PROMISE_OUT_OF_RANGE, "promisedBy"),
        (timedelta(days=7, minutes=1), "等待厂家", ErrorCode.PROMISE_OUT_OF_RANGE, "promisedBy"),
        (timedelta(days=30), "等待厂家", ErrorCode.PROMISE_OUT_OF_RANGE, "promisedBy"),
        (None, "等待厂家", ErrorCode.PROMISE_OUT_OF_RANGE, "promisedBy"),
        (timedelta(days=2), None, ErrorCode.INVALID_INPUT, "delayReason"),
        (timedelta(days=2), "  ", ErrorCode.INVALID_INPUT, "delayReason"),
    ],
    ids=["past", "just-past", "beyond-limit", "far-beyond", "no-date", "no-reason", "blank"],
)
async def test_bad_promises_are_refused(
    db, delay: timedelta | None, reason: str | None, code: ErrorCode, field: str
) -> None:
    """QS 9.2.4: a promise needs a reason and a future date within max_promise_days."""
    w = await f.world()
    complaint = await _filed(w)
    audits = await AuditEvent.filter(entity_type="Complaint").count()

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            w.agent.viewer,
            complaint.id,
            delay_reason=reason,
            promised_by=None if delay is None else _now() + delay,
        )

    assert raised.value.code == code
    assert raised.value.field == [field]
    await _unchanged(complaint)
    assert await AuditEvent.filter(entity_type="Complaint").count() == audits


async def test_naive_promised_date_is_refused(db) -> None:
    """QS 9.2.4: a promised date needs a time zone."""
    w = await f.world()
    complaint = await _filed(w)

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            w.agent.viewer,
            complaint.id,
            delay_reason="等待厂家",
            promised_by=(_now() + timedelta(days=1)).replace(tzinfo=None),
        )

    assert raised.value.code == ErrorCode.PROMISE_OUT_OF_RANGE
    await _unchanged(complaint)


async def test_promise_limit_follows_a_newly_published_rule(db) -> None:
    """QS 9.2.4 with QS 5.2: publishing a tighter limit applies at once and its version
    is recorded on the decision."""
    w = await f.world()
    complaint = await _filed(w)
    await rules.publish(
        "complaint.handling",
        {"max_promise_days": 2},
        title_zh="投诉处理时限",
        title_en="Complaint handling",
    )

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            w.agent.viewer,
            complaint.id,
            delay_reason="等待厂家",
            promised_by=_now() + timedelta(days=3),
        )
    assert raised.value.code == ErrorCode.PROMISE_OUT_OF_RANGE
    await _unchanged(complaint)

    await complaints.handle_complaint(
        w.agent.viewer,
        complaint.id,
        delay_reason="等待厂家",
        promised_by=_now() + timedelta(days=1),
    )
    assert (await Complaint.get(id=complaint.id)).rule_version == 2


async def test_promised_complaint_past_its_date_is_overdue(db) -> None:
    """QS 9.2.4: an unkept promise is flagged."""
    w = await f.world()
    complaint = await _filed(w)
    promised_by = _now() + timedelta(days=1)
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, delay_reason="等待厂家", promised_by=promised_by
    )
    stored = await Complaint.get(id=complaint.id)

    assert complaints.is_overdue(stored) is False
    assert complaints.is_overdue(stored, now=promised_by + timedelta(seconds=1)) is True
    # Time passes: the stored date is now behind us.
    await Complaint.filter(id=complaint.id).update(promised_by=_now() - timedelta(hours=1))
    assert complaints.is_overdue(await Complaint.get(id=complaint.id)) is True
    # Resolved late is no longer overdue.
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, resolution="已处理", upheld=True
    )
    assert complaints.is_overdue(await Complaint.get(id=complaint.id)) is False


async def test_open_complaint_is_never_overdue(db) -> None:
    """QS 9.2.4: only promises fall due."""
    w = await f.world()
    complaint = await _filed(w)

    assert complaints.is_overdue(complaint, now=_now() + timedelta(days=365)) is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": "已退款", "delay_reason": "等待厂家"},
        {"resolution": "已退款", "promised_by": "date"},
        {"resolution": "已退款", "delay_reason": "等待厂家", "promised_by": "date"},
        {},
        {"resolution": "   "},
    ],
    ids=["resolution+reason", "resolution+date", "all-three", "nothing", "blank-resolution"],
)
async def test_resolution_and_promise_are_exclusive(db, kwargs: dict) -> None:
    """QS 9.2.4: resolve now or promise, never both and never neither."""
    w = await f.world()
    complaint = await _filed(w)
    if kwargs.get("promised_by") == "date":
        kwargs = {**kwargs, "promised_by": _now() + timedelta(days=1)}

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(w.agent.viewer, complaint.id, **kwargs)

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.field == ["resolution"]
    await _unchanged(complaint)


async def test_second_agent_cannot_handle_a_taken_case(db) -> None:
    """QS 9.2.4: a case taken by one agent is handled by that agent only."""
    w = await f.world()
    complaint = await _filed(w)
    other_agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    taken = await complaints.take_complaint(w.agent.viewer, complaint.id)
    assert taken.state == ComplaintState.IN_PROGRESS and taken.assignee_id == w.agent.account.id
    audits = await AuditEvent.filter(entity_type="Complaint").count()

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            other_agent.viewer, complaint.id, resolution="抢着办", upheld=True
        )
    assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    with pytest.raises(ServiceError) as raised:
        await complaints.take_complaint(other_agent.viewer, complaint.id)
    assert raised.value.code == ErrorCode.NOT_ELIGIBLE

    stored = await Complaint.get(id=complaint.id)
    assert stored.state == ComplaintState.IN_PROGRESS
    assert stored.assignee_id == w.agent.account.id and stored.resolution == ""
    assert await AuditEvent.filter(entity_type="Complaint").count() == audits
    # The assignee can.
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, resolution="已处理", upheld=True
    )
    assert (await Complaint.get(id=complaint.id)).state == ComplaintState.RESOLVED


async def test_only_customer_service_handles_complaints(db) -> None:
    """QS 9.2.4: staff without the customer-service duty, and merchants, cannot."""
    w = await f.world()
    complaint = await _filed(w)
    compliance = await f.staff(StaffDuty.COMPLIANCE)

    for actor in (compliance, w.seller, w.buyer, w.regulator):
        with pytest.raises(ServiceError) as raised:
            await complaints.handle_complaint(
                actor.viewer, complaint.id, resolution="自己解决", upheld=True
            )
        assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    await _unchanged(complaint)


async def test_resolved_complaint_cannot_be_handled_again(db) -> None:
    """QS 9.1.1: RESOLVED is final."""
    w = await f.world()
    complaint = await _filed(w)
    await complaints.handle_complaint(
        w.agent.viewer, complaint.id, resolution="已退款", upheld=True
    )
    resolved = await Complaint.get(id=complaint.id)

    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            w.agent.viewer,
            complaint.id,
            delay_reason="再等等",
            promised_by=_now() + timedelta(days=1),
        )

    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    await _unchanged(resolved)


# --- what grading needs: the category and whether the consumer was right (QS 6.1.1, 7.1.1) ---


async def test_a_complaint_keeps_the_category_the_consumer_chose(db) -> None:
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    complaint = await complaints.file_complaint(
        w.buyer.viewer, placed.id, None, "质量太差，用一次就坏", ComplaintCategory.QUALITY
    )
    assert (await Complaint.get(id=complaint.id)).category == ComplaintCategory.QUALITY
    filed = (await audit.trail("Complaint", complaint.id))[0]
    assert filed.data["category"] == "QUALITY"


async def test_a_resolution_must_say_whether_the_complaint_is_upheld(db) -> None:
    """QS 6.1.1: nothing is upheld by default; resolving without saying so is refused and
    changes nothing."""
    w = await f.world()
    complaint = await _filed(w)
    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(w.agent.viewer, complaint.id, resolution="已处理")
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.field == ["upheld"]
    await _unchanged(complaint)


@pytest.mark.parametrize("extra", [{"upheld": True}, {"category": ComplaintCategory.QUALITY}])
async def test_a_promise_decides_neither_upheld_nor_category(db, extra: dict) -> None:
    w = await f.world()
    complaint = await _filed(w)
    with pytest.raises(ServiceError) as raised:
        await complaints.handle_complaint(
            w.agent.viewer,
            complaint.id,
            delay_reason="需要质检",
            promised_by=_now() + timedelta(days=2),
            **extra,
        )
    assert raised.value.field == [next(iter(extra))]
    await _unchanged(complaint)


async def test_the_resolution_may_correct_the_category_and_the_change_is_traced(db) -> None:
    """QS 9.1.2: a consumer's 'other' that the agent found to be a quality problem counts as
    one, and the trail shows who changed it from what."""
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    complaint = await complaints.file_complaint(
        w.buyer.viewer, placed.id, None, "东西不对劲", ComplaintCategory.OTHER
    )
    await complaints.handle_complaint(
        w.agent.viewer,
        complaint.id,
        resolution="质检确认为质量问题，已退款",
        upheld=True,
        category=ComplaintCategory.QUALITY,
    )
    stored = await Complaint.get(id=complaint.id)
    assert (stored.category, stored.upheld) == (ComplaintCategory.QUALITY, True)
    resolved = (await audit.trail("Complaint", complaint.id))[-1]
    assert resolved.data["category"] == ["OTHER", "QUALITY"]


async def test_only_upheld_complaints_count_against_the_merchant(db) -> None:
    """QS 6.1.1: an order defect and the complaint rate come from upheld complaints; one
    found groundless, or still open, is no mark against the shop."""
    w = await f.world()
    placed = await f.history(w.buyer, w.shop, 20, paid_at=_now() - timedelta(days=2))
    for order, upheld in zip(placed[:3], (True, False, None), strict=True):
        complaint = await complaints.file_complaint(
            w.buyer.viewer, order.id, None, "商品有问题 problem", ComplaintCategory.QUALITY
        )
        if upheld is not None:
            await complaints.handle_complaint(
                w.agent.viewer, complaint.id, resolution="已核实", upheld=upheld
            )
    grade = await merchant_grading.live_grade(w.shop.id, _now())
    assert grade is not None
    operation = grade.dimensions["operation"]["inputs"]
    service = grade.dimensions["service"]["inputs"]
    assert operation["order_defect_rate"] == round(1 / 20, 4)
    assert (service["complaints"], service["upheld_complaints"]) == (3, 1)
    assert service["complaint_rate"] == round(1 / 20, 4)
