"""State machines of the service process (QS 9.1.1).

States change only through ``move``: it checks the transition table, changes the row with a
compare-and-set (so two clients racing on one row cannot both win), and appends the traced
key node in the same transaction. Callers run it inside ``in_transaction()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.models import Model

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Complaint,
    ComplaintState,
    Order,
    OrderState,
    Payment,
    PaymentState,
    Shipment,
    ShipmentState,
)
from pinzhi.services import audit
from pinzhi.services.errors import ErrorCode, ServiceError

O, P, S, C = OrderState, PaymentState, ShipmentState, ComplaintState

TRANSITIONS: dict[type[Model], dict[StrEnum, frozenset[StrEnum]]] = {
    Order: {
        O.PENDING_PAYMENT: frozenset({O.PAID, O.CANCELLED}),
        O.PAID: frozenset({O.SHIPPED, O.CANCELLED}),
        O.SHIPPED: frozenset({O.DELIVERED, O.COMPLETED}),
        O.DELIVERED: frozenset({O.COMPLETED}),
        O.COMPLETED: frozenset(),
        O.CANCELLED: frozenset(),
    },
    Payment: {
        P.PENDING: frozenset({P.SUCCEEDED, P.FAILED}),
        P.SUCCEEDED: frozenset({P.REFUNDED}),
        P.FAILED: frozenset(),
        P.REFUNDED: frozenset(),
    },
    Shipment: {
        S.CREATED: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.EXCEPTION}),
        S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.EXCEPTION}),
        S.OUT_FOR_DELIVERY: frozenset({S.IN_TRANSIT, S.DELIVERED, S.EXCEPTION}),
        S.EXCEPTION: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED}),
        S.DELIVERED: frozenset(),
    },
    Complaint: {
        C.OPEN: frozenset({C.IN_PROGRESS, C.PROMISED, C.RESOLVED}),
        C.IN_PROGRESS: frozenset({C.PROMISED, C.RESOLVED}),
        C.PROMISED: frozenset({C.RESOLVED}),
        C.RESOLVED: frozenset(),
    },
}


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
    current = row.state  # type: ignore[attr-defined]
    check(model, current, target, field)
    changed = await model.filter(id=row.pk, state=current).update(state=target, **updates)
    if changed != 1:
        # Someone else moved the row since it was read: refuse rather than overwrite.
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, (field,) if field else (), "concurrent")
    row.state = target  # type: ignore[attr-defined]
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


def now() -> datetime:
    return datetime.now(UTC)
