"""The model enumerations, exposed to GraphQL under their own names."""

import strawberry

from pinzhi import models

Role = strawberry.enum(models.Role)
StaffDuty = strawberry.enum(models.StaffDuty)
ProviderKind = strawberry.enum(models.ProviderKind)
OrderState = strawberry.enum(models.OrderState)
PaymentState = strawberry.enum(models.PaymentState)
ShipmentState = strawberry.enum(models.ShipmentState)
ComplaintState = strawberry.enum(models.ComplaintState)
FeedbackSubject = strawberry.enum(models.FeedbackSubject)
