"""Slowing down repeated failed logins, per email and per client address.

After ``FREE_ATTEMPTS`` failures, each further attempt must wait twice as long as the last
(1 s, 2 s, 4 s … up to 15 minutes). The counters live in the shared cache, so every worker
sees them, and an attempt takes its place in the count atomically *before* the password is
checked (``reserve``): sixty simultaneous attempts are counted as sixty sequential ones
would be, so only the free ones reach the password check. A refused attempt gives its
place back. Emails appear in the cache only as keyed hashes (QS 9.4.1).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from aiocache.base import BaseCache

from pinzhi.auth.crypto import keyed_hash

FREE_ATTEMPTS = 5
MAX_DELAY_SECONDS = 15 * 60
WINDOW_SECONDS = 60 * 60


class Throttled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after} s")


def _email_key(email: str) -> str:
    return f"login-fail:email:{keyed_hash('login-throttle', email.strip().lower())}"


def _keys(email: str, client: str) -> list[str]:
    return [_email_key(email), f"login-fail:ip:{client}"]


def _delay(failures: int) -> int:
    """The wait after ``failures`` failures in a row."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_DELAY_SECONDS, 1 << (failures - FREE_ATTEMPTS))


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, ...]


async def reserve(
    cache: BaseCache, email: str, client: str, now: float | None = None
) -> Reservation:
    """Count this attempt, or refuse it (``Throttled``) while the back-off of the attempts
    before it runs. The count is an atomic increment, so concurrent attempts each see
    their own position; one past the free attempts waits from the last attempt let
    through (or from now, when it is still being stamped). An attempt let through stamps
    the time at once: one that never reports back (a crash, a client gone) still times
    its successors' back-off, instead of holding the email locked."""
    now = time.time() if now is None else now
    taken: list[str] = []
    try:
        for key in _keys(email, client):
            position = await cache.increment(f"{key}:n")
            await cache.expire(f"{key}:n", WINDOW_SECONDS)
            taken.append(key)
            if position <= FREE_ATTEMPTS:
                continue
            last = await cache.get(f"{key}:last")
            wait = (now if last is None else float(last)) + _delay(position - 1) - now
            if wait > 0:
                raise Throttled(max(1, math.ceil(wait)))
    except Throttled:
        for key in taken:
            await cache.increment(f"{key}:n", -1)
        raise
    for key in taken:
        await cache.set(f"{key}:last", now, ttl=WINDOW_SECONDS)
    return Reservation(tuple(taken))


async def record_failure(
    cache: BaseCache, reservation: Reservation, now: float | None = None
) -> None:
    """The reserved attempt failed: the back-off runs from now."""
    now = time.time() if now is None else now
    for key in reservation.keys:
        await cache.set(f"{key}:last", now, ttl=WINDOW_SECONDS)


async def record_success(cache: BaseCache, reservation: Reservation, email: str) -> None:
    """A correct password clears the email's failures; the address keeps its failures, but
    this attempt was none of them."""
    key = _email_key(email)
    await cache.delete(f"{key}:n")
    await cache.delete(f"{key}:last")
    for other in reservation.keys:
        if other != key:
            await cache.increment(f"{other}:n", -1)
