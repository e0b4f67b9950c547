"""Reading one row through the viewer's scope: out of scope is the same as missing."""

from __future__ import annotations

from typing import TypeVar

from tortoise.models import Model

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.services.errors import ErrorCode, ServiceError

M = TypeVar("M", bound=Model)


async def get_visible(viewer: Viewer, model: type[M], pk: int | None, field: str) -> M:
    row = None if pk is None else await scope(viewer, model).filter(id=pk).first()
    if row is None:
        raise ServiceError(ErrorCode.NOT_FOUND, (field,))
    return row


async def lock_visible(viewer: Viewer, model: type[M], pk: int, field: str) -> M:
    """Like get_visible, but holds the row lock until the transaction ends (PostgreSQL)."""
    row = await scope(viewer, model).filter(id=pk).select_for_update().first()
    if row is None:
        raise ServiceError(ErrorCode.NOT_FOUND, (field,))
    return row
