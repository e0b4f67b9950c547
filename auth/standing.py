"""Whether the account behind a valid access token may still act (QS 9.4.1).

An access token is self-contained: verified, it says who the viewer is for fifteen minutes.
So that a deactivated account, or one that no longer exists, stops at once, every request
with a token also reads the account's standing: from the shared cache (Redis in
production, so every worker sees a deactivation the moment it is written), else from the
database, remembered briefly. Deactivation writes the cache itself
(``services/credentials.set_active``).
"""

from __future__ import annotations

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
