"""The shared cache: in-process memory by default, Redis with ``CACHE_URL=redis://…``.

Values are JSON-compatible so that both backends behave the same.
"""

from __future__ import annotations

from aiocache import Cache
from aiocache.base import BaseCache


def make_cache(url: str, namespace: str = "pinzhi") -> BaseCache:
    cache = Cache.from_url(url)
    cache.namespace = namespace
    return cache


async def cache_reachable(cache: BaseCache) -> bool:
    try:
        await cache.set("healthz", 1, ttl=5)
        return bool(await cache.get("healthz") == 1)
    except Exception:
        return False
