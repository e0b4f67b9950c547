"""Enumerations shared by models, services and the schema (plain Python, no GraphQL)."""

from enum import StrEnum


class Role(StrEnum):
    CONSUMER = "CONSUMER"
    MERCHANT = "MERCHANT"
    SERVICE_PROVIDER = "SERVICE_PROVIDER"
    REGULATOR = "REGULATOR"
    STAFF = "STAFF"


class StaffDuty(StrEnum):
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    COMPLIANCE = "COMPLIANCE"
    ADMIN = "ADMIN"


class ProviderKind(StrEnum):
    LOGISTICS = "LOGISTICS"
    PAYMENT = "PAYMENT"
    # The phone queue (QS 9.2.2): a contact centre runs the platform's human phone service
    # and reports its calls' queue events.
    CONTACT_CENTRE = "CONTACT_CENTRE"


class OrderState(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class PaymentState(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class ShipmentState(StrEnum):
    CREATED = "CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"


class ComplaintState(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    PROMISED = "PROMISED"
    RESOLVED = "RESOLVED"


class FeedbackSubject(StrEnum):
    ORDER = "ORDER"
    MERCHANT = "MERCHANT"
    SERVICE_CASE = "SERVICE_CASE"
    PLATFORM = "PLATFORM"


class ComplaintCategory(StrEnum):
    QUALITY = "QUALITY"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    DELIVERY = "DELIVERY"
    SERVICE = "SERVICE"
    OTHER = "OTHER"


class GradeSubject(StrEnum):
    MERCHANT = "MERCHANT"
    PRODUCT = "PRODUCT"


class WarningState(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"


class WarningLevel(StrEnum):
    WARNING = "WARNING"
    SEVERE = "SEVERE"


class LicenceKind(StrEnum):
    BUSINESS_LICENCE = "BUSINESS_LICENCE"
    FOOD_BUSINESS_LICENCE = "FOOD_BUSINESS_LICENCE"
    COSMETICS_LICENCE = "COSMETICS_LICENCE"
    MOTHER_BABY_PERMIT = "MOTHER_BABY_PERMIT"


class SubmissionState(StrEnum):
    """A record a merchant submits for compliance staff to check (QS 6.1.1): only a
    verified one counts."""

    SUBMITTED = "SUBMITTED"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


class BrandRelation(StrEnum):
    REGISTERED = "REGISTERED"
    AUTHORISED = "AUTHORISED"


class CertificateKind(StrEnum):
    NATIONAL_INSPECTION = "NATIONAL_INSPECTION"
    INDUSTRY_CERTIFICATION = "INDUSTRY_CERTIFICATION"
    BRAND_AUTHORISATION = "BRAND_AUTHORISATION"
    ENVIRONMENTAL_COMPLIANCE = "ENVIRONMENTAL_COMPLIANCE"
    SAFETY_COMPLIANCE = "SAFETY_COMPLIANCE"
    THIRD_PARTY_INSPECTION = "THIRD_PARTY_INSPECTION"


class CertificateResult(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"


class ViolationType(StrEnum):
    COUNTERFEIT = "COUNTERFEIT"
    FAKE_ORDERS = "FAKE_ORDERS"
    FALSE_ADVERTISING = "FALSE_ADVERTISING"
    UNSAFE_PRODUCT = "UNSAFE_PRODUCT"
    OTHER = "OTHER"
    # QS 9.7.6: the fund's recovery of an advance compensation from the merchant, opened by
    # services/fund (never by openViolationCase) so the merchant can appeal it.
    FUND_RECOVERY = "FUND_RECOVERY"


class ViolationState(StrEnum):
    OPEN = "OPEN"
    DECIDED = "DECIDED"
    DISMISSED = "DISMISSED"
    APPEALED = "APPEALED"
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


class Penalty(StrEnum):
    WARNING = "WARNING"
    TRAFFIC_RESTRICTION = "TRAFFIC_RESTRICTION"
    LISTING_FREEZE = "LISTING_FREEZE"
    DEPOSIT_DEDUCTION = "DEPOSIT_DEDUCTION"
    SUSPENSION = "SUSPENSION"


class CourseTopic(StrEnum):
    QUALITY_CONTROL = "QUALITY_CONTROL"
    SUPPLY_CHAIN = "SUPPLY_CHAIN"
    COMPLIANCE = "COMPLIANCE"
    SERVICE = "SERVICE"
    # Staff posts and their qualification (QS 9.3.2, 9.3.4): what customer-service staff
    # are trained and assessed in before they take a post.
    ETIQUETTE = "ETIQUETTE"
    RIGHTS_HANDLING = "RIGHTS_HANDLING"
    ECOMMERCE_LAW = "ECOMMERCE_LAW"


class AfterSalesKind(StrEnum):
    """What a consumer asks for after a sale (QS 9.2.3); each kind has its response limit."""

    REFUND_BEFORE_SHIPMENT = "REFUND_BEFORE_SHIPMENT"
    RETURN_REFUND = "RETURN_REFUND"
    REFUND_ONLY = "REFUND_ONLY"
    EXCHANGE = "EXCHANGE"
    QUALITY_ISSUE = "QUALITY_ISSUE"
    RESHIPMENT = "RESHIPMENT"


class AfterSalesState(StrEnum):
    REQUESTED = "REQUESTED"
    RESPONDED = "RESPONDED"
    ESCALATED = "ESCALATED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RETURN_IN_TRANSIT = "RETURN_IN_TRANSIT"
    RETURN_RECEIVED = "RETURN_RECEIVED"
    REFUNDED = "REFUNDED"
    RESHIPPED = "RESHIPPED"
    EXCHANGED = "EXCHANGED"
    CLOSED = "CLOSED"
    WITHDRAWN = "WITHDRAWN"


class RefundState(StrEnum):
    """A refund is asked of the payment provider, which reports it done or failed."""

    REQUESTED = "REQUESTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class DisputeState(StrEnum):
    """QS 9.7.7: a dispute is settled between its parties, or arbitrated by the platform."""

    OPEN = "OPEN"
    ARBITRATION = "ARBITRATION"
    SETTLED = "SETTLED"
    ARBITRATED = "ARBITRATED"
    WITHDRAWN = "WITHDRAWN"


class DisputeParty(StrEnum):
    CONSUMER = "CONSUMER"
    MERCHANT = "MERCHANT"


class OfferState(StrEnum):
    """A settlement offer is live (PROPOSED) until the other party accepts or declines it,
    its author makes another, or the settlement closes (SUPERSEDED)."""

    PROPOSED = "PROPOSED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    SUPERSEDED = "SUPERSEDED"


class InstallationState(StrEnum):
    """A delivery-with-installation appointment (QS 9.7.5): the consumer proposes a slot,
    the merchant or the installer confirms it, and the visit is completed or missed. A
    confirmed slot the consumer moves is RESCHEDULED until confirmed again."""

    PROPOSED = "PROPOSED"
    CONFIRMED = "CONFIRMED"
    RESCHEDULED = "RESCHEDULED"
    COMPLETED = "COMPLETED"
    MISSED = "MISSED"
    CANCELLED = "CANCELLED"


class TradeInState(StrEnum):
    """An old item traded in against a bulky purchase (QS 9.7.5): asked, its pick-up
    scheduled with the delivery, collected, and its value credited by a refund."""

    REQUESTED = "REQUESTED"
    SCHEDULED = "SCHEDULED"
    COLLECTED = "COLLECTED"
    CREDITED = "CREDITED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class TradeInCondition(StrEnum):
    """The old item's condition as the consumer declares it; the rule values each."""

    WORKING = "WORKING"
    WORN = "WORN"
    BROKEN = "BROKEN"


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
class NotificationKind(StrEnum):
    """Why a notification was sent."""

    # An after-sales request passed its response limit unanswered and went to customer
    # service (QS 9.2.3).
    AFTER_SALES_BREACHED = "AFTER_SALES_BREACHED"
    # A complaint was not resolved by the date promised to the consumer (QS 9.2.4).
    COMPLAINT_OVERDUE = "COMPLAINT_OVERDUE"


# Customer service: chat sessions (QS 9.2.2, 9.7.1, 9.7.2)
class ServiceSessionState(StrEnum):
    """Where a customer-service session stands: the AI answers first (BOT), a handover puts
    it in the agents' queue (WAITING), an agent works it (ACTIVE), then it is CLOSED."""

    BOT = "BOT"
    WAITING = "WAITING"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class HandoverReason(StrEnum):
    """Why a session went to a human (QS 9.7.2)."""

    # The customer asked, with requestHumanAgent or in words the AI recognised.
    REQUESTED = "REQUESTED"
    # The AI was not sure enough of what the customer meant.
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    # The AI failed the customer too many times in a row.
    REPEATED_FAILURE = "REPEATED_FAILURE"
    # An accessibility profile goes straight to a human (QS 9.4.3).
    ACCESSIBILITY = "ACCESSIBILITY"
    # Sent back to the queue by an agent.
    TRANSFERRED = "TRANSFERRED"


class MessageAuthor(StrEnum):
    CUSTOMER = "CUSTOMER"
    AI = "AI"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"


# The phone queue (QS 9.2.2)
class CallEventKind(StrEnum):
    """What a contact centre reports of a call: it joined a queue, an agent answered it,
    the caller hung up before an answer (abandoned), or it ended."""

    QUEUED = "QUEUED"
    ANSWERED = "ANSWERED"
    ABANDONED = "ABANDONED"
    ENDED = "ENDED"


# Intent recognition (QS 9.7.1)
class Intent(StrEnum):
    """What a customer's message to customer service is about, as the intent recogniser
    (services/intents/) reads it. There is no OTHER: the recogniser always names its best
    intent with a confidence, and the caller decides below which confidence it does not
    trust it (QS 9.7.2: a low-confidence answer hands over to a human)."""

    REFUND = "REFUND"
    RETURN_EXCHANGE = "RETURN_EXCHANGE"
    LOGISTICS_STATUS = "LOGISTICS_STATUS"
    QUALITY_ISSUE = "QUALITY_ISSUE"
    PAYMENT_ISSUE = "PAYMENT_ISSUE"
    INVOICE = "INVOICE"
    ACCOUNT = "ACCOUNT"
    PRODUCT_INQUIRY = "PRODUCT_INQUIRY"
    HUMAN_AGENT = "HUMAN_AGENT"
    COMPLAINT = "COMPLAINT"
    ADDRESS_CHANGE = "ADDRESS_CHANGE"


# Staff posts and their qualification (QS 9.3.1-9.3.4)
class Post(StrEnum):
    """A quality-service post (QS 9.3.1). What each one does, the staff duty it needs, the
    training it needs passed and the experience of a key post are the published rule
    ``customer_service.posts``."""

    ONLINE_SERVICE = "ONLINE_SERVICE"
    PHONE_SERVICE = "PHONE_SERVICE"
    COMPLAINT_HANDLING = "COMPLAINT_HANDLING"
    ADVANCE_COMPENSATION = "ADVANCE_COMPENSATION"
    SENIOR_SUPPORT = "SENIOR_SUPPORT"
    QUALITY_SUPERVISION = "QUALITY_SUPERVISION"
