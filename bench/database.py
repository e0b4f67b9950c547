"""Create (or reset) the benchmark database, migrate it and fill it in bulk.

PostgreSQL is filled with COPY (asyncpg ``copy_records_to_table``), SQLite with batched
``executemany`` inserts. The schema comes from tortoise's migrations, as ``pinzhi migrate``
makes it, and the default platform rules are published the same way.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from pinzhi.bench.generate import Generator
from pinzhi.bench.plan import Plan, Row, Table
from pinzhi.settings import tortoise_config

Say = Callable[[str], None]
SEQUENCED = ["merchant", "service_provider", "account", "product", "order", "order_line"]
SEQUENCED += ["payment", "shipment", "tracking_event", "complaint", "feedback"]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


def asyncpg_url(url: str) -> str:
    """asyncpg wants postgresql://; tortoise accepts postgres:// and asyncpg://."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def _remove(path: Path) -> bool:
    if not path.exists():
        return False
    path.unlink()
    return True


def _sqlite_scale(path: str) -> float | None:
    if not Path(path).exists():
        return None
    with sqlite3.connect(path) as conn:
        try:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'scale'").fetchone()
        except sqlite3.OperationalError:
            return None
    return float(row[0]) if row else None


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def ensure_database(url: str, reset: bool, say: Say) -> None:
    """Create the database when missing; drop and recreate it with ``reset``."""
    if is_sqlite(url):
        if reset and _remove(Path(url.removeprefix("sqlite://"))):
            say(f"  removed {url}")
        return
    name = _database_name(url)
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    admin = urlunsplit(("postgresql", *urlsplit(url)[1:2], "/postgres", "", ""))
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and reset:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            say(f"  dropped database {name}")
            exists = False
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            say(f"  created database {name}")
    finally:
        await conn.close()


class Sink(Protocol):
    async def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None: ...

    async def finish(self) -> None: ...


class PostgresSink:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self) -> None:
        for table in SEQUENCED:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        await self.conn.execute("ANALYZE")


class SqliteSink:
    def __init__(self, path: str):
        sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))
        self.conn = sqlite3.connect(path)

    async def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    async def finish(self) -> None:
        self.conn.commit()
        self.conn.execute("ANALYZE")
        self.conn.close()


@dataclass
class LoadReport:
    scale: float
    backend: str
    reused: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "backend": self.backend,
            "reused": self.reused,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "rows": self.rows,
            "total_rows": sum(self.rows.values()),
        }


async def _migrate(url: str) -> None:
    from pinzhi.services import rules

    config = tortoise_config(url)
    await migrate(config=config)
    await Tortoise.init(config=config)
    try:
        await rules.ensure_defaults()
    finally:
        await Tortoise.close_connections()


async def loaded_scale(url: str) -> float | None:
    """The scale the database was filled at, or None when it holds no benchmark data."""
    if is_sqlite(url):
        return _sqlite_scale(url.removeprefix("sqlite://"))
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        if not await conn.fetchval("SELECT to_regclass('bench_meta') IS NOT NULL"):
            return None
        value = await conn.fetchval("SELECT value FROM bench_meta WHERE key = 'scale'")
        return float(value) if value is not None else None
    finally:
        await conn.close()


async def row_counts(url: str) -> dict[str, int]:
    """Rows per generated table (for a database loaded earlier)."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in SEQUENCED}
    finally:
        await conn.close()


async def load(url: str, scale: float, say: Say) -> LoadReport:
    """Migrate an empty database and fill it at ``scale``, reporting progress and timings."""
    report = LoadReport(scale, "sqlite" if is_sqlite(url) else "postgresql")
    started = time.perf_counter()
    await _migrate(url)
    report.seconds["migrate"] = time.perf_counter() - started
    say(f"  migrated in {report.seconds['migrate']:.1f} s")
    plan = Plan.for_scale(scale)
    say(
        f"  plan: {plan.merchants:,} merchants, {plan.products:,} products, "
        f"{plan.orders:,} orders, {plan.complaints:,} complaints, {plan.feedback:,} feedback"
    )
    conn: asyncpg.Connection | None = None
    if is_sqlite(url):
        sink: Sink = SqliteSink(url.removeprefix("sqlite://"))
    else:
        conn = await asyncpg.connect(asyncpg_url(url))
        sink = PostgresSink(conn)
    try:
        fill_started = time.perf_counter()
        await _fill(Generator(plan), sink, report, say)
        finish_started = time.perf_counter()
        await sink.finish()
        report.seconds["analyze"] = time.perf_counter() - finish_started
        report.seconds["fill"] = time.perf_counter() - fill_started
        await _write_meta(url, conn, scale)
    finally:
        if conn is not None:
            await conn.close()
    report.seconds["total"] = time.perf_counter() - started
    say(
        f"  loaded {sum(report.rows.values()):,} rows in {report.seconds['total']:.1f} s "
        f"(fill {report.seconds['fill']:.1f} s)"
    )
    return report


async def _fill(gen: Generator, sink: Sink, report: LoadReport, say: Say) -> None:
    async def put(table: Table) -> None:
        await sink.write(table.name, table.columns, table.rows)
        report.rows[table.name] = report.rows.get(table.name, 0) + len(table.rows)

    t0 = time.perf_counter()
    for table in gen.reference_tables():
        await put(table)
    say(f"  reference data: {report.rows['account']:,} accounts ({time.perf_counter() - t0:.1f} s)")
    total = gen.plan.orders
    for chunk in gen.order_chunks():
        for table in chunk:
            await put(table)
        done = report.rows["order"]
        rate = done / max(time.perf_counter() - t0, 1e-6)
        say(f"  orders {done:>9,}/{total:,}  {100 * done / total:5.1f}%  ({rate:,.0f} orders/s)")
        await asyncio.sleep(0)
    for table in gen.service_tables():
        await put(table)
    say(f"  complaints {report.rows['complaint']:,}, feedback {report.rows['feedback']:,}")


async def _write_meta(url: str, conn: asyncpg.Connection | None, scale: float) -> None:
    create = "CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    if conn is None:
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            db.execute(create)
            db.execute("INSERT OR REPLACE INTO bench_meta VALUES ('scale', ?)", (str(scale),))
        return
    await conn.execute(create)
    await conn.execute(
        "INSERT INTO bench_meta VALUES ('scale', $1) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        str(scale),
    )
