"""Quality disputes over HTTP, as each party walks them (QS 9.7.7)."""

from __future__ import annotations

from pinzhi.models import Dispute, DisputeOffer, Refund
from tests import factories as f

OPEN = """
mutation($i: OpenDisputeInput!) {
  openDispute(input: $i) { dispute { id state settleBy ruleVersion settlementOpen }
    errors { code field message } }
}"""
OFFER = """
mutation($i: MakeDisputeOfferInput!) {
  makeDisputeOffer(input: $i) {
    offer { id party state refund { amountMinor currency } replacement
            compensation { amountMinor } note }
    dispute { id state } errors { code field }
  }
}"""
ACCEPT = """
mutation($i: AnswerDisputeOfferInput!) {
  acceptDisputeOffer(input: $i) {
    offer { id state } replayed
    dispute { id state outcome { arbitrated refund { amountMinor } note
      refundMade { id state amount { amountMinor } } fundPayoutDue { amountMinor } } }
    errors { code field }
  }
}"""
DECLINE = """
mutation($i: AnswerDisputeOfferInput!) {
  declineDisputeOffer(input: $i) { offer { id state answerNote } errors { code field } }
}"""
ASK = """
mutation($i: RequestDisputeArbitrationInput!) {
  requestDisputeArbitration(input: $i) {
    dispute { id state arbitrationAskedBy arbitrationStartedAt } errors { code field }
  }
}"""
ARBITRATE = """
mutation($i: ArbitrateDisputeInput!) {
  arbitrateDispute(input: $i) {
    dispute { id state outcome { arbitrated refund { amountMinor } replacement
      compensation { amountMinor } note refundMade { amount { amountMinor } } } }
    errors { code field }
  }
}"""
SHIP = """
mutation($i: ShipDisputeReplacementInput!) {
  shipDisputeReplacement(input: $i) {
    dispute { outcome { replacementSent { trackingNumber provider { id } } } }
    errors { code field }
  }
}"""
WITHDRAW = """
mutation($i: WithdrawDisputeInput!) {
  withdrawDispute(input: $i) { dispute { id state closedAt } errors { code field } }
}"""
LIST = """
{ disputes(first: 10) { nodes { id state reason
    order { id }
    subject { __typename ... on AfterSalesRequest { id state } ... on Complaint { id upheld } }
    offers { id party state refund { amountMinor } } } } }"""
NODE = """query($id: ID!) {
  node(id: $id) { id ... on Dispute { state } ... on DisputeOffer { offerState: state } } }"""
TRAIL = "query($id: ID!) { auditTrail(entityId: $id) { action } }"


async def _open(api, w: f.World, **subject: object):  # type: ignore[no-untyped-def]
    if not subject:
        request = await f.rejected_request(w)
        subject = {"requestId": f.gid("AfterSalesRequest", request.id)}
    result = await api(OPEN, {"i": {"reason": "质量问题 faulty", **subject}}, token=w.buyer.token)
    return result.data["openDispute"]


async def test_both_parties_settle_and_a_regulator_reads_it(api, clock) -> None:
    """QS 9.7.7 (先行和解): the consumer opens a dispute on a rejected request, the merchant
    offers money back, the consumer declines, the merchant offers more, the consumer
    accepts; the refund is asked once. Both parties and a regulator read the dispute, its
    offers, subject and trail; the other consumer, the other shop and a payment provider
    see nothing."""
    w = await f.world()
    opened = await _open(api, w)
    assert opened["errors"] == []
    dispute = opened["dispute"]
    assert (dispute["state"], dispute["settlementOpen"]) == ("OPEN", True)
    did = dispute["id"]

    first = await api(
        OFFER,
        {"i": {"disputeId": did, "refundMinor": 200, "note": "退 2 元"}},
        token=w.seller.token,
    )
    offer = first.data["makeDisputeOffer"]["offer"]
    assert (offer["party"], offer["state"], offer["refund"]) == (
        "MERCHANT",
        "PROPOSED",
        {"amountMinor": 200, "currency": "CNY"},
    )
    declined = await api(
        DECLINE, {"i": {"offerId": offer["id"], "note": "太少"}}, token=w.buyer.token
    )
    assert declined.data["declineDisputeOffer"]["offer"]["state"] == "DECLINED"
    second = await api(OFFER, {"i": {"disputeId": did, "refundMinor": 600}}, token=w.seller.token)
    better = second.data["makeDisputeOffer"]["offer"]["id"]

    accepted = await api(ACCEPT, {"i": {"offerId": better}}, token=w.buyer.token)
    again = await api(ACCEPT, {"i": {"offerId": better}}, token=w.buyer.token)

    body = accepted.data["acceptDisputeOffer"]
    assert body["errors"] == [] and body["replayed"] is False
    outcome = body["dispute"]["outcome"]
    assert (outcome["arbitrated"], outcome["refund"]["amountMinor"]) == (False, 600)
    assert outcome["refundMade"]["amount"]["amountMinor"] == 600
    assert outcome["fundPayoutDue"]["amountMinor"] == 0
    assert again.data["acceptDisputeOffer"]["replayed"] is True
    assert await Refund.all().count() == 1

    for token in (w.buyer.token, w.seller.token, w.regulator.token, w.agent.token):
        listed = (await api(LIST, token=token)).data["disputes"]["nodes"]
        assert [n["id"] for n in listed] == [did], token
        assert listed[0]["state"] == "SETTLED"
        assert [o["state"] for o in listed[0]["offers"]] == ["DECLINED", "ACCEPTED"]
        assert listed[0]["subject"]["__typename"] == "AfterSalesRequest"
        assert listed[0]["subject"]["state"] == "REJECTED"
        assert listed[0]["order"] is not None
        trail = (await api(TRAIL, {"id": did}, token=token)).data["auditTrail"]
        assert [e["action"] for e in trail][-2:] == ["settled", "outcome_carried_out"]
    for token in (w.other_buyer.token, w.other_seller.token, w.payer_key, w.carrier_key):
        assert (await api(LIST, token=token)).data["disputes"]["nodes"] == [], token
        assert (await api(NODE, {"id": did}, token=token)).data["node"] is None
        assert (await api(NODE, {"id": better}, token=token)).data["node"] is None
        assert (await api(TRAIL, {"id": did}, token=token)).data["auditTrail"] == []
    seen = await api(NODE, {"id": better}, token=w.regulator.token)
    assert seen.data["node"] == {"id": better, "offerState": "ACCEPTED"}


async def test_an_unsettled_dispute_is_arbitrated_after_settle_by(api, clock) -> None:
    """QS 9.7.7: before settle_by a lone request for arbitration is recorded and staff are
    refused; after it the consumer's request starts arbitration and customer service
    decides refund, replacement and compensation, carried out at once; the merchant sends
    the replacement."""
    w = await f.world()
    did = (await _open(api, w))["dispute"]["id"]
    asked = await api(ASK, {"i": {"disputeId": did, "reason": "请平台介入"}}, token=w.seller.token)
    assert asked.data["requestDisputeArbitration"]["dispute"]["arbitrationAskedBy"] == "MERCHANT"
    assert asked.data["requestDisputeArbitration"]["dispute"]["state"] == "OPEN"
    decision = {
        "disputeId": did,
        "refundMinor": 500,
        "replacement": True,
        "compensationMinor": 2000,
        "reason": "商品存在质量问题 quality defect",
    }
    early = await api(ARBITRATE, {"i": decision}, token=w.agent.token)
    assert early.data["arbitrateDispute"]["errors"] == [
        {"code": "SETTLEMENT_PERIOD_OPEN", "field": ["disputeId"]}
    ]

    clock.advance(hours=72, seconds=1)
    late = await api(ASK, {"i": {"disputeId": did, "reason": "和解期满"}}, token=w.buyer.token)
    assert late.data["requestDisputeArbitration"]["dispute"]["state"] == "ARBITRATION"
    decided = await api(ARBITRATE, {"i": decision}, token=w.agent.token)

    body = decided.data["arbitrateDispute"]
    assert body["errors"] == []
    outcome = body["dispute"]["outcome"]
    assert outcome["arbitrated"] is True
    assert (outcome["refund"]["amountMinor"], outcome["compensation"]["amountMinor"]) == (500, 2000)
    assert outcome["refundMade"]["amount"]["amountMinor"] == 500
    row = await Dispute.all().first()
    assert (
        row is not None and row.fund_payout_due_minor == 2000
    )  # 500 of 1000 left: the fund pays it all

    carrier = f.gid("ServiceProvider", w.carrier.id)
    ship = {"disputeId": did, "providerId": carrier, "trackingNumber": "DSP0001"}
    refused = await api(SHIP, {"i": ship}, token=w.other_seller.token)
    assert refused.data["shipDisputeReplacement"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["disputeId"]}
    ]
    sent = await api(SHIP, {"i": ship}, token=w.seller.token)
    replacement = sent.data["shipDisputeReplacement"]["dispute"]["outcome"]["replacementSent"]
    assert replacement == {"trackingNumber": "DSP0001", "provider": {"id": carrier}}


async def test_an_offer_on_a_closed_dispute_is_a_coded_error_and_changes_nothing(
    api, clock
) -> None:
    """QS 9.7.7: after the consumer withdraws, an offer is DISPUTE_CLOSED in the payload,
    in Chinese or English, and no offer is stored."""
    w = await f.world()
    did = (await _open(api, w))["dispute"]["id"]
    withdrawn = await api(WITHDRAW, {"i": {"disputeId": did}}, token=w.buyer.token)
    assert withdrawn.data["withdrawDispute"]["dispute"]["state"] == "WITHDRAWN"

    offer = {"i": {"disputeId": did, "refundMinor": 100}}
    refused = await api(OFFER, offer, token=w.seller.token)
    english = await api(OFFER, offer, token=w.seller.token, headers={"Accept-Language": "en"})

    assert refused.data["makeDisputeOffer"] == {
        "offer": None,
        "dispute": None,
        "errors": [{"code": "DISPUTE_CLOSED", "field": ["disputeId"]}],
    }
    assert english.data["makeDisputeOffer"]["errors"][0]["code"] == "DISPUTE_CLOSED"
    assert await DisputeOffer.all().count() == 0


async def test_foreign_and_malformed_ids_are_not_found(api, clock) -> None:
    """QS 9.4.1: another consumer's request, a request id of another type and a dispute id
    that decodes to nothing all answer NOT_FOUND, as a missing row does."""
    w = await f.world()
    theirs = await f.rejected_request(w)
    cases = [
        ({"requestId": f.gid("AfterSalesRequest", theirs.id)}, w.other_buyer.token, "requestId"),
        ({"requestId": f.gid("Order", theirs.order_id)}, w.buyer.token, "requestId"),
        ({"complaintId": "not-an-id"}, w.buyer.token, "complaintId"),
    ]
    for subject, token, field in cases:
        result = await api(OPEN, {"i": {"reason": "不服 refused", **subject}}, token=token)
        assert result.data["openDispute"]["errors"][0]["code"] == "NOT_FOUND", subject
        assert result.data["openDispute"]["errors"][0]["field"] == [field]
    ghost = await api(WITHDRAW, {"i": {"disputeId": "bm9wZQ=="}}, token=w.buyer.token)
    assert ghost.data["withdrawDispute"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["disputeId"]}
    ]
    assert await Dispute.all().count() == 0


async def test_a_dispute_on_a_refused_complaint_shows_the_complaint(api, clock) -> None:
    """QS 9.7.7: the subject of a dispute on a complaint resolves as the Complaint."""
    w = await f.world()
    complaint = await f.refused_complaint(w)
    opened = await _open(api, w, complaintId=f.gid("Complaint", complaint.id))
    assert opened["errors"] == []

    listed = (await api(LIST, token=w.buyer.token)).data["disputes"]["nodes"]

    assert listed[0]["subject"] == {
        "__typename": "Complaint",
        "id": f.gid("Complaint", complaint.id),
        "upheld": False,
    }


async def test_a_page_of_disputes_reads_a_fixed_number_of_statements(api, clock) -> None:
    """Decision 7 (no N+1): a page of disputes with their order, subject and offers costs
    the same statements for one dispute as for four."""
    from pinzhi.services import disputes
    from tests.helpers import count_sql

    w = await f.world()

    async def add_one() -> None:
        dispute = await f.dispute(w)
        await disputes.make_offer(w.seller.viewer, dispute.id, disputes.Terms(refund_minor=100))

    await add_one()
    await api.warm(w.regulator.token)
    with count_sql() as one:
        assert len((await api(LIST, token=w.regulator.token)).data["disputes"]["nodes"]) == 1
    for _ in range(3):
        await add_one()
    with count_sql() as four:
        assert len((await api(LIST, token=w.regulator.token)).data["disputes"]["nodes"]) == 4

    assert four.count == one.count, four.statements
