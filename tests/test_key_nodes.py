"""Traced key nodes without gaps (QS 9.1.2): every mutation of the schema that changes data
appends to an audit trail, or is listed here with the reason it is not a key node; every
entity with a trail can be queried and verified by whoever may see it.

Each scenario builds what its mutation needs through the services, then runs the mutation
once over HTTP, as its rightful party, and must succeed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pinzhi.auth.scopes import TRACED
from pinzhi.models import AfterSalesKind, AuditEvent, StaffDuty, ViolationType
from pinzhi.schema import schema
from pinzhi.services import (
    after_sales,
    monitoring,
    payments,
    qualifications,
    refunds,
    returns,
    training,
    violations,
)
from pinzhi.services.evidence import Evidence
from tests import factories as f
from tests.helpers import GraphQLClient

# Not key nodes, and why: neither changes anyone's standing or any entity's state.
NOT_KEY_NODES = {
    "login": "opens a session; failures are throttled, and ending one (logout) is traced",
    "refreshAccessToken": "rotates a session's token; a replay that revokes the login is traced",
    "sendServiceMessage": "a chat message is an immutable, timestamped row of its session; "
    "what it changes of the session (a handover by the AI) is traced on the session",
}

LATER = (datetime.now(UTC) + timedelta(days=365)).isoformat()
EVIDENCE = [{"description": "证据 evidence scan", "url": "https://docs.test/e.pdf"}]


@dataclass
class Call:
    document: str
    variables: dict[str, Any]
    token: str | None
    # Who may read the new events' trail (it is checked as them); default: the caller.
    reader: str | None = None


Scenario = Callable[[f.World], Awaitable[Call]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(build: Scenario) -> Scenario:
        SCENARIOS[name] = build
        return build

    return register


def _m(name: str, args: str, selection: str = "errors { code field }") -> str:
    return f"mutation{args} {{ {name}{_pass(args)} {{ {selection} }} }}"


def _pass(args: str) -> str:
    names = [part.split(":")[0].strip().lstrip("$") for part in args.strip("()").split(",")]
    return "(" + ", ".join(f"{n}: ${n}" for n in names if n) + ")" if args else ""


def gid(type_name: str, pk: int) -> str:
    return f.gid(type_name, pk)


# --- accounts and credentials ----------------------------------------------------------------


@scenario("registerConsumer")
async def _register(w: f.World) -> Call:
    person = {
        "email": "new@key.test",
        "password": f.PASSWORD,
        "name": "新人",
        "phone": "13800000001",
    }
    return Call(
        _m("registerConsumer", "($input: RegisterConsumerInput!)"),
        {"input": person},
        None,
        reader=w.regulator.token,
    )


@scenario("logout")
async def _logout(w: f.World) -> Call:
    from pinzhi.auth.tokens import issue_token_pair

    pair = await issue_token_pair(w.buyer.account)
    return Call(
        _m("logout", "($refreshToken: String!)"),
        {"refreshToken": pair.refresh_token},
        w.buyer.token,
    )


@scenario("createApiKey")
async def _create_key(w: f.World) -> Call:
    return Call(_m("createApiKey", "($label: String!)"), {"label": "WMS"}, w.carrier_actor.token)


@scenario("revokeApiKey")
async def _revoke_key(w: f.World) -> Call:
    from pinzhi.models import ApiKey

    key = await ApiKey.filter(provider_id=w.carrier.id).first()
    assert key is not None
    return Call(
        _m("revokeApiKey", "($apiKeyId: ID!)"),
        {"apiKeyId": gid("ApiKey", key.id)},
        w.carrier_actor.token,
    )


@scenario("setAccountActive")
async def _deactivate(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    input_ = {"accountId": w.other_buyer.gid, "active": False, "reason": "风控 risk control"}
    return Call(
        _m("setAccountActive", "($input: SetAccountActiveInput!)"), {"input": input_}, admin.token
    )


@scenario("onboardMerchant")
async def _onboard(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    input_ = {
        "name": "新店 new shop",
        "email": "shop@key.test",
        "password": f.PASSWORD,
        "contactName": "店长",
        "contactPhone": "13800000002",
    }
    return Call(
        _m("onboardMerchant", "($input: OnboardMerchantInput!)"),
        {"input": input_},
        admin.token,
        reader=w.regulator.token,
    )


# --- the order path ----------------------------------------------------------------------------

RECIPIENT = {"name": "张三", "phone": "13812345678", "address": "北京市朝阳区建国路 88 号"}


@scenario("placeOrder")
async def _place(w: f.World) -> Call:
    input_ = {
        "lines": [{"productId": gid("Product", w.item.id), "quantity": 1}],
        "recipient": RECIPIENT,
    }
    return Call(_m("placeOrder", "($input: PlaceOrderInput!)"), {"input": input_}, w.buyer.token)


@scenario("payOrder")
async def _pay(w: f.World) -> Call:
    placed = await f.order(w.buyer, w.item)
    input_ = {
        "orderId": gid("Order", placed.id),
        "providerId": gid("ServiceProvider", w.payer.id),
        "idempotencyKey": "key-nodes-pay",
    }
    return Call(_m("payOrder", "($input: PayOrderInput!)"), {"input": input_}, w.buyer.token)


@scenario("confirmPayment")
async def _confirm(w: f.World) -> Call:
    placed = await f.order(w.buyer, w.item)
    payment, _ = await payments.pay_order(w.buyer.viewer, placed.id, w.payer.id, "key-nodes-c")
    input_ = {
        "paymentId": gid("Payment", payment.id),
        "succeeded": True,
        "providerReference": "P-1",
    }
    # The provider sees the payment; the order it marks paid is the consumer's to read.
    return Call(
        _m("confirmPayment", "($input: ConfirmPaymentInput!)"),
        {"input": input_},
        w.payer_key,
        reader=w.buyer.token,
    )


@scenario("shipOrder")
async def _ship(w: f.World) -> Call:
    paid, _ = await f.paid_order(w)
    input_ = {
        "orderId": gid("Order", paid.id),
        "providerId": gid("ServiceProvider", w.carrier.id),
        "trackingNumber": "SFKEY0001",
    }
    return Call(_m("shipOrder", "($input: ShipOrderInput!)"), {"input": input_}, w.seller.token)


@scenario("recordTrackingEvent")
async def _track(w: f.World) -> Call:
    _, shipment = await f.shipped_order(w)
    input_ = {
        "shipmentId": gid("Shipment", shipment.id),
        "eventId": "EV-KEY-1",
        "status": "IN_TRANSIT",
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    return Call(
        _m("recordTrackingEvent", "($input: RecordTrackingEventInput!)"),
        {"input": input_},
        w.carrier_key,
    )


@scenario("confirmReceipt")
async def _receive(w: f.World) -> Call:
    placed, _ = await f.delivered_order(w)
    return Call(
        _m("confirmReceipt", "($orderId: ID!)"), {"orderId": gid("Order", placed.id)}, w.buyer.token
    )


@scenario("cancelOrder")
async def _cancel(w: f.World) -> Call:
    placed = await f.order(w.buyer, w.item)
    return Call(
        _m("cancelOrder", "($input: CancelOrderInput!)"),
        {"input": {"orderId": gid("Order", placed.id), "reason": "买错了"}},
        w.buyer.token,
    )


# --- complaints and feedback -------------------------------------------------------------------


@scenario("fileComplaint")
async def _file(w: f.World) -> Call:
    placed = await f.order(w.buyer, w.item)
    input_ = {
        "orderId": gid("Order", placed.id),
        "description": "迟迟不发货",
        "category": "DELIVERY",
    }
    return Call(
        _m("fileComplaint", "($input: FileComplaintInput!)"), {"input": input_}, w.buyer.token
    )


async def _open_complaint(w: f.World):  # type: ignore[no-untyped-def]
    placed = await f.order(w.buyer, w.item)
    return await f.complaint(w.buyer, placed)


@scenario("takeComplaint")
async def _take(w: f.World) -> Call:
    complaint = await _open_complaint(w)
    return Call(
        _m("takeComplaint", "($complaintId: ID!)"),
        {"complaintId": gid("Complaint", complaint.id)},
        w.agent.token,
    )


@scenario("handleComplaint")
async def _handle(w: f.World) -> Call:
    complaint = await _open_complaint(w)
    input_ = {"complaintId": gid("Complaint", complaint.id), "resolution": "已补发", "upheld": True}
    return Call(
        _m("handleComplaint", "($input: HandleComplaintInput!)"), {"input": input_}, w.agent.token
    )


@scenario("submitFeedback")
async def _feedback(w: f.World) -> Call:
    placed, _ = await f.delivered_order(w)
    input_ = {"subjectType": "ORDER", "subjectId": gid("Order", placed.id), "score": 5}
    return Call(
        _m("submitFeedback", "($input: SubmitFeedbackInput!)"), {"input": input_}, w.buyer.token
    )


# --- grading, rules, violations, training --------------------------------------------------------


@scenario("acknowledgeWarning")
async def _acknowledge(w: f.World) -> Call:
    await f.history(
        w.buyer, w.shop, 20, paid_at=datetime.now(UTC) - timedelta(days=1), cancelled=True
    )
    await monitoring.check([w.shop.id])
    from pinzhi.models import MerchantWarning

    warning = await MerchantWarning.filter(merchant_id=w.shop.id).first()
    assert warning is not None
    officer = await f.compliance_officer()
    return Call(
        _m("acknowledgeWarning", "($warningId: ID!)"),
        {"warningId": gid("MerchantWarning", warning.id)},
        officer.token,
    )


@scenario("publishRule")
async def _publish(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    input_ = {"key": "order.limits", "content": {"max_lines": 40, "max_quantity_per_line": 999}}
    return Call(
        _m("publishRule", "($input: PublishRuleInput!)"), {"input": input_}, admin.token, reader=""
    )


@scenario("openViolationCase")
async def _open_case(w: f.World) -> Call:
    officer = await f.compliance_officer()
    input_ = {
        "merchantId": gid("Merchant", w.shop.id),
        "type": "FAKE_ORDERS",
        "evidence": [{"description": "刷单记录 records"}],
    }
    return Call(
        _m("openViolationCase", "($input: OpenViolationCaseInput!)"),
        {"input": input_},
        officer.token,
    )


@scenario("decideViolationCase")
async def _decide(w: f.World) -> Call:
    officer = await f.compliance_officer()
    case = await f.violation_case(officer, w.shop)
    input_ = {"caseId": gid("ViolationCase", case.id), "decision": "DECIDED"}
    return Call(
        _m("decideViolationCase", "($input: DecideViolationCaseInput!)"),
        {"input": input_},
        officer.token,
    )


@scenario("appealViolationCase")
async def _appeal(w: f.World) -> Call:
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, w.shop)
    input_ = {"caseId": gid("ViolationCase", case.id), "text": "订单均为真实交易"}
    return Call(
        _m("appealViolationCase", "($input: AppealViolationCaseInput!)"),
        {"input": input_},
        w.seller.token,
    )


@scenario("decideAppeal")
async def _decide_appeal(w: f.World) -> Call:
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, w.shop)
    await violations.appeal_case(w.seller.viewer, case.id, "订单均为真实交易")
    input_ = {"caseId": gid("ViolationCase", case.id), "outcome": "OVERTURNED"}
    return Call(
        _m("decideAppeal", "($input: DecideAppealInput!)"), {"input": input_}, officer.token
    )


@scenario("createCourse")
async def _course(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    input_ = {"code": "KN-101", "title": "留痕 traced", "topic": "COMPLIANCE", "passMark": 60}
    return Call(
        _m("createCourse", "($input: CreateCourseInput!)"),
        {"input": input_},
        admin.token,
        reader="",
    )


async def _a_course() -> Any:
    admin = await f.staff(StaffDuty.ADMIN)
    from pinzhi.models import CourseTopic

    return await training.create_course(admin.viewer, "KN-102", "课程", CourseTopic.SERVICE, 60)


@scenario("enrolCourse")
async def _enrol(w: f.World) -> Call:
    course = await _a_course()
    return Call(
        _m("enrolCourse", "($courseId: ID!)"),
        {"courseId": gid("Course", course.id)},
        w.seller.token,
    )


@scenario("recordAssessment")
async def _assess(w: f.World) -> Call:
    course = await _a_course()
    enrolment = await training.enrol(w.seller.viewer, course.id)
    officer = await f.compliance_officer()
    return Call(
        _m("recordAssessment", "($enrolmentId: ID!, $score: Int!)"),
        {"enrolmentId": gid("Enrolment", enrolment.id), "score": 90},
        officer.token,
    )


# --- products -------------------------------------------------------------------------------------


@scenario("createProduct")
async def _create_product(w: f.World) -> Call:
    input_ = {"title": "新品 new", "category": "toys", "priceMinor": 990, "stock": 5}
    return Call(
        _m("createProduct", "($input: CreateProductInput!)"), {"input": input_}, w.seller.token
    )


@scenario("updateProductListing")
async def _update_listing(w: f.World) -> Call:
    input_ = {
        "productId": gid("Product", w.item.id),
        "isListed": True,
        "stock": 7,
        "priceMinor": 1500,
    }
    return Call(
        _m("updateProductListing", "($input: UpdateProductListingInput!)"),
        {"input": input_},
        w.seller.token,
    )


@scenario("submitProductReview")
async def _review(w: f.World) -> Call:
    placed, _ = await f.delivered_order(w)
    input_ = {
        "orderId": gid("Order", placed.id),
        "productId": gid("Product", w.item.id),
        "rating": 5,
        "text": "质量很好",
    }
    return Call(
        _m("submitProductReview", "($input: SubmitProductReviewInput!)"),
        {"input": input_},
        w.buyer.token,
    )


@scenario("recordProductCertificate")
async def _certificate(w: f.World) -> Call:
    input_ = {
        "productId": gid("Product", w.item.id),
        "kind": "THIRD_PARTY_INSPECTION",
        "agency": "检测机构 lab",
        "reportNumber": "KN-0001",
        "result": "PASS",
        "issuedAt": datetime.now(UTC).isoformat(),
        "validUntil": LATER,
    }
    return Call(
        _m("recordProductCertificate", "($input: RecordProductCertificateInput!)"),
        {"input": input_},
        w.seller.token,
    )


# --- merchants' submissions ---------------------------------------------------------------------


@scenario("submitMerchantLicence")
async def _licence(w: f.World) -> Call:
    input_ = {
        "kind": "BUSINESS_LICENCE",
        "number": "9133KEY",
        "validUntil": LATER,
        "evidence": EVIDENCE,
    }
    return Call(
        _m("submitMerchantLicence", "($input: SubmitMerchantLicenceInput!)"),
        {"input": input_},
        w.seller.token,
    )


@scenario("submitBrandRegistration")
async def _brand(w: f.World) -> Call:
    input_ = {
        "brand": "留痕",
        "relation": "REGISTERED",
        "registrationNumber": "TM-KEY",
        "validUntil": LATER,
        "evidence": EVIDENCE,
    }
    return Call(
        _m("submitBrandRegistration", "($input: SubmitBrandRegistrationInput!)"),
        {"input": input_},
        w.seller.token,
    )


@scenario("submitDepositPayment")
async def _deposit(w: f.World) -> Call:
    input_ = {"amountMinor": 100000, "reference": "BANK-KEY-1", "evidence": EVIDENCE}
    return Call(
        _m("submitDepositPayment", "($input: SubmitDepositPaymentInput!)"),
        {"input": input_},
        w.seller.token,
    )


@scenario("reviewSubmission")
async def _review_submission(w: f.World) -> Call:
    slip = [Evidence("银行回单 bank slip")]
    payment = await qualifications.submit_deposit(w.seller.viewer, 100000, "BANK-KEY-2", slip)
    officer = await f.compliance_officer()
    input_ = {"submissionId": gid("DepositPayment", payment.id), "decision": "VERIFIED"}
    return Call(
        _m("reviewSubmission", "($input: ReviewSubmissionInput!)"), {"input": input_}, officer.token
    )


# --- after-sales (QS 9.2.3) ------------------------------------------------------------------

RETURN = AfterSalesKind.RETURN_REFUND


@scenario("setAccessibilityProfile")
async def _accessibility(w: f.World) -> Call:
    document = "mutation { setAccessibilityProfile(enabled: true) { errors { code } } }"
    return Call(document, {}, w.buyer.token)


@scenario("openAfterSalesRequest")
async def _open_request(w: f.World) -> Call:
    paid, _ = await f.paid_order(w)
    input_ = {
        "orderId": gid("Order", paid.id),
        "kind": "REFUND_BEFORE_SHIPMENT",
        "reason": "不想要了",
        "amountMinor": 1000,
    }
    return Call(
        _m("openAfterSalesRequest", "($input: OpenAfterSalesRequestInput!)"),
        {"input": input_},
        w.buyer.token,
    )


async def _request(w: f.World, kind: AfterSalesKind = RETURN) -> int:
    delivered, _ = await f.delivered_order(w)
    amount = 0 if kind in (AfterSalesKind.EXCHANGE, AfterSalesKind.RESHIPMENT) else 1000
    return (await f.after_sales_request(w.buyer, delivered, kind, amount)).id


def _on_request(name: str, input_type: str | None, token: str, pk: int, **extra: Any) -> Call:
    if input_type is None:
        document = f"mutation($id: ID!) {{ {name}(requestId: $id) {{ errors {{ code field }} }} }}"
        return Call(document, {"id": gid("AfterSalesRequest", pk)}, token)
    input_ = {"requestId": gid("AfterSalesRequest", pk), **extra}
    return Call(_m(name, f"($input: {input_type}!)"), {"input": input_}, token)


@scenario("respondToAfterSalesRequest")
async def _respond(w: f.World) -> Call:
    pk = await _request(w)
    return _on_request(
        "respondToAfterSalesRequest",
        "RespondToAfterSalesRequestInput",
        w.seller.token,
        pk,
        note="请寄回商品",
    )


@scenario("decideAfterSalesRequest")
async def _decide(w: f.World) -> Call:
    pk = await _request(w)
    return _on_request(
        "decideAfterSalesRequest",
        "DecideAfterSalesRequestInput",
        w.seller.token,
        pk,
        approve=True,
    )


@scenario("withdrawAfterSalesRequest")
async def _withdraw(w: f.World) -> Call:
    return _on_request("withdrawAfterSalesRequest", None, w.buyer.token, await _request(w))


@scenario("escalateAfterSalesRequest")
async def _escalate(w: f.World) -> Call:
    pk = await _request(w)
    return _on_request(
        "escalateAfterSalesRequest",
        "EscalateAfterSalesRequestInput",
        w.agent.token,
        pk,
        reason="商家未响应",
    )


async def _approved(w: f.World, kind: AfterSalesKind = RETURN) -> int:
    pk = await _request(w, kind)
    await after_sales.decide(w.seller.viewer, pk, True, "")
    return pk


@scenario("shipReturn")
async def _ship_return(w: f.World) -> Call:
    pk = await _approved(w)
    return _on_request(
        "shipReturn",
        "AfterSalesShipmentInput",
        w.buyer.token,
        pk,
        providerId=gid("ServiceProvider", w.carrier.id),
        trackingNumber="RTKEY0001",
    )


@scenario("confirmReturnReceived")
async def _received(w: f.World) -> Call:
    pk = await _approved(w)
    await returns.ship_return(w.buyer.viewer, pk, w.carrier.id, "RTKEY0002")
    return _on_request("confirmReturnReceived", None, w.seller.token, pk)


@scenario("shipReplacement")
async def _replacement(w: f.World) -> Call:
    pk = await _approved(w, AfterSalesKind.RESHIPMENT)
    return _on_request(
        "shipReplacement",
        "AfterSalesShipmentInput",
        w.seller.token,
        pk,
        providerId=gid("ServiceProvider", w.carrier.id),
        trackingNumber="RSKEY0001",
    )


@scenario("closeAfterSalesRequest")
async def _close(w: f.World) -> Call:
    pk = await _request(w)
    await after_sales.decide(w.seller.viewer, pk, False, "已超过退货期")
    return _on_request("closeAfterSalesRequest", None, w.buyer.token, pk)


@scenario("refundPayment")
async def _refund(w: f.World) -> Call:
    _, payment = await f.paid_order(w)
    input_ = {
        "paymentId": gid("Payment", payment.id),
        "amountMinor": 100,
        "reason": "补偿运费",
        "idempotencyKey": "key-nodes-refund",
    }
    return Call(
        _m("refundPayment", "($input: RefundPaymentInput!)"),
        {"input": input_},
        w.seller.token,
        reader=w.buyer.token,
    )


@scenario("confirmRefund")
async def _confirm_refund(w: f.World) -> Call:
    _, payment = await f.paid_order(w)
    asked = await refunds.refund_payment(w.seller.viewer, payment.id, 100, "补偿", "key-nodes-r2")
    input_ = {
        "refundId": gid("Refund", asked.refund.id),
        "succeeded": True,
        "providerReference": "RF-1",
    }
    return Call(
        _m("confirmRefund", "($input: ConfirmRefundInput!)"),
        {"input": input_},
        w.payer_key,
        reader=w.buyer.token,
    )


# --- the advance-compensation fund (QS 9.7.6) ------------------------------------------------


async def _fund_recovery(w: f.World):  # type: ignore[no-untyped-def]
    """A payout about a complaint of the buyer's, from a fund with cash; its open recovery."""
    from pinzhi.models import FundRecovery

    await f.fund_cash(await f.fund_admin(), 100_000)
    placed, _ = await f.paid_order(w)
    payout = await f.fund_payout(w.agent, (await f.complaint(w.buyer, placed)).id, 500)
    return await FundRecovery.get(payout_id=payout.id)


@scenario("contributeToFund")
async def _contribute(w: f.World) -> Call:
    admin = await f.fund_admin()
    input_ = {"amountMinor": 100000, "reference": "BANK-KEY-F1", "idempotencyKey": "fund-key-1"}
    return Call(
        _m("contributeToFund", "($input: ContributeToFundInput!)"), {"input": input_}, admin.token
    )


@scenario("reverseFundContribution")
async def _reverse(w: f.World) -> Call:
    admin = await f.fund_admin()
    booked = await f.fund_cash(admin, 1_000)
    input_ = {"transactionId": gid("FundTransaction", booked.id), "reason": "录入错误 typo"}
    return Call(
        _m("reverseFundContribution", "($input: ReverseFundContributionInput!)"),
        {"input": input_},
        admin.token,
    )


@scenario("approveFundPayout")
async def _payout(w: f.World) -> Call:
    await f.fund_cash(await f.fund_admin(), 100_000)
    placed, _ = await f.paid_order(w)
    complaint = await f.complaint(w.buyer, placed)
    input_ = {
        "subjectId": gid("Complaint", complaint.id),
        "cause": "PRODUCT_QUALITY",
        "amountMinor": 500,
        "note": "质量问题先行赔付",
        "idempotencyKey": "fund-key-payout",
    }
    return Call(
        _m("approveFundPayout", "($input: ApproveFundPayoutInput!)"),
        {"input": input_},
        w.agent.token,
    )


@scenario("recordFundRecovery")
async def _recover(w: f.World) -> Call:
    officer = await f.compliance_officer()
    await f.with_deposit(officer, w.seller)
    recovery = await _fund_recovery(w)
    input_ = {"recoveryId": gid("FundRecovery", recovery.id), "method": "DEPOSIT", "note": "追偿"}
    return Call(
        _m("recordFundRecovery", "($input: RecordFundRecoveryInput!)"),
        {"input": input_},
        officer.token,
    )


@scenario("waiveFundRecovery")
async def _waive(w: f.World) -> Call:
    officer = await f.compliance_officer()
    recovery = await _fund_recovery(w)
    input_ = {"recoveryId": gid("FundRecovery", recovery.id), "reason": "金额小 small"}
    return Call(
        _m("waiveFundRecovery", "($input: WaiveFundRecoveryInput!)"),
        {"input": input_},
        officer.token,
    )


# --- online disputes (QS 9.7.7) --------------------------------------------------------------


def _on_dispute(name: str, input_type: str, token: str, **input_: Any) -> Call:
    return Call(_m(name, f"($input: {input_type}!)"), {"input": input_}, token)


async def _offer(w: f.World, **terms: Any) -> tuple[int, int]:
    from pinzhi.services import disputes

    dispute = await f.dispute(w)
    _, offer = await disputes.make_offer(
        w.seller.viewer, dispute.id, disputes.Terms(**(terms or {"refund_minor": 300}))
    )
    return dispute.id, offer.id


@scenario("openDispute")
async def _open_dispute(w: f.World) -> Call:
    request = await f.rejected_request(w)
    return _on_dispute(
        "openDispute",
        "OpenDisputeInput",
        w.buyer.token,
        requestId=gid("AfterSalesRequest", request.id),
        reason="商品有质量问题",
    )


@scenario("makeDisputeOffer")
async def _make_offer(w: f.World) -> Call:
    dispute = await f.dispute(w)
    return _on_dispute(
        "makeDisputeOffer",
        "MakeDisputeOfferInput",
        w.seller.token,
        disputeId=gid("Dispute", dispute.id),
        refundMinor=300,
    )


@scenario("acceptDisputeOffer")
async def _accept_offer(w: f.World) -> Call:
    _, offer = await _offer(w)
    return _on_dispute(
        "acceptDisputeOffer",
        "AnswerDisputeOfferInput",
        w.buyer.token,
        offerId=gid("DisputeOffer", offer),
    )


@scenario("declineDisputeOffer")
async def _decline_offer(w: f.World) -> Call:
    _, offer = await _offer(w)
    return _on_dispute(
        "declineDisputeOffer",
        "AnswerDisputeOfferInput",
        w.buyer.token,
        offerId=gid("DisputeOffer", offer),
    )


@scenario("withdrawDispute")
async def _withdraw_dispute(w: f.World) -> Call:
    dispute, _ = await _offer(w)
    return _on_dispute(
        "withdrawDispute", "WithdrawDisputeInput", w.buyer.token, disputeId=gid("Dispute", dispute)
    )


@scenario("requestDisputeArbitration")
async def _ask_arbitration(w: f.World) -> Call:
    dispute = await f.dispute(w)
    return _on_dispute(
        "requestDisputeArbitration",
        "RequestDisputeArbitrationInput",
        w.buyer.token,
        disputeId=gid("Dispute", dispute.id),
        reason="请平台介入",
    )


@scenario("arbitrateDispute")
async def _arbitrate(w: f.World) -> Call:
    from pinzhi.services import disputes

    dispute, _ = await _offer(w)
    await disputes.request_arbitration(w.seller.viewer, dispute, "请平台判定")
    await disputes.request_arbitration(w.buyer.viewer, dispute, "同意仲裁")
    return _on_dispute(
        "arbitrateDispute",
        "ArbitrateDisputeInput",
        w.agent.token,
        disputeId=gid("Dispute", dispute),
        refundMinor=400,
        reason="质量问题属实",
    )


@scenario("shipDisputeReplacement")
async def _ship_dispute_replacement(w: f.World) -> Call:
    from pinzhi.services import disputes

    dispute, offer = await _offer(w, replacement=True)
    await disputes.accept_offer(w.buyer.viewer, offer)
    return _on_dispute(
        "shipDisputeReplacement",
        "ShipDisputeReplacementInput",
        w.seller.token,
        disputeId=gid("Dispute", dispute),
        providerId=gid("ServiceProvider", w.carrier.id),
        trackingNumber="DSPKEY0001",
    )


# --- bulky goods: installation and trade-in (QS 9.7.5) ---------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


async def _booked(w: f.World, stage: str = "paid", *, days_ago: int = 0) -> int:
    """A bulky line's appointment, booked ``days_ago`` days ago (its slot then may have
    begun by now)."""
    from pinzhi.services import state

    _, line = await f.bulky_order(w, stage)
    with state.as_of(_now() - timedelta(days=days_ago)):
        return (await f.installation(w, line.id, f.slot(state.now(), days=1))).id


def _on_appointment(name: str, input_type: str, token: str, pk: int, **extra: Any) -> Call:
    input_ = {"appointmentId": gid("InstallationAppointment", pk), **extra}
    return Call(_m(name, f"($input: {input_type}!)"), {"input": input_}, token)


async def _visited(w: f.World) -> int:
    """A confirmed appointment whose slot began yesterday, the goods delivered."""
    from pinzhi.models import InstallationAppointment, Order
    from pinzhi.services import bulky, state

    pk = await _booked(w, "shipped", days_ago=3)
    with state.as_of(_now() - timedelta(days=3)):
        await bulky.confirm(w.seller.viewer, pk)
    appointment = await InstallationAppointment.get(id=pk)
    await f.deliver_shipped(w, await Order.get(id=appointment.order_id))
    return pk


@scenario("bookInstallation")
async def _book_installation(w: f.World) -> Call:
    _, line = await f.bulky_order(w)
    input_ = {"orderLineId": gid("OrderLine", line.id), "slotStart": f.slot(_now()).isoformat()}
    return Call(
        _m("bookInstallation", "($input: BookInstallationInput!)"), {"input": input_}, w.buyer.token
    )


@scenario("rescheduleInstallation")
async def _reschedule_installation(w: f.World) -> Call:
    pk = await _booked(w)
    later = f.slot(_now(), days=4).isoformat()
    return _on_appointment(
        "rescheduleInstallation", "RescheduleInstallationInput", w.buyer.token, pk, slotStart=later
    )


@scenario("cancelInstallation")
async def _cancel_installation(w: f.World) -> Call:
    pk = await _booked(w)
    return _on_appointment("cancelInstallation", "CancelInstallationInput", w.buyer.token, pk)


@scenario("confirmInstallation")
async def _confirm_installation(w: f.World) -> Call:
    pk = await _booked(w, "shipped")
    return _on_appointment("confirmInstallation", "ConfirmInstallationInput", w.seller.token, pk)


@scenario("completeInstallation")
async def _complete_installation(w: f.World) -> Call:
    pk = await _visited(w)
    return _on_appointment(
        "completeInstallation", "CompleteInstallationInput", w.carrier_key, pk, note="已安装"
    )


@scenario("recordMissedInstallation")
async def _missed_installation(w: f.World) -> Call:
    pk = await _visited(w)
    return _on_appointment(
        "recordMissedInstallation",
        "RecordMissedInstallationInput",
        w.carrier_key,
        pk,
        reason="无人在家",
    )


async def _asked_trade_in(w: f.World, stage: str = "paid") -> int:
    _, line = await f.bulky_order(w, stage)
    return (await f.trade_in(w, line.id)).id


async def _scheduled_trade_in(w: f.World) -> int:
    from pinzhi.services import trade_ins

    pk = await _asked_trade_in(w, "shipped")
    await trade_ins.accept(w.seller.viewer, pk)
    return pk


def _on_trade_in(name: str, input_type: str | None, token: str, pk: int, **extra: Any) -> Call:
    if input_type is None:
        document = f"mutation($id: ID!) {{ {name}(tradeInId: $id) {{ errors {{ code field }} }} }}"
        return Call(document, {"id": gid("TradeIn", pk)}, token)
    input_ = {"tradeInId": gid("TradeIn", pk), **extra}
    return Call(_m(name, f"($input: {input_type}!)"), {"input": input_}, token)


@scenario("requestTradeIn")
async def _request_trade_in(w: f.World) -> Call:
    _, line = await f.bulky_order(w)
    input_ = {
        "orderLineId": gid("OrderLine", line.id),
        "condition": "WORN",
        "description": "旧衣柜",
    }
    return Call(
        _m("requestTradeIn", "($input: RequestTradeInInput!)"), {"input": input_}, w.buyer.token
    )


@scenario("acceptTradeIn")
async def _accept_trade_in(w: f.World) -> Call:
    pk = await _asked_trade_in(w, "shipped")
    return _on_trade_in("acceptTradeIn", "AcceptTradeInInput", w.seller.token, pk)


@scenario("rejectTradeIn")
async def _reject_trade_in(w: f.World) -> Call:
    pk = await _asked_trade_in(w)
    return _on_trade_in(
        "rejectTradeIn", "RejectTradeInInput", w.seller.token, pk, reason="型号不符"
    )


@scenario("cancelTradeIn")
async def _cancel_trade_in(w: f.World) -> Call:
    return _on_trade_in("cancelTradeIn", None, w.buyer.token, await _asked_trade_in(w))


@scenario("recordTradeInCollected")
async def _collect_trade_in(w: f.World) -> Call:
    pk = await _scheduled_trade_in(w)
    call = _on_trade_in(
        "recordTradeInCollected",
        "RecordTradeInCollectedInput",
        w.carrier_key,
        pk,
        eventId="PICK-KEY-1",
        collectedAt=_now().isoformat(),
    )
    # The carrier reads the trade-in's trail; the credit's refund is the consumer's to read.
    call.reader = w.buyer.token
    return call


@scenario("retryTradeInCredit")
async def _retry_trade_in_credit(w: f.World) -> Call:
    from pinzhi.services import trade_ins

    pk = await _scheduled_trade_in(w)
    await trade_ins.record_collected(w.carrier_actor.viewer, pk, "PICK-KEY-2", _now())
    await f.confirm_refunds(w, succeeded=False)
    return _on_trade_in("retryTradeInCredit", None, w.agent.token, pk)


# --- After-sales sweep and timeliness (QS 9.2.1, 9.2.3) ------------------------------------------


@scenario("markNotificationRead")
async def _read_notification(w: f.World) -> Call:
    from pinzhi.models import Notification
    from pinzhi.services import after_sales_sweep

    placed, _ = await f.paid_order(w)
    request = await f.after_sales_row(placed, kind="REFUND_BEFORE_SHIPMENT")
    await after_sales_sweep.sweep(request.response_due_at + timedelta(seconds=1))
    notice = await Notification.get(subject_type="AfterSalesRequest", subject_id=request.id)
    return Call(
        _m("markNotificationRead", "($notificationId: ID!)"),
        {"notificationId": gid("Notification", notice.id)},
        w.seller.token,
    )


# --- customer-service chat (QS 9.2.2, 9.7.2) ----------------------------------------------------


async def _chat(w: f.World, *, handed_over: bool = False, taken: bool = False) -> int:
    from pinzhi.services.customer_service import sessions

    session = await sessions.open_session(w.buyer.viewer)
    if handed_over or taken:
        await sessions.request_human(w.buyer.viewer, session.id)
    if taken:
        await sessions.take(w.agent.viewer, session.id)
    return session.id


async def _online(w: f.World) -> f.World:
    """The world's agent on the online-service post and on duty (QS 9.3.2)."""
    w.agent = await f.online_agent()
    return w


@scenario("openServiceSession")
async def _open_chat(w: f.World) -> Call:
    return Call(_m("openServiceSession", ""), {}, w.buyer.token)


@scenario("requestHumanAgent")
async def _human(w: f.World) -> Call:
    sid = await _chat(w)
    return Call(
        _m("requestHumanAgent", "($sessionId: ID!)"),
        {"sessionId": gid("ServiceSession", sid)},
        w.buyer.token,
    )


@scenario("takeServiceSession")
async def _take_chat(w: f.World) -> Call:
    w = await _online(w)
    sid = await _chat(w, handed_over=True)
    return Call(
        _m("takeServiceSession", "($sessionId: ID)"),
        {"sessionId": gid("ServiceSession", sid)},
        w.agent.token,
    )


@scenario("transferServiceSession")
async def _transfer_chat(w: f.World) -> Call:
    w = await _online(w)
    sid = await _chat(w, taken=True)
    return Call(
        _m("transferServiceSession", "($input: TransferServiceSessionInput!)"),
        {"input": {"sessionId": gid("ServiceSession", sid)}},
        w.agent.token,
    )


@scenario("closeServiceSession")
async def _close_chat(w: f.World) -> Call:
    w = await _online(w)
    sid = await _chat(w, taken=True)
    return Call(
        _m("closeServiceSession", "($sessionId: ID!)"),
        {"sessionId": gid("ServiceSession", sid)},
        w.buyer.token,
    )


# --- The phone queue (QS 9.2.2) ---------------------------------------------------------------


@scenario("recordCallEvents")
async def _record_call_events(w: f.World) -> Call:
    from pinzhi.models import ProviderKind

    _, _, key = await f.provider(ProviderKind.CONTACT_CENTRE)
    at = datetime.now(UTC) - timedelta(seconds=30)
    events = [
        {
            "eventId": "KEY-Q",
            "callId": "KEY-CALL",
            "queue": "after-sales",
            "kind": "QUEUED",
            "occurredAt": at.isoformat(),
        },
        {
            "eventId": "KEY-A",
            "callId": "KEY-CALL",
            "queue": "after-sales",
            "kind": "ANSWERED",
            "occurredAt": (at + timedelta(seconds=12)).isoformat(),
            "agentId": w.agent.gid,
        },
    ]
    return Call(_m("recordCallEvents", "($events: [CallEventInput!]!)"), {"events": events}, key)


# --- staff posts and their qualification (QS 9.3.1-9.3.4) ---------------------------------------


@scenario("enrolStaffCourse")
async def _enrol_staff(w: f.World) -> Call:
    course = await f.staff_course(await f.staff(StaffDuty.ADMIN), "ETIQUETTE")
    return Call(
        _m("enrolStaffCourse", "($courseId: ID!)"),
        {"courseId": gid("Course", course.id)},
        w.agent.token,
    )


@scenario("setStaffProfile")
async def _set_staff_profile(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    profile = {"staffId": w.agent.gid, "team": "一组 Team 1", "experienceSince": "2024-03-01"}
    return Call(
        _m("setStaffProfile", "($input: SetStaffProfileInput!)"), {"input": profile}, admin.token
    )


@scenario("assignStaffPost")
async def _assign_staff_post(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin)
    return Call(
        _m("assignStaffPost", "($staffId: ID!, $post: Post!)"),
        {"staffId": agent.gid, "post": "ONLINE_SERVICE"},
        admin.token,
    )


@scenario("endStaffPost")
async def _end_staff_post(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin)
    assignment = await f.on_post(admin, agent, "ONLINE_SERVICE", on_duty=True)
    return Call(
        _m("endStaffPost", "($assignmentId: ID!, $reason: String!)"),
        {"assignmentId": gid("PostAssignment", assignment.id), "reason": "调岗 moved"},
        admin.token,
    )


@scenario("setOnDuty")
async def _set_on_duty(w: f.World) -> Call:
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin)
    await f.on_post(admin, agent, "ONLINE_SERVICE")
    return Call(_m("setOnDuty", "($onDuty: Boolean!)"), {"onDuty": True}, agent.token)


# --- the tests -----------------------------------------------------------------------------------


def test_every_mutation_is_a_traced_key_node_or_says_why_not() -> None:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert set(SCENARIOS) | set(NOT_KEY_NODES) == set(mutation_type.fields)
    assert not set(SCENARIOS) & set(NOT_KEY_NODES)


TRAIL = """query($id: ID!) { auditTrail(entityId: $id) { seq action }
  verifyAuditTrail(entityId: $id) { valid checked } }"""


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_the_mutation_appends_to_a_trail_its_readers_can_query(
    api: GraphQLClient, name: str
) -> None:
    """QS 9.1.2: the mutation succeeds, appends at least one event, every entity it traced is
    a queryable one, and its trail reads and verifies for a party allowed to see it."""
    w = await f.world()
    call = await SCENARIOS[name](w)
    before = await AuditEvent.all().order_by("-id").first()
    last_id = before.id if before else 0

    result = await api(call.document, call.variables, token=call.token)

    payload = result.data[name]
    assert payload.get("errors", []) == [], payload
    appended = await AuditEvent.filter(id__gt=last_id).order_by("id")
    assert appended, f"{name} changed data and traced nothing"
    assert {e.entity_type for e in appended} <= set(TRACED), [e.entity_type for e in appended]
    reader = call.token if call.reader is None else (call.reader or None)
    for entity_type, entity_id in {(e.entity_type, e.entity_id) for e in appended}:
        seen = await api(TRAIL, {"id": gid(entity_type, entity_id)}, token=reader)
        trail = seen.data["auditTrail"]
        assert trail, (name, entity_type, "not readable by its party")
        assert seen.data["verifyAuditTrail"]["valid"] is True


async def test_a_trail_is_hidden_from_those_who_may_not_see_its_entity(api) -> None:
    """A merchant's standing (its deposit moved) and an account's sessions are not public:
    a consumer gets an empty trail for them, as for a missing id."""
    w = await f.world()
    officer = await f.compliance_officer()
    await f.decided_case(officer, w.shop, str(ViolationType.COUNTERFEIT))
    merchant_trail = await api(TRAIL, {"id": gid("Merchant", w.shop.id)}, token=w.buyer.token)
    assert merchant_trail.data == {"auditTrail": [], "verifyAuditTrail": None}
    own = await api(TRAIL, {"id": gid("Merchant", w.shop.id)}, token=w.seller.token)
    assert [e["action"] for e in own.data["auditTrail"]][:2] == [
        "key_control_started",
        "listings_frozen",
    ]
    other_account = await api(TRAIL, {"id": w.other_buyer.gid}, token=w.buyer.token)
    assert other_account.data["auditTrail"] == []


async def test_jobs_trace_what_they_change(db) -> None:
    """QS 9.1.2: a grade moving between levels, a warning raised by the monitor and a penalty
    lifted at the end of its period are traced by the jobs that do them."""
    from pinzhi.services import merchant_grading, penalties

    w = await f.world()
    await merchant_grading.grade_merchants("2026-12", datetime.now(UTC))
    graded = await AuditEvent.filter(entity_type="Merchant", entity_id=w.shop.id, action="graded")
    assert len(graded) == 1
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, w.shop, "COUNTERFEIT")
    assert await penalties.sweep(datetime.now(UTC) + timedelta(days=400)) == 1
    lifted = await AuditEvent.filter(
        entity_type="Merchant", entity_id=case.merchant_id, action="penalty_lifted"
    )
    assert len(lifted) == 1
