"""Test fixtures: a fresh database per test, on SQLite or on PostgreSQL and Redis.

Set ``PINZHI_TEST_DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test_{}``; the
``{}`` becomes a random suffix) and ``PINZHI_TEST_CACHE_URL`` (e.g.
``redis://127.0.0.1:6379/0``) to run on those. On SQLite each test has a database of its own
in memory; on PostgreSQL the session has one, put back to its fresh state before each test
(tests/databases.py).
"""

from __future__ import annotations

import os

# Before any pinzhi module reads its settings: the test environment (cheap password hashing).
os.environ.setdefault("PINZHI_ENV", "test")
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from aiocache.base import BaseCache
from tortoise.context import TortoiseContext, tortoise_test_context

from pinzhi.services import rules, state
from pinzhi.services.cache import make_cache
from pinzhi.settings import MODEL_MODULES, get_settings
from tests import databases
from tests.helpers import Clock, GraphQLClient

DATABASE_URL = os.environ.get("PINZHI_TEST_DATABASE_URL") or "sqlite://:memory:"
CACHE_URL = os.environ.get("PINZHI_TEST_CACHE_URL") or "memory://"

get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_session() -> Iterator[databases.SessionDatabase | None]:
    """The session's PostgreSQL database (None on SQLite), dropped when the session ends."""
    if not databases.is_postgres(DATABASE_URL):
        yield None
        return
    session = databases.SessionDatabase(DATABASE_URL)
    try:
        session.open()
        yield session
    finally:
        session.close()


@pytest_asyncio.fixture
async def db(postgres_session: databases.SessionDatabase | None) -> AsyncIterator[TortoiseContext]:
    """A fresh database with the default rules published (QS 5.2)."""
    if postgres_session is None:
        async with tortoise_test_context(MODEL_MODULES, db_url=DATABASE_URL) as ctx:
            await rules.ensure_defaults()
            yield ctx
    else:
        async with postgres_session.fresh() as ctx:
            yield ctx


@pytest_asyncio.fixture
async def cache() -> AsyncIterator[BaseCache]:
    cache = make_cache(CACHE_URL, namespace=f"test-{uuid.uuid4().hex}")
    yield cache
    await cache.clear()
    await cache.close()


@pytest_asyncio.fixture
async def api(db: TortoiseContext, cache: BaseCache) -> AsyncIterator[GraphQLClient]:
    from pinzhi.app import create_app

    app = create_app(get_settings(), manage_database=False, cache=cache)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The services' clock (``state.now``), held still until a test moves it."""
    held = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(state, "now", held.now)
    return held
