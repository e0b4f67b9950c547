"""The migrations match the models, and applying them builds every model's table."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.cli.cli import tortoise_cli_context
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from pinzhi import models
from pinzhi.settings import tortoise_config
from tests.conftest import DATABASE_URL


async def test_models_need_no_new_migration() -> None:
    """What ``tortoise makemigrations`` would write: nothing."""
    config = tortoise_config("sqlite://:memory:")
    apps_config = config["apps"]
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, apps_config).changes()
    pending = [
        f"{w.app_label}.{w.name}: " + ", ".join(type(op).__name__ for op in w.operations)
        for w in writers
    ]
    assert pending == [], (
        "the models changed without a migration; run `tortoise makemigrations`, review the "
        f"file and commit it: {pending}"
    )


def _is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in {"postgres", "asyncpg", "psycopg"}


@pytest.fixture
async def fresh_database(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new PostgreSQL database when the suite runs on PostgreSQL,
    otherwise a temporary SQLite file. Dropped afterwards."""
    if _is_postgres(DATABASE_URL):
        url = DATABASE_URL.replace("{}", f"migrations_{uuid.uuid4().hex[:10]}")
        assert url != DATABASE_URL, "PINZHI_TEST_DATABASE_URL needs a {} for the suffix"
    else:
        url = f"sqlite://{tmp_path / 'migrated.sqlite3'}"
    config = tortoise_config(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, _create_db=True)
        try:
            yield url
        finally:
            connection = get_connection("default")
            await connection.close()
            if _is_postgres(url):
                await connection.db_delete()


async def _columns(url: str) -> dict[str, set[str]]:
    connection = get_connection("default")
    if _is_postgres(url):
        rows = await connection.execute_query_dict(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        pairs = [(r["table_name"], r["column_name"]) for r in rows]
    else:
        tables = await connection.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        pairs = []
        for table in tables:
            info = await connection.execute_query_dict(f'PRAGMA table_info("{table["name"]}")')
            pairs += [(table["name"], column["name"]) for column in info]
    columns: dict[str, set[str]] = {}
    for table, column in pairs:
        columns.setdefault(table, set()).add(column)
    return columns


async def test_migrations_build_every_models_table(fresh_database: str) -> None:
    assert await _columns(fresh_database) == {}
    config = tortoise_config(fresh_database)
    await migrate(config=config)

    columns = await _columns(fresh_database)
    expected_tables = {model._meta.db_table for model in models.__models__}
    assert expected_tables <= set(columns), expected_tables - set(columns)
    for model in models.__models__:
        expected = set(model._meta.fields_db_projection.values())
        assert columns[model._meta.db_table] == expected, model.__name__

    # Every migration on disk is recorded as applied, and a second run is a no-op.
    connection = get_connection("default")
    applied = await connection.execute_query_dict("SELECT app, name FROM tortoise_migrations")
    on_disk = sorted(
        p.stem for p in (Path(models.__file__).parent.parent / "migrations").glob("0*.py")
    )
    assert on_disk, "no migration files found"
    assert sorted(r["name"] for r in applied if r["app"] == "models") == on_disk
    await migrate(config=config)
    again = await get_connection("default").execute_query_dict(
        "SELECT app, name FROM tortoise_migrations"
    )
    assert len(again) == len(applied)


@pytest.mark.skipif(not _is_postgres(DATABASE_URL), reason="a PostgreSQL setting; CI's second pass")
async def test_postgres_sessions_plan_for_the_actual_parameters(fresh_database: str) -> None:
    """A generic plan made for an average merchant is wrong for a large one (settings.py)."""
    rows = await get_connection("default").execute_query_dict("SHOW plan_cache_mode")
    assert rows == [{"plan_cache_mode": "force_custom_plan"}]
