"""PostgreSQL for the test suite: one database per session, put back to its fresh state
before each test.

A database of its own per test cost each test ~0.3 s of setup (create the database, its
tables and indexes, publish the default rules, drop it). Putting the session's database
back costs ~20 ms, in one round trip: a DELETE of every table, children before parents so
that no foreign key finds a row; the rows of a fresh database (the default rules, published
once per session) copied back from a snapshot; every sequence set to where it stood on the
fresh database, so that ids start where they would. TRUNCATE … RESTART IDENTITY would take
~130 ms (it gives every table and index a new file); copying a template database ~80 ms.

The session's database is named from PINZHI_TEST_DATABASE_URL with ``session_`` and a random
suffix in place of its ``{}``, and dropped when the session ends, however its tests end.
While the session runs it holds an advisory lock named after its database: a run that was
killed leaves a database whose lock nobody holds, and the next run drops it.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from graphlib import CycleError, TopologicalSorter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import generate_config
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from pinzhi.services import rules
from pinzhi.settings import MODEL_MODULES

POSTGRES_SCHEMES = frozenset({"postgres", "asyncpg", "psycopg"})
SESSION_TAG = "session_"
# Where the session keeps the rows of a fresh database, beside the tables' own schema.
SNAPSHOT_SCHEMA = "fresh_rows"
# A reset that waits this long for a lock is held up by a connection a test left open.
RESET_LOCK_TIMEOUT = "10s"


def is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in POSTGRES_SCHEMES


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class SessionDatabase:
    """The test session's database on the server of ``url_pattern`` (a URL whose database
    name holds ``{}``). ``open()`` before the first test, ``close()`` after the last."""

    def __init__(self, url_pattern: str) -> None:
        parts = urlsplit(url_pattern)
        pattern = parts.path.lstrip("/")
        if "{}" not in pattern:
            raise ValueError(
                f"PINZHI_TEST_DATABASE_URL needs a {{}} in its database name: {url_pattern}"
            )
        prefix, _, self._suffix = pattern.partition("{}")
        self._prefix = prefix + SESSION_TAG
        self.name = f"{self._prefix}{uuid.uuid4().hex[:12]}{self._suffix}"
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        # asyncpg.connect() arguments; no database: the server's default for the user, as
        # tortoise's db_create, the same for every run (advisory locks are per database).
        self.server: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port,
            "user": parts.username,
            "password": parts.password,
        }
        # The session's own event loop: each test runs in a loop of its own.
        self._runner = asyncio.Runner()
        self._admin: asyncpg.Connection | None = None
        self._reset_script = ""

    def open(self) -> None:
        self._runner.run(self._open())

    def close(self) -> None:
        try:
            self._runner.run(self._close())
        finally:
            self._runner.close()

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[TortoiseContext]:
        """A context on the session's database, put back to the state of a fresh one."""
        async with _context(self.url) as ctx:
            await ctx.db().execute_script(self._reset_script)
            yield ctx

    async def _open(self) -> None:
        self._admin = await asyncpg.connect(**self.server)
        await self._admin.execute("SELECT pg_advisory_lock(hashtext($1))", self.name)
        await self._drop_abandoned()
        await self._admin.execute(f"CREATE DATABASE {_quote(self.name)}")
        try:
            async with _context(self.url) as ctx:
                await ctx.generate_schemas(safe=False)
                await rules.ensure_defaults()
                self._reset_script = await _snapshot(ctx.db())
        except BaseException:
            await self._close()
            raise

    async def _drop_abandoned(self) -> None:
        """Drop the databases of sessions that ended without dropping theirs: those whose
        advisory lock nobody holds."""
        assert self._admin is not None
        for (name,) in await self._admin.fetch("SELECT datname FROM pg_database"):
            if name == self.name or not (
                name.startswith(self._prefix) and name.endswith(self._suffix)
            ):
                continue
            if not await self._admin.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", name):
                continue  # a running session's
            try:
                with suppress(asyncpg.ObjectInUseError):
                    await self._admin.execute(f"DROP DATABASE {_quote(name)}")
            finally:
                await self._admin.execute("SELECT pg_advisory_unlock(hashtext($1))", name)

    async def _close(self) -> None:
        if self._admin is None:
            return
        try:
            await self._admin.execute(f"DROP DATABASE IF EXISTS {_quote(self.name)} WITH (FORCE)")
        finally:
            await self._admin.close()  # which releases the advisory lock
            self._admin = None


@asynccontextmanager
async def _context(url: str) -> AsyncIterator[TortoiseContext]:
    with warnings.catch_warnings():
        # Expected in tests, as tortoise_test_context knows: each test has its own loop.
        warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
        async with TortoiseContext() as ctx:
            await ctx.init(config=generate_config(url, app_modules={"models": MODEL_MODULES}))
            yield ctx


async def _snapshot(connection: BaseDBAsyncClient) -> str:
    """Copy the rows of the fresh database aside; return the script that puts them back."""
    query = connection.execute_query_dict
    tables = [
        r["name"]
        for r in await query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        )
    ]
    references = await query(
        "SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
        "WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
    )
    sequences = await query(
        "SELECT sequencename AS name, start_value, last_value FROM pg_sequences "
        "WHERE schemaname = current_schema()"
    )
    # A parent is emptied after its children, so that no row's foreign key is checked.
    graph: dict[str, set[str]] = {table: set() for table in tables}
    for ref in references:
        if ref["child"] != ref["parent"]:
            graph[ref["parent"]].add(ref["child"])
    try:
        children_first = list(TopologicalSorter(graph).static_order())
        empty = [f"DELETE FROM {_quote(table)};" for table in children_first]
    except CycleError:
        # Tables that refer to each other in a circle: slower, but needs no order.
        children_first = tables
        empty = [f"TRUNCATE {', '.join(_quote(t) for t in tables)};"]

    await connection.execute_script(f"CREATE SCHEMA {_quote(SNAPSHOT_SCHEMA)}")
    refill = []
    for table in reversed(children_first):
        if (await query(f"SELECT EXISTS (SELECT FROM {_quote(table)}) AS rows"))[0]["rows"]:
            kept = f"{_quote(SNAPSHOT_SCHEMA)}.{_quote(table)}"
            await connection.execute_script(f"CREATE TABLE {kept} AS TABLE {_quote(table)}")
            refill.append(f"INSERT INTO {_quote(table)} SELECT * FROM {kept};")
    # Each sequence where it stands now: at its start unless the fresh rows took numbers.
    renumber = [
        f"SELECT setval({_literal(_quote(s['name']))}, {s['start_value']}, false);"
        if s["last_value"] is None
        else f"SELECT setval({_literal(_quote(s['name']))}, {s['last_value']}, true);"
        for s in sequences
    ]
    return "\n".join(
        [
            "BEGIN;",
            f"SET LOCAL lock_timeout = '{RESET_LOCK_TIMEOUT}';",
            *empty,
            *refill,
            *renumber,
            "COMMIT;",
        ]
    )
