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


# A database as the last landed release left it (migrations up to 0003), with a row in every
# table that later migrations add columns to: upgrading it must keep every row.
OLD_ROWS = [
    'INSERT INTO "account" ("email", "password_hash", "role", "duties", "name_enc", '
    '"phone_enc", "is_active", "created_at") VALUES '
    "('Old.Buyer@Example.com', 'x', 'CONSUMER', '', '', '', TRUE, CURRENT_TIMESTAMP)",
    'INSERT INTO "merchant" ("name", "description", "created_at", "grade_provisional", '
    '"deposit_required_minor", "deposit_held_minor") VALUES '
    "('老店', '', CURRENT_TIMESTAMP, TRUE, 0, 0)",
    'INSERT INTO "merchant_licence" ("merchant_id", "kind", "number", "valid_until", '
    "\"created_at\") VALUES (1, 'BUSINESS_LICENCE', 'L-1', '2099-01-01 00:00:00+00:00', "
    "CURRENT_TIMESTAMP)",
    'INSERT INTO "brand_registration" ("merchant_id", "brand", "relation", '
    '"registration_number", "valid_until", "created_at") VALUES '
    "(1, '老牌', 'REGISTERED', 'TM-1', '2099-01-01 00:00:00+00:00', CURRENT_TIMESTAMP)",
    'INSERT INTO "order" ("consumer_id", "merchant_id", "state", "total_minor", "currency", '
    '"recipient_name_enc", "recipient_phone_enc", "address_enc", "created_at", "updated_at", '
    '"commission_bps") VALUES '
    "(1, 1, 'PAID', 100, 'CNY', '', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)",
    'INSERT INTO "product" ("merchant_id", "title", "category", "price_minor", "currency", '
    '"stock", "is_listed", "created_at", "attributes", "rank_score") VALUES '
    "(1, '旧货', 'food', 100, 'CNY', 1, TRUE, CURRENT_TIMESTAMP, '{}', 0)",
    'INSERT INTO "order_line" ("order_id", "product_id", "quantity", "unit_price_minor") '
    "VALUES (1, 1, 1, 100)",
    'INSERT INTO "violation_case" ("merchant_id", "type", "state", "evidence", '
    '"opened_by_id", "decision_note", "deduction_minor", "repeat_count", "appeal_text", '
    '"outcome_note", "created_at") VALUES '
    "(1, 'OTHER', 'OPEN', '[]', 1, '', 0, 0, '', '', CURRENT_TIMESTAMP)",
    # 0017 (the phone queue, QS 9.2.2) makes SQLite rebuild service_provider, which
    # accounts and API keys (ON DELETE CASCADE) refer to.
    'INSERT INTO "service_provider" ("name", "kind", "created_at") VALUES '
    "('老快递', 'LOGISTICS', CURRENT_TIMESTAMP)",
    'INSERT INTO "account" ("email", "password_hash", "role", "duties", "name_enc", '
    '"phone_enc", "is_active", "created_at", "provider_id") VALUES '
    "('carrier@example.com', 'x', 'SERVICE_PROVIDER', '', '', '', TRUE, CURRENT_TIMESTAMP, 1)",
    'INSERT INTO "api_key" ("provider_id", "account_id", "label", "prefix", "key_hash", '
    "\"created_at\") VALUES (1, 2, 'old', 'abcdef012345', 'x', CURRENT_TIMESTAMP)",
]


async def test_a_database_of_the_last_release_upgrades_with_its_rows(fresh_database: str) -> None:
    """The migrations since 0003 add columns to tables that have rows: each gets a database
    default, licences and brands entered before submissions existed count as verified, and
    every e-mail is moved into its encrypted column and lookup hash (QS 9.4.1)."""
    from pinzhi.auth.crypto import decrypt, email_lookup

    config = tortoise_config(fresh_database)
    await migrate(config=config, target="models.0003_indexes")
    connection = get_connection("default")
    for statement in OLD_ROWS:
        await connection.execute_script(statement)

    await migrate(config=config)

    query = get_connection("default").execute_query_dict
    account = (await query('SELECT "email_enc", "email_hash" FROM "account"'))[0]
    assert decrypt(account["email_enc"]) == "old.buyer@example.com"
    assert account["email_hash"] == email_lookup("old.buyer@example.com")
    assert "email" not in (await _columns(fresh_database))["account"]
    for table in ("merchant_licence", "brand_registration"):
        row = (await query(f'SELECT "state", "review_note" FROM "{table}"'))[0]
        assert (row["state"], row["review_note"]) == ("VERIFIED", ""), table
    # SQLite rebuilds a table to add a constraint or drop a column: the rows that refer to
    # it (order lines to their order, cases to the account that opened them) must survive.
    assert len(await query('SELECT "id" FROM "order_line"')) == 1
    provider = await query('SELECT "kind" FROM "service_provider"')
    assert provider == [{"kind": "LOGISTICS"}]
    assert len(await query('SELECT "id" FROM "api_key"')) == 1
    assert len(await query('SELECT "id" FROM "account" WHERE "provider_id" = 1')) == 1
    case = (await query('SELECT "effects", "effects_lifted_at" FROM "violation_case"'))[0]
    assert case["effects_lifted_at"] is None and case["effects"] in ("{}", {})


async def test_an_enrolment_has_exactly_one_trainee_in_a_migrated_database(
    fresh_database: str,
) -> None:
    """QS 6.3, 9.3.2: the database itself refuses an enrolment of nobody or of a merchant
    and a staff member at once, and one trainee twice in a course; a merchant's enrolment
    of the last release survives the table's rebuild (SQLite) with its uniqueness."""
    from tortoise.exceptions import IntegrityError

    config = tortoise_config(fresh_database)
    await migrate(config=config, target="models.0017_phone_queue")
    connection = get_connection("default")
    for statement in [
        'INSERT INTO "account" ("email_enc", "password_hash", "role", "duties", "name_enc", '
        '"phone_enc", "is_active", "created_at") VALUES '
        "('', 'x', 'STAFF', 'CUSTOMER_SERVICE', '', '', TRUE, CURRENT_TIMESTAMP)",
        OLD_ROWS[1],
        'INSERT INTO "course" ("code", "title", "topic", "pass_mark", "created_at") '
        "VALUES ('C-1', '课程', 'SERVICE', 60, CURRENT_TIMESTAMP)",
        'INSERT INTO "enrolment" ("merchant_id", "course_id", "enrolled_at") '
        "VALUES (1, 1, CURRENT_TIMESTAMP)",
    ]:
        await connection.execute_script(statement)
    await migrate(config=config)
    connection = get_connection("default")
    query = connection.execute_query_dict
    assert await query('SELECT "merchant_id", "staff_id" FROM "enrolment"') == [
        {"merchant_id": 1, "staff_id": None}
    ]
    refused = [
        'INSERT INTO "enrolment" ("course_id", "enrolled_at") VALUES (1, CURRENT_TIMESTAMP)',
        'INSERT INTO "enrolment" ("merchant_id", "staff_id", "course_id", "enrolled_at") '
        "VALUES (1, 1, 1, CURRENT_TIMESTAMP)",
        'INSERT INTO "enrolment" ("merchant_id", "course_id", "enrolled_at") '
        "VALUES (1, 1, CURRENT_TIMESTAMP)",
    ]
    for statement in refused:
        with pytest.raises(IntegrityError):
            await connection.execute_script(statement)
    staff = 'INSERT INTO "enrolment" ("staff_id", "course_id", "enrolled_at") VALUES (1, 1, now)'
    staff = staff.replace("now", "CURRENT_TIMESTAMP")
    await connection.execute_script(staff)
    with pytest.raises(IntegrityError):
        await connection.execute_script(staff)
