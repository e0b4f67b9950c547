"""Goods coming back and replacements going out for after-sales requests (QS 9.2.3,
9.7.3-9.7.5).

A return travels through the logistics graph like an order's shipment: a carrier, a
tracking number, and the carrier's tracking events (``services/logistics.py``). The
consumer hands goods to a carrier (``ship_return``), or, for a request that earned a free
pick-up, the platform books the carrier and bears the cost (``book_pickup``); the carrier's
first scan of a booked pick-up puts the request in transit and, when it earned an instant
refund, asks for the refund there and then. The merchant confirms receipt, and a refund
follows for the kinds that give money back; a replacement goes out for an exchange, a
re-shipment and a quality issue answered with goods.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AfterSalesRequest,
    AfterSalesState,
    Order,
    ProviderKind,
    Refund,
    RefundState,
    ReturnShipment,
    ServiceProvider,
    ShipmentState,
)
from pinzhi.services import refunds, state
from pinzhi.services.lookup import lock_after_order
from pinzhi.services.transactions import retry_on_conflict
from pinzhi.services.validation import tracking_number as checked_tracking_number

K = AfterSalesKind
S = AfterSalesState
# The kinds whose goods come back before they are carried out.
RETURN_KINDS = frozenset({K.RETURN_REFUND, K.EXCHANGE, K.QUALITY_ISSUE})


async def _carrier(provider_id: int | None) -> ServiceProvider:
    provider = None if provider_id is None else await ServiceProvider.get_or_none(id=provider_id)
    if provider is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("providerId",))
    if provider.kind != ProviderKind.LOGISTICS:
        raise ServiceError(ErrorCode.WRONG_PROVIDER_KIND, ("providerId",))
    return provider


async def _shipment(
    actor: Viewer | None,
    request: AfterSalesRequest,
    provider_id: int,
    number: str,
    *,
    replacement: bool = False,
    platform_pickup: bool = False,
) -> ReturnShipment:
    try:
        async with in_transaction():
            return await state.create(
                ReturnShipment,
                actor=actor,
                action="booked" if platform_pickup else "created",
                data={
                    "request_id": request.id,
                    "provider_id": provider_id,
                    "tracking_number": number,
                    "replacement": replacement,
                },
                request_id=request.id,
                provider_id=provider_id,
                consumer_id=request.consumer_id,
                merchant_id=request.merchant_id,
                tracking_number=number,
                replacement=replacement,
                platform_pickup=platform_pickup,
            )
    except IntegrityError as exc:
        raise ServiceError(ErrorCode.TRACKING_NUMBER_TAKEN, ("trackingNumber",)) from exc


async def book_pickup(request: AfterSalesRequest, provider_id: int) -> ReturnShipment:
    """QS 9.7.3: the platform books the carrier that delivered the order to collect the
    goods, at its own cost; the booking's number is the platform's."""
    return await _shipment(
        None, request, provider_id, f"PZRT{request.id:010d}", platform_pickup=True
    )


@retry_on_conflict
async def ship_return(
    viewer: Viewer, request_id: int, provider_id: int | None, tracking_number: str
) -> ReturnShipment:
    """The consumer sends the goods back with a carrier of their choice."""
    require(viewer, Action.SHIP_RETURN)
    number = checked_tracking_number(tracking_number)
    provider = await _carrier(provider_id)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        if request.kind not in RETURN_KINDS:
            raise ServiceError(ErrorCode.KIND_NOT_ALLOWED, ("requestId",), "nothing to return")
        if await ReturnShipment.filter(request_id=request.id, replacement=False).exists():
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), "already on its way")
        state.check(AfterSalesRequest, request.state, S.RETURN_IN_TRANSIT, "requestId")
        shipment = await _shipment(viewer, request, provider.id, number)
        await state.move(
            request,
            S.RETURN_IN_TRANSIT,
            actor=viewer,
            action="return_shipped",
            field="requestId",
            data={"return_shipment_id": shipment.id},
        )
    return shipment


async def on_tracking(actor: Viewer, shipment: ReturnShipment, status: ShipmentState) -> None:
    """A carrier's event on a return: the first scan of a booked pick-up puts the request
    in transit and, for a request that earned it, asks for the instant refund (QS 9.7.5).
    The caller holds the shipment's lock inside its transaction."""
    if shipment.replacement or status == ShipmentState.CREATED:
        return
    seen = await AfterSalesRequest.get(id=shipment.request_id)
    await Order.filter(id=seen.order_id).select_for_update().first()
    request = await AfterSalesRequest.filter(id=seen.id).select_for_update().get()
    if request.state != S.APPROVED:
        return
    await state.move(
        request,
        S.RETURN_IN_TRANSIT,
        actor=actor,
        action="picked_up",
        data={"return_shipment_id": shipment.id},
    )
    if "INSTANT_REFUND" in request.benefits and request.amount_minor > 0:
        await refunds.ask_for_request(actor, request)


@retry_on_conflict
async def confirm_received(viewer: Viewer, request_id: int) -> AfterSalesRequest:
    """The merchant confirms the goods came back; a refund follows for a return-and-refund
    and a quality issue that asked for money, unless an instant refund was already asked."""
    require(viewer, Action.CONFIRM_RETURN_RECEIVED)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        await state.move(
            request,
            S.RETURN_RECEIVED,
            actor=viewer,
            action="return_received",
            field="requestId",
        )
        wants_money = request.kind in (K.RETURN_REFUND, K.QUALITY_ISSUE) and (
            request.amount_minor > 0
        )
        live = Refund.filter(
            request_id=request.id, state__in=(RefundState.REQUESTED, RefundState.SUCCEEDED)
        )
        if wants_money and not await live.exists():
            await refunds.ask_for_request(viewer, request)
    return request


@retry_on_conflict
async def ship_replacement(
    viewer: Viewer, request_id: int, provider_id: int | None, tracking_number: str
) -> ReturnShipment:
    """The merchant sends goods out: a replacement for an exchange or a quality issue once
    the goods came back, a re-shipment once approved."""
    require(viewer, Action.SHIP_REPLACEMENT)
    number = checked_tracking_number(tracking_number)
    provider = await _carrier(provider_id)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        if request.kind == K.RESHIPMENT:
            ready, target = S.APPROVED, S.RESHIPPED
        elif request.kind == K.EXCHANGE:
            ready, target = S.RETURN_RECEIVED, S.EXCHANGED
        elif request.kind == K.QUALITY_ISSUE and request.amount_minor == 0:
            ready, target = S.RETURN_RECEIVED, S.RESHIPPED
        else:
            raise ServiceError(ErrorCode.KIND_NOT_ALLOWED, ("requestId",), "refunded, not replaced")
        if request.state != ready:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), str(request.state))
        shipment = await _shipment(viewer, request, provider.id, number, replacement=True)
        await state.move(
            request,
            target,
            actor=viewer,
            action="replacement_shipped",
            field="requestId",
            data={"return_shipment_id": shipment.id},
        )
    return shipment
