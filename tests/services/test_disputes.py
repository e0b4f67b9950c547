"""Online quality disputes, settled first, on the service (QS 9.7.7)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    AfterSalesState,
    AuditEvent,
    Dispute,
    DisputeOffer,
    DisputeState,
    OfferState,
    Payment,
    Refund,
    RefundState,
    StaffDuty,
)
from pinzhi.services import after_sales, audit, disputes, jobs, refunds, rules
from pinzhi.services.disputes import Terms
from tests import factories as f

S = DisputeState
OF = OfferState
HOURS = 72  # the default dispute.settlement rule


async def _snapshot() -> dict[str, Any]:
    """Every row a dispute's steps could create or change."""

    async def rows(model, *columns: str) -> list[tuple]:
        return list(await model.all().order_by("id").values_list("id", *columns))

    return {
        "disputes": await rows(
            Dispute,
            "state",
            "arbitration_asked_by",
            "outcome_refund_minor",
            "outcome_compensation_minor",
            "refund_id",
            "compensation_refund_id",
            "fund_payout_due_minor",
            "replacement_shipped_at",
            "closed_at",
        ),
        "offers": await rows(DisputeOffer, "state", "answered_at"),
        "refunds": await rows(Refund, "state", "amount_minor"),
        "payments": await rows(Payment, "refunded_minor"),
        "requests": await rows(AfterSalesRequest, "state"),
        "events": await AuditEvent.all().count(),
    }


async def _refused(code: ErrorCode, action) -> ServiceError:
    before = await _snapshot()
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    assert await _snapshot() == before
    return raised.value


async def _actions(dispute_id: int) -> list[tuple[str, str]]:
    return [(e.action, e.to_state) for e in await audit.trail("Dispute", dispute_id)]


# --- Opening ---------------------------------------------------------------------------------


async def test_a_rejected_request_is_disputed_under_the_settlement_rule(db, clock):
    """QS 9.7.7: the consumer disputes a rejected after-sales request; the settlement period
    runs 72 hours from opening, by the rule version stored on the dispute."""
    w = await f.world()
    request = await f.rejected_request(w)

    dispute = await disputes.open_dispute(
        w.buyer.viewer, request_id=request.id, reason="商品有质量问题", description="有照片"
    )

    rule = await rules.current("dispute.settlement")
    assert (dispute.state, dispute.request_id, dispute.complaint_id) == (S.OPEN, request.id, None)
    assert (dispute.consumer_id, dispute.merchant_id) == (w.buyer.account.id, w.shop.id)
    assert dispute.settle_by == clock.at + timedelta(hours=HOURS)
    assert dispute.rule_version == rule.version
    trail = await audit.trail("Dispute", dispute.id)
    assert [(e.action, e.to_state) for e in trail] == [("opened", "OPEN")]
    assert trail[0].data["rule_version"] == rule.version
    assert trail[0].data["request_id"] == request.id


async def test_a_request_closed_after_its_rejection_and_a_refused_complaint_are_disputable(
    db, clock
):
    """QS 9.7.7: a rejected request the consumer closed, and a complaint about an order
    resolved as not upheld, may be disputed too."""
    w = await f.world()
    request = await f.rejected_request(w)
    await after_sales.close(w.buyer.viewer, request.id)
    complaint = await f.refused_complaint(w)

    on_request = await disputes.open_dispute(w.buyer.viewer, request_id=request.id, reason="不服")
    on_complaint = await disputes.open_dispute(
        w.buyer.viewer, complaint_id=complaint.id, reason="不服"
    )

    assert on_request.request_id == request.id
    assert (on_complaint.complaint_id, on_complaint.order_id) == (
        complaint.id,
        complaint.order_id,
    )


async def test_only_a_refusal_can_be_disputed(db, clock):
    """QS 9.7.7: a request still under way, an upheld complaint and a complaint still being
    handled are NOT_DISPUTABLE; nothing is created."""
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    pending = await f.after_sales_request(w.buyer, placed, "REFUND_ONLY", 500)
    other, _ = await f.delivered_order(w)
    open_complaint = await f.complaint(w.buyer, other)
    third, _ = await f.delivered_order(w)
    upheld = await f.complaint(w.buyer, third)
    from pinzhi.services import complaints

    await complaints.handle_complaint(w.agent.viewer, upheld.id, resolution="已退款", upheld=True)

    for subject in (
        {"request_id": pending.id},
        {"complaint_id": open_complaint.id},
        {"complaint_id": upheld.id},
    ):
        await _refused(
            ErrorCode.NOT_DISPUTABLE,
            disputes.open_dispute(w.buyer.viewer, reason="不服 refused", **subject),
        )


async def test_a_dispute_on_someone_elses_request_or_complaint_is_not_found(db, clock):
    """QS 9.4.1, QS 9.7.7: another consumer's rejected request or refused complaint does not
    exist for this one; nothing is created."""
    w = await f.world()
    request = await f.rejected_request(w)
    complaint = await f.refused_complaint(w)

    for subject, field in (
        ({"request_id": request.id}, "requestId"),
        ({"complaint_id": complaint.id}, "complaintId"),
    ):
        refused = await _refused(
            ErrorCode.NOT_FOUND,
            disputes.open_dispute(w.other_buyer.viewer, reason="不是我的", **subject),
        )
        assert refused.field == [field]


async def test_one_dispute_per_subject_until_it_is_withdrawn(db, clock):
    """QS 9.7.7: a second dispute on the same subject is DISPUTE_EXISTS; once the consumer
    withdraws the first, it may be disputed again."""
    w = await f.world()
    request = await f.rejected_request(w)
    first = await f.dispute(w, request)

    await _refused(
        ErrorCode.DISPUTE_EXISTS,
        disputes.open_dispute(w.buyer.viewer, request_id=request.id, reason="再次"),
    )
    await disputes.withdraw(w.buyer.viewer, first.id)
    again = await disputes.open_dispute(w.buyer.viewer, request_id=request.id, reason="再次")

    assert again.id != first.id
    assert (await Dispute.get(id=first.id)).state == S.WITHDRAWN


async def test_two_disputes_of_one_subject_at_once_open_one(db, clock):
    """The order's lock lets one of two simultaneous openings through."""
    w = await f.world()
    request = await f.rejected_request(w)

    results = await asyncio.gather(
        *(
            disputes.open_dispute(w.buyer.viewer, request_id=request.id, reason="同时")
            for _ in range(2)
        ),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and refused[0].code == ErrorCode.DISPUTE_EXISTS, results
    assert await Dispute.filter(request_id=request.id).count() == 1


# --- Settling first --------------------------------------------------------------------------


async def test_the_merchants_offer_accepted_settles_and_refunds_once(db, clock):
    """QS 9.7.7 (先行和解): the merchant offers 600 fen back, the consumer accepts; the
    dispute is SETTLED on those terms and the refund is asked once. Accepting again (a
    replay) answers with the settlement, asking for no second refund."""
    w = await f.world()
    dispute = await f.dispute(w)
    own = await disputes.make_offer(w.buyer.viewer, dispute.id, Terms(refund_minor=1000))
    _, offer = await disputes.make_offer(
        w.seller.viewer, dispute.id, Terms(refund_minor=600), "退 6 元"
    )

    answered = await disputes.accept_offer(w.buyer.viewer, offer.id, "同意")
    replayed = await disputes.accept_offer(w.buyer.viewer, offer.id, "同意")

    settled = await Dispute.get(id=dispute.id)
    assert settled.state == S.SETTLED and not answered.replayed and replayed.replayed
    assert (settled.outcome_refund_minor, settled.outcome_note) == (600, "退 6 元")
    made = await Refund.filter(order_id=dispute.order_id)
    assert [(r.amount_minor, r.idempotency_key, r.request_id) for r in made] == [
        (600, f"dispute:{dispute.id}:refund", dispute.request_id)
    ]
    assert settled.refund_id == made[0].id
    assert (await DisputeOffer.get(id=offer.id)).state == OF.ACCEPTED
    assert (await DisputeOffer.get(id=own[1].id)).state == OF.SUPERSEDED
    assert await _actions(dispute.id) == [
        ("opened", "OPEN"),
        ("offer_made", ""),
        ("offer_made", ""),
        ("settled", "SETTLED"),
        ("outcome_carried_out", ""),
    ]
    await f.confirm_refunds(w)
    assert (await Payment.get(order_id=dispute.order_id)).refunded_minor == 600
    assert (await Refund.get(id=made[0].id)).state == RefundState.SUCCEEDED


async def test_an_offer_accepted_twice_at_once_refunds_once(db, clock):
    """QS 9.7.7: two acceptances of the same offer racing: one settles, the other is a
    replay; one refund, held once on the payment."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=600))

    results = await asyncio.gather(
        *(disputes.accept_offer(w.buyer.viewer, offer.id) for _ in range(2))
    )

    assert sorted(r.replayed for r in results) == [False, True]
    assert await Refund.filter(order_id=dispute.order_id).count() == 1
    assert (await Payment.get(order_id=dispute.order_id)).refunded_minor == 600


async def test_a_new_offer_supersedes_the_last_and_only_the_other_party_answers(db, clock):
    """QS 9.7.7: one live offer per party; a superseded offer cannot be accepted
    (OFFER_NOT_LIVE), one's own offer cannot be answered (NOT_ELIGIBLE)."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, first = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=200))
    _, second = await disputes.make_offer(
        w.seller.viewer, dispute.id, Terms(refund_minor=300, replacement=True)
    )

    assert (await DisputeOffer.get(id=first.id)).state == OF.SUPERSEDED
    assert (await DisputeOffer.get(id=second.id)).state == OF.PROPOSED
    await _refused(ErrorCode.OFFER_NOT_LIVE, disputes.accept_offer(w.buyer.viewer, first.id))
    await _refused(ErrorCode.NOT_ELIGIBLE, disputes.accept_offer(w.seller.viewer, second.id))
    declined = await disputes.decline_offer(w.buyer.viewer, second.id, "太少")
    assert (declined.offer.state, declined.offer.answer_note) == (OF.DECLINED, "太少")
    await _refused(ErrorCode.OFFER_NOT_LIVE, disputes.accept_offer(w.buyer.viewer, second.id))
    assert (await Dispute.get(id=dispute.id)).state == S.OPEN


async def test_an_empty_offer_and_a_party_over_its_offer_limit_are_refused(db, clock):
    """QS 5.2, 9.7.7: an offer of nothing is INVALID_INPUT; a party's offers stop at the
    rule's max_offers_per_party (NOT_ELIGIBLE)."""
    w = await f.world()
    dispute = await f.dispute(w)
    await _refused(
        ErrorCode.INVALID_INPUT, disputes.make_offer(w.seller.viewer, dispute.id, Terms())
    )
    content = (await rules.current("dispute.settlement")).content
    for n in range(content["max_offers_per_party"]):
        await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=10 + n))

    await _refused(
        ErrorCode.NOT_ELIGIBLE,
        disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=99)),
    )


@pytest.mark.parametrize("closing", ["settled", "withdrawn", "arbitrated"])
async def test_offers_on_a_closed_dispute_are_refused_and_change_nothing(db, clock, closing):
    """QS 9.7.7: once settled, withdrawn or arbitrated, a new offer, an acceptance of a
    lapsed offer and a decline are DISPUTE_CLOSED, and nothing changes."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, merchant_offer = await disputes.make_offer(
        w.seller.viewer, dispute.id, Terms(refund_minor=300)
    )
    _, consumer_offer = await disputes.make_offer(
        w.buyer.viewer, dispute.id, Terms(refund_minor=500)
    )
    if closing == "settled":
        await disputes.accept_offer(w.seller.viewer, consumer_offer.id)
    elif closing == "withdrawn":
        await disputes.withdraw(w.buyer.viewer, dispute.id)
    else:
        clock.advance(hours=HOURS, seconds=1)
        await disputes.arbitrate(w.agent.viewer, dispute.id, Terms(refund_minor=400), "部分支持")
        clock.advance(hours=-HOURS, seconds=-1)  # back inside the period: closed all the same

    for action in (
        disputes.make_offer(w.buyer.viewer, dispute.id, Terms(refund_minor=100)),
        disputes.make_offer(w.seller.viewer, dispute.id, Terms(replacement=True)),
        disputes.accept_offer(w.buyer.viewer, merchant_offer.id),
        disputes.decline_offer(w.buyer.viewer, merchant_offer.id),
        disputes.request_arbitration(w.buyer.viewer, dispute.id, "再议"),
        disputes.withdraw(w.buyer.viewer, dispute.id),
    ):
        await _refused(ErrorCode.DISPUTE_CLOSED, action)
    assert await DisputeOffer.filter(dispute_id=dispute.id, state=OF.PROPOSED).count() == 0


# --- Money: never above what is refundable; compensation ---------------------------------------


async def test_money_back_above_what_is_refundable_is_refused(db, clock):
    """QS 9.7.7 with QS 9.2.3: an offer or an award of more than the payment can still
    refund is AMOUNT_NOT_REFUNDABLE; an offer that was within it when made but no longer is
    (another refund came first) cannot be accepted either; nothing changes."""
    w = await f.world()
    dispute = await f.dispute(w)  # a 1000-fen order
    await _refused(
        ErrorCode.AMOUNT_NOT_REFUNDABLE,
        disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=1001)),
    )
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=800))
    payment = await Payment.get(order_id=dispute.order_id)
    await refunds.refund_payment(w.seller.viewer, payment.id, 300, "运费", "dispute-test-001")

    refused = await _refused(
        ErrorCode.AMOUNT_NOT_REFUNDABLE, disputes.accept_offer(w.buyer.viewer, offer.id)
    )

    assert refused.field == ["refundMinor"]
    clock.advance(hours=HOURS, seconds=1)
    await _refused(
        ErrorCode.AMOUNT_NOT_REFUNDABLE,
        disputes.arbitrate(w.agent.viewer, dispute.id, Terms(refund_minor=701), "全额退款"),
    )
    assert (await Payment.get(id=payment.id)).refunded_minor == 300


async def test_compensation_is_refunded_when_the_payment_can_take_it_else_owed_by_the_fund(
    db, clock
):
    """QS 9.7.7, 9.7.6: compensation within what the payment can still refund is paid as a
    refund; above it, the whole compensation is owed by the advance-compensation fund
    (fund_payout_due_minor); above the rule's multiple of the order total it is refused."""
    w = await f.world()
    small = await f.dispute(w)
    _, offer = await disputes.make_offer(
        w.seller.viewer, small.id, Terms(refund_minor=600, compensation_minor=400)
    )
    await disputes.accept_offer(w.buyer.viewer, offer.id)
    paid = await Dispute.get(id=small.id)
    compensation = await Refund.get(id=paid.compensation_refund_id)
    assert (compensation.amount_minor, compensation.idempotency_key) == (
        400,
        f"dispute:{small.id}:compensation",
    )
    assert paid.fund_payout_due_minor == 0

    large = await f.dispute(w)
    await _refused(
        ErrorCode.COMPENSATION_ABOVE_LIMIT,
        disputes.make_offer(w.seller.viewer, large.id, Terms(compensation_minor=3001)),
    )
    _, offer = await disputes.make_offer(
        w.seller.viewer, large.id, Terms(refund_minor=1000, compensation_minor=3000)
    )
    await disputes.accept_offer(w.buyer.viewer, offer.id)

    owed = await Dispute.get(id=large.id)
    assert (owed.compensation_refund_id, owed.fund_payout_due_minor) == (None, 3000)
    assert [r.amount_minor for r in await Refund.filter(order_id=owed.order_id)] == [1000]
    carried = (await audit.trail("Dispute", large.id))[-1]
    assert carried.action == "outcome_carried_out"
    assert carried.data["fund_payout_due_minor"] == 3000


# --- Arbitration on the clock ----------------------------------------------------------------


async def test_arbitration_one_second_before_settle_by_is_refused_and_one_after_is_swept(db, clock):
    """QS 9.7.7: one second before settle_by the settlement is still open: a party's request
    is only recorded (asking again is SETTLEMENT_PERIOD_OPEN), the sweep moves nothing and
    staff cannot arbitrate. One second after it offers are SETTLEMENT_PERIOD_OVER, the sweep
    moves the dispute to ARBITRATION once, its live offer lapses, and staff decide."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=200))
    clock.advance(hours=HOURS, seconds=-1)

    asked = await disputes.request_arbitration(w.buyer.viewer, dispute.id, "商家不让步")
    assert (asked.state, asked.arbitration_asked_by) == (S.OPEN, "CONSUMER")
    await _refused(
        ErrorCode.SETTLEMENT_PERIOD_OPEN,
        disputes.request_arbitration(w.buyer.viewer, dispute.id, "再次申请"),
    )
    assert await disputes.sweep() == 0
    await _refused(
        ErrorCode.SETTLEMENT_PERIOD_OPEN,
        disputes.arbitrate(w.agent.viewer, dispute.id, Terms(refund_minor=600), "支持"),
    )
    assert (await Dispute.get(id=dispute.id)).state == S.OPEN

    clock.advance(seconds=2)
    await _refused(
        ErrorCode.SETTLEMENT_PERIOD_OVER,
        disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=400)),
    )
    await _refused(
        ErrorCode.SETTLEMENT_PERIOD_OVER, disputes.accept_offer(w.buyer.viewer, offer.id)
    )
    assert await disputes.sweep() == 1
    assert await disputes.sweep() == 0
    moved = await Dispute.get(id=dispute.id)
    assert (moved.state, moved.arbitration_started_at) == (S.ARBITRATION, clock.at)
    assert (await DisputeOffer.get(id=offer.id)).state == OF.SUPERSEDED

    decided = await disputes.arbitrate(
        w.agent.viewer, dispute.id, Terms(refund_minor=600, replacement=False), "质量问题属实"
    )

    assert decided.state == S.ARBITRATED and decided.arbitrator_id == w.agent.account.id
    assert (decided.outcome_refund_minor, decided.outcome_note) == (600, "质量问题属实")
    assert [r.amount_minor for r in await Refund.filter(order_id=dispute.order_id)] == [600]
    assert [a for a, _ in await _actions(dispute.id)] == [
        "opened",
        "offer_made",
        "arbitration_asked",
        "settlement_lapsed",
        "arbitrated",
        "outcome_carried_out",
    ]


async def test_a_party_asking_after_settle_by_starts_arbitration_at_once(db, clock):
    """QS 9.7.7: after settle_by either party's request moves the dispute to ARBITRATION,
    without waiting for the sweep; asking again is refused."""
    w = await f.world()
    dispute = await f.dispute(w)
    clock.advance(hours=HOURS, seconds=1)

    moved = await disputes.request_arbitration(w.seller.viewer, dispute.id, "无法和解")

    assert moved.state == S.ARBITRATION
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        disputes.request_arbitration(w.buyer.viewer, dispute.id, "我也申请"),
    )
    assert await disputes.sweep() == 0


async def test_both_parties_asking_start_arbitration_before_settle_by(db, clock):
    """QS 9.7.7: settling first is the parties' to give up: when both ask, arbitration
    starts before settle_by."""
    w = await f.world()
    dispute = await f.dispute(w)
    await disputes.request_arbitration(w.seller.viewer, dispute.id, "请平台判定")

    moved = await disputes.request_arbitration(w.buyer.viewer, dispute.id, "同意仲裁")

    assert moved.state == S.ARBITRATION
    assert (await audit.trail("Dispute", dispute.id))[-1].action == "arbitration_agreed"


async def test_an_arbitrator_takes_up_a_lapsed_dispute_the_sweep_has_not_reached(db, clock):
    """QS 9.7.7: past settle_by staff may decide at once; the move to arbitration is traced
    before the decision."""
    w = await f.world()
    dispute = await f.dispute(w)
    clock.advance(hours=HOURS, seconds=1)

    decided = await disputes.arbitrate(w.agent.viewer, dispute.id, Terms(), "拒绝理由成立")

    assert (decided.state, decided.outcome_refund_minor, decided.refund_id) == (
        S.ARBITRATED,
        0,
        None,
    )
    assert [a for a, _ in await _actions(dispute.id)][1:] == [
        "settlement_lapsed",
        "arbitrated",
        "outcome_carried_out",
    ]


async def test_the_agent_who_decided_the_subject_does_not_arbitrate_it(db, clock):
    """QS 9.7.7: the customer-service agent who resolved the complaint is NOT_ELIGIBLE to
    arbitrate its dispute; another agent decides it."""
    w = await f.world()
    complaint = await f.refused_complaint(w)
    dispute = await disputes.open_dispute(w.buyer.viewer, complaint_id=complaint.id, reason="不服")
    clock.advance(hours=HOURS, seconds=1)
    await disputes.sweep()

    await _refused(
        ErrorCode.NOT_ELIGIBLE,
        disputes.arbitrate(w.agent.viewer, dispute.id, Terms(refund_minor=100), "支持"),
    )
    other = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    decided = await disputes.arbitrate(other.viewer, dispute.id, Terms(refund_minor=100), "支持")
    assert decided.arbitrator_id == other.account.id


async def test_two_sweeps_at_once_move_each_dispute_once(db, clock):
    """QS 9.7.7: two instances of the job at once: each lapsed dispute goes to arbitration
    once, with one traced move."""
    w = await f.world()
    opened = [await f.dispute(w) for _ in range(3)]
    clock.advance(hours=HOURS, seconds=1)

    moved = await asyncio.gather(disputes.sweep(), disputes.sweep())

    assert sum(moved) == 3
    for dispute in opened:
        lapsed = await AuditEvent.filter(
            entity_type="Dispute", entity_id=dispute.id, action="settlement_lapsed"
        ).count()
        assert lapsed == 1


async def test_the_dispute_sweep_job_runs_once_per_hour(db, clock):
    """The ``dispute-sweep`` job (QS 9.7.7): its run's period is its lock."""
    w = await f.world()
    dispute = await f.dispute(w)
    later = clock.advance(hours=HOURS, seconds=1)

    first = await jobs.run("dispute-sweep", progress=lambda _: None, now=later)
    second = await jobs.run("dispute-sweep", progress=lambda _: None, now=later)

    assert first == {"to_arbitration": 1} and second is None
    assert (await Dispute.get(id=dispute.id)).state == S.ARBITRATION


# --- Replacement, withdrawal -----------------------------------------------------------------


async def test_an_awarded_replacement_is_sent_once_by_its_merchant(db, clock):
    """QS 9.7.7: a settlement with a replacement is the merchant's to send: its carrier and
    number are recorded once; another shop cannot reach the dispute."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(replacement=True))
    await disputes.accept_offer(w.buyer.viewer, offer.id)

    await _refused(
        ErrorCode.NOT_FOUND,
        disputes.ship_replacement(w.other_seller.viewer, dispute.id, w.carrier.id, "RPL00001"),
    )
    sent = await disputes.ship_replacement(w.seller.viewer, dispute.id, w.carrier.id, "RPL00001")

    assert (sent.replacement_provider_id, sent.replacement_tracking_number) == (
        w.carrier.id,
        "RPL00001",
    )
    assert sent.replacement_shipped_at == clock.at
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        disputes.ship_replacement(w.seller.viewer, dispute.id, w.carrier.id, "RPL00002"),
    )
    assert await Refund.filter(order_id=dispute.order_id).count() == 0


async def test_a_replacement_not_awarded_or_with_a_payment_provider_is_refused(db, clock):
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=100))
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        disputes.ship_replacement(w.seller.viewer, dispute.id, w.carrier.id, "RPL00003"),
    )
    await disputes.accept_offer(w.buyer.viewer, offer.id)
    await _refused(
        ErrorCode.NOT_ELIGIBLE,
        disputes.ship_replacement(w.seller.viewer, dispute.id, w.carrier.id, "RPL00003"),
    )
    await _refused(
        ErrorCode.WRONG_PROVIDER_KIND,
        disputes.ship_replacement(w.seller.viewer, dispute.id, w.payer.id, "RPL00003"),
    )


async def test_the_consumer_withdraws_and_live_offers_lapse(db, clock):
    """QS 9.7.7: withdrawing ends the dispute; live offers are superseded; the request
    keeps its state."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=100))

    withdrawn = await disputes.withdraw(w.buyer.viewer, dispute.id)

    assert (withdrawn.state, withdrawn.closed_at) == (S.WITHDRAWN, clock.at)
    assert (await DisputeOffer.get(id=offer.id)).state == OF.SUPERSEDED
    request = await AfterSalesRequest.get(id=dispute.request_id)
    assert request.state == AfterSalesState.REJECTED


async def test_other_parties_reach_no_dispute(db, clock):
    """QS 9.4.1: the other consumer and the other shop get NOT_FOUND for the dispute and
    its offers, exactly as for a missing one."""
    w = await f.world()
    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, Terms(refund_minor=100))

    for action in (
        disputes.make_offer(w.other_seller.viewer, dispute.id, Terms(refund_minor=50)),
        disputes.make_offer(w.other_buyer.viewer, dispute.id, Terms(refund_minor=50)),
        disputes.accept_offer(w.other_buyer.viewer, offer.id),
        disputes.decline_offer(w.other_buyer.viewer, offer.id),
        disputes.withdraw(w.other_buyer.viewer, dispute.id),
        disputes.request_arbitration(w.other_seller.viewer, dispute.id, "无关"),
    ):
        await _refused(ErrorCode.NOT_FOUND, action)
