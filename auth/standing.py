"""Whether the account behind a valid access token may still act (QS 9.4.1).

An access token is self-contained: verified, it says who the viewer is for fifteen minutes.
So that a deactivated account, or one that no longer exists, stops at once, every request
with a token also reads the account's standing: from the shared cache (Redis in
production, so every worker sees a deactivation the moment it is written), else from the
database, remembered briefly. Deactivation writes the cache itself
(``services/credentials.set_active``).
"""

from __future__ import annotations

import asyncio
import time
import weakref

from aiocache.base import BaseCache

from pinzhi.models import Account

ACTIVE, INACTIVE, MISSING = "active", "inactive", "missing"
# How long a standing read from the database is trusted; a deactivation through the API
# does not wait for it.
REMEMBER_SECONDS = 60


def _key(account_id: int) -> str:
    return f"account-standing:{account_id}"


async def standing_of(cache: BaseCache, account_id: int) -> str:
    known = await cache.get(_key(account_id))
    if isinstance(known, str) and known in (ACTIVE, INACTIVE, MISSING):
        return known
    rows = await Account.filter(id=account_id).values_list("is_active", flat=True)
    found = MISSING if not rows else ACTIVE if rows[0] else INACTIVE
    try:
        # Only if nobody wrote it meanwhile: a deactivation that landed after this read
        # must not be overwritten by the "active" read before it.
        await cache.add(_key(account_id), found, ttl=REMEMBER_SECONDS)
    except ValueError:
        return await standing_of(cache, account_id)
    return found


async def remember(cache: BaseCache, account_id: int, active: bool) -> None:
    """Write a changed standing at once, for every worker (the database already holds it
    for when the entry expires)."""
    await cache.set(_key(account_id), ACTIVE if active else INACTIVE, ttl=REMEMBER_SECONDS)


# --- For streams ---------------------------------------------------------------------------
# A subscription reads the standing before each event it delivers. A hundred subscribers of
# one session would read it a hundred times per message, all at once (and more than a
# hundred reads at once exhaust a Redis client's pool, failing every other cache read of the
# worker). So streams read through ``Recent``: per worker and account, a read is shared by
# whoever asks within ``RECENT_SECONDS``, only one is in flight, and at most
# ``READS_AT_ONCE`` of the worker's are.
RECENT_SECONDS = 1.0
READS_AT_ONCE = 4
_KEEP = 10_000


class Recent:
    """Recent standings of accounts, read through the cache."""

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache
        self._known: dict[int, tuple[float, str]] = {}
        self._reading: dict[int, asyncio.Task[str]] = {}
        self._limit = asyncio.Semaphore(READS_AT_ONCE)

    async def standing_of(self, account_id: int, within: float | None = None) -> str:
        """The standing read at most ``within`` seconds ago (``RECENT_SECONDS`` by default;
        0: read now, or join the read in flight)."""
        within = RECENT_SECONDS if within is None else within
        known = self._known.get(account_id)
        if known is not None and time.monotonic() - known[0] < within:
            return known[1]
        reading = self._reading.get(account_id)
        if reading is None:
            # A task of its own: a caller that is cancelled does not cancel the others' read.
            reading = asyncio.get_running_loop().create_task(self._read(account_id))
            reading.add_done_callback(lambda task: task.cancelled() or task.exception())
            self._reading[account_id] = reading
        return await asyncio.shield(reading)

    async def _read(self, account_id: int) -> str:
        try:
            async with self._limit:
                found = await standing_of(self.cache, account_id)
            self._remember(account_id, found)
            return found
        finally:
            del self._reading[account_id]

    def _remember(self, account_id: int, found: str) -> None:
        if len(self._known) >= _KEEP:
            cutoff = time.monotonic() - RECENT_SECONDS
            self._known = {k: v for k, v in self._known.items() if v[0] >= cutoff}
        self._known[account_id] = (time.monotonic(), found)


_recent: weakref.WeakKeyDictionary[BaseCache, Recent] = weakref.WeakKeyDictionary()


def recent(cache: BaseCache) -> Recent:
    """The worker's ``Recent`` for ``cache``."""
    found = _recent.get(cache)
    if found is None:
        found = _recent[cache] = Recent(cache)
    return found
