"""Transactions that lose a race: retried once, then a coded error.

PostgreSQL aborts one of two transactions that wait on each other's row locks (a deadlock,
SQLSTATE 40P01) or that cannot be serialised (40001). The aborted one changed nothing, so
running it again is safe; a second loss is answered with ``CONCURRENT_CHANGE`` rather than
an internal error. Services take their row locks in a fixed order (products by id, the
order before its payments, the merchant before its cases), so this is the exception.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pinzhi.errors import ErrorCode, ServiceError

CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
RETRIES = 1
# A short random pause lets the winner commit before the loser tries again.
BACKOFF_SECONDS = (0.005, 0.05)

P = ParamSpec("P")
R = TypeVar("R")


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` (or what it wraps) is a deadlock or a serialisation failure."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) in CONFLICT_SQLSTATES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def conflict_error() -> ServiceError:
    return ServiceError(ErrorCode.CONCURRENT_CHANGE)


def retry_on_conflict(work: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run ``work`` again once if its transaction lost a race; a second loss is
    ``CONCURRENT_CHANGE``. Only for work whose every write is inside its transaction."""

    @functools.wraps(work)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(RETRIES + 1):
            try:
                return await work(*args, **kwargs)
            except Exception as error:
                if not is_conflict(error):
                    raise
                if attempt == RETRIES:
                    raise conflict_error() from error
                await asyncio.sleep(random.uniform(*BACKOFF_SECONDS))
        raise AssertionError("unreachable")

    return run
