"""Bulky goods: delivery with installation appointments (QS 9.7.5, 9.1.1, 9.1.2).

QS 9.7.5 asks that large furniture and appliances come with delivery plus installation
(送装一体) and trade-in (以旧换新). What is bulky is published data, the ``bulky_goods``
rule (QS 5.2): its ``categories`` are product categories (``furniture``,
``large_appliances``); ``installation`` says, per category, whether delivery includes
installation, and lays out the slots and their limits; ``trade_in`` values old items
(``services/trade_ins.py``). Every appointment and trade-in stores the version it was
decided by, and later steps read that version (``rules.version``), not the one in force.

An appointment is for one line of a paid order whose product is bulky (any other
category is refused ``NOT_BULKY``), one live appointment per line:

- The consumer books a slot (PROPOSED). Slots are ``slot_hours`` long, start on the hour
  on the grid from ``first_slot_hour`` and end by ``last_slot_hour``, local time
  (``utc_offset_hours``; anything else is ``INVALID_SLOT``), and start between
  ``min_ahead_days`` and ``max_ahead_days`` from now, both ends included
  (``SLOT_OUT_OF_RANGE``). Once the goods are delivered, no slot may start more than
  ``install_within_days`` after delivery.
- The merchant, or the logistics provider assigned to visit, confirms it (CONFIRMED).
  The visiting provider is the order's carrier unless the merchant names another
  logistics provider; before the order ships the merchant must name one.
- The consumer may move the slot until ``reschedule_cutoff_hours`` before it starts (at
  the cut-off exactly, still allowed), ``max_reschedules`` times (``RESCHEDULE_CLOSED``).
  A confirmed slot moved is RESCHEDULED and needs confirming again; a slot not yet
  confirmed just changes (a traced node, no move: a repeat is not a move).
- Once its slot has begun (``VISIT_NOT_DUE`` before) the merchant or the visiting
  provider records the visit: COMPLETED, which needs the goods delivered
  (``NOT_DELIVERED``) and records whether it was within ``install_within_days`` of
  delivery (``on_time``), or MISSED, with the reason. The consumer may cancel a live
  appointment at any time before the visit; after a missed visit they book a new one.

Every step goes through ``services/state.py`` (the appointment's machine), each a traced
key node; rows are locked after their order, as every service locks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    InstallationAppointment,
    InstallationState,
    Order,
    OrderLine,
    OrderState,
    Product,
    ProviderKind,
    Role,
    ServiceProvider,
    Shipment,
)
from pinzhi.services import audit, rules, state, validation
from pinzhi.services.lookup import get_visible, lock_after_order, lock_visible
from pinzhi.services.transactions import retry_on_conflict

RULE_KEY = "bulky_goods"
S = InstallationState

# The appointments that hold their line: another booking on it is refused.
LIVE = frozenset({S.PROPOSED, S.CONFIRMED, S.RESCHEDULED})
# The slots awaiting confirmation.
UNCONFIRMED = frozenset({S.PROPOSED, S.RESCHEDULED})
# An order that is paid for and not cancelled.
PAID_ORDER_STATES = frozenset(
    {OrderState.PAID, OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED}
)
DELIVERED_ORDER_STATES = frozenset({OrderState.DELIVERED, OrderState.COMPLETED})
NOTE_MAX_LENGTH = 500
# The most slots ``open_slots`` lists.
MAX_SLOTS = 200


@dataclass(frozen=True)
class BulkyLine:
    """A line of an order, its product bulky by the rule; the order row-locked."""

    order: Order
    line: OrderLine
    product: Product


async def lock_bulky_line(
    viewer: Viewer, order_line_id: int | None, content: dict[str, Any]
) -> BulkyLine:
    """The viewer's order line, its order row-locked (the caller holds the transaction),
    refused unless its product's category is bulky by the rule's ``content``."""
    seen = await get_visible(viewer, OrderLine, order_line_id, "orderLineId")
    order = await lock_visible(viewer, Order, seen.order_id, "orderLineId")
    line = await OrderLine.get(id=seen.id)
    product = await Product.get(id=line.product_id)
    if product.category not in content["categories"]:
        raise ServiceError(ErrorCode.NOT_BULKY, ("orderLineId",), product.category)
    if order.state not in PAID_ORDER_STATES:
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("orderLineId",), str(order.state))
    if line.quantity - line.cancelled_quantity < 1:
        raise ServiceError(
            ErrorCode.ILLEGAL_TRANSITION, ("orderLineId",), "refunded before shipment"
        )
    return BulkyLine(order, line, product)


async def logistics_provider(provider_id: int | None) -> ServiceProvider:
    """A logistics provider named by a merchant to visit."""
    provider = None if provider_id is None else await ServiceProvider.get_or_none(id=provider_id)
    if provider is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("providerId",))
    if provider.kind != ProviderKind.LOGISTICS:
        raise ServiceError(ErrorCode.WRONG_PROVIDER_KIND, ("providerId",))
    return provider


async def refuse_cancelled(order_id: int, field: str) -> Order:
    """The order, unless it was cancelled: then nobody visits, and its appointments and
    trade-ins go no further."""
    order = await Order.get(id=order_id)
    if order.state == OrderState.CANCELLED:
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, (field,), "the order is cancelled")
    return order


async def visiting_provider(
    viewer: Viewer, order_id: int, current: int | None, named: int | None
) -> int:
    """Who visits: the provider a merchant names, else the one already assigned, else the
    order's carrier. Only a merchant names one; before the order ships one must be named."""
    if named is not None:
        if viewer.role != Role.MERCHANT:
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("providerId",), "the merchant names it")
        return (await logistics_provider(named)).id
    if current is not None:
        return current
    shipment = await Shipment.get_or_none(order_id=order_id)
    if shipment is None:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("providerId",), "required until shipped")
    return shipment.provider_id


# --- The slot grid ---------------------------------------------------------------------------


def slot_end(start: datetime, installation: dict[str, Any]) -> datetime:
    """The end of the slot that begins at ``start``, or ``INVALID_SLOT`` when no slot of
    the rule's grid begins then."""
    length = int(installation["slot_hours"])
    first, last = int(installation["first_slot_hour"]), int(installation["last_slot_hour"])
    local = start + timedelta(hours=installation["utc_offset_hours"])
    on_the_hour = local.minute == 0 and local.second == 0 and local.microsecond == 0
    if (
        length < 1
        or not on_the_hour
        or not first <= local.hour
        or local.hour + length > last
        or (local.hour - first) % length
    ):
        raise ServiceError(ErrorCode.INVALID_SLOT, ("slotStart",), "not a slot of the rule")
    return start + timedelta(hours=length)


def check_window(
    start: datetime, now: datetime, installation: dict[str, Any], delivered_at: datetime | None
) -> None:
    """A slot starts between ``min_ahead_days`` and ``max_ahead_days`` from ``now`` (both
    ends included) and, once delivered, within ``install_within_days`` of delivery."""
    earliest = now + timedelta(days=installation["min_ahead_days"])
    latest = now + timedelta(days=installation["max_ahead_days"])
    if start < earliest:
        raise ServiceError(ErrorCode.SLOT_OUT_OF_RANGE, ("slotStart",), "too soon")
    if start > latest:
        raise ServiceError(ErrorCode.SLOT_OUT_OF_RANGE, ("slotStart",), "too far ahead")
    if delivered_at is not None:
        deadline = delivered_at + timedelta(days=installation["install_within_days"])
        if start > deadline:
            raise ServiceError(
                ErrorCode.SLOT_OUT_OF_RANGE, ("slotStart",), "after the installation deadline"
            )


def open_slots(now: datetime, installation: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    """The slots that may be booked at ``now``, earliest first (at most ``MAX_SLOTS``)."""
    length = int(installation["slot_hours"])
    if length < 1:
        return []
    offset = timedelta(hours=installation["utc_offset_hours"])
    earliest = now + timedelta(days=installation["min_ahead_days"])
    latest = now + timedelta(days=installation["max_ahead_days"])
    first, last = int(installation["first_slot_hour"]), int(installation["last_slot_hour"])
    day = (earliest + offset).replace(hour=0, minute=0, second=0, microsecond=0) - offset
    found: list[tuple[datetime, datetime]] = []
    while day <= latest and len(found) < MAX_SLOTS:
        for hour in range(first, last - length + 1, length):
            start = day + timedelta(hours=hour)
            if earliest <= start <= latest and len(found) < MAX_SLOTS:
                found.append((start, start + timedelta(hours=length)))
        day += timedelta(days=1)
    return found


async def bookable_slots() -> list[tuple[datetime, datetime]]:
    """The slots a consumer may book now, under the rule in force."""
    content = (await rules.current(RULE_KEY)).content
    return open_slots(state.now(), content["installation"])


def _installation_rule(content: dict[str, Any], category: str) -> dict[str, Any]:
    installation: dict[str, Any] = content["installation"]
    if not installation["included"].get(category, False):
        raise ServiceError(ErrorCode.INSTALLATION_NOT_OFFERED, ("orderLineId",), category)
    return installation


# --- The consumer's steps --------------------------------------------------------------------


@retry_on_conflict
async def book(
    viewer: Viewer, order_line_id: int | None, slot_start: datetime | None, note: str = ""
) -> InstallationAppointment:
    """QS 9.7.5: the consumer books a delivery-with-installation slot for a bulky line of
    their paid order."""
    require(viewer, Action.BOOK_INSTALLATION)
    start = validation.moment(slot_start, "slotStart")
    text = validation.text(note, "note", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    rule = await rules.current(RULE_KEY)
    async with in_transaction():
        bulky = await lock_bulky_line(viewer, order_line_id, rule.content)
        installation = _installation_rule(rule.content, bulky.product.category)
        end = slot_end(start, installation)
        check_window(start, state.now(), installation, bulky.order.delivered_at)
        held = InstallationAppointment.filter(order_line_id=bulky.line.id, state__in=LIVE)
        if await held.exists():
            raise ServiceError(ErrorCode.APPOINTMENT_EXISTS, ("orderLineId",))
        shipment = await Shipment.get_or_none(order_id=bulky.order.id)
        return await state.create(
            InstallationAppointment,
            actor=viewer,
            action="booked",
            data={
                "order_id": bulky.order.id,
                "order_line_id": bulky.line.id,
                "slot_start": start.isoformat(),
                "rule_version": rule.version,
            },
            order_id=bulky.order.id,
            order_line_id=bulky.line.id,
            consumer_id=bulky.order.consumer_id,
            merchant_id=bulky.order.merchant_id,
            provider_id=shipment.provider_id if shipment else None,
            category=bulky.product.category,
            slot_start=start,
            slot_end=end,
            note=text,
            rule_version=rule.version,
        )


async def _lock(viewer: Viewer, appointment_id: int) -> InstallationAppointment:
    return await lock_after_order(viewer, InstallationAppointment, appointment_id, "appointmentId")


async def _rule_of(appointment: InstallationAppointment) -> dict[str, Any]:
    installation: dict[str, Any] = (
        await rules.version(RULE_KEY, appointment.rule_version)
    ).content["installation"]
    return installation


@retry_on_conflict
async def reschedule(
    viewer: Viewer, appointment_id: int, slot_start: datetime | None
) -> InstallationAppointment:
    """The consumer moves the slot, until the cut-off before it and as often as the rule
    allows; a confirmed slot moved needs confirming again."""
    require(viewer, Action.RESCHEDULE_INSTALLATION)
    start = validation.moment(slot_start, "slotStart")
    async with in_transaction():
        appointment = await _lock(viewer, appointment_id)
        if appointment.state not in LIVE:
            raise ServiceError(
                ErrorCode.ILLEGAL_TRANSITION, ("appointmentId",), str(appointment.state)
            )
        installation = await _rule_of(appointment)
        now = state.now()
        cutoff = appointment.slot_start - timedelta(hours=installation["reschedule_cutoff_hours"])
        if now > cutoff:
            raise ServiceError(ErrorCode.RESCHEDULE_CLOSED, ("appointmentId",), "past the cut-off")
        if appointment.reschedules >= installation["max_reschedules"]:
            raise ServiceError(ErrorCode.RESCHEDULE_CLOSED, ("appointmentId",), "none left")
        if start == appointment.slot_start:
            raise ServiceError(ErrorCode.INVALID_INPUT, ("slotStart",), "the same slot")
        end = slot_end(start, installation)
        order = await refuse_cancelled(appointment.order_id, "appointmentId")
        check_window(start, now, installation, order.delivered_at)
        data = {"from": appointment.slot_start.isoformat(), "to": start.isoformat()}
        updates: dict[str, Any] = {
            "slot_start": start,
            "slot_end": end,
            "reschedules": appointment.reschedules + 1,
        }
        if appointment.state == S.CONFIRMED:
            await state.move(
                appointment,
                S.RESCHEDULED,
                actor=viewer,
                action="rescheduled",
                field="appointmentId",
                data=data,
                confirmed_at=None,
                **updates,
            )
        else:
            # Not yet confirmed: the proposal changes, its state stays.
            changed = await InstallationAppointment.filter(
                id=appointment.id, state=appointment.state
            ).update(updated_at=now, **updates)
            if changed != 1:
                raise ServiceError(ErrorCode.CONCURRENT_CHANGE, ("appointmentId",))
            for name, value in updates.items():
                setattr(appointment, name, value)
            await audit.append(
                "InstallationAppointment",
                appointment.id,
                "rescheduled",
                actor=viewer,
                data=data,
            )
    return appointment


@retry_on_conflict
async def cancel(viewer: Viewer, appointment_id: int, reason: str = "") -> InstallationAppointment:
    """The consumer cancels an appointment not yet visited."""
    require(viewer, Action.CANCEL_INSTALLATION)
    text = validation.text(reason, "reason", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        appointment = await _lock(viewer, appointment_id)
        now = state.now()
        await state.move(
            appointment,
            S.CANCELLED,
            actor=viewer,
            action="cancelled",
            field="appointmentId",
            data={"reason": text},
            outcome_note=text,
            closed_at=now,
        )
    return appointment


# --- The merchant's and the visiting provider's steps ----------------------------------------


@retry_on_conflict
async def confirm(
    viewer: Viewer, appointment_id: int, provider_id: int | None = None
) -> InstallationAppointment:
    """The merchant or the assigned provider confirms the slot; the merchant may name the
    logistics provider that visits (by default the order's carrier)."""
    require(viewer, Action.CONFIRM_INSTALLATION)
    async with in_transaction():
        appointment = await _lock(viewer, appointment_id)
        state.check(InstallationAppointment, appointment.state, S.CONFIRMED, "appointmentId")
        now = state.now()
        if now >= appointment.slot_start:
            raise ServiceError(ErrorCode.SLOT_OUT_OF_RANGE, ("appointmentId",), "it has begun")
        await refuse_cancelled(appointment.order_id, "appointmentId")
        visitor = await visiting_provider(
            viewer, appointment.order_id, appointment.provider_id, provider_id
        )
        await state.move(
            appointment,
            S.CONFIRMED,
            actor=viewer,
            action="confirmed",
            field="appointmentId",
            data={"provider_id": visitor, "slot_start": appointment.slot_start.isoformat()},
            provider_id=visitor,
            confirmed_at=now,
        )
    return appointment


async def _visit(viewer: Viewer, appointment_id: int) -> InstallationAppointment:
    """A confirmed appointment whose slot has begun, locked, for recording its visit."""
    appointment = await _lock(viewer, appointment_id)
    if appointment.state != S.CONFIRMED:
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("appointmentId",), str(appointment.state))
    if state.now() < appointment.slot_start:
        raise ServiceError(ErrorCode.VISIT_NOT_DUE, ("appointmentId",))
    return appointment


@retry_on_conflict
async def complete(viewer: Viewer, appointment_id: int, note: str = "") -> InstallationAppointment:
    """QS 9.7.5: the goods are delivered and installed. Whether it was within the rule's
    days after delivery is recorded."""
    require(viewer, Action.COMPLETE_INSTALLATION)
    text = validation.text(note, "note", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        appointment = await _visit(viewer, appointment_id)
        order = await Order.get(id=appointment.order_id)
        if order.state not in DELIVERED_ORDER_STATES:
            raise ServiceError(ErrorCode.NOT_DELIVERED, ("appointmentId",), str(order.state))
        installation = await _rule_of(appointment)
        now = state.now()
        delivered = order.delivered_at or order.completed_at or now
        on_time = now <= delivered + timedelta(days=installation["install_within_days"])
        await state.move(
            appointment,
            S.COMPLETED,
            actor=viewer,
            action="completed",
            field="appointmentId",
            data={"on_time": on_time, "note": text},
            completed_at=now,
            on_time=on_time,
            outcome_note=text,
            closed_at=now,
        )
    return appointment


@retry_on_conflict
async def record_missed(
    viewer: Viewer, appointment_id: int, reason: str
) -> InstallationAppointment:
    """The visit did not happen in its slot (nobody home, the installer did not come):
    recorded with the reason; the consumer may book again."""
    require(viewer, Action.RECORD_MISSED_INSTALLATION)
    text = validation.text(reason, "reason", min_len=2, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        appointment = await _visit(viewer, appointment_id)
        await state.move(
            appointment,
            S.MISSED,
            actor=viewer,
            action="missed",
            field="appointmentId",
            data={"reason": text},
            outcome_note=text,
            closed_at=state.now(),
        )
    return appointment
