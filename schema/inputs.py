"""Mutation inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pinzhi.schema.after_sales import ReturnShipment
from pinzhi.schema.base import UserError
from pinzhi.schema.enums import ComplaintCategory, FeedbackSubject, ShipmentState
from pinzhi.schema.feedback import Feedback
from pinzhi.schema.orders import Order, Payment, Shipment, TrackingEvent
from pinzhi.schema.service import Complaint


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RegisterConsumerInput:
    email: str
    password: str
    name: str
    phone: str


@strawberry.input
class OrderLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class RecipientInput:
    name: str
    phone: str
    address: str


@strawberry.input
class PlaceOrderInput:
    lines: list[OrderLineInput]
    recipient: RecipientInput
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="8–64 characters chosen by the client per order it means to place: a "
        "resubmission with the same key returns the first order (`replayed: true`) instead "
        "of reserving stock again; the same key with other lines or recipient is refused "
        "(IDEMPOTENCY_KEY_REUSED). Strongly recommended.",
    )


@strawberry.input
class PayOrderInput:
    order_id: strawberry.ID
    provider_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description="8–64 characters chosen by the client; a retry with the same key returns "
        "the same payment instead of paying twice."
    )


@strawberry.input
class ConfirmPaymentInput:
    payment_id: strawberry.ID
    succeeded: bool
    provider_reference: str


@strawberry.input
class ShipOrderInput:
    order_id: strawberry.ID
    provider_id: strawberry.ID
    tracking_number: str


@strawberry.input
class RecordTrackingEventInput:
    shipment_id: strawberry.ID = strawberry.field(
        description="A Shipment's id, or a ReturnShipment's for goods coming back."
    )
    event_id: str = strawberry.field(description="The carrier's own id; replays are no-ops.")
    status: ShipmentState
    occurred_at: datetime
    location: str = ""
    description: str = ""


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str = ""


@strawberry.input
class FileComplaintInput:
    description: str
    category: ComplaintCategory = strawberry.field(
        description="What it is about; quality and not-as-described complaints about an order "
        "count in the product's grade once upheld."
    )
    order_id: strawberry.ID | None = None
    merchant_id: strawberry.ID | None = None


@strawberry.input
class HandleComplaintInput:
    complaint_id: strawberry.ID
    resolution: str | None = strawberry.field(default=None, description="Resolve now, on the spot.")
    delay_reason: str | None = strawberry.field(
        default=None, description="Why it cannot be solved now (with promisedBy)."
    )
    promised_by: datetime | None = strawberry.field(
        default=None, description="When the result will be given; within the rule's limit."
    )
    upheld: bool | None = strawberry.field(
        default=None,
        description="Required with a resolution: whether the consumer was right. Only an "
        "upheld complaint counts against the merchant's and the product's grade.",
    )
    category: ComplaintCategory | None = strawberry.field(
        default=None,
        description="With a resolution: the category as found, if the consumer's "
        "was wrong (traced).",
    )


@strawberry.input
class SubmitFeedbackInput:
    subject_type: FeedbackSubject
    subject_id: strawberry.ID | None = strawberry.field(
        default=None, description="The order, merchant or complaint; omit for PLATFORM."
    )
    score: int
    comment: str = ""


REPLAYED = "True when this repeats an earlier request's result, changing nothing."


@strawberry.type
class OrderPayload:
    order: Order | None = None
    replayed: bool = strawberry.field(default=False, description=REPLAYED)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentPayload:
    payment: Payment | None = None
    created: bool = strawberry.field(
        default=False, description="False when an earlier payment was returned for the key."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None = None
    return_shipment: ReturnShipment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TrackingEventPayload:
    event: TrackingEvent | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when this event id had been recorded already with the same "
        "details: nothing changed.",
    )
    shipment: Shipment | None = None
    return_shipment: ReturnShipment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ComplaintPayload:
    complaint: Complaint | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FeedbackPayload:
    feedback: Feedback | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
