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
