"""Placing, cancelling and completing orders (QS 9.1.1)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from pinzhi.auth.crypto import encrypt, keyed_hash
from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    AfterSalesState,
    Order,
    OrderLine,
    OrderState,
    Payment,
    PaymentState,
    Product,
)
from pinzhi.services import incentives, monitoring, penalties, refunds, rules, state, validation
from pinzhi.services.lookup import lock_visible
from pinzhi.services.transactions import retry_on_conflict


@dataclass(frozen=True)
class LineInput:
    product_id: int | None  # None when the client sent an id that does not decode
    quantity: int


@dataclass(frozen=True)
class _Line:
    """A line once checked: its product id decoded."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class Placed:
    order: Order
    # True when an earlier placement with the same idempotency key was returned.
    replayed: bool = False


def _request_hash(lines: list[_Line], name: str, phone: str, address: str) -> str:
    body = {
        "lines": sorted([ln.product_id, ln.quantity] for ln in lines),
        "to": [name, phone, address],
    }
    return keyed_hash("order-request", orjson.dumps(body).decode())


async def _earlier(viewer: Viewer, key: str, request_hash: str) -> Placed | None:
    order = await Order.get_or_none(consumer_id=viewer.account_id, idempotency_key=key)
    if order is None:
        return None
    if order.request_hash != request_hash:
        raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    return Placed(order, replayed=True)


async def place_order(
    viewer: Viewer,
    lines: list[LineInput],
    recipient: Recipient,
    idempotency_key: str | None = None,
) -> Placed:
    """Check, reserve stock and create the order in one transaction. With an idempotency
    key, a resubmission of the same order returns the first one (``replayed``) and the
    same key with other lines or recipient is refused (``IDEMPOTENCY_KEY_REUSED``)."""
    require(viewer, Action.PLACE_ORDER)
    limits = (await rules.current("order.limits")).content
    if not lines:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("lines",), "at least one line")
    if len(lines) > limits["max_lines"]:
        raise ServiceError(ErrorCode.TOO_MANY_LINES, ("lines",))
    seen: set[int] = set()
    checked: list[_Line] = []
    for i, line in enumerate(lines):
        if line.product_id is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("lines", str(i), "productId"))
        if not 1 <= line.quantity <= limits["max_quantity_per_line"]:
            raise ServiceError(ErrorCode.INVALID_QUANTITY, ("lines", str(i), "quantity"))
        if line.product_id in seen:
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("lines", str(i), "productId"), "duplicate product"
            )
        seen.add(line.product_id)
        checked.append(_Line(line.product_id, line.quantity))
    name = validation.text(recipient.name, "recipient.name", max_len=50)
    phone = validation.phone(recipient.phone, "recipient.phone")
    address = validation.text(recipient.address, "recipient.address", min_len=5, max_len=300)
    key = request_hash = None
    if idempotency_key is not None:
        key = validation.text(idempotency_key, "idempotencyKey", min_len=8, max_len=64)
        request_hash = _request_hash(checked, name, phone, address)
        if (earlier := await _earlier(viewer, key, request_hash)) is not None:
            return earlier
    try:
        order = await _create(viewer, checked, name, phone, address, key, request_hash)
    except (IntegrityError, ServiceError):
        # The same key raced in from a second request, whose order won: answer with it.
        # Waiting on its stock reservation, this one may even have found the stock gone.
        if key is None or request_hash is None:
            raise
        if (earlier := await _earlier(viewer, key, request_hash)) is None:
            raise
        return earlier
    return Placed(order)


@retry_on_conflict
async def _create(
    viewer: Viewer,
    lines: list[_Line],
    name: str,
    phone: str,
    address: str,
    key: str | None,
    request_hash: str | None,
) -> Order:
    ids = [ln.product_id for ln in lines]
    products = {p.id: p for p in await Product.filter(id__in=ids).select_related("merchant")}
    merchant_ids = set()
    for i, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("lines", str(i), "productId"))
        if not product.is_listed:
            raise ServiceError(ErrorCode.PRODUCT_UNAVAILABLE, ("lines", str(i), "productId"))
        merchant_ids.add(product.merchant_id)
    if len(merchant_ids) != 1 or len({p.currency for p in products.values()}) != 1:
        raise ServiceError(ErrorCode.MIXED_MERCHANTS, ("lines",))

    merchant = next(iter(products.values())).merchant
    await penalties.check_orders_allowed(merchant.id)
    incentive = await incentives.for_merchant(merchant, state.now())
    async with in_transaction():
        # Rows are locked in product id order, whatever the order of the lines: two orders
        # of the same products in opposite order would otherwise wait on each other.
        for i, line in sorted(enumerate(lines), key=lambda item: item[1].product_id or 0):
            # The stock check and the reservation are one statement, so two buyers of the
            # last item cannot both get it.
            reserved = await Product.filter(
                id=line.product_id, stock__gte=line.quantity, is_listed=True
            ).update(stock=F("stock") - line.quantity)
            if reserved != 1:
                raise ServiceError(ErrorCode.INSUFFICIENT_STOCK, ("lines", str(i), "quantity"))
        first = products[lines[0].product_id]
        total_minor = sum(products[ln.product_id].price_minor * ln.quantity for ln in lines)
        order = await state.create(
            Order,
            actor=viewer,
            action="placed",
            data={
                "total_minor": total_minor,
                "currency": first.currency,
                "lines": [[ln.product_id, ln.quantity] for ln in lines],
            },
            consumer_id=viewer.account_id,
            merchant_id=first.merchant_id,
            total_minor=total_minor,
            currency=first.currency,
            recipient_name_enc=encrypt(name),
            recipient_phone_enc=encrypt(phone),
            address_enc=encrypt(address),
            # QS 6.2: the commission in force when the order is placed stays with it.
            commission_bps=incentive.commission_bps,
            commission_rule_version=incentive.rule_version,
            idempotency_key=key,
            request_hash=request_hash,
        )
        await OrderLine.bulk_create(
            [
                OrderLine(
                    order_id=order.id,
                    product_id=ln.product_id,
                    quantity=ln.quantity,
                    unit_price_minor=products[ln.product_id].price_minor,
                )
                for ln in lines
            ]
        )
    return order


@retry_on_conflict
async def cancel_order(viewer: Viewer, order_id: int, reason: str = "") -> Order:
    """Cancel before shipment: stock goes back, a pending payment fails, and what was
    captured is refunded through the payment provider (a refund it then confirms).
    Consumers cancel their own orders, merchants their shop's, customer-service staff
    those in their scope (the orders complained about)."""
    require(viewer, Action.CANCEL_ORDER)
    reason = validation.text(reason, "reason", min_len=0, max_len=500, multiline=True)
    async with in_transaction():
        order = await lock_visible(viewer, Order, order_id, "orderId")
        await _settle_after_sales(viewer, order)
        await state.move(
            order,
            OrderState.CANCELLED,
            actor=viewer,
            action="cancelled",
            field="orderId",
            data={"reason": reason},
            cancelled_at=state.now(),
        )
        for line in await OrderLine.filter(order_id=order.id).order_by("product_id"):
            # Units refunded before shipment had their stock put back then.
            held = line.quantity - line.cancelled_quantity
            await Product.filter(id=line.product_id).update(stock=F("stock") + held)
        for payment in await Payment.filter(order_id=order.id, state=PaymentState.PENDING):
            await state.move(
                # The consumer's reason stays on the order's trail: the payment provider, who
                # reads the payment's, has no business with it.
                payment,
                PaymentState.FAILED,
                actor=viewer,
                action="order_cancelled",
                data={},
            )
        # What was captured goes back through the payment provider, as every refund does.
        captured = await refunds.lock_payment(order.id)
        if captured is not None and refunds.refundable(captured) > 0:
            await refunds.ask(
                captured,
                refunds.refundable(captured),
                key=f"cancel:{order.id}",
                actor=viewer,
                reason="order cancelled",
            )
    if order.paid_at is not None:
        # A cancellation after payment moves the merchant's cancellation rate.
        await monitoring.check_quietly(order.merchant_id)
    return order


async def _settle_after_sales(viewer: Viewer, order: Order) -> None:
    """Before an order is cancelled: a refund before shipment already under way must finish
    first (it releases its own units), and requests still waiting are withdrawn, as the
    cancellation refunds everything they asked for."""
    requests = await AfterSalesRequest.filter(order_id=order.id).select_for_update()
    if any(r.state == AfterSalesState.APPROVED for r in requests):
        raise ServiceError(
            ErrorCode.REQUEST_EXISTS, ("orderId",), "a refund before shipment is under way"
        )
    for request in requests:
        if request.state in WAITING_REQUEST_STATES:
            await state.move(
                request,
                AfterSalesState.WITHDRAWN,
                actor=viewer,
                action="order_cancelled",
                data={"order_id": order.id},
                closed_at=state.now(),
            )


# The after-sales requests a cancellation withdraws: asked, and not yet decided for.
WAITING_REQUEST_STATES = frozenset(
    {AfterSalesState.REQUESTED, AfterSalesState.RESPONDED, AfterSalesState.ESCALATED}
)


@retry_on_conflict
async def confirm_receipt(viewer: Viewer, order_id: int) -> Order:
    require(viewer, Action.CONFIRM_RECEIPT)
    async with in_transaction():
        order = await lock_visible(viewer, Order, order_id, "orderId")
        await state.move(
            order,
            OrderState.COMPLETED,
            actor=viewer,
            action="receipt_confirmed",
            field="orderId",
            completed_at=state.now(),
        )
    return order
