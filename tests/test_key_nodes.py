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
from pinzhi.models import AuditEvent, StaffDuty, ViolationType
from pinzhi.schema import schema
from pinzhi.services import monitoring, payments, qualifications, training, violations
from pinzhi.services.evidence import Evidence
from tests import factories as f
from tests.helpers import GraphQLClient

# Not key nodes, and why: neither changes anyone's standing or any entity's state.
NOT_KEY_NODES = {
    "login": "opens a session; failures are throttled, and ending one (logout) is traced",
    "refreshAccessToken": "rotates a session's token; a replay that revokes the login is traced",
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
