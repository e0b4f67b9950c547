"""Tortoise models, one module per graph. Nothing here imports GraphQL."""

from pinzhi.models.accounts import Account, ApiKey, RefreshToken, ServiceProvider
from pinzhi.models.catalog import Merchant, Product
from pinzhi.models.enums import (
    ComplaintState,
    FeedbackSubject,
    OrderState,
    PaymentState,
    ProviderKind,
    Role,
    ShipmentState,
    StaffDuty,
)
from pinzhi.models.governance import AuditEvent, PiiAccessLog, PlatformRule
from pinzhi.models.orders import Order, OrderLine, Payment, Shipment, TrackingEvent
from pinzhi.models.service import Complaint, Feedback

__models__ = [
    Account,
    ApiKey,
    AuditEvent,
    Complaint,
    Feedback,
    Merchant,
    Order,
    OrderLine,
    Payment,
    PiiAccessLog,
    PlatformRule,
    Product,
    RefreshToken,
    ServiceProvider,
    Shipment,
    TrackingEvent,
]

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Complaint",
    "ComplaintState",
    "Feedback",
    "FeedbackSubject",
    "Merchant",
    "Order",
    "OrderLine",
    "OrderState",
    "Payment",
    "PaymentState",
    "PiiAccessLog",
    "PlatformRule",
    "Product",
    "ProviderKind",
    "RefreshToken",
    "Role",
    "ServiceProvider",
    "Shipment",
    "ShipmentState",
    "StaffDuty",
    "TrackingEvent",
]
