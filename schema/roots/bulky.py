"""Bulky goods: installation appointments and trade-ins (QS 9.7.5)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.base import Connection, UserError, attempt, pk_of, pk_or_missing
from pinzhi.schema.bulky import InstallationAppointment, InstallationSlot, TradeIn
from pinzhi.schema.enums import InstallationState, TradeInCondition, TradeInState
from pinzhi.schema.fields import field, mutation
from pinzhi.services import bulky
from pinzhi.services import trade_ins as trade_in_service

# --- Inputs and payloads -------------------------------------------------------------------


@strawberry.input
class BookInstallationInput:
    order_line_id: strawberry.ID = strawberry.field(
        description="A line of one's paid order whose product is bulky."
    )
    slot_start: datetime = strawberry.field(
        description="The start of one of the rule's slots (see installationSlots)."
    )
    note: str = strawberry.field(default="", description="For the visit: floor, lift, ...")


@strawberry.input
class RescheduleInstallationInput:
    appointment_id: strawberry.ID
    slot_start: datetime


@strawberry.input
class CancelInstallationInput:
    appointment_id: strawberry.ID
    reason: str = ""


@strawberry.input
class ConfirmInstallationInput:
    appointment_id: strawberry.ID
    provider_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Merchants only: the logistics provider that visits; by default the "
        "order's carrier (required before the order ships).",
    )


@strawberry.input
class CompleteInstallationInput:
    appointment_id: strawberry.ID
    note: str = ""


@strawberry.input
class RecordMissedInstallationInput:
    appointment_id: strawberry.ID
    reason: str = strawberry.field(description="2-500 characters.")


@strawberry.input
class RequestTradeInInput:
    order_line_id: strawberry.ID = strawberry.field(
        description="A bulky line of one's order, paid and not yet delivered."
    )
    condition: TradeInCondition
    description: str = strawberry.field(description="The old item, 2-200 characters.")


@strawberry.input
class AcceptTradeInInput:
    trade_in_id: strawberry.ID
    provider_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The logistics provider that collects the old item; by default the "
        "order's carrier (required before the order ships).",
    )


@strawberry.input
class RejectTradeInInput:
    trade_in_id: strawberry.ID
    reason: str = strawberry.field(description="2-500 characters.")


@strawberry.input
class RecordTradeInCollectedInput:
    trade_in_id: strawberry.ID
    event_id: str = strawberry.field(description="The carrier's own id for the collection.")
    collected_at: datetime


@strawberry.type
class InstallationAppointmentPayload:
    appointment: InstallationAppointment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TradeInPayload:
    trade_in: TradeIn | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when the collection had already been recorded: nothing changed.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- Lists ---------------------------------------------------------------------------------


async def installation_appointment_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: InstallationState | None = None,
    order_id: strawberry.ID | None = None,
) -> Connection[InstallationAppointment]:
    found = await scoped_page(
        info.context.viewer,
        models.InstallationAppointment,
        Window(first, after, last, before),
        state=state,
        order_id=id_filter(order_id, "Order"),
    )
    return Connection.of(found, [InstallationAppointment.from_row(r) for r in found.rows])


async def trade_in_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: TradeInState | None = None,
    order_id: strawberry.ID | None = None,
) -> Connection[TradeIn]:
    found = await scoped_page(
        info.context.viewer,
        models.TradeIn,
        Window(first, after, last, before),
        state=state,
        order_id=id_filter(order_id, "Order"),
    )
    return Connection.of(found, [TradeIn.from_row(r) for r in found.rows])


async def installation_slots(info: Info) -> list[InstallationSlot]:
    return [InstallationSlot(start=s, end=e) for s, e in await bulky.bookable_slots()]


# --- Mutations -----------------------------------------------------------------------------


def _appointment_pk(appointment_id: strawberry.ID) -> int:
    return pk_or_missing(appointment_id, "InstallationAppointment")


def _trade_in_pk(trade_in_id: strawberry.ID) -> int:
    return pk_or_missing(trade_in_id, "TradeIn")


def _provider_pk(provider_id: strawberry.ID | None) -> int | None:
    return None if provider_id is None else pk_or_missing(provider_id, "ServiceProvider")


def _appointment_payload(
    row: models.InstallationAppointment | None, errors: list[UserError]
) -> InstallationAppointmentPayload:
    return InstallationAppointmentPayload(
        appointment=InstallationAppointment.from_row(row) if row else None, errors=errors
    )


def _trade_in_payload(
    row: models.TradeIn | None, errors: list[UserError], replayed: bool = False
) -> TradeInPayload:
    return TradeInPayload(
        trade_in=TradeIn.from_row(row) if row else None, replayed=replayed, errors=errors
    )


async def book_installation(
    info: Info, input: BookInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.book(
            info.context.viewer,
            pk_of(input.order_line_id, "OrderLine"),
            input.slot_start,
            input.note,
        ),
    )
    return _appointment_payload(row, errors)


async def reschedule_installation(
    info: Info, input: RescheduleInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.reschedule(
            info.context.viewer, _appointment_pk(input.appointment_id), input.slot_start
        ),
    )
    return _appointment_payload(row, errors)


async def cancel_installation(
    info: Info, input: CancelInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.cancel(info.context.viewer, _appointment_pk(input.appointment_id), input.reason),
    )
    return _appointment_payload(row, errors)


async def confirm_installation(
    info: Info, input: ConfirmInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.confirm(
            info.context.viewer,
            _appointment_pk(input.appointment_id),
            _provider_pk(input.provider_id),
        ),
    )
    return _appointment_payload(row, errors)


async def complete_installation(
    info: Info, input: CompleteInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.complete(info.context.viewer, _appointment_pk(input.appointment_id), input.note),
    )
    return _appointment_payload(row, errors)


async def record_missed_installation(
    info: Info, input: RecordMissedInstallationInput
) -> InstallationAppointmentPayload:
    row, errors = await attempt(
        info,
        bulky.record_missed(
            info.context.viewer, _appointment_pk(input.appointment_id), input.reason
        ),
    )
    return _appointment_payload(row, errors)


async def request_trade_in(info: Info, input: RequestTradeInInput) -> TradeInPayload:
    row, errors = await attempt(
        info,
        trade_in_service.request(
            info.context.viewer,
            pk_of(input.order_line_id, "OrderLine"),
            models.TradeInCondition(input.condition),
            input.description,
        ),
    )
    return _trade_in_payload(row, errors)


async def accept_trade_in(info: Info, input: AcceptTradeInInput) -> TradeInPayload:
    row, errors = await attempt(
        info,
        trade_in_service.accept(
            info.context.viewer, _trade_in_pk(input.trade_in_id), _provider_pk(input.provider_id)
        ),
    )
    return _trade_in_payload(row, errors)


async def reject_trade_in(info: Info, input: RejectTradeInInput) -> TradeInPayload:
    row, errors = await attempt(
        info,
        trade_in_service.reject(info.context.viewer, _trade_in_pk(input.trade_in_id), input.reason),
    )
    return _trade_in_payload(row, errors)


async def cancel_trade_in(info: Info, trade_in_id: strawberry.ID) -> TradeInPayload:
    row, errors = await attempt(
        info, trade_in_service.cancel(info.context.viewer, _trade_in_pk(trade_in_id))
    )
    return _trade_in_payload(row, errors)


async def record_trade_in_collected(
    info: Info, input: RecordTradeInCollectedInput
) -> TradeInPayload:
    result, errors = await attempt(
        info,
        trade_in_service.record_collected(
            info.context.viewer,
            _trade_in_pk(input.trade_in_id),
            input.event_id,
            input.collected_at,
        ),
    )
    if result is None:
        return _trade_in_payload(None, errors)
    row, replayed = result
    return _trade_in_payload(row, errors, replayed)


async def retry_trade_in_credit(info: Info, trade_in_id: strawberry.ID) -> TradeInPayload:
    row, errors = await attempt(
        info, trade_in_service.retry_credit(info.context.viewer, _trade_in_pk(trade_in_id))
    )
    return _trade_in_payload(row, errors)


@strawberry.type
class BulkyQuery:
    installation_appointments = field(
        installation_appointment_list,
        policy.READERS,
        description="Installation appointments in the viewer's scope, newest first (QS 9.7.5).",
    )
    trade_ins = field(
        trade_in_list,
        policy.READERS,
        description="Trade-ins in the viewer's scope, newest first (QS 9.7.5).",
    )
    installation_slots = field(
        installation_slots,
        policy.READERS,
        description="The installation slots that may be booked now, earliest first, by the "
        "bulky_goods rule in force.",
    )


@strawberry.type
class BulkyMutation:
    book_installation = mutation(
        book_installation,
        Action.BOOK_INSTALLATION,
        description="Book delivery with installation for a bulky line of one's paid order "
        "(QS 9.7.5): a slot of the bulky_goods rule, within its booking window.",
    )
    reschedule_installation = mutation(
        reschedule_installation,
        Action.RESCHEDULE_INSTALLATION,
        description="Move the slot, until the rule's cut-off before it; a confirmed slot "
        "moved needs confirming again.",
    )
    cancel_installation = mutation(cancel_installation, Action.CANCEL_INSTALLATION)
    confirm_installation = mutation(
        confirm_installation,
        Action.CONFIRM_INSTALLATION,
        description="Confirm the slot, as the merchant or the provider that visits.",
    )
    complete_installation = mutation(
        complete_installation,
        Action.COMPLETE_INSTALLATION,
        description="Record the goods delivered and installed (once the slot has begun).",
    )
    record_missed_installation = mutation(
        record_missed_installation,
        Action.RECORD_MISSED_INSTALLATION,
        description="Record that the visit did not happen in its slot, and why.",
    )
    request_trade_in = mutation(
        request_trade_in,
        Action.REQUEST_TRADE_IN,
        description="Trade in an old item against a bulky line of one's paid order, before "
        "delivery (QS 9.7.5); its value is agreed now by the bulky_goods rule.",
    )
    accept_trade_in = mutation(
        accept_trade_in,
        Action.ACCEPT_TRADE_IN,
        description="Accept a trade-in: the old item is collected with the delivery.",
    )
    reject_trade_in = mutation(
        reject_trade_in,
        Action.REJECT_TRADE_IN,
        description="Decline a trade-in (the merchant), or refuse the item at the door (the "
        "visiting carrier).",
    )
    cancel_trade_in = mutation(cancel_trade_in, Action.CANCEL_TRADE_IN)
    record_trade_in_collected = mutation(
        record_trade_in_collected,
        Action.RECORD_TRADE_IN_COLLECTED,
        description="The carrier collected the old item: its credit is asked of the payment "
        "provider as a refund on the order's payment. A second report changes nothing.",
    )
    retry_trade_in_credit = mutation(
        retry_trade_in_credit,
        Action.RETRY_TRADE_IN_CREDIT,
        description="Ask again for the credit of a collected trade-in whose credit failed or "
        "could not be asked.",
    )
