"""The model enumerations, exposed to GraphQL under their own names."""

from enum import Enum

import strawberry

from pinzhi import models

Role = models.Role
StaffDuty = models.StaffDuty
ProviderKind = models.ProviderKind
OrderState = models.OrderState
PaymentState = models.PaymentState
ShipmentState = models.ShipmentState
ComplaintState = models.ComplaintState
ComplaintCategory = models.ComplaintCategory
strawberry.enum(
    ComplaintCategory,
    description="What a complaint is about: QUALITY (the product's quality), NOT_AS_DESCRIBED "
    "(differs from its listing), DELIVERY, SERVICE, OTHER (QS 6.1.1, 7.1.1).",
)
FeedbackSubject = models.FeedbackSubject
ViolationType = models.ViolationType
ViolationState = models.ViolationState
Penalty = models.Penalty
CourseTopic = models.CourseTopic
CertificateKind = models.CertificateKind
CertificateResult = models.CertificateResult
WarningState = models.WarningState
WarningLevel = models.WarningLevel
AfterSalesKind = models.AfterSalesKind
strawberry.enum(
    AfterSalesKind,
    description="What an after-sales request asks for (QS 9.2.3): REFUND_BEFORE_SHIPMENT "
    "(answered within 1 hour by default), RETURN_REFUND and REFUND_ONLY (no return, after "
    "delivery) and EXCHANGE (24 hours), QUALITY_ISSUE and RESHIPMENT (36 hours). The limits "
    "are the after_sales.response rule.",
)
AfterSalesState = models.AfterSalesState
RefundState = models.RefundState
# Bulky goods: installation and trade-in (QS 9.7.5)
InstallationState = models.InstallationState
strawberry.enum(
    InstallationState,
    description="An installation appointment (QS 9.7.5): PROPOSED by the consumer, CONFIRMED "
    "by the merchant or the provider that visits, RESCHEDULED when the consumer moves a "
    "confirmed slot (confirmed again), then COMPLETED or MISSED; or CANCELLED.",
)
TradeInState = models.TradeInState
strawberry.enum(
    TradeInState,
    description="A trade-in (QS 9.7.5): REQUESTED, SCHEDULED (collected with the delivery), "
    "COLLECTED (its credit asked as a refund), CREDITED (the refund made); or REJECTED, "
    "CANCELLED.",
)
TradeInCondition = models.TradeInCondition
strawberry.enum(
    TradeInCondition,
    description="The old item's declared condition; the bulky_goods rule gives each a share "
    "of the category's credit.",
)
DisputeState = models.DisputeState
strawberry.enum(
    DisputeState,
    description="A quality dispute (QS 9.7.7): OPEN while the parties may settle, "
    "ARBITRATION once the settlement period ended (or both parties asked), SETTLED by an "
    "accepted offer, ARBITRATED by customer-service staff, WITHDRAWN by the consumer.",
)
DisputeParty = models.DisputeParty
OfferState = models.OfferState
strawberry.enum(
    OfferState,
    description="A settlement offer: PROPOSED (live), ACCEPTED, DECLINED, or SUPERSEDED "
    "(its author made another, or the settlement ended).",
)


# strawberry.enum marks a class in place and returns it: each name above is the model's
# enumeration itself (an alias, so type checkers read it as the type it is), exposed under
# its own name.
for _enum in (
    Role,
    StaffDuty,
    ProviderKind,
    OrderState,
    PaymentState,
    ShipmentState,
    ComplaintState,
    FeedbackSubject,
    ViolationType,
    ViolationState,
    Penalty,
    CourseTopic,
    CertificateKind,
    CertificateResult,
    WarningState,
    WarningLevel,
    AfterSalesState,
    RefundState,
    DisputeParty,
):
    strawberry.enum(_enum)


@strawberry.enum(description="The order of the products list (QS 7.2).")
class ProductOrder(Enum):
    RANK = strawberry.enum_value(
        "RANK", description="Higher grades first (the published ranking), then newest."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Newest first.")


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
NotificationKind = models.NotificationKind
strawberry.enum(
    NotificationKind,
    description="Why a notification was sent: AFTER_SALES_BREACHED (a request passed its "
    "response limit unanswered and went to customer service, QS 9.2.3), COMPLAINT_OVERDUE "
    "(a complaint was not resolved by its promised date, QS 9.2.4).",
)

# Customer-service chat (QS 9.2.2, 9.7.2)
ServiceSessionState = models.ServiceSessionState
HandoverReason = models.HandoverReason
MessageAuthor = models.MessageAuthor
strawberry.enum(
    ServiceSessionState,
    description="BOT: the AI answers; WAITING: in the agents' queue after a handover; "
    "ACTIVE: an agent works it; CLOSED.",
)
strawberry.enum(
    HandoverReason,
    description="Why a session went to a human (QS 9.7.2): REQUESTED by the customer, "
    "LOW_CONFIDENCE of the AI, REPEATED_FAILURE of the AI, ACCESSIBILITY profile (QS 9.4.3), "
    "TRANSFERRED back to the queue by an agent.",
)
strawberry.enum(MessageAuthor, description="Who wrote a message: CUSTOMER, AI, AGENT, SYSTEM.")

# Intent recognition (QS 9.7.1)
Intent = models.enums.Intent
strawberry.enum(
    Intent,
    description="What a customer's message is about (QS 9.7.1): REFUND (the money back), "
    "RETURN_EXCHANGE (sending goods back or swapping them), LOGISTICS_STATUS (where the "
    "order is), QUALITY_ISSUE (defective, damaged, fake or not as described, even when a "
    "refund is asked), PAYMENT_ISSUE, INVOICE, ACCOUNT, PRODUCT_INQUIRY (questions about "
    "goods), HUMAN_AGENT (asking for a person), COMPLAINT (about a merchant, courier or the "
    "service), ADDRESS_CHANGE (where or to whom the order goes).",
)

# Staff posts and their qualification (QS 9.3.1-9.3.4)
Post = models.Post
strawberry.enum(
    Post,
    description="A quality-service post (QS 9.3.1). Its duties, the staff duty, training and "
    "experience it needs are the customer_service.posts rule; COMPLAINT_HANDLING, "
    "ADVANCE_COMPENSATION and SENIOR_SUPPORT are key posts (QS 9.3.4: at least 12 months of "
    "relevant experience and the ECOMMERCE_LAW assessment by default).",
)
