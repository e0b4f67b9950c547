"""``python -m pinzhi.bench sweep``: time the after-sales sweep over a backlog of breaches.

    python -m pinzhi.bench sweep --requests 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench_sweep [--reset]

The database holds the benchmark's world at ``--scale`` (the same generator as the main
benchmark, loaded once; ``--reset`` refills it), migrated to the current schema. On top of
it ``--requests`` after-sales requests are opened on its orders, every one past its
response limit and unanswered (the backlog of an outage: the sweep's worst case), beside
``--answered`` requests answered in time that the sweep must leave alone; each has the
first node of its trail, and the world's complaints keep their promises (COPY, not timed).
Then, as ``pinzhi jobs run after-sales-sweep`` would, the job runs in this process: wall
time, SQL statements (on the ``tortoise.db_client`` logger, a batched insert is one) and
how far the resident size rose. It runs again the next minute (nothing left to do), and
then, the backlog restored, two sweeps run at once as two instances of the job would.
Results go to bench/results/<date>-sweep-<requests>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from tortoise import Tortoise

from pinzhi.bench.database import _migrate, asyncpg_url, prepare
from pinzhi.bench.measure import count_sql, reset_peak, status_kib
from pinzhi.settings import tortoise_config

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench_sweep"
REQUEST_COLUMNS = [
    "id",
    "order_id",
    "consumer_id",
    "merchant_id",
    "kind",
    "state",
    "reason",
    "description",
    "evidence",
    "amount_minor",
    "currency",
    "response_due_at",
    "rule_version",
    "first_response_at",
    "response_note",
    "decision_note",
    "priority",
    "accessibility",
    "premium",
    "benefits",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = [
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
CLEAR = [
    "DELETE FROM notification",
    "DELETE FROM after_sales_line",
    "DELETE FROM after_sales_request",
    "DELETE FROM audit_event WHERE entity_type = 'AfterSalesRequest'",
    "DELETE FROM audit_event WHERE entity_type = 'Complaint' AND action = 'escalated'",
    "UPDATE complaint SET escalated_at = NULL WHERE escalated_at IS NOT NULL",
    "DELETE FROM job_run WHERE name = 'after-sales-sweep'",
]
RESTORE = [
    "DELETE FROM notification",
    "DELETE FROM audit_event WHERE entity_type IN ('AfterSalesRequest', 'Complaint') "
    "AND action IN ('breached', 'escalated')",
    "UPDATE after_sales_request SET state = 'REQUESTED', breached_at = NULL, "
    "escalated_at = NULL WHERE breached_at IS NOT NULL",
    "UPDATE complaint SET escalated_at = NULL WHERE escalated_at IS NOT NULL",
    "DELETE FROM job_run WHERE name = 'after-sales-sweep'",
]


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m pinzhi.bench sweep", description=__doc__.split("\n")[0]
    )
    p.add_argument("--requests", type=int, default=100_000, help="open requests past due")
    p.add_argument("--answered", type=int, default=100_000, help="answered ones beside them")
    p.add_argument("--scale", type=float, default=1.0, help="the world they are opened in")
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--reset", action="store_true", help="drop, recreate and refill the world")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    return p.parse_args(argv)


def _rows(
    orders: list[asyncpg.Record], breached: int, answered: int, now: datetime, limits: dict
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Requests (the breached first) and the first key node of each one's trail."""
    from pinzhi.models import AuditEvent
    from pinzhi.services.audit import GENESIS_HASH, chain_hash

    rng = random.Random(2026)
    kinds = ["RETURN_REFUND", "REFUND_ONLY", "EXCHANGE", "QUALITY_ISSUE", "RESHIPMENT"]
    requests, events = [], []
    for n in range(breached + answered):
        order = orders[n % len(orders)]
        kind = rng.choice(kinds)
        opened = now - timedelta(hours=limits[kind] + rng.uniform(0.01, 72))
        due = opened + timedelta(hours=limits[kind])
        unanswered = n < breached
        response = None if unanswered else opened + (due - opened) * rng.random()
        state = "REQUESTED" if unanswered else "RESPONDED"
        request_id = n + 1
        requests.append(
            (
                request_id,
                order["id"],
                order["consumer_id"],
                order["merchant_id"],
                kind,
                state,
                "质量问题 quality",
                "",
                "[]",
                0,
                order["currency"],
                due,
                1,
                response,
                "",
                "",
                0,
                False,
                False,
                "[]",
                opened,
                response or opened,
            )
        )
        event = AuditEvent(
            entity_type="AfterSalesRequest",
            entity_id=request_id,
            seq=1,
            action="opened",
            from_state="",
            to_state="REQUESTED",
            actor_id=order["consumer_id"],
            actor_role="CONSUMER",
            data={"order_id": order["id"], "kind": kind},
            occurred_at=opened,
            prev_hash=GENESIS_HASH,
        )
        event.hash = chain_hash(GENESIS_HASH, event)
        row = tuple(getattr(event, c) for c in EVENT_COLUMNS)
        events.append((*row[:8], orjson.dumps(row[8]).decode(), *row[9:]))
    return requests, events


async def _fill(url: str, breached: int, answered: int, now: datetime, limits: dict) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        for statement in CLEAR:
            await conn.execute(statement)
        orders = await conn.fetch(
            'SELECT id, consumer_id, merchant_id, currency FROM "order" '
            "WHERE state IN ('SHIPPED', 'DELIVERED', 'COMPLETED') ORDER BY id"
        )
        requests, events = _rows(list(orders), breached, answered, now, limits)
        await conn.copy_records_to_table(
            "after_sales_request", records=requests, columns=REQUEST_COLUMNS
        )
        await conn.copy_records_to_table("audit_event", records=events, columns=EVENT_COLUMNS)
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('after_sales_request', 'id'), $1, true)",
            len(requests),
        )
        await conn.execute("VACUUM ANALYZE after_sales_request, audit_event, complaint")
    finally:
        await conn.close()


async def _restore(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        for statement in RESTORE:
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE after_sales_request, audit_event, notification")
    finally:
        await conn.close()


async def _timed(work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    reset_peak()
    resident = status_kib("VmRSS")
    with count_sql() as counter:
        started = time.perf_counter()
        result = await work()
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "statements": counter.count,
        "by_shape": {
            shape: n for counts in counter.counts.values() for shape, n in counts.most_common()
        },
        "peak_rise_mib": round((status_kib("VmHWM") - resident) / 1024, 1),
        "result": result,
    }


async def _measure(url: str, now: datetime, breached: int) -> dict[str, Any]:
    from pinzhi.models import AfterSalesRequest, AuditEvent, Notification
    from pinzhi.services import after_sales_sweep, audit, jobs

    await Tortoise.init(config=tortoise_config(url))
    try:
        started = time.perf_counter()

        def progress(message: str) -> None:
            say(f"  {time.perf_counter() - started:8.2f} s  {message.strip()}")

        say("  the job over the backlog")
        job = await _timed(lambda: jobs.run("after-sales-sweep", progress=progress, now=now))
        summary = job["result"]
        assert summary["requests_escalated"] == breached, summary
        assert await AfterSalesRequest.filter(state="ESCALATED").count() == breached
        for request_id in random.Random(1).sample(range(1, breached + 1), min(20, breached)):
            assert (await audit.verify("AfterSalesRequest", request_id)).valid
        say("  again the next minute: nothing to do")
        again = await _timed(
            lambda: jobs.run("after-sales-sweep", progress=say, now=now + timedelta(minutes=1))
        )
        assert again["result"]["requests_escalated"] == 0
        await Tortoise.close_connections()
        say("  backlog restored; two instances at once")
        await _restore(url)
        await Tortoise.init(config=tortoise_config(url))
        pair = await _timed(
            lambda: asyncio.gather(
                after_sales_sweep.sweep(now + timedelta(minutes=2)),
                after_sales_sweep.sweep(now + timedelta(minutes=2)),
            )
        )
        one, two = pair["result"]
        assert one.requests_escalated + two.requests_escalated == breached
        breaches = await AuditEvent.filter(
            entity_type="AfterSalesRequest", action="breached"
        ).count()
        assert breaches == breached, breaches
        notices = await Notification.filter(subject_type="AfterSalesRequest").count()
        assert notices == breached, notices
        pair["result"] = {"split": [one.requests_escalated, two.requests_escalated]}
        return {"job": job, "again": again, "two_at_once": pair}
    finally:
        await Tortoise.close_connections()


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from pinzhi.services.rules.defaults import DEFAULT_RULES

    world = await prepare(args.database_url, args.scale, args.reset, say)
    await _migrate(args.database_url)  # a world loaded before the sweep's migration gains it
    limits = next(r for r in DEFAULT_RULES if r["key"] == "after_sales.response")["content"][
        "response_hours"
    ]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    say(f"  opening {args.requests:,} breached and {args.answered:,} answered requests")
    fill_started = time.perf_counter()
    await _fill(args.database_url, args.requests, args.answered, now, limits)
    say(f"  filled in {time.perf_counter() - fill_started:.1f} s")
    gc.collect()
    measured = await _measure(args.database_url, now, args.requests)
    return {"world": {"scale": args.scale, "rows": world.get("rows", {})}, **measured}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    measured = asyncio.run(_run(args))
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "requests": args.requests,
        "answered": args.answered,
        **measured,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{document['date'][:10]}-sweep-{args.requests}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    say(json.dumps({k: v for k, v in document.items() if k != "world"}, indent=2, default=str))
    say(f"Wrote {path}")
    return 0
