"""Who may do what: the one table of role policies (architecture decision 13).

Every mutation is an ``Action`` with exactly one ``Policy`` in ``ACTIONS``. The schema's
field permission (``schema/permissions.py``) reads it before the resolver runs, and the
service that carries the action out calls ``require`` with the same entry, so callers
outside GraphQL (jobs, the CLI, the demo seed) meet the same rule. Gated reads use the
named policies below. Which *rows* a viewer may touch is ``auth/scopes.py``'s concern, and
what it may read of them ``auth/masking.py``'s.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models.enums import ProviderKind, Role, StaffDuty


@dataclass(frozen=True)
class Policy:
    """The roles that may act; for staff, any one of ``duties`` (none listed: any staff);
    for service providers, one of ``provider_kinds`` (none listed: any provider). A public
    policy admits everyone, signed in or not."""

    roles: frozenset[Role] = frozenset()
    duties: frozenset[StaffDuty] = frozenset()
    provider_kinds: frozenset[ProviderKind] = frozenset()
    public: bool = False

    def allows(self, viewer: Viewer) -> bool:
        if self.public:
            return True
        if viewer.role is None or viewer.role not in self.roles:
            return False
        if viewer.role == Role.STAFF and self.duties:
            return bool(self.duties & viewer.duties)
        if viewer.role == Role.SERVICE_PROVIDER and self.provider_kinds:
            return viewer.provider_kind in self.provider_kinds
        return True

    def describe(self) -> str:
        """Who, in the schema's words: "CONSUMER, STAFF (CUSTOMER_SERVICE)"."""
        if self.public:
            return "anyone"
        named = []
        for role in sorted(self.roles):
            qualifiers = {
                Role.STAFF: self.duties,
                Role.SERVICE_PROVIDER: self.provider_kinds,
            }.get(role, frozenset())
            extra = f" ({' or '.join(sorted(qualifiers))})" if qualifiers else ""
            named.append(f"{role}{extra}")
        return ", ".join(named)


def allow(
    *roles: Role,
    duties: tuple[StaffDuty, ...] = (),
    provider_kinds: tuple[ProviderKind, ...] = (),
) -> Policy:
    return Policy(frozenset(roles), frozenset(duties), frozenset(provider_kinds))


PUBLIC = Policy(public=True)
SIGNED_IN = allow(*Role)
CONSUMER = allow(Role.CONSUMER)
MERCHANT = allow(Role.MERCHANT)
PROVIDER = allow(Role.SERVICE_PROVIDER)
PAYMENT_PROVIDER = allow(Role.SERVICE_PROVIDER, provider_kinds=(ProviderKind.PAYMENT,))
LOGISTICS_PROVIDER = allow(Role.SERVICE_PROVIDER, provider_kinds=(ProviderKind.LOGISTICS,))
CUSTOMER_SERVICE = allow(Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,))
COMPLIANCE = allow(Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
ADMIN = allow(Role.STAFF, duties=(StaffDuty.ADMIN,))
SELLER_OR_SERVICE = allow(Role.MERCHANT, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,))
# QS 9.7.5: a bulky delivery's visit is the merchant's or the carrier's that makes it.
SELLER_OR_CARRIER = allow(
    Role.MERCHANT, Role.SERVICE_PROVIDER, provider_kinds=(ProviderKind.LOGISTICS,)
)

# --- Gated reads ------------------------------------------------------------------------------
# Each role then sees only the rows in its scope (auth/scopes.py).
READERS = SIGNED_IN
AUDIT_VERIFIERS = allow(Role.REGULATOR, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
PII_LOG_READERS = allow(Role.REGULATOR, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
GRADE_READERS = allow(Role.MERCHANT, Role.STAFF, Role.REGULATOR)
# QS 9.2.1: the after-sales queue is worked by merchants and customer-service staff.
AFTER_SALES_WORKERS = SELLER_OR_SERVICE
# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
# On-time response rates: a merchant its own shop's, the staff who answer for merchants
# (customer service) or check them (compliance), and regulators.
TIMELINESS_READERS = allow(
    Role.MERCHANT,
    Role.STAFF,
    Role.REGULATOR,
    duties=(StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE),
)
# QS 9.7.6: the fund's ledger, for regulators and the staff duties that work with it.
FUND_READERS = allow(
    Role.REGULATOR,
    Role.STAFF,
    duties=(StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE, StaffDuty.ADMIN),
)
# The phone queue (QS 9.2.2): contact centres report their calls; the queue's figures are
# for the staff who supervise customer service (its own duty, and admins) and regulators.
CONTACT_CENTRE = allow(Role.SERVICE_PROVIDER, provider_kinds=(ProviderKind.CONTACT_CENTRE,))
PHONE_QUEUE_READERS = allow(
    Role.REGULATOR, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE, StaffDuty.ADMIN)
)

# Customer-service chat (QS 9.2.2, 9.7.2)
# Who opens sessions with the platform's customer service.
SERVICE_CUSTOMERS = allow(Role.CONSUMER, Role.MERCHANT)
# Response metrics and breaches: supervisors (customer service, admin) and regulators.
SERVICE_SUPERVISORS = allow(
    Role.STAFF, Role.REGULATOR, duties=(StaffDuty.CUSTOMER_SERVICE, StaffDuty.ADMIN)
)
# Intent recognition (QS 9.7.1)
# Reading a customer's message for its intent: staff, and the service providers that
# integrate with the platform's customer service; not consumers, merchants or regulators.
INTENT_CLASSIFIERS = allow(Role.STAFF, Role.SERVICE_PROVIDER)


# Staff posts and their qualification (QS 9.3.1-9.3.4)
# Staff records (profiles, posts, training): every staff member reads their own
# (auth/scopes.py), admin and compliance staff (the assessors) and regulators all.
STAFF_RECORD_READERS = allow(Role.STAFF, Role.REGULATOR)
# The staffing ratio (QS 9.3.1): the staff who staff the posts and check them, regulators.
STAFFING_READERS = allow(Role.STAFF, Role.REGULATOR, duties=(StaffDuty.ADMIN, StaffDuty.COMPLIANCE))
# Performance (QS 9.3.3): admin staff and regulators read everyone's, a staff member their
# own (auth/scopes.py staff_performance_rule).
PERFORMANCE_READERS = allow(Role.STAFF, Role.REGULATOR)


# Live chat (QS 9.2.2, 9.7.2)
# What was said in sessions, live: their openers, agents and their supervisors. Not
# regulators, who read a session's timing but not its conversation (auth/scopes.py).
SERVICE_MESSAGE_READERS = allow(
    Role.CONSUMER,
    Role.MERCHANT,
    Role.STAFF,
    duties=(StaffDuty.CUSTOMER_SERVICE, StaffDuty.ADMIN),
)


class Action(enum.StrEnum):
    """Every mutation, by its field name in the schema."""

    REGISTER_CONSUMER = "registerConsumer"
    LOGIN = "login"
    REFRESH_ACCESS_TOKEN = "refreshAccessToken"
    LOGOUT = "logout"
    CREATE_API_KEY = "createApiKey"
    REVOKE_API_KEY = "revokeApiKey"
    SET_ACCOUNT_ACTIVE = "setAccountActive"
    PLACE_ORDER = "placeOrder"
    PAY_ORDER = "payOrder"
    CONFIRM_PAYMENT = "confirmPayment"
    SHIP_ORDER = "shipOrder"
    RECORD_TRACKING_EVENT = "recordTrackingEvent"
    CONFIRM_RECEIPT = "confirmReceipt"
    CANCEL_ORDER = "cancelOrder"
    FILE_COMPLAINT = "fileComplaint"
    TAKE_COMPLAINT = "takeComplaint"
    HANDLE_COMPLAINT = "handleComplaint"
    SUBMIT_FEEDBACK = "submitFeedback"
    ACKNOWLEDGE_WARNING = "acknowledgeWarning"
    PUBLISH_RULE = "publishRule"
    OPEN_VIOLATION_CASE = "openViolationCase"
    DECIDE_VIOLATION_CASE = "decideViolationCase"
    APPEAL_VIOLATION_CASE = "appealViolationCase"
    DECIDE_APPEAL = "decideAppeal"
    CREATE_COURSE = "createCourse"
    ENROL_COURSE = "enrolCourse"
    RECORD_ASSESSMENT = "recordAssessment"
    SUBMIT_PRODUCT_REVIEW = "submitProductReview"
    RECORD_PRODUCT_CERTIFICATE = "recordProductCertificate"
    CREATE_PRODUCT = "createProduct"
    UPDATE_PRODUCT_LISTING = "updateProductListing"
    SUBMIT_MERCHANT_LICENCE = "submitMerchantLicence"
    SUBMIT_BRAND_REGISTRATION = "submitBrandRegistration"
    SUBMIT_DEPOSIT_PAYMENT = "submitDepositPayment"
    REVIEW_SUBMISSION = "reviewSubmission"
    ONBOARD_MERCHANT = "onboardMerchant"
    SET_ACCESSIBILITY_PROFILE = "setAccessibilityProfile"
    OPEN_AFTER_SALES_REQUEST = "openAfterSalesRequest"
    RESPOND_TO_AFTER_SALES_REQUEST = "respondToAfterSalesRequest"
    DECIDE_AFTER_SALES_REQUEST = "decideAfterSalesRequest"
    WITHDRAW_AFTER_SALES_REQUEST = "withdrawAfterSalesRequest"
    ESCALATE_AFTER_SALES_REQUEST = "escalateAfterSalesRequest"
    SHIP_RETURN = "shipReturn"
    CONFIRM_RETURN_RECEIVED = "confirmReturnReceived"
    SHIP_REPLACEMENT = "shipReplacement"
    CLOSE_AFTER_SALES_REQUEST = "closeAfterSalesRequest"
    REFUND_PAYMENT = "refundPayment"
    CONFIRM_REFUND = "confirmRefund"
    # Advance-compensation fund (QS 9.7.6)
    CONTRIBUTE_TO_FUND = "contributeToFund"
    REVERSE_FUND_CONTRIBUTION = "reverseFundContribution"
    APPROVE_FUND_PAYOUT = "approveFundPayout"
    RECORD_FUND_RECOVERY = "recordFundRecovery"
    WAIVE_FUND_RECOVERY = "waiveFundRecovery"
    # Online disputes (QS 9.7.7)
    OPEN_DISPUTE = "openDispute"
    MAKE_DISPUTE_OFFER = "makeDisputeOffer"
    ACCEPT_DISPUTE_OFFER = "acceptDisputeOffer"
    DECLINE_DISPUTE_OFFER = "declineDisputeOffer"
    WITHDRAW_DISPUTE = "withdrawDispute"
    REQUEST_DISPUTE_ARBITRATION = "requestDisputeArbitration"
    ARBITRATE_DISPUTE = "arbitrateDispute"
    SHIP_DISPUTE_REPLACEMENT = "shipDisputeReplacement"
    # Bulky goods: installation and trade-in
    BOOK_INSTALLATION = "bookInstallation"
    RESCHEDULE_INSTALLATION = "rescheduleInstallation"
    CANCEL_INSTALLATION = "cancelInstallation"
    CONFIRM_INSTALLATION = "confirmInstallation"
    COMPLETE_INSTALLATION = "completeInstallation"
    RECORD_MISSED_INSTALLATION = "recordMissedInstallation"
    REQUEST_TRADE_IN = "requestTradeIn"
    ACCEPT_TRADE_IN = "acceptTradeIn"
    REJECT_TRADE_IN = "rejectTradeIn"
    CANCEL_TRADE_IN = "cancelTradeIn"
    RECORD_TRADE_IN_COLLECTED = "recordTradeInCollected"
    RETRY_TRADE_IN_CREDIT = "retryTradeInCredit"
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    MARK_NOTIFICATION_READ = "markNotificationRead"
    # Customer-service chat (QS 9.2.2, 9.7.2)
    OPEN_SERVICE_SESSION = "openServiceSession"
    SEND_SERVICE_MESSAGE = "sendServiceMessage"
    REQUEST_HUMAN_AGENT = "requestHumanAgent"
    TAKE_SERVICE_SESSION = "takeServiceSession"
    TRANSFER_SERVICE_SESSION = "transferServiceSession"
    CLOSE_SERVICE_SESSION = "closeServiceSession"
    # The phone queue (QS 9.2.2)
    RECORD_CALL_EVENTS = "recordCallEvents"
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    ENROL_STAFF_COURSE = "enrolStaffCourse"
    SET_STAFF_PROFILE = "setStaffProfile"
    ASSIGN_STAFF_POST = "assignStaffPost"
    END_STAFF_POST = "endStaffPost"
    SET_ON_DUTY = "setOnDuty"


ACTIONS: Mapping[Action, Policy] = MappingProxyType(
    {
        # Accounts: anyone may register and sign in; providers keep their own API keys.
        Action.REGISTER_CONSUMER: PUBLIC,
        Action.LOGIN: PUBLIC,
        Action.REFRESH_ACCESS_TOKEN: PUBLIC,
        Action.LOGOUT: PUBLIC,
        Action.CREATE_API_KEY: PROVIDER,
        Action.REVOKE_API_KEY: PROVIDER,
        Action.SET_ACCOUNT_ACTIVE: ADMIN,
        # Orders, payment and delivery (QS 9.1, 9.3).
        Action.PLACE_ORDER: CONSUMER,
        Action.PAY_ORDER: CONSUMER,
        Action.CONFIRM_PAYMENT: PAYMENT_PROVIDER,
        Action.SHIP_ORDER: MERCHANT,
        Action.RECORD_TRACKING_EVENT: LOGISTICS_PROVIDER,
        Action.CONFIRM_RECEIPT: CONSUMER,
        # Staff cancel orders as customer service, on a consumer's behalf (QS 9.3.1).
        Action.CANCEL_ORDER: allow(
            Role.CONSUMER, Role.MERCHANT, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
        ),
        # Customer service and satisfaction (QS 9.2.4, 10.2).
        Action.FILE_COMPLAINT: CONSUMER,
        Action.TAKE_COMPLAINT: CUSTOMER_SERVICE,
        Action.HANDLE_COMPLAINT: CUSTOMER_SERVICE,
        Action.SUBMIT_FEEDBACK: allow(Role.CONSUMER, Role.MERCHANT, Role.SERVICE_PROVIDER),
        # Grading and rules (QS 5.2, 6.1.2).
        Action.ACKNOWLEDGE_WARNING: allow(
            Role.STAFF, duties=(StaffDuty.COMPLIANCE, StaffDuty.CUSTOMER_SERVICE)
        ),
        Action.PUBLISH_RULE: ADMIN,
        # Violations and key control (QS 6.4).
        Action.OPEN_VIOLATION_CASE: COMPLIANCE,
        Action.DECIDE_VIOLATION_CASE: COMPLIANCE,
        Action.APPEAL_VIOLATION_CASE: MERCHANT,
        Action.DECIDE_APPEAL: COMPLIANCE,
        # Training (QS 6.3): admins publish courses; admin or compliance staff assess.
        Action.CREATE_COURSE: ADMIN,
        Action.ENROL_COURSE: MERCHANT,
        Action.RECORD_ASSESSMENT: allow(Role.STAFF, duties=(StaffDuty.ADMIN, StaffDuty.COMPLIANCE)),
        # Products (QS 7.1.1, 7.1.2) and the merchant's listing.
        Action.SUBMIT_PRODUCT_REVIEW: CONSUMER,
        Action.RECORD_PRODUCT_CERTIFICATE: allow(
            Role.MERCHANT, Role.STAFF, duties=(StaffDuty.COMPLIANCE,)
        ),
        Action.CREATE_PRODUCT: MERCHANT,
        Action.UPDATE_PRODUCT_LISTING: MERCHANT,
        # Qualifications (QS 6.1.1) and onboarding.
        Action.SUBMIT_MERCHANT_LICENCE: MERCHANT,
        Action.SUBMIT_BRAND_REGISTRATION: MERCHANT,
        Action.SUBMIT_DEPOSIT_PAYMENT: MERCHANT,
        Action.REVIEW_SUBMISSION: COMPLIANCE,
        Action.ONBOARD_MERCHANT: ADMIN,
        # After-sales (QS 9.2.1, 9.2.3, 9.7): consumers ask, merchants answer and carry out,
        # customer-service staff answer for merchants that do not and decide what is
        # escalated; payment providers execute refunds.
        Action.SET_ACCESSIBILITY_PROFILE: CONSUMER,
        Action.OPEN_AFTER_SALES_REQUEST: CONSUMER,
        Action.RESPOND_TO_AFTER_SALES_REQUEST: SELLER_OR_SERVICE,
        Action.DECIDE_AFTER_SALES_REQUEST: SELLER_OR_SERVICE,
        Action.WITHDRAW_AFTER_SALES_REQUEST: CONSUMER,
        Action.ESCALATE_AFTER_SALES_REQUEST: allow(
            Role.CONSUMER, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
        ),
        Action.SHIP_RETURN: CONSUMER,
        Action.CONFIRM_RETURN_RECEIVED: SELLER_OR_SERVICE,
        Action.SHIP_REPLACEMENT: MERCHANT,
        Action.CLOSE_AFTER_SALES_REQUEST: allow(
            Role.CONSUMER, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
        ),
        Action.REFUND_PAYMENT: SELLER_OR_SERVICE,
        Action.CONFIRM_REFUND: PAYMENT_PROVIDER,
        # Advance-compensation fund (QS 9.7.6)
        # Admins keep the fund's money, customer service pays consumers first, compliance
        # recovers from the responsible party.
        Action.CONTRIBUTE_TO_FUND: ADMIN,
        Action.REVERSE_FUND_CONTRIBUTION: ADMIN,
        Action.APPROVE_FUND_PAYOUT: CUSTOMER_SERVICE,
        Action.RECORD_FUND_RECOVERY: COMPLIANCE,
        Action.WAIVE_FUND_RECOVERY: COMPLIANCE,
        # Online disputes (QS 9.7.7): the consumer opens and may withdraw; both parties
        # offer, answer the other's offer and may ask for arbitration; customer-service
        # staff, who work the after-sales and complaint queues the subjects come from,
        # arbitrate (never the agent who decided the subject: services/disputes.py); the
        # merchant sends a replacement the outcome awards.
        Action.OPEN_DISPUTE: CONSUMER,
        Action.MAKE_DISPUTE_OFFER: allow(Role.CONSUMER, Role.MERCHANT),
        Action.ACCEPT_DISPUTE_OFFER: allow(Role.CONSUMER, Role.MERCHANT),
        Action.DECLINE_DISPUTE_OFFER: allow(Role.CONSUMER, Role.MERCHANT),
        Action.WITHDRAW_DISPUTE: CONSUMER,
        Action.REQUEST_DISPUTE_ARBITRATION: allow(Role.CONSUMER, Role.MERCHANT),
        Action.ARBITRATE_DISPUTE: CUSTOMER_SERVICE,
        Action.SHIP_DISPUTE_REPLACEMENT: MERCHANT,
        # Bulky goods: installation and trade-in (QS 9.7.5). The consumer books and moves
        # slots and asks trade-ins; the merchant or the visiting carrier (its own rows
        # only, auth/scopes.py) confirms and records the visit; the carrier collects the
        # old item; customer-service staff ask a failed credit again.
        Action.BOOK_INSTALLATION: CONSUMER,
        Action.RESCHEDULE_INSTALLATION: CONSUMER,
        Action.CANCEL_INSTALLATION: CONSUMER,
        Action.CONFIRM_INSTALLATION: SELLER_OR_CARRIER,
        Action.COMPLETE_INSTALLATION: SELLER_OR_CARRIER,
        Action.RECORD_MISSED_INSTALLATION: SELLER_OR_CARRIER,
        Action.REQUEST_TRADE_IN: CONSUMER,
        Action.ACCEPT_TRADE_IN: MERCHANT,
        Action.REJECT_TRADE_IN: SELLER_OR_CARRIER,
        Action.CANCEL_TRADE_IN: CONSUMER,
        Action.RECORD_TRADE_IN_COLLECTED: LOGISTICS_PROVIDER,
        Action.RETRY_TRADE_IN_CREDIT: CUSTOMER_SERVICE,
        # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
        # Whoever receives notifications marks its own read; regulators never write.
        Action.MARK_NOTIFICATION_READ: allow(
            Role.CONSUMER, Role.MERCHANT, Role.SERVICE_PROVIDER, Role.STAFF
        ),
        # Customer-service chat (QS 9.2.2, 9.7.2): consumers, and merchants towards the
        # platform, open sessions and ask for a human in one call; customer-service agents
        # take sessions from the queue, answer, transfer and close. Who may write in one
        # session is its opener and its agent (services/customer_service/sessions.py).
        Action.OPEN_SERVICE_SESSION: SERVICE_CUSTOMERS,
        Action.SEND_SERVICE_MESSAGE: allow(
            Role.CONSUMER, Role.MERCHANT, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
        ),
        Action.REQUEST_HUMAN_AGENT: SERVICE_CUSTOMERS,
        Action.TAKE_SERVICE_SESSION: CUSTOMER_SERVICE,
        Action.TRANSFER_SERVICE_SESSION: CUSTOMER_SERVICE,
        Action.CLOSE_SERVICE_SESSION: allow(
            Role.CONSUMER, Role.MERCHANT, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
        ),
        # The phone queue (QS 9.2.2)
        # Only a contact centre reports call events, of its own calls (auth/scopes.py).
        Action.RECORD_CALL_EVENTS: CONTACT_CENTRE,
        # Staff posts and their qualification (QS 9.3.1-9.3.4): a staff member enrols in
        # training themselves (assessed by admin or compliance staff, never by themselves:
        # services/training.py); admin staff record profiles and assign and end posts
        # (never their own); a staff member holding a post goes on and off duty.
        Action.ENROL_STAFF_COURSE: allow(Role.STAFF),
        Action.SET_STAFF_PROFILE: ADMIN,
        Action.ASSIGN_STAFF_POST: ADMIN,
        Action.END_STAFF_POST: ADMIN,
        Action.SET_ON_DUTY: allow(Role.STAFF),
    }
)


def may(viewer: Viewer, action: Action) -> bool:
    return ACTIONS[action].allows(viewer)


def require(viewer: Viewer, action: Action) -> None:
    """The service's guard: the same entry the field permission checked. Refused as
    NOT_ELIGIBLE, and nothing is changed."""
    if not ACTIONS[action].allows(viewer):
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
