"""Glue shared by the resolvers: running a service call and reporting its refusal."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from strawberry.types import Info

from pinzhi.errors import ServiceError
from pinzhi.schema.base import UserError
from pinzhi.services.transactions import conflict_error, is_conflict

R = TypeVar("R")


async def attempt(info: Info, action: Awaitable[R]) -> tuple[R | None, list[UserError]]:
    """Await a service call; a ServiceError becomes the payload's ``errors``. The service
    ran in its own transaction, so a refusal has changed nothing."""
    try:
        return await action, []
    except ServiceError as error:
        return None, [UserError.of(error, info.context.language)]
    except Exception as error:
        # A transaction that lost a race (and its retry, where the service retries) rolled
        # back: the client may try again.
        if not is_conflict(error):
            raise
        return None, [UserError.of(conflict_error(), info.context.language)]
