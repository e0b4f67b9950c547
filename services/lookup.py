"""Reading rows: one through the viewer's scope (out of scope is the same as missing), the
ids of many, and their row locks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Order

M = TypeVar("M", bound=Model)


async def get_visible(viewer: Viewer, model: type[M], pk: int | None, field: str) -> M:
    row = None if pk is None else await scope(viewer, model).filter(id=pk).first()
    if row is None:
        raise ServiceError(ErrorCode.NOT_FOUND, (field,))
    return row


async def ids_of(query: QuerySet[Any], field: str = "id") -> list[int]:
    """The integer column ``field`` (an id) of the rows of ``query``, in one statement.

    That is what ``values_list(field, flat=True)`` returns; tortoise types it as a list of
    tuples (tortoise-orm issue 1112), so the values get their type here."""
    values: list[Any] = await query.values_list(field, flat=True)
    return values


LOCK_BATCH = 5000


async def lock_rows(model: type[Model], ids: Iterable[int]) -> None:
    """Take the row locks of ``ids`` in id order inside the caller's transaction (no-op on
    SQLite, which has one writer): a job that writes many rows then waits for, or excludes,
    the requests that change one of them, and two such never lock in crossing orders."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), LOCK_BATCH):
        batch = ordered[start : start + LOCK_BATCH]
        # Rows, not values_list: tortoise leaves FOR UPDATE out of a values query, which
        # then locked nothing.
        await model.filter(id__in=batch).order_by("id").select_for_update().only("id")


async def lock_visible(viewer: Viewer, model: type[M], pk: int, field: str) -> M:
    """Like get_visible, but holds the row lock until the transaction ends (PostgreSQL)."""
    row = await scope(viewer, model).filter(id=pk).select_for_update().first()
    if row is None:
        raise ServiceError(ErrorCode.NOT_FOUND, (field,))
    return row


async def lock_after_order(viewer: Viewer, model: type[M], pk: int, field: str) -> M:
    """A row that belongs to an order (a payment, an after-sales request, a refund),
    row-locked after its order: the order every service locks them in, so two services
    changing the order and one of its rows never wait on each other crosswise."""
    seen = await get_visible(viewer, model, pk, field)
    await Order.filter(id=seen.order_id).select_for_update().first()  # type: ignore[attr-defined]
    return await lock_visible(viewer, model, pk, field)
