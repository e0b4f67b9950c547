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
