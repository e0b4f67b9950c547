"""Every test starts on a fresh database and an empty cache namespace (tests/conftest.py).

The two turns of the first test write the same rows; whichever runs second would see the
other's rows, ids or cache entry were anything to leak from one test to the next. On
PostgreSQL the session's database is dropped at its end, and the next run drops what a
killed run left behind (tests/databases.py).
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiocache.base import BaseCache

from pinzhi import models
from pinzhi.models import Account, Merchant, PlatformRule, Product
from pinzhi.services import rules
from pinzhi.services.rules import DEFAULT_RULES
from tests import databases
from tests import factories as f
from tests.conftest import DATABASE_URL

ON_POSTGRES = databases.is_postgres(DATABASE_URL)


async def _row_counts() -> dict[str, int]:
    counts = {model._meta.db_table: await model.all().count() for model in models.__models__}
    return {table: n for table, n in counts.items() if n}


@pytest.mark.parametrize("turn", ["first", "second"])
async def test_a_test_sees_nothing_of_the_test_before(db, cache: BaseCache, turn: str) -> None:
    # Nothing but the default rules, each with its publication's audit event.
    assert await _row_counts() == {
        "platform_rule": len(DEFAULT_RULES),
        "audit_event": len(DEFAULT_RULES),
    }
    assert sorted(await PlatformRule.all().values_list("id", flat=True)) == list(
        range(1, len(DEFAULT_RULES) + 1)
    )
    assert await PlatformRule.filter(title_en__startswith="changed").count() == 0
    assert await PlatformRule.filter(version__gt=1).count() == 0
    assert await cache.get("isolation-turn") is None

    shop, owner = await f.merchant()
    item = await f.product(shop)
    # A default rule edited in place, another given a second version.
    await PlatformRule.filter(id=1).update(title_en=f"changed in the {turn} turn")
    second = await PlatformRule.get(id=2)
    version = await rules.publish(second.key, second.content, title_zh="改", title_en="changed too")
    await cache.set("isolation-turn", turn)

    # Sequences start where a fresh database's stand: at 1, or after the default rules.
    assert (shop.id, item.id, owner.account.id) == (1, 1, 1)
    assert version.id == len(DEFAULT_RULES) + 1
    assert await Merchant.all().count() == 1
    assert await Product.all().count() == 1
    assert await Account.all().count() == 1


async def _database_names(session: databases.SessionDatabase) -> set[str]:
    connection = await asyncpg.connect(**session.server)
    try:
        return {row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")}
    finally:
        await connection.close()


async def _create_database(session: databases.SessionDatabase, name: str) -> None:
    connection = await asyncpg.connect(**session.server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="session databases are PostgreSQL's; CI's second pass")
def test_a_killed_runs_database_is_dropped_by_the_next_run_and_a_running_ones_kept(
    postgres_session: databases.SessionDatabase,
) -> None:
    running = databases.SessionDatabase(DATABASE_URL)
    running.open()
    try:
        # What a run killed before its end leaves: its database, and no session holding it.
        killed = databases.SessionDatabase(DATABASE_URL)
        asyncio.run(_create_database(killed, killed.name))
        assert killed.name in asyncio.run(_database_names(running))

        later = databases.SessionDatabase(DATABASE_URL)
        later.open()
        names = asyncio.run(_database_names(later))
        later.close()
        assert killed.name not in names
        assert {running.name, postgres_session.name, later.name} <= names
    finally:
        running.close()
    names = asyncio.run(_database_names(postgres_session))
    assert running.name not in names and later.name not in names
