"""``python -m pinzhi.bench anchors``: time anchoring and verifying one busy hour.

    python -m pinzhi.bench anchors --events 200000 --chains 50000 \\
        --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench_anchors

The database is dropped, migrated and filled with ``--events`` valid audit events spread
over ``--chains`` chains, all stamped in one hour (COPY, not timed). Then, as the ``anchor``
job and the API would: the hour is anchored (``anchors.catch_up``), verified whole
(``audit_checks.verify_period``) and one chain verified (``audit_checks.verify_entity``,
the mean of 50 calls). Each is timed (wall) with its SQL statements counted and the rise of
the resident size; the tables' sizes show what the anchor costs to keep next to the events.
Results go to bench/results/<date>-anchors-<events>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from pinzhi.bench.database import asyncpg_url, ensure_database
from pinzhi.bench.measure import count_sql, reset_peak, status_kib
from pinzhi.settings import tortoise_config

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench_anchors"
HOUR_START = datetime(2026, 11, 2, 10, tzinfo=UTC)
COLUMNS = [
    "entity_type",
    "entity_id",
    "seq",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "actor_role",
    "data",
    "occurred_at",
    "prev_hash",
    "hash",
]
TABLES = ["audit_event", "audit_anchor", "audit_anchor_head"]


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m pinzhi.bench anchors", description=__doc__.split("\n")[0]
    )
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--chains", type=int, default=50_000)
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    return p.parse_args(argv)


def _events(count: int, chains: int) -> list[tuple[Any, ...]]:
    """Valid chains: event n of the hour goes to chain n % chains, in time order."""
    from pinzhi.models import AuditEvent
    from pinzhi.services.audit import GENESIS_HASH, chain_hash

    heads: dict[int, tuple[int, str]] = {}
    rows = []
    step = timedelta(hours=1) / count
    for n in range(count):
        entity_id = n % chains + 1
        seq, prev = heads.get(entity_id, (0, GENESIS_HASH))
        event = AuditEvent(
            entity_type="Order",
            entity_id=entity_id,
            seq=seq + 1,
            action="paid",
            from_state="PENDING_PAYMENT",
            to_state="PAID",
            actor_id=None,
            actor_role="SYSTEM",
            data={"payment_id": n},
            occurred_at=HOUR_START + step * n,
            prev_hash=prev,
        )
        event.hash = chain_hash(prev, event)
        heads[entity_id] = (event.seq, event.hash)
        rows.append(tuple(getattr(event, c) for c in COLUMNS))
    return [(*row[:8], orjson.dumps(row[8]).decode(), *row[9:]) for row in rows]


async def _fill(url: str, rows: list[tuple[Any, ...]]) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        await conn.copy_records_to_table("audit_event", records=rows, columns=COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _timed(work: Callable[[], Awaitable[Any]], repeat: int = 1) -> dict[str, Any]:
    """Wall time and statements of ``work`` (mean of ``repeat``), and how far the resident
    size rose above where it started (VmHWM reset by /proc/self/clear_refs, Linux)."""
    reset_peak()
    resident = status_kib("VmRSS")
    with count_sql() as counter:
        started = time.perf_counter()
        for _ in range(repeat):
            result = await work()
        seconds = (time.perf_counter() - started) / repeat
    return {
        "seconds": round(seconds, 4),
        "statements": counter.count // repeat,
        "peak_rise_mib": round((status_kib("VmHWM") - resident) / 1024, 1),
        "result": result,
    }


async def _sizes() -> dict[str, dict[str, int]]:
    from tortoise.connection import get_connection

    conn = get_connection("default")
    sizes = {}
    for table in TABLES:
        [row] = await conn.execute_query_dict(
            f"SELECT pg_table_size('{table}') AS heap, pg_indexes_size('{table}') AS indexes, "
            f"(SELECT count(*) FROM {table}) AS row_count"
        )
        sizes[table] = {k: int(v) for k, v in row.items()}
    return sizes


async def _measure(url: str, period: str) -> dict[str, Any]:
    from pinzhi.services import anchors, audit_checks

    await Tortoise.init(config=tortoise_config(url))
    try:
        now = anchors.period_bounds(period)[1] + anchors.GRACE
        anchored = await _timed(lambda: anchors.catch_up(now))
        checked = await _timed(lambda: audit_checks.verify_period(period))
        entity = await _timed(lambda: audit_checks.verify_entity("Order", 1), repeat=50)
        assert anchored["result"].anchored == 1 and checked["result"].valid
        assert entity["result"].valid and entity["result"].anchored
        return {
            "anchor_hour": {k: v for k, v in anchored.items() if k != "result"},
            "verify_period": {k: v for k, v in checked.items() if k != "result"},
            "verify_entity": {k: v for k, v in entity.items() if k != "result"},
            "sizes": await _sizes(),
        }
    finally:
        await Tortoise.close_connections()


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from pinzhi.services import anchors

    await ensure_database(args.database_url, True, say)
    await migrate(config=tortoise_config(args.database_url))
    say(f"  generating {args.events} events over {args.chains} chains")
    await _fill(args.database_url, _events(args.events, args.chains))
    gc.collect()
    period = anchors.period_of(HOUR_START)
    say(f"  measuring {period}")
    return await _measure(args.database_url, period)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    measured = asyncio.run(_run(args))
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "events": args.events,
        "chains": args.chains,
        **measured,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{document['date'][:10]}-anchors-{args.events}.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    say(json.dumps(document, indent=2))
    say(f"Wrote {path}")
    return 0
