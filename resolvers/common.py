"""Glue shared by the resolvers: running a service call and keeping its refusal."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from pinzhi.errors import ServiceError
from pinzhi.services.transactions import conflict_error, is_conflict

R = TypeVar("R")


async def outcome(action: Awaitable[R]) -> tuple[R | None, list[ServiceError]]:
    """Await a service call; a refusal is returned, not raised. The service ran in its own
    transaction, so a refusal has changed nothing."""
    try:
        return await action, []
    except ServiceError as error:
        return None, [error]
    except Exception as error:
        # A transaction that lost a race (and its retry, where the service retries) rolled
        # back: the client may try again.
        if not is_conflict(error):
            raise
        return None, [conflict_error()]
