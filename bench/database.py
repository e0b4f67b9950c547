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

from pinzhi.bench.plan import GENERATOR_VERSION, Plan, Row, Table
from pinzhi.settings import tortoise_config

Say = Callable[[str], None]
SEQUENCED = ["merchant", "service_provider", "account", "product", "order", "order_line"]
SEQUENCED += ["payment", "shipment", "tracking_event", "complaint", "feedback"]
SEQUENCED += ["product_review", "merchant_licence", "brand_registration", "violation_case"]
SEQUENCED += ["product_certificate"]


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
    """COPY into the tables. Foreign-key triggers are skipped while loading (the rows are
    generated consistent; ``session_replication_role`` needs a superuser, as the
    benchmark's postgres user is)."""

    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def start(self) -> None:
        await self.conn.execute("SET session_replication_role = replica")

    async def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self) -> None:
        for table in SEQUENCED:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        await self.conn.execute("SET session_replication_role = DEFAULT")
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


async def prepare(
    url: str, scale: float, reset: bool, say: Say, *, same_generator: bool = False
) -> dict[str, Any]:
    """The database at the scale: filled now, or the earlier fill reused (a different
    scale, or with ``same_generator`` an older generator's data, asks for --reset)."""
    await ensure_database(url, reset, say)
    loaded = await loaded_scale(url)
    if loaded is None:
        say("Loading")
        return (await load(url, scale, say)).as_dict()
    if abs(loaded - scale) > 1e-9:
        raise SystemExit(f"the database holds scale {loaded:g}; pass --reset to refill it")
    if same_generator and await _generator(url) != GENERATOR_VERSION:
        raise SystemExit("the database was filled by an older generator; pass --reset")
    say(f"  data at scale {scale:g} already loaded (--reset refills it)")
    report = LoadReport(scale, "postgresql", reused=True)
    if not is_sqlite(url):
        report.rows = await row_counts(url)
    return report.as_dict()


async def _generator(url: str) -> str | None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return await conn.fetchval("SELECT value FROM bench_meta WHERE key = 'generator'")
    finally:
        await conn.close()


# Indexes the shipped migrations lack (foreign keys the loaders read by, and the ranked
# products order): created only with --add-indexes, to show the floor the schema could have.
EXTRA_INDEXES = {
    "bench_order_line_order_id": "order_line (order_id)",
    "bench_payment_order_id": "payment (order_id, id)",
    "bench_tracking_event_shipment_id": "tracking_event (shipment_id)",
    "bench_product_rank": "product (rank_score DESC, id DESC)",
}


async def set_extra_indexes(url: str, wanted: bool) -> list[str]:
    """Create the extra indexes, or drop them so that a run measures the shipped schema."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        for name, target in EXTRA_INDEXES.items():
            if wanted:
                await conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            else:
                await conn.execute(f"DROP INDEX IF EXISTS {name}")
        await conn.execute("ANALYZE order_line, payment, tracking_event, product")
    finally:
        await conn.close()
    return [f"{name} ON {target}" for name, target in EXTRA_INDEXES.items()] if wanted else []


async def row_counts(url: str) -> dict[str, int]:
    """Rows per generated table (for a database loaded earlier)."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in SEQUENCED}
    finally:
        await conn.close()


async def load(url: str, scale: float, say: Say) -> LoadReport:
    """Migrate an empty database and fill it at ``scale``, reporting progress and timings."""
    # Imported here: the generator hashes a password (argon2, 64 MiB) at import, which the
    # floor server, importing this module, must not carry in its peak memory.
    from pinzhi.bench.generate import Generator

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
        await sink.start()
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


def model_defaults(table: str, written: Sequence[str]) -> tuple[tuple[str, ...], Row]:
    """Columns of ``table`` that are not ``written``, with their model defaults: COPY and
    hand-written inserts get no Python-side defaults, and the models grow columns."""
    from pinzhi.models import __models__

    model = next((m for m in __models__ if m._meta.db_table == table), None)
    if model is None:
        return (), ()
    names: list[str] = []
    values: list[Any] = []
    for field_name, column in model._meta.fields_db_projection.items():
        field = model._meta.fields_map[field_name]
        if column in written or field.pk:
            continue
        default = field.default() if callable(field.default) else field.default
        if default is None:
            if field.null:
                continue  # the column's NULL
            raise SystemExit(f"{table}.{column} has no default: teach the benchmark to fill it")
        names.append(column)
        values.append(field.to_db_value(default, model))
    return tuple(names), tuple(values)


async def _fill(gen: Any, sink: Sink, report: LoadReport, say: Say) -> None:
    defaults: dict[str, tuple[tuple[str, ...], Row]] = {}

    async def put(table: Table) -> None:
        if table.name not in defaults:
            defaults[table.name] = model_defaults(table.name, table.columns)
        extra_columns, extra = defaults[table.name]
        rows = [row + extra for row in table.rows] if extra_columns else table.rows
        await sink.write(table.name, table.columns + extra_columns, rows)
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
            db.execute(
                "INSERT OR REPLACE INTO bench_meta VALUES ('generator', ?)", (GENERATOR_VERSION,)
            )
        return
    await conn.execute(create)
    for key, value in (("scale", str(scale)), ("generator", GENERATOR_VERSION)):
        await conn.execute(
            "INSERT INTO bench_meta VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            key,
            value,
        )
