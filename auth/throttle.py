"""Slowing down repeated failed logins, per email and per client address.

After ``FREE_ATTEMPTS`` failures, each further attempt must wait twice as long as the last
(1 s, 2 s, 4 s … up to 15 minutes). The counters live in the shared cache, so every worker
sees them.
"""

from __future__ import annotations

import math
import time

from aiocache.base import BaseCache

FREE_ATTEMPTS = 5
MAX_DELAY_SECONDS = 15 * 60
WINDOW_SECONDS = 60 * 60


class Throttled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after} s")


def _keys(email: str, client: str) -> list[str]:
    return [f"login-fail:email:{email.strip().lower()}", f"login-fail:ip:{client}"]


def _delay(failures: int) -> int:
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_ATTEMPTS))


async def check(cache: BaseCache, email: str, client: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    for key in _keys(email, client):
        state = await cache.get(key)
        if not state:
            continue
        wait = state["last"] + _delay(state["count"]) - now
        if wait > 0:
            raise Throttled(math.ceil(wait))


async def record_failure(
    cache: BaseCache, email: str, client: str, now: float | None = None
) -> None:
    now = time.time() if now is None else now
    for key in _keys(email, client):
        state = await cache.get(key) or {"count": 0, "last": now}
        await cache.set(key, {"count": state["count"] + 1, "last": now}, ttl=WINDOW_SECONDS)


async def record_success(cache: BaseCache, email: str) -> None:
    await cache.delete(_keys(email, "")[0])
