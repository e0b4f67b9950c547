"""After-sales requests under deadlines (QS 9.1.1, 9.2.1, 9.2.3, 9.7.3-9.7.5).

A consumer opens a request on lines of an order of theirs. When it opens, it is held to the
response limit of its kind (rule ``after_sales.response``), placed in the queue by its
priority (``after_sales.queue``), and given the premium benefits its products earn
(``after_sales.premium``); each of these stores the rule version it was decided by. The
first response by the merchant or by customer-service staff stamps it; what follows
(refund, return, replacement) moves it through ``services/state.py``'s machine, every step
a traced key node. Returns and replacements are in ``services/returns.py``, refunds in
``services/refunds.py``.
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
    Account,
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesRequest,
    AfterSalesState,
    Order,
    OrderLine,
    OrderState,
    PlatformRule,
    Product,
    Refund,
    RefundState,
    Role,
    Shipment,
)
from pinzhi.services import audit, refunds, returns, rules, state, validation
from pinzhi.services.lookup import lock_after_order, lock_visible
from pinzhi.services.transactions import retry_on_conflict

K = AfterSalesKind
S = AfterSalesState

# Kinds that give money back, and the kinds whose goods come back first.
REFUND_KINDS = frozenset({K.REFUND_BEFORE_SHIPMENT, K.RETURN_REFUND, K.REFUND_ONLY})
RETURN_KINDS = returns.RETURN_KINDS
# The order states each kind may be asked in.
KIND_ORDER_STATES: dict[AfterSalesKind, frozenset[OrderState]] = {
    K.REFUND_BEFORE_SHIPMENT: frozenset({OrderState.PAID}),
    K.RETURN_REFUND: frozenset({OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED}),
    K.REFUND_ONLY: frozenset({OrderState.DELIVERED, OrderState.COMPLETED}),
    K.EXCHANGE: frozenset({OrderState.DELIVERED, OrderState.COMPLETED}),
    K.QUALITY_ISSUE: frozenset({OrderState.DELIVERED, OrderState.COMPLETED}),
    K.RESHIPMENT: frozenset({OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED}),
}
# Requests in these states hold their lines: another request on them is refused.
FINISHED = frozenset({S.CLOSED, S.WITHDRAWN})
# Answered and not yet decided: the states a decision is taken from.
UNDECIDED = frozenset({S.REQUESTED, S.RESPONDED, S.ESCALATED})
# A request done with, which the consumer (or staff) may close.
CLOSABLE = frozenset({S.REFUNDED, S.RESHIPPED, S.EXCHANGED, S.REJECTED})
EVIDENCE_MAX_LENGTH = 500

# QS 9.7.3-9.7.5: the benefits a premium request may earn, and the kinds each applies to.
BENEFIT_KINDS: dict[str, frozenset[AfterSalesKind]] = {
    "FREE_PICKUP": RETURN_KINDS,
    "FAST_REVIEW": frozenset(K),
    "INSTANT_REFUND": frozenset({K.RETURN_REFUND}),
    "EXTENDED_RETURN_WINDOW": frozenset({K.RETURN_REFUND, K.REFUND_ONLY, K.EXCHANGE}),
    "REPLACE_NOT_REPAIR": frozenset({K.QUALITY_ISSUE}),
    "PRIORITY": frozenset(K),
}


@dataclass(frozen=True)
class LineClaim:
    order_line_id: int | None  # None when the client sent an id that does not decode
    quantity: int


@dataclass(frozen=True)
class Premium:
    benefits: list[str]
    level: str | None
    rule_version: int
    return_window_days: int


def response_due(opened_at: datetime, kind: AfterSalesKind, content: dict[str, Any]) -> datetime:
    """QS 9.2.3: the first response is due this many calendar hours after opening."""
    return opened_at + timedelta(hours=content["response_hours"][str(kind)])


def premium_for(
    kind: AfterSalesKind, amount_minor: int, levels: list[str | None], rule: PlatformRule
) -> Premium | None:
    """QS 9.7.3-9.7.5: the benefits a request earns when every product it is about is
    graded at a premium level; None when it earns none. The lowest level decides."""
    content = rule.content
    premium_levels: list[str] = content["levels"]
    if not levels or any(level not in premium_levels for level in levels):
        return None
    lowest = max(levels, key=lambda level: premium_levels.index(level or ""))
    offered = {
        "FREE_PICKUP": content["free_pickup"],
        "FAST_REVIEW": str(kind) in content["fast_review_kinds"]
        and amount_minor <= content["fast_review_max_minor"],
        "INSTANT_REFUND": content["instant_refund"],
        "EXTENDED_RETURN_WINDOW": content["return_window_days"] > 0,
        "REPLACE_NOT_REPAIR": content["replace_not_repair"],
        "PRIORITY": content["priority"],
    }
    benefits = [name for name, kinds in BENEFIT_KINDS.items() if offered[name] and kind in kinds]
    return Premium(benefits, lowest, rule.version, content["return_window_days"])


def priority_of(premium: Premium | None, accessibility: bool, content: dict[str, Any]) -> int:
    """QS 9.2.1: the queue's order, from the published weights."""
    weights = content["weights"]
    earned = 0
    if premium is not None and "PRIORITY" in premium.benefits:
        earned += weights["premium"]
    if accessibility:
        earned += weights["accessibility"]
    return int(earned)


def _window_start(order: Order) -> datetime | None:
    return order.delivered_at or order.completed_at


def _check_window(
    order: Order, kind: AfterSalesKind, response: dict[str, Any], premium: Premium | None
) -> None:
    """Returns, exchanges and refunds without return are asked within the return window
    after delivery (longer for premium requests); quality issues within theirs."""
    start = _window_start(order)
    # Before delivery there is no window yet; a refund before shipment and a re-shipment
    # of goods that never arrived have none.
    if start is None or kind in (K.REFUND_BEFORE_SHIPMENT, K.RESHIPMENT):
        return
    days = response["return_window_days"]
    if kind == K.QUALITY_ISSUE:
        days = response["quality_window_days"]
    elif premium is not None and "EXTENDED_RETURN_WINDOW" in premium.benefits:
        days = max(days, premium.return_window_days)
    if state.now() > start + timedelta(days=days):
        raise ServiceError(ErrorCode.KIND_NOT_ALLOWED, ("kind",), "past the return window")


def _evidence(references: list[str] | None, limit: int) -> list[str]:
    references = references or []
    if len(references) > limit:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("evidence",), f"at most {limit}")
    cleaned = []
    for i, reference in enumerate(references):
        value = validation.text(reference, ("evidence", str(i)), max_len=EVIDENCE_MAX_LENGTH)
        if any(c.isspace() for c in value):
            raise ServiceError(ErrorCode.INVALID_INPUT, ("evidence", str(i)), "a reference")
        cleaned.append(value)
    return cleaned


def _claimed(claims: list[LineClaim] | None, lines: list[OrderLine]) -> list[tuple[OrderLine, int]]:
    """The order lines and quantities a request is about: all of the order's (less what
    was refunded before shipment) when the consumer names none."""
    by_id = {line.id: line for line in lines}
    if claims is not None and not claims:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("lines",), "name a line, or omit lines")
    if claims is None:
        whole = [(line, line.quantity - line.cancelled_quantity) for line in lines]
        return [(line, quantity) for line, quantity in whole if quantity > 0]
    chosen: list[tuple[OrderLine, int]] = []
    seen: set[int] = set()
    for i, claim in enumerate(claims):
        line = by_id.get(claim.order_line_id) if claim.order_line_id is not None else None
        if line is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("lines", str(i), "orderLineId"))
        if line.id in seen:
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("lines", str(i), "orderLineId"), "named twice"
            )
        seen.add(line.id)
        if not 1 <= claim.quantity <= line.quantity - line.cancelled_quantity:
            raise ServiceError(ErrorCode.INVALID_QUANTITY, ("lines", str(i), "quantity"))
        chosen.append((line, claim.quantity))
    return chosen


def _check_amount(kind: AfterSalesKind, amount_minor: int, refundable: int, value: int) -> None:
    """The amount asked: money back for the refunding kinds, never above what was paid less
    what was refunded, nor above the claimed lines' value; none for an exchange or a
    re-shipment; a quality issue may ask for money or (with 0) for a replacement."""
    if kind in (K.EXCHANGE, K.RESHIPMENT):
        if amount_minor != 0:
            raise ServiceError(ErrorCode.INVALID_INPUT, ("amount",), "this kind asks no money")
        return
    if amount_minor < (1 if kind in REFUND_KINDS else 0):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("amount",), "at least 1")
    if amount_minor > min(refundable, value):
        raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("amount",))


@retry_on_conflict
async def open_request(
    viewer: Viewer,
    order_id: int | None,
    kind: AfterSalesKind,
    reason: str,
    *,
    amount_minor: int,
    description: str = "",
    evidence: list[str] | None = None,
    lines: list[LineClaim] | None = None,
) -> AfterSalesRequest:
    """QS 9.2.3: open a request, held to its kind's response limit from now."""
    require(viewer, Action.OPEN_AFTER_SALES_REQUEST)
    kind = AfterSalesKind(kind)
    response_rule = await rules.current("after_sales.response")
    response = response_rule.content
    reason = validation.text(reason, "reason", min_len=2, max_len=200)
    description = validation.text(
        description, "description", min_len=0, max_len=2000, multiline=True
    )
    references = _evidence(evidence, response["max_evidence"])
    premium_rule = await rules.current("after_sales.premium")
    queue_rule = await rules.current("after_sales.queue")
    if order_id is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("orderId",))
    async with in_transaction():
        # The order's lock serialises the requests on it: two at once cannot both claim
        # the same lines.
        order = await lock_visible(viewer, Order, order_id, "orderId")
        if order.state not in KIND_ORDER_STATES[kind]:
            raise ServiceError(ErrorCode.KIND_NOT_ALLOWED, ("kind",), str(order.state))
        order_lines = await OrderLine.filter(order_id=order.id).order_by("id")
        chosen = _claimed(lines, order_lines)
        if not chosen:
            raise ServiceError(ErrorCode.KIND_NOT_ALLOWED, ("lines",), "nothing left to claim")
        held = await AfterSalesLine.filter(
            order_line_id__in=[line.id for line, _ in chosen]
        ).exclude(request__state__in=FINISHED)
        if held:
            raise ServiceError(ErrorCode.REQUEST_EXISTS, ("lines",))
        open_on_order = (
            await AfterSalesRequest.filter(order_id=order.id).exclude(state__in=FINISHED).count()
        )
        if open_on_order >= response["max_open_per_order"]:
            raise ServiceError(ErrorCode.REQUEST_EXISTS, ("orderId",), "too many open")
        payment = await refunds.lock_payment(order.id)
        refundable = 0 if payment is None else refunds.refundable(payment)
        value = sum(line.unit_price_minor * quantity for line, quantity in chosen)
        _check_amount(kind, amount_minor, refundable, value)
        products = await Product.filter(id__in=[line.product_id for line, _ in chosen])
        premium = premium_for(kind, amount_minor, [p.grade_level for p in products], premium_rule)
        _check_window(order, kind, response, premium)
        consumer = await Account.get(id=order.consumer_id)
        accessibility = consumer.accessibility_profile
        opened_at = state.now()
        request = await state.create(
            AfterSalesRequest,
            actor=viewer,
            action="opened",
            data={
                "order_id": order.id,
                "kind": str(kind),
                "amount_minor": amount_minor,
                "lines": [[line.id, quantity] for line, quantity in chosen],
                "rule_version": response_rule.version,
                "premium": premium.benefits if premium else [],
            },
            order_id=order.id,
            consumer_id=order.consumer_id,
            merchant_id=order.merchant_id,
            kind=kind,
            reason=reason,
            description=description,
            evidence=references,
            amount_minor=amount_minor,
            currency=order.currency,
            response_due_at=response_due(opened_at, kind, response),
            rule_version=response_rule.version,
            priority=priority_of(premium, accessibility, queue_rule.content),
            accessibility=accessibility,
            premium=premium is not None,
            benefits=premium.benefits if premium else [],
            premium_rule_version=premium.rule_version if premium else None,
            product_level=premium.level if premium else None,
        )
        await AfterSalesLine.bulk_create(
            [
                AfterSalesLine(request_id=request.id, order_line_id=line.id, quantity=quantity)
                for line, quantity in chosen
            ]
        )
        if premium is not None and "FAST_REVIEW" in premium.benefits:
            # QS 9.7.4: within the published limits, approved at once by the platform.
            await _approve(None, request, "fast review", auto=True)
    return request


def _refuse_finished(request: AfterSalesRequest) -> None:
    if request.state in FINISHED:
        raise ServiceError(ErrorCode.REQUEST_CLOSED, ("requestId",), str(request.state))


async def _response_stamp(
    viewer: Viewer | None, request: AfterSalesRequest, action: str
) -> dict[str, Any]:
    """The fields that record the first response, if this is it: an action and a party
    that the request's own rule version counts as a response (``responses``,
    ``responders``). The platform's own decision (a fast review) always counts."""
    if request.first_response_at is not None:
        return {}
    if viewer is not None:
        rule = await rules.version("after_sales.response", request.rule_version)
        if action not in rule.content["responses"] or viewer.role not in rule.content["responders"]:
            return {}
    return {
        "first_response_at": state.now(),
        "first_responder_id": viewer.account_id if viewer is not None else None,
    }


def _on_time(request: AfterSalesRequest, stamp: dict[str, Any]) -> dict[str, Any]:
    if not stamp:
        return {}
    return {"on_time": stamp["first_response_at"] <= request.response_due_at}


@retry_on_conflict
async def respond(viewer: Viewer, request_id: int, note: str) -> AfterSalesRequest:
    """QS 9.2.3: the merchant (or customer-service staff) answers; the first answer stamps
    the request's response time. Answers may follow at any step until the request ends."""
    require(viewer, Action.RESPOND_TO_AFTER_SALES_REQUEST)
    text = validation.text(note, "note", min_len=2, max_len=2000, multiline=True)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        _refuse_finished(request)
        stamp = await _response_stamp(viewer, request, "RESPOND")
        data = {"note": text, **_on_time(request, stamp)}
        if request.state == S.REQUESTED:
            await state.move(
                request,
                S.RESPONDED,
                actor=viewer,
                action="responded",
                field="requestId",
                data=data,
                response_note=text,
                **stamp,
            )
        else:
            # A later answer is a message on the request: it moves nothing.
            await AfterSalesRequest.filter(id=request.id).update(
                response_note=text, updated_at=state.now(), **stamp
            )
            for name, value in {"response_note": text, **stamp}.items():
                setattr(request, name, value)
            await audit.append(
                "AfterSalesRequest", request.id, "responded", actor=viewer, data=data
            )
    return request


async def _approve(
    viewer: Viewer | None, request: AfterSalesRequest, note: str, *, auto: bool = False
) -> None:
    stamp = await _response_stamp(viewer, request, "APPROVE")
    await state.move(
        request,
        S.APPROVED,
        actor=viewer,
        action="auto_approved" if auto else "approved",
        field="requestId",
        data={"note": note, **_on_time(request, stamp)},
        decision_note=note,
        **stamp,
    )
    await _carry_out(viewer, request)


async def _carry_out(viewer: Viewer | None, request: AfterSalesRequest) -> None:
    """What an approval sets going: a refund asked of the provider for the kinds that give
    money back without a return; a pick-up booked when the request earned one."""
    if request.kind in (K.REFUND_BEFORE_SHIPMENT, K.REFUND_ONLY):
        await refunds.ask_for_request(viewer, request)
    elif request.kind in RETURN_KINDS and "FREE_PICKUP" in request.benefits:
        shipment = await Shipment.get_or_none(order_id=request.order_id)
        if shipment is not None:
            await returns.book_pickup(request, shipment.provider_id)


@retry_on_conflict
async def decide(viewer: Viewer, request_id: int, approve: bool, note: str) -> AfterSalesRequest:
    """Approve or reject. A rejection says why. Once a request is escalated, customer
    service decides it (QS 9.2.1)."""
    require(viewer, Action.DECIDE_AFTER_SALES_REQUEST)
    text = validation.text(note, "note", min_len=0 if approve else 2, max_len=2000, multiline=True)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        _refuse_finished(request)
        if request.state == S.ESCALATED and viewer.role != Role.STAFF:
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("requestId",), "escalated to service")
        if request.state not in UNDECIDED:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), str(request.state))
        if approve:
            await _approve(viewer, request, text)
        else:
            stamp = await _response_stamp(viewer, request, "REJECT")
            await state.move(
                request,
                S.REJECTED,
                actor=viewer,
                action="rejected",
                field="requestId",
                data={"note": text, **_on_time(request, stamp)},
                decision_note=text,
                **stamp,
            )
    return request


@retry_on_conflict
async def withdraw(viewer: Viewer, request_id: int) -> AfterSalesRequest:
    """The consumer withdraws a request not yet carried out."""
    require(viewer, Action.WITHDRAW_AFTER_SALES_REQUEST)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        _refuse_finished(request)
        if await Refund.filter(request_id=request.id, state=RefundState.REQUESTED).exists():
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), "refund under way")
        await state.move(
            request,
            S.WITHDRAWN,
            actor=viewer,
            action="withdrawn",
            field="requestId",
            closed_at=state.now(),
        )
    return request


@retry_on_conflict
async def escalate(viewer: Viewer, request_id: int, reason: str) -> AfterSalesRequest:
    """Hand a request to customer-service staff: the consumer may once its response limit
    has passed unanswered; staff may take one over at any time (QS 9.2.1, 9.2.3)."""
    require(viewer, Action.ESCALATE_AFTER_SALES_REQUEST)
    text = validation.text(reason, "reason", min_len=2, max_len=1000, multiline=True)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        _refuse_finished(request)
        now = state.now()
        if viewer.role == Role.CONSUMER and (
            request.first_response_at is not None or now <= request.response_due_at
        ):
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("requestId",), "not past its limit")
        await state.move(
            request,
            S.ESCALATED,
            actor=viewer,
            action="escalated",
            field="requestId",
            data={"reason": text},
            escalated_at=now,
        )
    return request


@retry_on_conflict
async def close(viewer: Viewer, request_id: int) -> AfterSalesRequest:
    """The consumer (or staff) closes a request that was carried out or rejected."""
    require(viewer, Action.CLOSE_AFTER_SALES_REQUEST)
    async with in_transaction():
        request = await lock_after_order(viewer, AfterSalesRequest, request_id, "requestId")
        _refuse_finished(request)
        if request.state not in CLOSABLE:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("requestId",), str(request.state))
        await state.move(
            request,
            S.CLOSED,
            actor=viewer,
            action="closed",
            field="requestId",
            closed_at=state.now(),
        )
    return request
