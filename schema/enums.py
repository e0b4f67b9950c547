"""The model enumerations, exposed to GraphQL under their own names."""

from enum import Enum

import strawberry

from pinzhi import models

Role = strawberry.enum(models.Role)
StaffDuty = strawberry.enum(models.StaffDuty)
ProviderKind = strawberry.enum(models.ProviderKind)
OrderState = strawberry.enum(models.OrderState)
PaymentState = strawberry.enum(models.PaymentState)
ShipmentState = strawberry.enum(models.ShipmentState)
ComplaintState = strawberry.enum(models.ComplaintState)
ComplaintCategory = strawberry.enum(
    models.ComplaintCategory,
    description="What a complaint is about: QUALITY (the product's quality), NOT_AS_DESCRIBED "
    "(differs from its listing), DELIVERY, SERVICE, OTHER (QS 6.1.1, 7.1.1).",
)
FeedbackSubject = strawberry.enum(models.FeedbackSubject)
ViolationType = strawberry.enum(models.ViolationType)
ViolationState = strawberry.enum(models.ViolationState)
Penalty = strawberry.enum(models.Penalty)
CourseTopic = strawberry.enum(models.CourseTopic)
CertificateKind = strawberry.enum(models.CertificateKind)
CertificateResult = strawberry.enum(models.CertificateResult)
WarningState = strawberry.enum(models.WarningState)
WarningLevel = strawberry.enum(models.WarningLevel)


@strawberry.enum(description="The order of the products list (QS 7.2).")
class ProductOrder(Enum):
    RANK = strawberry.enum_value(
        "RANK", description="Higher grades first (the published ranking), then newest."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Newest first.")
