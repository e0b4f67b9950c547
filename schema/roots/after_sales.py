"""After-sales: requests, the queue, returns and refunds (QS 9.2.1, 9.2.3, 9.7.3-9.7.5)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import scope
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window, queue_page
from pinzhi.schema.after_sales import AfterSalesRequest, Refund, ReturnShipment
from pinzhi.schema.base import Connection, UserError, attempt, pk_of, pk_or_missing
from pinzhi.schema.enums import AfterSalesKind, AfterSalesState, RefundState, ShipmentState
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.orders import Payment
from pinzhi.services import after_sales, refunds, returns
from pinzhi.services.after_sales import FINISHED, LineClaim

# What the queue holds: requests that still wait on the merchant or on service staff.
QUEUED = [s for s in models.AfterSalesState if s not in FINISHED | after_sales.CLOSABLE]


# --- Inputs and payloads -------------------------------------------------------------------


@strawberry.input(description="An order line and how many of it; all of the order by default.")
class AfterSalesLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input
class OpenAfterSalesRequestInput:
    order_id: strawberry.ID
    kind: AfterSalesKind
    reason: str = strawberry.field(description="2-200 characters.")
    amount_minor: int = strawberry.field(
        description="The money asked back, in fen: at most what was paid less what was "
        "refunded, and the lines' value; 0 for an exchange or a re-shipment."
    )
    description: str = ""
    evidence: list[str] = strawberry.field(
        default_factory=list, description="References to uploaded photos (at most 9)."
    )
    lines: list[AfterSalesLineInput] | None = strawberry.field(
        default=None, description="The lines concerned; every line of the order if omitted."
    )


@strawberry.input
class RespondToAfterSalesRequestInput:
    request_id: strawberry.ID
    note: str


@strawberry.input
class DecideAfterSalesRequestInput:
    request_id: strawberry.ID
    approve: bool
    note: str = strawberry.field(default="", description="Required (2+ characters) to reject.")


@strawberry.input
class EscalateAfterSalesRequestInput:
    request_id: strawberry.ID
    reason: str


@strawberry.input(description="A carrier and its tracking number for goods on their way.")
class AfterSalesShipmentInput:
    request_id: strawberry.ID
    provider_id: strawberry.ID
    tracking_number: str


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    amount_minor: int = strawberry.field(description="In fen; at most what is refundable.")
    reason: str
    idempotency_key: str = strawberry.field(
        description="8-64 characters, no ':', per payment: a replay returns the first refund."
    )
    request_id: strawberry.ID | None = strawberry.field(
        default=None, description="The order's after-sales request this refund settles."
    )


@strawberry.input
class ConfirmRefundInput:
    refund_id: strawberry.ID
    succeeded: bool
    provider_reference: str


@strawberry.type
class AfterSalesRequestPayload:
    request: AfterSalesRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReturnShipmentPayload:
    return_shipment: ReturnShipment | None = None
    request: AfterSalesRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RefundPayload:
    refund: Refund | None = None
    payment: Payment | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when this key (or report) had been sent before: nothing changed.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- Lists ---------------------------------------------------------------------------------


async def after_sales_request_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: AfterSalesState | None = None,
    kind: AfterSalesKind | None = None,
    order_id: strawberry.ID | None = None,
) -> Connection[AfterSalesRequest]:
    found = await scoped_page(
        info.context.viewer,
        models.AfterSalesRequest,
        Window(first, after, last, before),
        state=state,
        kind=kind,
        order_id=id_filter(order_id, "Order"),
    )
    return Connection.of(found, [AfterSalesRequest.from_row(r) for r in found.rows])


async def after_sales_queue(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    state: AfterSalesState | None = None,
) -> Connection[AfterSalesRequest]:
    query = scope(info.context.viewer, models.AfterSalesRequest).filter(
        state__in=[state] if state is not None else QUEUED
    )
    found = await queue_page(query, first, after)
    return Connection.of(found, [AfterSalesRequest.from_row(r) for r in found.rows])


async def refund_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: RefundState | None = None,
) -> Connection[Refund]:
    found = await scoped_page(
        info.context.viewer, models.Refund, Window(first, after, last, before), state=state
    )
    return Connection.of(found, [Refund.from_row(r) for r in found.rows])


async def return_shipment_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: ShipmentState | None = None,
) -> Connection[ReturnShipment]:
    found = await scoped_page(
        info.context.viewer, models.ReturnShipment, Window(first, after, last, before), state=state
    )
    return Connection.of(found, [ReturnShipment.from_row(r) for r in found.rows])


# --- Mutations -----------------------------------------------------------------------------


def _request_payload(
    row: models.AfterSalesRequest | None, errors: list[UserError]
) -> AfterSalesRequestPayload:
    return AfterSalesRequestPayload(
        request=AfterSalesRequest.from_row(row) if row else None, errors=errors
    )


async def open_after_sales_request(
    info: Info, input: OpenAfterSalesRequestInput
) -> AfterSalesRequestPayload:
    lines = (
        None
        if input.lines is None
        else [LineClaim(pk_of(ln.order_line_id, "OrderLine"), ln.quantity) for ln in input.lines]
    )
    row, errors = await attempt(
        info,
        after_sales.open_request(
            info.context.viewer,
            pk_of(input.order_id, "Order"),
            models.AfterSalesKind(input.kind),
            input.reason,
            amount_minor=input.amount_minor,
            description=input.description,
            evidence=input.evidence,
            lines=lines,
        ),
    )
    return _request_payload(row, errors)


def _request_pk(request_id: strawberry.ID) -> int:
    return pk_or_missing(request_id, "AfterSalesRequest")


async def respond_to_after_sales_request(
    info: Info, input: RespondToAfterSalesRequestInput
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info, after_sales.respond(info.context.viewer, _request_pk(input.request_id), input.note)
    )
    return _request_payload(row, errors)


async def decide_after_sales_request(
    info: Info, input: DecideAfterSalesRequestInput
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info,
        after_sales.decide(
            info.context.viewer, _request_pk(input.request_id), input.approve, input.note
        ),
    )
    return _request_payload(row, errors)


async def withdraw_after_sales_request(
    info: Info, request_id: strawberry.ID
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info, after_sales.withdraw(info.context.viewer, _request_pk(request_id))
    )
    return _request_payload(row, errors)


async def escalate_after_sales_request(
    info: Info, input: EscalateAfterSalesRequestInput
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info,
        after_sales.escalate(info.context.viewer, _request_pk(input.request_id), input.reason),
    )
    return _request_payload(row, errors)


async def close_after_sales_request(
    info: Info, request_id: strawberry.ID
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info, after_sales.close(info.context.viewer, _request_pk(request_id))
    )
    return _request_payload(row, errors)


async def confirm_return_received(
    info: Info, request_id: strawberry.ID
) -> AfterSalesRequestPayload:
    row, errors = await attempt(
        info, returns.confirm_received(info.context.viewer, _request_pk(request_id))
    )
    return _request_payload(row, errors)


async def _shipment_payload(
    info: Info, row: models.ReturnShipment | None, errors: list[UserError]
) -> ReturnShipmentPayload:
    if row is None:
        return ReturnShipmentPayload(errors=errors)
    request = await models.AfterSalesRequest.get(id=row.request_id)
    return ReturnShipmentPayload(
        return_shipment=ReturnShipment.from_row(row), request=AfterSalesRequest.from_row(request)
    )


async def ship_return(info: Info, input: AfterSalesShipmentInput) -> ReturnShipmentPayload:
    row, errors = await attempt(
        info,
        returns.ship_return(
            info.context.viewer,
            _request_pk(input.request_id),
            pk_of(input.provider_id, "ServiceProvider"),
            input.tracking_number,
        ),
    )
    return await _shipment_payload(info, row, errors)


async def ship_replacement(info: Info, input: AfterSalesShipmentInput) -> ReturnShipmentPayload:
    row, errors = await attempt(
        info,
        returns.ship_replacement(
            info.context.viewer,
            _request_pk(input.request_id),
            pk_of(input.provider_id, "ServiceProvider"),
            input.tracking_number,
        ),
    )
    return await _shipment_payload(info, row, errors)


async def _refund_payload(
    row: models.Refund | None, errors: list[UserError], replayed: bool = False
) -> RefundPayload:
    if row is None:
        return RefundPayload(errors=errors)
    payment = await models.Payment.get(id=row.payment_id)
    return RefundPayload(
        refund=Refund.from_row(row), payment=Payment.from_row(payment), replayed=replayed
    )


async def refund_payment(info: Info, input: RefundPaymentInput) -> RefundPayload:
    request_pk = None if input.request_id is None else _request_pk(input.request_id)
    asked, errors = await attempt(
        info,
        refunds.refund_payment(
            info.context.viewer,
            pk_or_missing(input.payment_id, "Payment"),
            input.amount_minor,
            input.reason,
            input.idempotency_key,
            request_pk,
        ),
    )
    if asked is None:
        return RefundPayload(errors=errors)
    return await _refund_payload(asked.refund, errors, asked.replayed)


async def confirm_refund(info: Info, input: ConfirmRefundInput) -> RefundPayload:
    result, errors = await attempt(
        info,
        refunds.confirm_refund(
            info.context.viewer,
            pk_or_missing(input.refund_id, "Refund"),
            input.succeeded,
            input.provider_reference,
        ),
    )
    if result is None:
        return RefundPayload(errors=errors)
    row, replayed = result
    return await _refund_payload(row, errors, replayed)


@strawberry.type
class AfterSalesQuery:
    after_sales_requests = field(
        after_sales_request_list,
        policy.READERS,
        description="After-sales requests in the viewer's scope, newest first.",
    )
    after_sales_queue = field(
        after_sales_queue,
        policy.AFTER_SALES_WORKERS,
        description="Requests waiting on the merchant or on service staff, in the published "
        "queue order (QS 9.2.1): priority, then the nearest response deadline, then the oldest.",
    )
    refunds = field(refund_list, policy.READERS, description="Refunds in the viewer's scope.")
    return_shipments = field(
        return_shipment_list,
        policy.READERS,
        description="Returns and replacements in the viewer's scope.",
    )


@strawberry.type
class AfterSalesMutation:
    open_after_sales_request = mutation(
        open_after_sales_request,
        Action.OPEN_AFTER_SALES_REQUEST,
        description="Open an after-sales request on lines of one's order; it is held to its "
        "kind's response limit from now (QS 9.2.3).",
    )
    respond_to_after_sales_request = mutation(
        respond_to_after_sales_request,
        Action.RESPOND_TO_AFTER_SALES_REQUEST,
        description="Answer a request; the first answer stamps its response time.",
    )
    decide_after_sales_request = mutation(
        decide_after_sales_request,
        Action.DECIDE_AFTER_SALES_REQUEST,
        description="Approve or reject; an approval of a refund asks the payment provider.",
    )
    withdraw_after_sales_request = mutation(
        withdraw_after_sales_request, Action.WITHDRAW_AFTER_SALES_REQUEST
    )
    escalate_after_sales_request = mutation(
        escalate_after_sales_request,
        Action.ESCALATE_AFTER_SALES_REQUEST,
        description="Hand a request to customer service: a consumer once its limit passed "
        "unanswered, service staff at any time.",
    )
    ship_return = mutation(ship_return, Action.SHIP_RETURN)
    confirm_return_received = mutation(confirm_return_received, Action.CONFIRM_RETURN_RECEIVED)
    ship_replacement = mutation(ship_replacement, Action.SHIP_REPLACEMENT)
    close_after_sales_request = mutation(
        close_after_sales_request, Action.CLOSE_AFTER_SALES_REQUEST
    )
    refund_payment = mutation(
        refund_payment,
        Action.REFUND_PAYMENT,
        description="Refund part or all of a captured payment; never more than was captured.",
    )
    confirm_refund = mutation(confirm_refund, Action.CONFIRM_REFUND)
