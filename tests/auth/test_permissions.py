"""Writes across role boundaries: every role tries to change what is not its own.

Static role sets on the Mutation fields refuse a wrong role at the top level (FORBIDDEN, or
UNAUTHENTICATED without a credential); a right role acting on a row outside its scope gets a
coded payload error (NOT_FOUND, like a missing row). After every refusal the database is
exactly as before (decision 5: a refused mutation changes nothing). Regulators never write
(decision 4): any mutation is refused before a resolver runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Account,
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesRequest,
    ApiKey,
    AuditEvent,
    BrandRegistration,
    Call,
    CallEvent,
    Complaint,
    DepositPayment,
    Dispute,
    DisputeOffer,
    Enrolment,
    Feedback,
    FundEntry,
    FundPayout,
    FundRecovery,
    FundTransaction,
    InstallationAppointment,
    Merchant,
    MerchantLicence,
    Order,
    OrderLine,
    Payment,
    PiiAccessLog,
    PostAssignment,
    Product,
    ProductCertificate,
    ProductReview,
    ProviderKind,
    RefreshToken,
    Refund,
    ReturnShipment,
    Shipment,
    ShipmentState,
    StaffDuty,
    StaffProfile,
    TrackingEvent,
    TradeIn,
)
from pinzhi.schema import schema
from pinzhi.services import after_sales, complaints, disputes, payments, refunds
from tests import factories as f
from tests.helpers import count_sql

# --- The scene and a snapshot of everything a write could touch ------------------------------


@dataclass
class Scene:
    w: f.World
    paid: Order  # the buyer's paid order at the shop, not shipped
    pending: Order  # the buyer's order with a pending payment to the payer
    pending_payment: Payment
    shipped: Order  # the buyer's order shipped with the carrier
    shipment: Shipment
    complaint: Complaint  # the buyer's open complaint about ``paid``
    other_paid: Order  # the other buyer's paid order at the other shop
    other_pending_payment: Payment  # the other buyer's payment to the other payer
    other_shipment: Shipment  # the other carrier's shipment (other side)
    other_shipped: Order
    request: AfterSalesRequest  # the buyer's return-and-refund request on ``shipped``
    refund: Refund  # a refund the shop asked on ``shipped``'s payment
    dispute: Dispute  # the buyer's dispute of a rejected request on ``paid`` (QS 9.7.7)
    offer: DisputeOffer  # the shop's live offer in it
    contact_centre_key: str = ""  # a contact centre's API key (QS 9.2.2)

    def token(self, who: str) -> str | None:
        w = self.w
        return {
            "anonymous": None,
            "consumer": w.buyer.token,
            "other_consumer": w.other_buyer.token,
            "merchant": w.seller.token,
            "other_merchant": w.other_seller.token,
            "logistics": w.carrier_key,
            "other_logistics": w.other_carrier_key,
            "payment": w.payer_key,
            "other_payment": w.other_payer_key,
            "staff": w.agent.token,
            "regulator": w.regulator.token,
            "contact_centre": self.contact_centre_key,
        }[who]


@pytest.fixture
async def scene(db) -> Scene:
    w = await f.world()
    paid, _ = await f.paid_order(w)
    shipped, shipment = await f.shipped_order(w)
    pending = await f.order(w.buyer, w.item)
    from pinzhi.services import payments

    pending_payment, _ = await payments.pay_order(
        w.buyer.viewer, pending.id, w.payer.id, "pending-key-0001"
    )
    other_paid, _, _ = await f.other_side_order(w, "paid")
    _, other_pending_payment, _ = await f.other_side_order(w, "pending")
    other_shipped, _, other_shipment = await f.other_side_order(w, "shipped")
    request = await f.after_sales_request(w.buyer, shipped, AfterSalesKind.RETURN_REFUND, 500)
    asked = await refunds.refund_payment(
        w.seller.viewer,
        (await Payment.get(order_id=shipped.id)).id,
        100,
        "goodwill",
        "scene-refund-01",
    )
    rejected = await f.after_sales_request(
        w.buyer, paid, AfterSalesKind.REFUND_BEFORE_SHIPMENT, 500
    )
    await after_sales.decide(w.seller.viewer, rejected.id, False, "已发货前无法退款")
    dispute = await f.dispute(w, rejected)
    _, offer = await disputes.make_offer(w.seller.viewer, dispute.id, disputes.Terms(300))
    _, _, contact_centre_key = await f.provider(ProviderKind.CONTACT_CENTRE)
    return Scene(
        w=w,
        paid=paid,
        pending=pending,
        pending_payment=pending_payment,
        shipped=shipped,
        shipment=shipment,
        complaint=await f.complaint(w.buyer, paid),
        other_paid=other_paid,
        other_pending_payment=other_pending_payment,
        other_shipment=other_shipment,
        other_shipped=other_shipped,
        request=request,
        refund=asked.refund,
        dispute=dispute,
        offer=offer,
        contact_centre_key=contact_centre_key,
    )


async def snapshot() -> dict[str, Any]:
    """Every row a mutation could create or change, in a comparable form."""

    async def rows(model, *columns: str) -> list[tuple]:
        return list(await model.all().order_by("id").values_list("id", *columns))

    return {
        "merchants": await rows(Merchant, "deposit_held_minor", "key_control_until"),
        "licences": await rows(MerchantLicence, "state"),
        "brands": await rows(BrandRegistration, "state"),
        "deposits": await rows(DepositPayment, "state"),
        "accounts": await rows(Account, "is_active", "accessibility_profile"),
        "refresh_tokens": await rows(RefreshToken, "used_at", "revoked_at"),
        "api_keys": await rows(ApiKey, "revoked_at"),
        "products": await rows(Product, "stock"),
        "orders": await rows(
            Order, "state", "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at"
        ),
        "order_lines": await rows(OrderLine),
        "payments": await rows(Payment, "state", "provider_reference", "refunded_minor"),
        "shipments": await rows(Shipment, "state"),
        "tracking_events": await rows(TrackingEvent),
        "complaints": await rows(Complaint, "state", "assignee_id", "resolution", "promised_by"),
        "feedback": await rows(Feedback),
        "installation_appointments": await rows(
            InstallationAppointment, "state", "slot_start", "provider_id"
        ),
        "trade_ins": await rows(TradeIn, "state", "provider_id", "collected_at"),
        "audit_events": await rows(AuditEvent, "hash"),
        "pii_access_log": await rows(PiiAccessLog),
        "product_certificates": await rows(ProductCertificate),
        "product_reviews": await rows(ProductReview),
        "after_sales": await rows(
            AfterSalesRequest, "state", "first_response_at", "escalated_at", "closed_at"
        ),
        "after_sales_lines": await rows(AfterSalesLine),
        "return_shipments": await rows(ReturnShipment, "state"),
        "refunds": await rows(Refund, "state", "provider_reference"),
        # The advance-compensation fund (QS 9.7.6).
        "fund_transactions": await rows(FundTransaction),
        "fund_entries": await rows(FundEntry),
        "fund_payouts": await rows(FundPayout),
        "fund_recoveries": await rows(FundRecovery, "state"),
        "disputes": await rows(
            Dispute,
            "state",
            "arbitration_asked_by",
            "outcome_refund_minor",
            "refund_id",
            "replacement_shipped_at",
            "closed_at",
        ),
        "dispute_offers": await rows(DisputeOffer, "state", "answered_at"),
        # The phone queue (QS 9.2.2)
        "calls": await rows(Call, "queued_at", "answered_at", "abandoned_at", "ended_at"),
        "call_events": await rows(CallEvent),
        # Staff posts and their qualification (QS 9.3.1-9.3.4).
        "enrolments": await rows(Enrolment, "score", "passed"),
        "staff_profiles": await rows(StaffProfile, "team", "experience_since", "on_duty"),
        "post_assignments": await rows(PostAssignment, "ended_at"),
    }


# --- One probe document per mutation, aimed at real rows --------------------------------------

Vars = Callable[[Scene], dict[str, Any]]


def _now() -> str:
    return datetime.now(UTC).isoformat()


MUTATIONS: dict[str, tuple[str, Vars]] = {
    "registerConsumer": (
        "mutation($i: RegisterConsumerInput!) { registerConsumer(input: $i) { errors { code } } }",
        lambda s: {
            "i": {
                "email": "new@test.pinzhi",
                "password": f.PASSWORD,
                "name": "王五",
                "phone": "13700001111",
            }
        },
    ),
    "login": (
        "mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code } } }",
        lambda s: {"i": {"email": s.w.regulator.email, "password": f.PASSWORD}},
    ),
    "refreshAccessToken": (
        "mutation($t: String!) { refreshAccessToken(refreshToken: $t) { errors { code } } }",
        lambda s: {"t": "no-such-refresh-token"},
    ),
    "logout": (
        "mutation($t: String!) { logout(refreshToken: $t) { revoked errors { code } } }",
        lambda s: {"t": "no-such-refresh-token"},
    ),
    "createApiKey": (
        'mutation { createApiKey(label: "probe") { secret errors { code } } }',
        lambda s: {},
    ),
    "revokeApiKey": (
        "mutation($id: ID!) { revokeApiKey(apiKeyId: $id) { revoked errors { code field } } }",
        lambda s: {"id": f.gid("ApiKey", 1)},
    ),
    "placeOrder": (
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) "
        "{ order { id } errors { code field } } }",
        lambda s: {
            "i": {
                "lines": [{"productId": f.gid("Product", s.w.item.id), "quantity": 1}],
                "recipient": {
                    "name": "张三",
                    "phone": "13812345678",
                    "address": "北京市朝阳区建国路 88 号",
                },
            }
        },
    ),
    "payOrder": (
        "mutation($i: PayOrderInput!) { payOrder(input: $i) "
        "{ payment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderId": f.gid("Order", s.paid.id),
                "providerId": f.gid("ServiceProvider", s.w.payer.id),
                "idempotencyKey": "probe-key-0001",
            }
        },
    ),
    "confirmPayment": (
        "mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) "
        "{ payment { id state } errors { code field } } }",
        lambda s: {
            "i": {
                "paymentId": f.gid("Payment", s.pending_payment.id),
                "succeeded": True,
                "providerReference": "PROBE",
            }
        },
    ),
    "shipOrder": (
        "mutation($i: ShipOrderInput!) { shipOrder(input: $i) "
        "{ shipment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderId": f.gid("Order", s.paid.id),
                "providerId": f.gid("ServiceProvider", s.w.carrier.id),
                "trackingNumber": "PROBE0001",
            }
        },
    ),
    "recordTrackingEvent": (
        "mutation($i: RecordTrackingEventInput!) { recordTrackingEvent(input: $i) "
        "{ event { eventId } errors { code field } } }",
        lambda s: {
            "i": {
                "shipmentId": f.gid("Shipment", s.shipment.id),
                "eventId": "PROBE-EV",
                "status": "IN_TRANSIT",
                "occurredAt": _now(),
            }
        },
    ),
    "confirmReceipt": (
        "mutation($id: ID!) { confirmReceipt(orderId: $id) "
        "{ order { id } errors { code field } } }",
        lambda s: {"id": f.gid("Order", s.shipped.id)},
    ),
    "cancelOrder": (
        "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) "
        "{ order { id state } errors { code field } } }",
        lambda s: {"i": {"orderId": f.gid("Order", s.paid.id), "reason": "probe"}},
    ),
    "fileComplaint": (
        "mutation($i: FileComplaintInput!) { fileComplaint(input: $i) "
        "{ complaint { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderId": f.gid("Order", s.paid.id),
                "description": "迟迟不发货 probe",
                "category": "DELIVERY",
            }
        },
    ),
    "takeComplaint": (
        "mutation($id: ID!) { takeComplaint(complaintId: $id) "
        "{ complaint { id } errors { code field } } }",
        lambda s: {"id": f.gid("Complaint", s.complaint.id)},
    ),
    "handleComplaint": (
        "mutation($i: HandleComplaintInput!) { handleComplaint(input: $i) "
        "{ complaint { id } errors { code field } } }",
        lambda s: {
            "i": {
                "complaintId": f.gid("Complaint", s.complaint.id),
                "resolution": "已补发 / reshipped",
                "upheld": True,
            }
        },
    ),
    "submitFeedback": (
        "mutation($i: SubmitFeedbackInput!) { submitFeedback(input: $i) "
        "{ feedback { id } errors { code field } } }",
        lambda s: {"i": {"subjectType": "PLATFORM", "score": 3}},
    ),
    "acknowledgeWarning": (
        "mutation($id: ID!) { acknowledgeWarning(warningId: $id) { errors { code field } } }",
        lambda s: {"id": f.gid("MerchantWarning", 1)},
    ),
    "publishRule": (
        "mutation($i: PublishRuleInput!) { publishRule(input: $i) "
        "{ rule { version } errors { code field } } }",
        lambda s: {"i": {"key": "order.limits", "content": {"max_lines": 5}}},
    ),
    "openViolationCase": (
        "mutation($i: OpenViolationCaseInput!) { openViolationCase(input: $i) "
        "{ violationCase { id } errors { code field } } }",
        lambda s: {
            "i": {
                "merchantId": f.gid("Merchant", s.w.shop.id),
                "type": "COUNTERFEIT",
                "evidence": [{"description": "探针证据 probe evidence"}],
            }
        },
    ),
    "decideViolationCase": (
        "mutation($i: DecideViolationCaseInput!) { decideViolationCase(input: $i) "
        "{ violationCase { id } errors { code field } } }",
        lambda s: {"i": {"caseId": f.gid("ViolationCase", 1), "decision": "DECIDED"}},
    ),
    "appealViolationCase": (
        "mutation($i: AppealViolationCaseInput!) { appealViolationCase(input: $i) "
        "{ violationCase { id } errors { code field } } }",
        lambda s: {"i": {"caseId": f.gid("ViolationCase", 1), "text": "探针申诉 probe appeal"}},
    ),
    "decideAppeal": (
        "mutation($i: DecideAppealInput!) { decideAppeal(input: $i) "
        "{ violationCase { id } errors { code field } } }",
        lambda s: {"i": {"caseId": f.gid("ViolationCase", 1), "outcome": "OVERTURNED"}},
    ),
    "createCourse": (
        "mutation($i: CreateCourseInput!) { createCourse(input: $i) "
        "{ course { id } errors { code field } } }",
        lambda s: {
            "i": {"code": "PROBE-1", "title": "探针课程", "topic": "SERVICE", "passMark": 60}
        },
    ),
    "enrolCourse": (
        "mutation($id: ID!) { enrolCourse(courseId: $id) "
        "{ enrolment { id } errors { code field } } }",
        lambda s: {"id": f.gid("Course", 1)},
    ),
    "recordAssessment": (
        "mutation($id: ID!) { recordAssessment(enrolmentId: $id, score: 90) "
        "{ enrolment { id } errors { code field } } }",
        lambda s: {"id": f.gid("Enrolment", 1)},
    ),
    "createProduct": (
        "mutation($i: CreateProductInput!) { createProduct(input: $i) "
        "{ product { id } errors { code field } } }",
        lambda s: {
            "i": {"title": "探针商品 probe", "category": "food", "priceMinor": 100, "stock": 1}
        },
    ),
    "updateProductListing": (
        "mutation($i: UpdateProductListingInput!) { updateProductListing(input: $i) "
        "{ product { id } errors { code field } } }",
        lambda s: {"i": {"productId": f.gid("Product", s.w.item.id), "isListed": False}},
    ),
    "submitProductReview": (
        "mutation($i: SubmitProductReviewInput!) { submitProductReview(input: $i) "
        "{ review { rating } errors { code field } } }",
        lambda s: {
            "i": {
                "orderId": f.gid("Order", s.shipped.id),
                "productId": f.gid("Product", s.w.item.id),
                "rating": 5,
                "text": "质量很好 probe",
            }
        },
    ),
    "recordProductCertificate": (
        "mutation($i: RecordProductCertificateInput!) { recordProductCertificate(input: $i) "
        "{ certificate { kind } errors { code field } } }",
        lambda s: {
            "i": {
                "productId": f.gid("Product", s.w.item.id),
                "kind": "THIRD_PARTY_INSPECTION",
                "agency": "探针检测 probe lab",
                "reportNumber": "PROBE-0001",
                "result": "PASS",
                "issuedAt": _now(),
                "validUntil": "2099-01-01T00:00:00+00:00",
            }
        },
    ),
    "submitMerchantLicence": (
        "mutation($i: SubmitMerchantLicenceInput!) { submitMerchantLicence(input: $i) "
        "{ licence { id } errors { code field } } }",
        lambda s: {
            "i": {
                "kind": "BUSINESS_LICENCE",
                "number": "PROBE-LIC-1",
                "validUntil": "2099-01-01T00:00:00+00:00",
                "evidence": [{"description": "探针 probe scan"}],
            }
        },
    ),
    "submitBrandRegistration": (
        "mutation($i: SubmitBrandRegistrationInput!) { submitBrandRegistration(input: $i) "
        "{ brandRegistration { id } errors { code field } } }",
        lambda s: {
            "i": {
                "brand": "探针 probe",
                "relation": "REGISTERED",
                "registrationNumber": "TM-PROBE",
                "validUntil": "2099-01-01T00:00:00+00:00",
                "evidence": [{"description": "探针 probe scan"}],
            }
        },
    ),
    "submitDepositPayment": (
        "mutation($i: SubmitDepositPaymentInput!) { submitDepositPayment(input: $i) "
        "{ depositPayment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "amountMinor": 100000,
                "reference": "PROBE-BANK-1",
                "evidence": [{"description": "探针 probe slip"}],
            }
        },
    ),
    "reviewSubmission": (
        "mutation($i: ReviewSubmissionInput!) { reviewSubmission(input: $i) "
        "{ submission { id } errors { code field } } }",
        lambda s: {"i": {"submissionId": f.gid("MerchantLicence", 1), "decision": "VERIFIED"}},
    ),
    "onboardMerchant": (
        "mutation($i: OnboardMerchantInput!) { onboardMerchant(input: $i) "
        "{ merchant { id } errors { code field } } }",
        lambda s: {
            "i": {
                "name": "探针店 probe shop",
                "email": "probe-shop@test.pinzhi",
                "password": "probe password 123",
                "contactName": "探针",
                "contactPhone": "13800000000",
            }
        },
    ),
    "setAccountActive": (
        "mutation($i: SetAccountActiveInput!) { setAccountActive(input: $i) "
        "{ account { id } errors { code field } } }",
        lambda s: {
            "i": {"accountId": s.w.buyer.gid, "active": False, "reason": "探针 probe reason"}
        },
    ),
    "setAccessibilityProfile": (
        "mutation { setAccessibilityProfile(enabled: true) { account { id } errors { code } } }",
        lambda s: {},
    ),
    "openAfterSalesRequest": (
        "mutation($i: OpenAfterSalesRequestInput!) { openAfterSalesRequest(input: $i) "
        "{ request { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderId": f.gid("Order", s.paid.id),
                "kind": "REFUND_BEFORE_SHIPMENT",
                "reason": "不想要了 probe",
                "amountMinor": 100,
            }
        },
    ),
    "respondToAfterSalesRequest": (
        "mutation($i: RespondToAfterSalesRequestInput!) { respondToAfterSalesRequest(input: $i) "
        "{ request { id } errors { code field } } }",
        lambda s: {"i": {"requestId": f.gid("AfterSalesRequest", s.request.id), "note": "探针"}},
    ),
    "decideAfterSalesRequest": (
        "mutation($i: DecideAfterSalesRequestInput!) { decideAfterSalesRequest(input: $i) "
        "{ request { id } errors { code field } } }",
        lambda s: {"i": {"requestId": f.gid("AfterSalesRequest", s.request.id), "approve": True}},
    ),
    "withdrawAfterSalesRequest": (
        "mutation($id: ID!) { withdrawAfterSalesRequest(requestId: $id) "
        "{ request { id } errors { code field } } }",
        lambda s: {"id": f.gid("AfterSalesRequest", s.request.id)},
    ),
    "escalateAfterSalesRequest": (
        "mutation($i: EscalateAfterSalesRequestInput!) { escalateAfterSalesRequest(input: $i) "
        "{ request { id } errors { code field } } }",
        lambda s: {
            "i": {"requestId": f.gid("AfterSalesRequest", s.request.id), "reason": "探针 probe"}
        },
    ),
    "shipReturn": (
        "mutation($i: AfterSalesShipmentInput!) { shipReturn(input: $i) "
        "{ returnShipment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "requestId": f.gid("AfterSalesRequest", s.request.id),
                "providerId": f.gid("ServiceProvider", s.w.carrier.id),
                "trackingNumber": "PROBE-RT-1",
            }
        },
    ),
    "confirmReturnReceived": (
        "mutation($id: ID!) { confirmReturnReceived(requestId: $id) "
        "{ request { id } errors { code field } } }",
        lambda s: {"id": f.gid("AfterSalesRequest", s.request.id)},
    ),
    "shipReplacement": (
        "mutation($i: AfterSalesShipmentInput!) { shipReplacement(input: $i) "
        "{ returnShipment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "requestId": f.gid("AfterSalesRequest", s.request.id),
                "providerId": f.gid("ServiceProvider", s.w.carrier.id),
                "trackingNumber": "PROBE-RS-1",
            }
        },
    ),
    "closeAfterSalesRequest": (
        "mutation($id: ID!) { closeAfterSalesRequest(requestId: $id) "
        "{ request { id } errors { code field } } }",
        lambda s: {"id": f.gid("AfterSalesRequest", s.request.id)},
    ),
    "refundPayment": (
        "mutation($i: RefundPaymentInput!) { refundPayment(input: $i) "
        "{ refund { id } errors { code field } } }",
        lambda s: {
            "i": {
                "paymentId": f.gid("Payment", s.refund.payment_id),
                "amountMinor": 100,
                "reason": "探针 probe",
                "idempotencyKey": "probe-refund-1",
            }
        },
    ),
    "confirmRefund": (
        "mutation($i: ConfirmRefundInput!) { confirmRefund(input: $i) "
        "{ refund { id state } errors { code field } } }",
        lambda s: {
            "i": {
                "refundId": f.gid("Refund", s.refund.id),
                "succeeded": True,
                "providerReference": "PROBE",
            }
        },
    ),
    # The advance-compensation fund (QS 9.7.6).
    "contributeToFund": (
        "mutation($i: ContributeToFundInput!) { contributeToFund(input: $i) "
        "{ transaction { id } errors { code field } } }",
        lambda s: {
            "i": {
                "amountMinor": 100000,
                "reference": "PROBE-FUND",
                "idempotencyKey": "probe-fund-1",
            }
        },
    ),
    "reverseFundContribution": (
        "mutation($i: ReverseFundContributionInput!) { reverseFundContribution(input: $i) "
        "{ transaction { id } errors { code field } } }",
        lambda s: {"i": {"transactionId": f.gid("FundTransaction", 1), "reason": "探针 probe"}},
    ),
    "approveFundPayout": (
        "mutation($i: ApproveFundPayoutInput!) { approveFundPayout(input: $i) "
        "{ payout { id } errors { code field } } }",
        lambda s: {
            "i": {
                "subjectId": f.gid("Complaint", s.complaint.id),
                "cause": "PRODUCT_QUALITY",
                "amountMinor": 100,
                "note": "探针 probe",
                "idempotencyKey": "probe-payout-1",
            }
        },
    ),
    "recordFundRecovery": (
        "mutation($i: RecordFundRecoveryInput!) { recordFundRecovery(input: $i) "
        "{ recovery { id } errors { code field } } }",
        lambda s: {
            "i": {"recoveryId": f.gid("FundRecovery", 1), "method": "DEPOSIT", "note": "探针"}
        },
    ),
    "waiveFundRecovery": (
        "mutation($i: WaiveFundRecoveryInput!) { waiveFundRecovery(input: $i) "
        "{ recovery { id } errors { code field } } }",
        lambda s: {"i": {"recoveryId": f.gid("FundRecovery", 1), "reason": "探针 probe"}},
    ),
    "openDispute": (
        "mutation($i: OpenDisputeInput!) { openDispute(input: $i) "
        "{ dispute { id } errors { code field } } }",
        lambda s: {
            "i": {"requestId": f.gid("AfterSalesRequest", s.dispute.request_id), "reason": "探针"}
        },
    ),
    "makeDisputeOffer": (
        "mutation($i: MakeDisputeOfferInput!) { makeDisputeOffer(input: $i) "
        "{ offer { id } errors { code field } } }",
        lambda s: {"i": {"disputeId": f.gid("Dispute", s.dispute.id), "refundMinor": 100}},
    ),
    "acceptDisputeOffer": (
        "mutation($i: AnswerDisputeOfferInput!) { acceptDisputeOffer(input: $i) "
        "{ offer { id } errors { code field } } }",
        lambda s: {"i": {"offerId": f.gid("DisputeOffer", s.offer.id)}},
    ),
    "declineDisputeOffer": (
        "mutation($i: AnswerDisputeOfferInput!) { declineDisputeOffer(input: $i) "
        "{ offer { id } errors { code field } } }",
        lambda s: {"i": {"offerId": f.gid("DisputeOffer", s.offer.id), "note": "探针"}},
    ),
    "withdrawDispute": (
        "mutation($i: WithdrawDisputeInput!) { withdrawDispute(input: $i) "
        "{ dispute { id } errors { code field } } }",
        lambda s: {"i": {"disputeId": f.gid("Dispute", s.dispute.id)}},
    ),
    "requestDisputeArbitration": (
        "mutation($i: RequestDisputeArbitrationInput!) { requestDisputeArbitration(input: $i) "
        "{ dispute { id } errors { code field } } }",
        lambda s: {"i": {"disputeId": f.gid("Dispute", s.dispute.id), "reason": "探针 probe"}},
    ),
    "arbitrateDispute": (
        "mutation($i: ArbitrateDisputeInput!) { arbitrateDispute(input: $i) "
        "{ dispute { id } errors { code field } } }",
        lambda s: {
            "i": {
                "disputeId": f.gid("Dispute", s.dispute.id),
                "refundMinor": 100,
                "reason": "探针 probe",
            }
        },
    ),
    "shipDisputeReplacement": (
        "mutation($i: ShipDisputeReplacementInput!) { shipDisputeReplacement(input: $i) "
        "{ dispute { id } errors { code field } } }",
        lambda s: {
            "i": {
                "disputeId": f.gid("Dispute", s.dispute.id),
                "providerId": f.gid("ServiceProvider", s.w.carrier.id),
                "trackingNumber": "PROBE-DSP-1",
            }
        },
    ),
    # Bulky goods: installation and trade-in (QS 9.7.5)
    "bookInstallation": (
        "mutation($i: BookInstallationInput!) { bookInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderLineId": f.gid("OrderLine", 1),
                "slotStart": f.slot(datetime.now(UTC)).isoformat(),
            }
        },
    ),
    "rescheduleInstallation": (
        "mutation($i: RescheduleInstallationInput!) { rescheduleInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {
            "i": {
                "appointmentId": f.gid("InstallationAppointment", 1),
                "slotStart": f.slot(datetime.now(UTC), days=3).isoformat(),
            }
        },
    ),
    "cancelInstallation": (
        "mutation($i: CancelInstallationInput!) { cancelInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {"i": {"appointmentId": f.gid("InstallationAppointment", 1)}},
    ),
    "confirmInstallation": (
        "mutation($i: ConfirmInstallationInput!) { confirmInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {"i": {"appointmentId": f.gid("InstallationAppointment", 1)}},
    ),
    "completeInstallation": (
        "mutation($i: CompleteInstallationInput!) { completeInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {"i": {"appointmentId": f.gid("InstallationAppointment", 1)}},
    ),
    "recordMissedInstallation": (
        "mutation($i: RecordMissedInstallationInput!) { recordMissedInstallation(input: $i) "
        "{ appointment { id } errors { code field } } }",
        lambda s: {
            "i": {"appointmentId": f.gid("InstallationAppointment", 1), "reason": "探针 probe"}
        },
    ),
    "requestTradeIn": (
        "mutation($i: RequestTradeInInput!) { requestTradeIn(input: $i) "
        "{ tradeIn { id } errors { code field } } }",
        lambda s: {
            "i": {
                "orderLineId": f.gid("OrderLine", 1),
                "condition": "WORKING",
                "description": "探针 probe",
            }
        },
    ),
    "acceptTradeIn": (
        "mutation($i: AcceptTradeInInput!) { acceptTradeIn(input: $i) "
        "{ tradeIn { id } errors { code field } } }",
        lambda s: {"i": {"tradeInId": f.gid("TradeIn", 1)}},
    ),
    "rejectTradeIn": (
        "mutation($i: RejectTradeInInput!) { rejectTradeIn(input: $i) "
        "{ tradeIn { id } errors { code field } } }",
        lambda s: {"i": {"tradeInId": f.gid("TradeIn", 1), "reason": "探针 probe"}},
    ),
    "cancelTradeIn": (
        "mutation($id: ID!) { cancelTradeIn(tradeInId: $id) "
        "{ tradeIn { id } errors { code field } } }",
        lambda s: {"id": f.gid("TradeIn", 1)},
    ),
    "recordTradeInCollected": (
        "mutation($i: RecordTradeInCollectedInput!) { recordTradeInCollected(input: $i) "
        "{ tradeIn { id } replayed errors { code field } } }",
        lambda s: {
            "i": {"tradeInId": f.gid("TradeIn", 1), "eventId": "PROBE-PICK", "collectedAt": _now()}
        },
    ),
    "retryTradeInCredit": (
        "mutation($id: ID!) { retryTradeInCredit(tradeInId: $id) "
        "{ tradeIn { id } errors { code field } } }",
        lambda s: {"id": f.gid("TradeIn", 1)},
    ),
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    "markNotificationRead": (
        "mutation($n: ID!) { markNotificationRead(notificationId: $n) { errors { code } } }",
        lambda s: {"n": f.gid("Notification", 1)},
    ),
    # Customer-service chat (QS 9.2.2, 9.7.2)
    "openServiceSession": (
        "mutation { openServiceSession { errors { code } } }",
        lambda s: {},
    ),
    "sendServiceMessage": (
        'mutation($s: ID!) { sendServiceMessage(input: {sessionId: $s, body: "hi"}) '
        "{ errors { code } } }",
        lambda s: {"s": f.gid("ServiceSession", 1)},
    ),
    "requestHumanAgent": (
        "mutation($s: ID!) { requestHumanAgent(sessionId: $s) { errors { code } } }",
        lambda s: {"s": f.gid("ServiceSession", 1)},
    ),
    "takeServiceSession": (
        "mutation($s: ID!) { takeServiceSession(sessionId: $s) { errors { code } } }",
        lambda s: {"s": f.gid("ServiceSession", 1)},
    ),
    "transferServiceSession": (
        "mutation($s: ID!) { transferServiceSession(input: {sessionId: $s}) { errors { code } } }",
        lambda s: {"s": f.gid("ServiceSession", 1)},
    ),
    "closeServiceSession": (
        "mutation($s: ID!) { closeServiceSession(sessionId: $s) { errors { code } } }",
        lambda s: {"s": f.gid("ServiceSession", 1)},
    ),
    # The phone queue (QS 9.2.2)
    "recordCallEvents": (
        "mutation($e: [CallEventInput!]!) { recordCallEvents(events: $e) "
        "{ accepted results { outcome } errors { code field } } }",
        lambda s: {
            "e": [
                {
                    "eventId": "PROBE-CALL-1",
                    "callId": "PROBE-CALL",
                    "queue": "after-sales",
                    "kind": "QUEUED",
                    "occurredAt": _now(),
                }
            ]
        },
    ),
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    "enrolStaffCourse": (
        "mutation($id: ID!) { enrolStaffCourse(courseId: $id) "
        "{ enrolment { id } errors { code field } } }",
        lambda s: {"id": f.gid("Course", 1)},
    ),
    "setStaffProfile": (
        "mutation($i: SetStaffProfileInput!) { setStaffProfile(input: $i) "
        "{ staffMember { id } errors { code field } } }",
        lambda s: {"i": {"staffId": s.w.agent.gid, "team": "探针 probe", "experienceSince": None}},
    ),
    "assignStaffPost": (
        "mutation($id: ID!) { assignStaffPost(staffId: $id, post: ONLINE_SERVICE) "
        "{ assignment { id } errors { code field } } }",
        lambda s: {"id": s.w.agent.gid},
    ),
    "endStaffPost": (
        'mutation($id: ID!) { endStaffPost(assignmentId: $id, reason: "probe") '
        "{ assignment { id } errors { code field } } }",
        lambda s: {"id": f.gid("PostAssignment", 1)},
    ),
    "setOnDuty": (
        "mutation { setOnDuty(onDuty: true) { staffMember { id } errors { code field } } }",
        lambda s: {},
    ),
}

OPEN_TO_ANONYMOUS = {"registerConsumer", "login", "refreshAccessToken", "logout"}


async def run(api, scene: Scene, who: str, name: str):
    document, variables = MUTATIONS[name]
    return await api(document, variables(scene), token=scene.token(who))


async def assert_refused_at_top_level(api, scene: Scene, who: str, name: str, code: str) -> None:
    before = await snapshot()
    response = await run(api, scene, who, name)
    assert response.error_codes == [code], (who, name, response.body)
    assert response.body["data"] is None, (who, name)
    assert await snapshot() == before, (who, name)


# --- Wrong role: refused by the field's static role set --------------------------------------

FORBIDDEN_FOR = {
    "consumer": "shipOrder confirmPayment recordTrackingEvent takeComplaint handleComplaint "
    "createApiKey revokeApiKey recordProductCertificate submitMerchantLicence "
    "submitBrandRegistration submitDepositPayment reviewSubmission onboardMerchant "
    "setAccountActive respondToAfterSalesRequest decideAfterSalesRequest "
    "confirmReturnReceived shipReplacement refundPayment confirmRefund "
    "arbitrateDispute shipDisputeReplacement "
    "confirmInstallation completeInstallation recordMissedInstallation acceptTradeIn "
    "rejectTradeIn recordTradeInCollected retryTradeInCredit "
    "takeServiceSession transferServiceSession recordCallEvents"
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    " enrolStaffCourse setStaffProfile assignStaffPost endStaffPost setOnDuty",
    "merchant": "placeOrder payOrder confirmPayment recordTrackingEvent confirmReceipt "
    "fileComplaint takeComplaint handleComplaint createApiKey submitProductReview "
    "reviewSubmission onboardMerchant setAccessibilityProfile openAfterSalesRequest "
    "withdrawAfterSalesRequest escalateAfterSalesRequest shipReturn closeAfterSalesRequest "
    "confirmRefund openDispute withdrawDispute arbitrateDispute "
    "bookInstallation rescheduleInstallation cancelInstallation requestTradeIn "
    "cancelTradeIn recordTradeInCollected retryTradeInCredit "
    "takeServiceSession transferServiceSession recordCallEvents"
    " enrolStaffCourse setStaffProfile assignStaffPost endStaffPost setOnDuty",
    "logistics": "placeOrder payOrder shipOrder cancelOrder confirmReceipt fileComplaint "
    "takeComplaint handleComplaint openAfterSalesRequest decideAfterSalesRequest "
    "refundPayment confirmRefund shipReturn openDispute makeDisputeOffer acceptDisputeOffer "
    "declineDisputeOffer withdrawDispute requestDisputeArbitration arbitrateDispute "
    "shipDisputeReplacement bookInstallation rescheduleInstallation "
    "cancelInstallation requestTradeIn acceptTradeIn cancelTradeIn retryTradeInCredit "
    "openServiceSession sendServiceMessage requestHumanAgent takeServiceSession "
    "transferServiceSession closeServiceSession recordCallEvents"
    " enrolStaffCourse setStaffProfile assignStaffPost endStaffPost setOnDuty",
    "payment": "placeOrder payOrder shipOrder cancelOrder confirmReceipt fileComplaint "
    "takeComplaint handleComplaint openAfterSalesRequest decideAfterSalesRequest "
    "refundPayment recordTrackingEvent openDispute makeDisputeOffer acceptDisputeOffer "
    "declineDisputeOffer withdrawDispute requestDisputeArbitration arbitrateDispute "
    "shipDisputeReplacement bookInstallation confirmInstallation "
    "completeInstallation recordMissedInstallation requestTradeIn acceptTradeIn rejectTradeIn "
    "recordTradeInCollected retryTradeInCredit "
    "openServiceSession sendServiceMessage requestHumanAgent takeServiceSession "
    "transferServiceSession closeServiceSession recordCallEvents"
    " enrolStaffCourse setStaffProfile assignStaffPost endStaffPost setOnDuty",
    "staff": "placeOrder payOrder confirmPayment shipOrder recordTrackingEvent confirmReceipt "
    "fileComplaint submitFeedback createApiKey submitProductReview recordProductCertificate "
    "submitMerchantLicence submitBrandRegistration submitDepositPayment reviewSubmission "
    "onboardMerchant setAccessibilityProfile openAfterSalesRequest withdrawAfterSalesRequest "
    "shipReturn shipReplacement confirmRefund openDispute makeDisputeOffer acceptDisputeOffer "
    "declineDisputeOffer withdrawDispute requestDisputeArbitration shipDisputeReplacement "
    "bookInstallation rescheduleInstallation "
    "cancelInstallation confirmInstallation completeInstallation recordMissedInstallation "
    "requestTradeIn acceptTradeIn rejectTradeIn cancelTradeIn recordTradeInCollected "
    "openServiceSession requestHumanAgent recordCallEvents"
    # A customer-service agent neither records profiles nor assigns posts, its own or others'.
    " setStaffProfile assignStaffPost endStaffPost",
    # The phone queue (QS 9.2.2): a contact centre reports calls, and nothing of the order
    # path, after-sales, disputes or bulky goods.
    "contact_centre": "placeOrder payOrder confirmPayment shipOrder recordTrackingEvent "
    "confirmReceipt cancelOrder fileComplaint takeComplaint handleComplaint "
    "openAfterSalesRequest decideAfterSalesRequest refundPayment confirmRefund shipReturn "
    "openDispute makeDisputeOffer arbitrateDispute bookInstallation confirmInstallation "
    "completeInstallation acceptTradeIn rejectTradeIn recordTradeInCollected "
    "retryTradeInCredit publishRule openServiceSession sendServiceMessage requestHumanAgent "
    "takeServiceSession transferServiceSession closeServiceSession"
    " enrolStaffCourse setStaffProfile assignStaffPost endStaffPost setOnDuty",
}


@pytest.mark.parametrize("who", list(FORBIDDEN_FOR))
async def test_each_role_is_forbidden_the_mutations_of_other_roles(
    api, scene: Scene, who: str
) -> None:
    """QS 9.1.1 (a supervisable process: each step by its party): e.g. a consumer calling
    shipOrder/confirmPayment/recordTrackingEvent/handleComplaint, a merchant calling
    payOrder/placeOrder, a provider placing orders: top-level FORBIDDEN, nothing changed."""
    for name in FORBIDDEN_FOR[who].split():
        assert name in MUTATIONS, name
        await assert_refused_at_top_level(api, scene, who, name, "FORBIDDEN")


@pytest.mark.parametrize("duty", [StaffDuty.COMPLIANCE, StaffDuty.ADMIN])
async def test_staff_without_customer_service_duty_cannot_take_or_handle_complaints(
    api, scene: Scene, duty: StaffDuty
) -> None:
    """QS 9.3.1 (posts with defined duties), QS 9.2.4: only customer-service staff handle
    complaints; other staff get FORBIDDEN and the complaint stays OPEN and unassigned."""
    scene.w.agent = await f.staff(duty)  # "staff" now means a staff member of this duty
    for name in ["takeComplaint", "handleComplaint"]:
        await assert_refused_at_top_level(api, scene, "staff", name, "FORBIDDEN")
    row = await Complaint.get(id=scene.complaint.id)
    assert (row.state, row.assignee_id) == ("OPEN", None)


@pytest.mark.parametrize("duty", [StaffDuty.COMPLIANCE, StaffDuty.ADMIN])
async def test_only_customer_service_staff_arbitrate_disputes(api, scene: Scene, duty) -> None:
    """QS 9.7.7, QS 9.3.1: customer-service staff arbitrate; staff of other duties are
    FORBIDDEN, and the dispute and its offer stay as they were."""
    scene.w.agent = await f.staff(duty)
    await assert_refused_at_top_level(api, scene, "staff", "arbitrateDispute", "FORBIDDEN")
    assert (await Dispute.get(id=scene.dispute.id)).state == "OPEN"


GUARDED = [name for name in MUTATIONS if name not in OPEN_TO_ANONYMOUS]


@pytest.mark.parametrize("name", GUARDED)
async def test_anonymous_is_unauthenticated_on_every_guarded_mutation(
    api, scene: Scene, name: str
) -> None:
    """Decision 1: without a credential, placeOrder and every other guarded mutation is
    refused with UNAUTHENTICATED, and nothing changes."""
    await assert_refused_at_top_level(api, scene, "anonymous", name, "UNAUTHENTICATED")


# --- Right role, wrong row: NOT_FOUND, exactly like a missing row -----------------------------


async def call(api, scene: Scene, who: str, name: str, variables: dict[str, Any]):
    return await api(MUTATIONS[name][0], variables, token=scene.token(who))


async def assert_not_found(api, scene, who, name, variables, field: list[str]) -> None:
    before = await snapshot()
    response = await call(api, scene, who, name, variables)
    payload = response.data[name]
    assert payload["errors"] == [{"code": "NOT_FOUND", "field": field}], (who, name)
    assert await snapshot() == before, (who, name)


async def test_merchant_shipping_another_merchants_paid_order_gets_not_found(
    api, scene: Scene
) -> None:
    """QS 9.4.1, decision 2: a shop cannot ship (or learn of) another shop's order. The
    order stays PAID and no shipment exists; its own merchant then ships it normally."""
    variables = {
        "i": {
            "orderId": f.gid("Order", scene.other_paid.id),
            "providerId": f.gid("ServiceProvider", scene.w.carrier.id),
            "trackingNumber": "CROSS0001",
        }
    }
    await assert_not_found(api, scene, "merchant", "shipOrder", variables, ["orderId"])
    assert (await Order.get(id=scene.other_paid.id)).state == "PAID"
    assert not await Shipment.filter(order_id=scene.other_paid.id).exists()
    # The same input from the rightful merchant works: the refusal was about ownership.
    shipped = (await call(api, scene, "other_merchant", "shipOrder", variables)).data
    assert shipped["shipOrder"]["errors"] == []
    assert (await Order.get(id=scene.other_paid.id)).state == "SHIPPED"


@pytest.mark.parametrize("who", ["consumer", "merchant"])
async def test_cancelling_another_partys_order_gets_not_found_and_stock_stays(
    api, scene: Scene, who: str
) -> None:
    """QS 9.1.1: a consumer cancels only its own orders, a merchant only its shop's. The
    foreign order stays PAID, its stock is not returned and its payment not refunded."""
    variables = {"i": {"orderId": f.gid("Order", scene.other_paid.id), "reason": "cross"}}
    await assert_not_found(api, scene, who, "cancelOrder", variables, ["orderId"])
    assert (await Order.get(id=scene.other_paid.id)).state == "PAID"
    assert (await Payment.get(order_id=scene.other_paid.id)).state == "SUCCEEDED"


async def test_consumer_cannot_pay_receive_complain_or_rate_another_consumers_order(
    api, scene: Scene
) -> None:
    """QS 9.4.1: another consumer's order does not exist for this one, whatever the call."""
    other = f.gid("Order", scene.other_paid.id)
    other_shipped = f.gid("Order", scene.other_shipped.id)
    payer = f.gid("ServiceProvider", scene.w.payer.id)
    cases = [
        (
            "payOrder",
            {"i": {"orderId": other, "providerId": payer, "idempotencyKey": "cross-key-001"}},
            ["orderId"],
        ),
        ("confirmReceipt", {"id": other_shipped}, ["orderId"]),
        (
            "fileComplaint",
            {"i": {"orderId": other, "description": "不是我的订单 cross", "category": "OTHER"}},
            ["orderId"],
        ),
        (
            "submitFeedback",
            {"i": {"subjectType": "ORDER", "subjectId": other, "score": 1}},
            ["subjectId"],
        ),
    ]
    for name, variables, field in cases:
        await assert_not_found(api, scene, "consumer", name, variables, field)


async def test_carrier_recording_events_on_another_carriers_shipment_gets_not_found(
    api, scene: Scene
) -> None:
    """QS 9.6.2: carriers push events for their own shipments only; the other carrier's
    shipment keeps its state and gets no tracking event."""
    variables = {
        "i": {
            "shipmentId": f.gid("Shipment", scene.other_shipment.id),
            "eventId": "CROSS-1",
            "status": "DELIVERED",
            "occurredAt": _now(),
        }
    }
    events = await TrackingEvent.filter(shipment_id=scene.other_shipment.id).count()
    await assert_not_found(
        api, scene, "logistics", "recordTrackingEvent", variables, ["shipmentId"]
    )
    assert (await Shipment.get(id=scene.other_shipment.id)).state == "CREATED"
    assert (await Order.get(id=scene.other_shipped.id)).state == "SHIPPED"
    assert await TrackingEvent.filter(shipment_id=scene.other_shipment.id).count() == events


async def test_payment_provider_confirming_another_providers_payment_gets_not_found(
    api, scene: Scene
) -> None:
    """QS 9.5: a payment provider reports outcomes of its own payments only."""
    variables = {
        "i": {
            "paymentId": f.gid("Payment", scene.other_pending_payment.id),
            "succeeded": True,
            "providerReference": "CROSS",
        }
    }
    await assert_not_found(api, scene, "payment", "confirmPayment", variables, ["paymentId"])
    assert (await Payment.get(id=scene.other_pending_payment.id)).state == "PENDING"
    # Its own provider confirms it with the very same input.
    confirmed = (await call(api, scene, "other_payment", "confirmPayment", variables)).data
    assert confirmed["confirmPayment"]["payment"]["state"] == "SUCCEEDED"


async def test_provider_cannot_revoke_another_providers_api_key(api, scene: Scene) -> None:
    """A provider manages its own API keys only; the other provider's key keeps working."""
    other_key = await ApiKey.get(prefix=scene.w.other_carrier_key.split("_")[1])
    variables = {"id": f.gid("ApiKey", other_key.id)}
    before = await snapshot()
    response = await call(api, scene, "logistics", "revokeApiKey", variables)
    assert response.data["revokeApiKey"] == {
        "revoked": False,
        "errors": [{"code": "NOT_FOUND", "field": ["apiKeyId"]}],
    }
    assert await snapshot() == before
    still = await api("{ shipments { nodes { id } } }", token=scene.w.other_carrier_key)
    assert still.data["shipments"]["nodes"] == [{"id": f.gid("Shipment", scene.other_shipment.id)}]


@pytest.mark.parametrize(
    ("who", "name", "field"),
    [
        ("other_merchant", "makeDisputeOffer", ["disputeId"]),
        ("other_consumer", "acceptDisputeOffer", ["offerId"]),
        ("other_consumer", "withdrawDispute", ["disputeId"]),
        ("other_consumer", "openDispute", ["requestId"]),
    ],
)
async def test_another_partys_dispute_is_not_found(api, scene: Scene, who, name, field) -> None:
    """QS 9.7.7, QS 9.4.1: the other consumer and the other shop can neither open, offer in,
    accept in nor withdraw the buyer's dispute: NOT_FOUND, and nothing changes."""
    variables = MUTATIONS[name][1](scene)
    await assert_not_found(api, scene, who, name, variables, field)


# --- Right field, wrong kind or wrong person: NOT_ELIGIBLE -----------------------------------


async def assert_not_eligible(api, scene, who, name) -> None:
    before = await snapshot()
    response = await run(api, scene, who, name)
    payload = response.data[name]
    assert [e["code"] for e in payload["errors"]] == ["NOT_ELIGIBLE"], (who, name)
    assert await snapshot() == before, (who, name)


async def test_logistics_provider_confirming_a_payment_is_forbidden(api, scene: Scene) -> None:
    """QS 9.5: confirmPayment's policy names the payment kind of provider, so a carrier is
    refused at the field (FORBIDDEN) and the payment stays PENDING; the service, reading
    the same policy entry, refuses it too when called outside GraphQL (NOT_ELIGIBLE)."""
    await assert_refused_at_top_level(api, scene, "logistics", "confirmPayment", "FORBIDDEN")
    with pytest.raises(ServiceError) as refused:
        await payments.confirm_payment(
            scene.w.carrier_actor.viewer, scene.pending_payment.id, True, "ref-1"
        )
    assert refused.value.code == ErrorCode.NOT_ELIGIBLE
    assert (await Payment.get(id=scene.pending_payment.id)).state == "PENDING"
    assert (await Order.get(id=scene.pending.id)).state == "PENDING_PAYMENT"


async def test_payment_provider_recording_a_tracking_event_is_forbidden(api, scene: Scene) -> None:
    """QS 9.6.2: the same for a payment provider pushing a carrier's tracking event."""
    await assert_refused_at_top_level(api, scene, "payment", "recordTrackingEvent", "FORBIDDEN")
    assert (await Shipment.get(id=scene.shipment.id)).state == "CREATED"
    assert not await TrackingEvent.filter(shipment_id=scene.shipment.id).exists()


async def test_qs_9_2_2_a_contact_centre_neither_tracks_shipments_nor_confirms_payments(
    api, scene: Scene
) -> None:
    """QS 9.2.2, 9.5, 9.6.2: a contact centre's key is refused at the field for tracking
    events and payment confirmations (FORBIDDEN) and by the services outside GraphQL
    (NOT_ELIGIBLE); a merchant naming it as a carrier, or a consumer as a payment provider,
    is WRONG_PROVIDER_KIND. Nothing changes."""
    from pinzhi.auth.api_keys import viewer_from_api_key
    from pinzhi.services import logistics

    for name in ("recordTrackingEvent", "confirmPayment"):
        await assert_refused_at_top_level(api, scene, "contact_centre", name, "FORBIDDEN")
    centre = await viewer_from_api_key(scene.contact_centre_key)
    assert centre.provider_kind == ProviderKind.CONTACT_CENTRE and centre.provider_id
    with pytest.raises(ServiceError) as tracking:
        await logistics.record_tracking_event(
            centre, scene.shipment.id, "CC-1", ShipmentState.DELIVERED, datetime.now(UTC)
        )
    with pytest.raises(ServiceError) as paying:
        await payments.confirm_payment(centre, scene.pending_payment.id, True, "CC-REF")
    assert tracking.value.code == paying.value.code == ErrorCode.NOT_ELIGIBLE
    centre_gid = f.gid("ServiceProvider", centre.provider_id)
    ship = MUTATIONS["shipOrder"][1](scene)
    ship["i"]["providerId"] = centre_gid
    pay = MUTATIONS["payOrder"][1](scene)
    pay["i"]["providerId"] = centre_gid
    pay["i"]["orderId"] = f.gid("Order", (await f.order(scene.w.buyer, scene.w.item)).id)
    before = await snapshot()
    shipped = (await call(api, scene, "merchant", "shipOrder", ship)).data["shipOrder"]
    assert shipped["errors"] == [{"code": "WRONG_PROVIDER_KIND", "field": ["providerId"]}]
    paid = (await call(api, scene, "consumer", "payOrder", pay)).data["payOrder"]
    assert paid["errors"] == [{"code": "WRONG_PROVIDER_KIND", "field": ["providerId"]}]
    assert await snapshot() == before
    assert (await Shipment.get(id=scene.shipment.id)).state == "CREATED"
    assert (await Payment.get(id=scene.pending_payment.id)).state == "PENDING"


async def test_agent_cannot_handle_a_complaint_another_agent_has_taken(api, scene: Scene) -> None:
    """QS 9.2.4, QS 9.3.1: a taken case belongs to its agent; a second customer-service
    agent can neither take nor resolve it."""
    first = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    await complaints.take_complaint(first.viewer, scene.complaint.id)
    for name in ["takeComplaint", "handleComplaint"]:
        await assert_not_eligible(api, scene, "staff", name)
    row = await Complaint.get(id=scene.complaint.id)
    assert (row.state, row.assignee_id, row.resolution) == ("IN_PROGRESS", first.account.id, "")


# --- Regulators never write (decision 4) -------------------------------------------------------


def test_every_mutation_of_the_schema_has_a_probe() -> None:
    """The regulator and anonymous tests below cover every mutation there is: a new one
    must be added to MUTATIONS (and so be tried by a regulator)."""
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert set(mutation_type.fields) == set(MUTATIONS)


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_regulator_is_refused_every_mutation_before_any_resolver_runs(
    api, scene: Scene, name: str
) -> None:
    """Decision 4 (QS 10.2 supervision is read-only): a regulator's mutation, even login,
    placeOrder or cancelOrder, is refused with top-level FORBIDDEN and null data before any
    resolver runs: no SQL statement is executed but the credential's check (the account is
    still active), and the database is unchanged."""
    before = await snapshot()
    orders, events = await Order.all().count(), await AuditEvent.all().count()
    with count_sql() as sql:
        response = await run(api, scene, "regulator", name)
    assert response.status == 200
    assert response.body["data"] is None
    assert response.error_codes == ["FORBIDDEN"]
    standing_reads = [q for q in sql.statements if q.startswith('SELECT "is_active" "0" FROM')]
    assert sql.statements == standing_reads and len(standing_reads) <= 1, sql.statements
    assert await snapshot() == before
    assert (await Order.all().count(), await AuditEvent.all().count()) == (orders, events)


async def test_the_sql_probe_sees_statements_of_a_resolver_that_runs(api, scene: Scene) -> None:
    """Control for the test above: the same counter does see a resolver's SQL."""
    with count_sql() as sql:
        response = await api("{ orders { nodes { id } } }", token=scene.w.regulator.token)
    assert len(response.data["orders"]["nodes"]) == 6
    assert sql.count >= 1


async def test_regulator_still_reads_after_a_refused_mutation(api, scene: Scene) -> None:
    """A refusal is not a lock-out: the regulator's next query is answered in full."""
    token = scene.w.regulator.token
    refused = await run(api, scene, "regulator", "cancelOrder")
    assert refused.error_codes == ["FORBIDDEN"]
    data = (await api("{ complaints { nodes { id state } } }", token=token)).data
    assert data["complaints"]["nodes"] == [
        {"id": f.gid("Complaint", scene.complaint.id), "state": "OPEN"}
    ]


@pytest.mark.parametrize("duty", [StaffDuty.COMPLIANCE, StaffDuty.ADMIN])
async def test_only_customer_service_staff_cancel_orders(api, scene: Scene, duty) -> None:
    """QS 9.3.1: staff cancel an order on a consumer's behalf as customer service; staff of
    other duties are FORBIDDEN, and the order stays as it was."""
    scene.w.agent = await f.staff(duty)
    await assert_refused_at_top_level(api, scene, "staff", "cancelOrder", "FORBIDDEN")


async def test_an_api_key_cannot_issue_more_keys(api, scene: Scene) -> None:
    """A provider's people issue keys, logged in; a key itself cannot mint another (revoking
    a leaked key would not end its access otherwise)."""
    from pinzhi.models import ApiKey

    keys = await ApiKey.all().count()
    result = await api(
        'mutation { createApiKey(label: "from a key") { secret errors { code } } }',
        token=scene.w.carrier_key,
    )
    assert result.data["createApiKey"] == {"secret": None, "errors": [{"code": "NOT_ELIGIBLE"}]}
    assert await ApiKey.all().count() == keys


# --- Staff posts and their qualification (QS 9.3.1-9.3.4) -------------------------------------


@pytest.mark.parametrize("duty", [StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE])
async def test_staff_without_the_admin_duty_cannot_assign_posts_or_record_profiles(
    api, scene: Scene, duty: StaffDuty
) -> None:
    """QS 9.3.1, 9.3.4: only admin staff record profiles and assign or end posts; a
    customer-service agent trying it on itself, or compliance staff on the agent, get
    FORBIDDEN and nothing changes."""
    target = scene.w.agent
    scene.w.agent = await f.staff(duty)
    if duty == StaffDuty.CUSTOMER_SERVICE:
        target = scene.w.agent  # the agent, on itself
    variables = {"id": target.gid}
    for name, document_vars in [
        ("assignStaffPost", variables),
        (
            "setStaffProfile",
            {"i": {"staffId": target.gid, "team": "自封 self-made", "experienceSince": None}},
        ),
        ("endStaffPost", {"id": f.gid("PostAssignment", 1)}),
    ]:
        before = await snapshot()
        response = await call(api, scene, "staff", name, document_vars)
        assert response.error_codes == ["FORBIDDEN"], (duty, name, response.body)
        assert await snapshot() == before
    assert not await PostAssignment.exists()


async def test_an_admin_cannot_assign_a_post_to_or_record_the_profile_of_themselves(
    api, scene: Scene
) -> None:
    """QS 9.3.4: an admin holding the customer-service duty too is another admin's to
    assign: SELF_ASSIGNMENT, and nothing changes."""
    admin = await f.staff(StaffDuty.ADMIN, StaffDuty.CUSTOMER_SERVICE)
    scene.w.agent = admin
    for name, variables in [
        ("assignStaffPost", {"id": admin.gid}),
        ("setStaffProfile", {"i": {"staffId": admin.gid, "team": "自己 own"}}),
    ]:
        before = await snapshot()
        payload = (await call(api, scene, "staff", name, variables)).data[name]
        assert payload["errors"] == [{"code": "SELF_ASSIGNMENT", "field": ["staffId"]}], name
        assert await snapshot() == before
