"""State machines of the service process (QS 9.1.1).

Traced rows begin through ``create``: it inserts the row (a state machine's in its initial
state) and appends the first key node of its trail. States change only through ``move``: it
checks the transition table, changes the row with a compare-and-set (so two clients racing
on one row cannot both win), and appends the traced key node in the same transaction.
Callers run both inside ``in_transaction()``. ``move_many`` does what ``move`` does for many
rows of a job at once, in a fixed number of statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from tortoise.models import Model

from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    AfterSalesState,
    BrandRegistration,
    Complaint,
    ComplaintState,
    DepositPayment,
    Dispute,
    DisputeOffer,
    DisputeState,
    FundPayout,
    FundRecovery,
    InstallationAppointment,
    InstallationState,
    MerchantLicence,
    MerchantWarning,
    OfferState,
    Order,
    OrderState,
    Payment,
    PaymentState,
    PayoutState,
    RecoveryState,
    Refund,
    RefundState,
    ReturnShipment,
    ServiceSession,
    ServiceSessionState,
    Shipment,
    ShipmentState,
    SubmissionState,
    TradeIn,
    TradeInState,
    ViolationCase,
    ViolationState,
    WarningState,
)
from pinzhi.services import audit

TRANSITIONS: dict[type[Model], dict[StrEnum, frozenset[StrEnum]]] = {
    Order: {
        OrderState.PENDING_PAYMENT: frozenset({OrderState.PAID, OrderState.CANCELLED}),
        OrderState.PAID: frozenset({OrderState.SHIPPED, OrderState.CANCELLED}),
        OrderState.SHIPPED: frozenset({OrderState.DELIVERED, OrderState.COMPLETED}),
        OrderState.DELIVERED: frozenset({OrderState.COMPLETED}),
        OrderState.COMPLETED: frozenset(),
        OrderState.CANCELLED: frozenset(),
    },
    Payment: {
        PaymentState.PENDING: frozenset({PaymentState.SUCCEEDED, PaymentState.FAILED}),
        PaymentState.SUCCEEDED: frozenset({PaymentState.REFUNDED}),
        PaymentState.FAILED: frozenset(),
        PaymentState.REFUNDED: frozenset(),
    },
    Shipment: {
        ShipmentState.CREATED: frozenset(
            {
                ShipmentState.IN_TRANSIT,
                ShipmentState.OUT_FOR_DELIVERY,
                ShipmentState.DELIVERED,
                ShipmentState.EXCEPTION,
            }
        ),
        ShipmentState.IN_TRANSIT: frozenset(
            {ShipmentState.OUT_FOR_DELIVERY, ShipmentState.DELIVERED, ShipmentState.EXCEPTION}
        ),
        ShipmentState.OUT_FOR_DELIVERY: frozenset(
            {ShipmentState.IN_TRANSIT, ShipmentState.DELIVERED, ShipmentState.EXCEPTION}
        ),
        ShipmentState.EXCEPTION: frozenset(
            {ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY, ShipmentState.DELIVERED}
        ),
        ShipmentState.DELIVERED: frozenset(),
    },
    Complaint: {
        ComplaintState.OPEN: frozenset(
            {ComplaintState.IN_PROGRESS, ComplaintState.PROMISED, ComplaintState.RESOLVED}
        ),
        ComplaintState.IN_PROGRESS: frozenset({ComplaintState.PROMISED, ComplaintState.RESOLVED}),
        ComplaintState.PROMISED: frozenset({ComplaintState.RESOLVED}),
        ComplaintState.RESOLVED: frozenset(),
    },
    # QS 6.4: a violation case is decided or dismissed, a decision may be appealed once,
    # and an appeal is upheld or overturned.
    ViolationCase: {
        ViolationState.OPEN: frozenset({ViolationState.DECIDED, ViolationState.DISMISSED}),
        ViolationState.DECIDED: frozenset({ViolationState.APPEALED}),
        ViolationState.APPEALED: frozenset({ViolationState.UPHELD, ViolationState.OVERTURNED}),
        ViolationState.DISMISSED: frozenset(),
        ViolationState.UPHELD: frozenset(),
        ViolationState.OVERTURNED: frozenset(),
    },
}

# QS 6.1.1: what a merchant submits is verified or rejected, once.
_SUBMISSION: dict[StrEnum, frozenset[StrEnum]] = {
    SubmissionState.SUBMITTED: frozenset({SubmissionState.VERIFIED, SubmissionState.REJECTED}),
    SubmissionState.VERIFIED: frozenset(),
    SubmissionState.REJECTED: frozenset(),
}
TRANSITIONS.update(
    {MerchantLicence: _SUBMISSION, BrandRegistration: _SUBMISSION, DepositPayment: _SUBMISSION}
)
# QS 6.1.2: staff acknowledge a warning once.
TRANSITIONS[MerchantWarning] = {
    WarningState.OPEN: frozenset({WarningState.ACKNOWLEDGED}),
    WarningState.ACKNOWLEDGED: frozenset(),
}


# QS 9.2.3: an after-sales request is answered, decided, carried out and closed; the
# consumer may withdraw it until it is carried out, and an unanswered one is escalated to
# customer-service staff, who decide it.
_AS = AfterSalesState
_DECIDABLE = frozenset({_AS.APPROVED, _AS.REJECTED, _AS.WITHDRAWN})
TRANSITIONS[AfterSalesRequest] = {
    _AS.REQUESTED: _DECIDABLE | {_AS.RESPONDED, _AS.ESCALATED},
    _AS.RESPONDED: _DECIDABLE | {_AS.ESCALATED},
    _AS.ESCALATED: _DECIDABLE,
    _AS.APPROVED: frozenset(
        {_AS.RETURN_IN_TRANSIT, _AS.REFUNDED, _AS.RESHIPPED, _AS.EXCHANGED, _AS.WITHDRAWN}
    ),
    # An instant refund (QS 9.7.5) pays while the goods are still on their way back.
    _AS.RETURN_IN_TRANSIT: frozenset({_AS.RETURN_RECEIVED, _AS.REFUNDED}),
    _AS.RETURN_RECEIVED: frozenset({_AS.REFUNDED, _AS.RESHIPPED, _AS.EXCHANGED}),
    _AS.REFUNDED: frozenset({_AS.CLOSED}),
    _AS.RESHIPPED: frozenset({_AS.CLOSED}),
    _AS.EXCHANGED: frozenset({_AS.CLOSED}),
    _AS.REJECTED: frozenset({_AS.CLOSED}),
    _AS.CLOSED: frozenset(),
    _AS.WITHDRAWN: frozenset(),
}
TRANSITIONS[Refund] = {
    RefundState.REQUESTED: frozenset({RefundState.SUCCEEDED, RefundState.FAILED}),
    RefundState.SUCCEEDED: frozenset(),
    RefundState.FAILED: frozenset(),
}
TRANSITIONS[ReturnShipment] = TRANSITIONS[Shipment]

# Advance-compensation fund (QS 9.7.6): a payout is paid when approved and never moves; its
# recovery is owed, then deducted from the merchant (held while it may appeal) or recovered
# from a provider at once, or waived; a held one is released (recovered) or, on an
# overturned appeal, cancelled.
TRANSITIONS[FundPayout] = {PayoutState.PAID: frozenset()}
TRANSITIONS[FundRecovery] = {
    RecoveryState.OPEN: frozenset(
        {RecoveryState.DEDUCTED, RecoveryState.RECOVERED, RecoveryState.WAIVED}
    ),
    RecoveryState.DEDUCTED: frozenset({RecoveryState.RECOVERED, RecoveryState.CANCELLED}),
    RecoveryState.RECOVERED: frozenset(),
    RecoveryState.WAIVED: frozenset(),
    RecoveryState.CANCELLED: frozenset(),
}
# QS 9.7.7: a dispute is settled by an accepted offer while its settlement period runs, or
# goes to arbitration (the period over, or both parties asking) and is arbitrated; the
# consumer may withdraw it until it is decided. An offer is answered once, or overtaken.
_DS = DisputeState
TRANSITIONS[Dispute] = {
    _DS.OPEN: frozenset({_DS.SETTLED, _DS.ARBITRATION, _DS.WITHDRAWN}),
    _DS.ARBITRATION: frozenset({_DS.ARBITRATED, _DS.WITHDRAWN}),
    _DS.SETTLED: frozenset(),
    _DS.ARBITRATED: frozenset(),
    _DS.WITHDRAWN: frozenset(),
}
TRANSITIONS[DisputeOffer] = {
    OfferState.PROPOSED: frozenset(
        {OfferState.ACCEPTED, OfferState.DECLINED, OfferState.SUPERSEDED}
    ),
    OfferState.ACCEPTED: frozenset(),
    OfferState.DECLINED: frozenset(),
    OfferState.SUPERSEDED: frozenset(),
}

# QS 9.7.5: an installation slot is proposed by the consumer and confirmed by the merchant
# or the installer; a confirmed slot the consumer moves needs confirming again. The visit
# is completed or missed; until then the consumer may cancel. (Moving a slot that is not
# yet confirmed changes it without a move: a repeat is not a move.)
_IN = InstallationState
TRANSITIONS[InstallationAppointment] = {
    _IN.PROPOSED: frozenset({_IN.CONFIRMED, _IN.CANCELLED}),
    _IN.CONFIRMED: frozenset({_IN.RESCHEDULED, _IN.COMPLETED, _IN.MISSED, _IN.CANCELLED}),
    _IN.RESCHEDULED: frozenset({_IN.CONFIRMED, _IN.CANCELLED}),
    _IN.COMPLETED: frozenset(),
    _IN.MISSED: frozenset(),
    _IN.CANCELLED: frozenset(),
}
# QS 9.7.5: a trade-in is accepted (its pick-up scheduled with the delivery) or rejected,
# collected by the carrier, and credited when the refund paying its value succeeds. The
# consumer may cancel it until it is collected.
_TI = TradeInState
TRANSITIONS[TradeIn] = {
    _TI.REQUESTED: frozenset({_TI.SCHEDULED, _TI.REJECTED, _TI.CANCELLED}),
    _TI.SCHEDULED: frozenset({_TI.COLLECTED, _TI.REJECTED, _TI.CANCELLED}),
    _TI.COLLECTED: frozenset({_TI.CREDITED}),
    _TI.CREDITED: frozenset(),
    _TI.REJECTED: frozenset(),
    _TI.CANCELLED: frozenset(),
}

# The state each machine's rows are created in.
# Customer-service chat (QS 9.2.2, 9.7.2): the AI first, a human after the handover; an
# agent may send a session back to the queue; any open session may be closed.
TRANSITIONS[ServiceSession] = {
    ServiceSessionState.BOT: frozenset({ServiceSessionState.WAITING, ServiceSessionState.CLOSED}),
    ServiceSessionState.WAITING: frozenset(
        {ServiceSessionState.ACTIVE, ServiceSessionState.CLOSED}
    ),
    ServiceSessionState.ACTIVE: frozenset(
        {ServiceSessionState.WAITING, ServiceSessionState.CLOSED}
    ),
    ServiceSessionState.CLOSED: frozenset(),
}

INITIAL: dict[type[Model], StrEnum] = {
    Order: OrderState.PENDING_PAYMENT,
    Payment: PaymentState.PENDING,
    Shipment: ShipmentState.CREATED,
    Complaint: ComplaintState.OPEN,
    ViolationCase: ViolationState.OPEN,
    MerchantLicence: SubmissionState.SUBMITTED,
    BrandRegistration: SubmissionState.SUBMITTED,
    DepositPayment: SubmissionState.SUBMITTED,
    MerchantWarning: WarningState.OPEN,
    AfterSalesRequest: AfterSalesState.REQUESTED,
    Refund: RefundState.REQUESTED,
    ReturnShipment: ShipmentState.CREATED,
    InstallationAppointment: InstallationState.PROPOSED,
    TradeIn: TradeInState.REQUESTED,
    FundPayout: PayoutState.PAID,
    FundRecovery: RecoveryState.OPEN,
    Dispute: DisputeState.OPEN,
    DisputeOffer: OfferState.PROPOSED,
    ServiceSession: ServiceSessionState.BOT,
}

M = TypeVar("M", bound=Model)


async def create(
    model: type[M],
    *,
    actor: Viewer | None,
    action: str,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> M:
    """Insert a row and append the first key node of its trail (QS 9.1.2), whose
    ``to_state`` is the initial state for a state machine's row."""
    initial = INITIAL.get(model)
    if initial is not None:
        fields.setdefault("state", initial)
        if fields["state"] != initial:
            raise ValueError(f"a {model.__name__} starts {initial}, not {fields['state']}")
    row = await model.create(**fields)
    await audit.append(
        model.__name__,
        row.pk,
        action,
        actor=actor,
        new=True,
        to_state=str(initial) if initial is not None else "",
        data=data,
    )
    return row


def allowed(model: type[Model], current: StrEnum, target: StrEnum) -> bool:
    return target in TRANSITIONS[model].get(current, frozenset())


def check(model: type[Model], current: StrEnum, target: StrEnum, field: str = "") -> None:
    if not allowed(model, current, target):
        raise ServiceError(
            ErrorCode.ILLEGAL_TRANSITION,
            (field,) if field else (),
            f"{model.__name__} {current} → {target}",
        )


async def move(
    row: Model,
    target: StrEnum,
    *,
    actor: Viewer | None,
    action: str,
    field: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> None:
    model = type(row)
    # Every model in TRANSITIONS has a state field; Model itself declares none.
    current = row.state  # type: ignore[attr-defined]
    check(model, current, target, field)
    if "updated_at" in model._meta.fields_map:
        # A queryset update skips auto_now: keep updated_at true to the change.
        updates.setdefault("updated_at", now())
    changed = await model.filter(id=row.pk, state=current).update(state=target, **updates)
    if changed != 1:
        # Someone else moved the row since it was read: refuse rather than overwrite.
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, (field,) if field else (), "concurrent")
    row.state = target
    for name, value in updates.items():
        setattr(row, name, value)
    await audit.append(
        model.__name__,
        row.pk,
        action,
        actor=actor,
        from_state=str(current),
        to_state=str(target),
        data=data,
    )


# The moment the services act at, when not now: the demo seeds a past (a request opened
# hours ago), as jobs take the moment they run for. Unset, it is the wall clock.
_as_of: ContextVar[datetime | None] = ContextVar("as_of", default=None)


# One row's move in ``move_many``: its id, the state it was read in, its key node's data.
Move = tuple[int, StrEnum, dict[str, Any]]


async def move_many(
    model: type[Model],
    moves: Sequence[Move],
    target: StrEnum,
    *,
    actor: Viewer | None,
    action: str,
    **updates: Any,
) -> None:
    """``move`` for many rows of one machine at once, for the periodic jobs: one
    compare-and-set update per current state and one batched append of their key nodes
    (``audit.append_many``), whatever their number. The rows are given as plain values
    (no model objects: at 100,000 rows building them was a good part of a job's time). The
    caller holds the rows' locks in its transaction, so no request appends to their trails
    meanwhile; a row that another writer moved since it was read fails the whole batch, as
    in ``move``."""
    if not moves:
        return
    if "updated_at" in model._meta.fields_map:
        updates.setdefault("updated_at", now())
    by_state: dict[StrEnum, list[int]] = {}
    for pk, current, _ in moves:
        check(model, current, target)
        by_state.setdefault(current, []).append(pk)
    for current, ids in by_state.items():
        changed = await model.filter(id__in=ids, state=current).update(state=target, **updates)
        if changed != len(ids):
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, (), "concurrent")
    entries: list[audit.Entry] = [
        (pk, action, str(current), str(target), data) for pk, current, data in moves
    ]
    await audit.append_many(model.__name__, entries, actor=actor)


def now() -> datetime:
    return _as_of.get() or datetime.now(UTC)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run the services as of ``moment`` (an aware time) within the block."""
    token = _as_of.set(moment)
    try:
        yield
    finally:
        _as_of.reset(token)
