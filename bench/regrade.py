"""``python -m pinzhi.bench regrade``: time the periodic re-grading job at a scale.

    python -m pinzhi.bench regrade --scale 1 \\
        --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench_regrade [--reset]

The data is loaded as for the main benchmark (same generator, in a child process so that
this process's memory is the job's alone; ``--reset`` refills). Grades left by an earlier run
are cleared, then ``pinzhi.services.jobs.run("regrade", period)`` runs in this process as
``pinzhi jobs run regrade`` would: the whole job, its merchant part and its product part
are timed (wall; CPU of this process and of PostgreSQL), SQL statements are counted by a
handler on the ``tortoise.db_client`` logger, and peak memory is ``VmHWM`` (reset before
each run). The job
then runs again for the same period (a no-op) and once for the next period (a steady-state
re-grade over last period's grades). Results go to bench/results/<date>-regrade-<scale>.json
and the "Re-grading job" section of docs/PERFORMANCE.md (the newest result of each scale).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import shlex
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pinzhi.bench.measure import SqlCounter, count_sql, reset_peak, status_kib

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench_regrade"
TAG = "regrade"
CLEAR = [
    "DELETE FROM job_run WHERE name = 'regrade'",
    "DELETE FROM merchant_grade",
    "DELETE FROM product_grade",
    "DELETE FROM audit_event WHERE entity_type = 'Product' AND action = 'graded'",
    "UPDATE merchant SET grade_level = NULL, grade_score = NULL, grade_provisional = TRUE, "
    "grade_rule_version = NULL, graded_at = NULL WHERE graded_at IS NOT NULL",
    "UPDATE product SET grade_level = NULL, grade_score = NULL, grade_rule_version = NULL, "
    "graded_at = NULL WHERE graded_at IS NOT NULL",
]


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m pinzhi.bench regrade", description=__doc__.split("\n")[0]
    )
    p.add_argument("--scale", type=float, default=1.0, help="1 = 1,000 merchants, 20,000 products")
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--reset", action="store_true", help="drop, recreate and refill the database")
    p.add_argument("--period", default=None, help="e.g. 2026-11 (default: the current one)")
    p.add_argument("--no-next-period", action="store_true", help="skip the third run")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    p.add_argument("--doc", type=Path, default=HERE.parent / "docs" / "PERFORMANCE.md")
    p.add_argument("--no-doc", action="store_true", help="write the JSON only")
    return p.parse_args(argv)


# -- measuring ---------------------------------------------------------------------------------


PHASES = {"grading merchants": "merchants", "grading products": "products"}


async def _run_job(
    period: str, now: datetime, counter: SqlCounter, database: str
) -> dict[str, Any]:
    """One run of the job, sampled at each part: wall and CPU time of this process, CPU of
    the PostgreSQL backends serving ``database``, of the whole machine, and VmHWM."""
    from pinzhi.bench.servers import cpu_between, machine_busy_seconds, postgres_cpu
    from pinzhi.services import jobs

    counter.counts, counter.phase = {}, "start"
    rss_before = status_kib("VmRSS")
    reset_peak()
    pg0, busy0 = postgres_cpu(database), machine_busy_seconds()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    marks: dict[str, dict[str, float]] = {}

    def mark(phase: str) -> None:
        marks[phase] = {
            "seconds": time.perf_counter() - wall0,
            "cpu_seconds": time.process_time() - cpu0,
            "postgres_cpu_seconds": cpu_between(pg0, postgres_cpu(database)),
            "machine_cpu_seconds": machine_busy_seconds() - busy0,
            "peak_kib": status_kib("VmHWM"),
        }
        counter.phase = phase

    def progress(message: str) -> None:
        text = message.strip()
        if text in PHASES:
            mark(PHASES[text])
        elif text.startswith("graded") and counter.phase == "products":
            mark("ledger")  # the job's own bookkeeping follows
        say(f"  {time.perf_counter() - wall0:8.2f} s  {text}")

    mark("start")
    began = time.perf_counter()
    summary = await jobs.run("regrade", period, progress=progress, now=now)
    seconds = time.perf_counter() - began  # the job alone, without the first sample
    mark("end")
    parts: dict[str, Any] = {}
    order = [p for p in ("start", "merchants", "products", "ledger", "end") if p in marks]
    for phase, after in itertools.pairwise(order):
        part = {k: round(v - marks[phase][k], 3) for k, v in marks[after].items()}
        parts[phase] = part | {
            "peak_kib": int(marks[after]["peak_kib"]),
            "statements": counter.total(phase),
            "by_statement": dict(counter.counts.get(phase, Counter()).most_common()),
        }
    every: Counter[str] = Counter()
    for counts in counter.counts.values():
        every.update(counts)
    end = {k: round(v, 3) for k, v in marks["end"].items()}
    end["others_cpu_seconds"] = round(
        end["machine_cpu_seconds"] - end["cpu_seconds"] - end["postgres_cpu_seconds"], 3
    )
    return {
        "period": period,
        "outcome": "no-op (already run)" if summary is None else "graded",
        **end,
        "seconds": round(seconds, 3),
        "peak_kib": int(end["peak_kib"]),
        "statements": counter.total(),
        "executemany_batches": sum(n for s, n in every.items() if s.endswith("(executemany)")),
        "rss_before_kib": rss_before,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "parts": parts,
        "summary": summary,
    }


def _next_period(period: str) -> str:
    year, month = (int(x) for x in period.split("-")[:2])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


async def _facts(now: datetime) -> dict[str, Any]:
    """What the job grades over (read before counting starts)."""
    from tortoise import Tortoise

    from pinzhi.services import rules

    m_days = (await rules.current("merchant.grading")).content["window_days"]
    p_days = (await rules.current("product.grading")).content["window_days"]
    window = "$1::timestamptz - interval '{} days'"
    queries = {
        "merchants": "SELECT count(*) FROM merchant",
        "products": "SELECT count(*) FROM product",
        "orders": 'SELECT count(*) FROM "order"',
        "orders_in_window": f'SELECT count(*) FROM "order" WHERE paid_at >= {window}',
        "orders_in_product_window": 'SELECT count(*) FROM "order" WHERE state IN '
        f"('PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED') AND created_at >= {window}",
        "shipments_in_window": f"SELECT count(*) FROM shipment WHERE created_at >= {window}",
        "postgres": "SELECT 'PostgreSQL ' || current_setting('server_version')",
    }
    days = {"orders_in_product_window": p_days}
    out: dict[str, Any] = {"merchant_window_days": m_days, "product_window_days": p_days}
    for key, sql in queries.items():
        sql = sql.format(days.get(key, m_days))
        _, rows = await Tortoise.get_connection("default").execute_query(
            sql, [now] if "$1" in sql else []
        )
        out[key] = next(iter(dict(rows[0]).values()))
    return out


async def _clear(url: str) -> bool:
    """Undo an earlier run's grading, so that every run starts from ungraded data."""
    import asyncpg

    from pinzhi.bench.database import asyncpg_url

    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        if not await conn.fetchval("SELECT count(*) FROM job_run WHERE name = 'regrade'"):
            return False
        async with conn.transaction():
            for sql in CLEAR:
                await conn.execute(sql)
        await conn.execute("VACUUM ANALYZE merchant, product, merchant_grade, product_grade")
        await conn.execute("VACUUM ANALYZE audit_event, job_run")
        return True
    finally:
        await conn.close()


async def _measure(args: argparse.Namespace, period: str | None) -> dict[str, Any]:
    from tortoise import Tortoise

    from pinzhi.services.scoring import current_period
    from pinzhi.settings import tortoise_config

    if await _clear(args.database_url):
        say("  cleared the grades of an earlier run")
    now = datetime.now(UTC)
    period = period or current_period(now)
    database = args.database_url.rsplit("/", 1)[-1].split("?")[0]
    await Tortoise.init(config=tortoise_config(args.database_url))
    try:
        facts = await _facts(now)
        say(
            f"Data: {facts['merchants']:,} merchants, {facts['products']:,} products, "
            f"{facts['orders_in_window']:,} of {facts['orders']:,} orders paid in the "
            f"{facts['merchant_window_days']}-day window"
        )
        runs: dict[str, Any] = {}
        labels = [("first", period, "first run"), ("again", period, "same period again")]
        if not args.no_next_period:
            labels.append(("next_period", _next_period(period), "next period"))
        with count_sql() as counter:
            for key, which, label in labels:
                say(f"Regrade {which} ({label})")
                runs[key] = await _run_job(which, now, counter, database)
                r = runs[key]
                say(
                    f"  {r['outcome']}: {r['seconds']:.2f} s (CPU: {r['cpu_seconds']:.2f} s "
                    f"here, {r['postgres_cpu_seconds']:.2f} s PostgreSQL, "
                    f"{r['others_cpu_seconds']:.2f} s other processes), "
                    f"{r['statements']} statements, peak {r['peak_kib'] / 1024:.0f} MiB"
                )
    finally:
        await Tortoise.close_connections()
    return {
        "now": now.isoformat(timespec="seconds"),
        "period": period,
        "postgres": facts.pop("postgres"),
        "data": facts,
        "runs": runs,
    }


# -- loading (in a child process) ----------------------------------------------------------


async def _prepare(url: str, scale: float, reset: bool) -> dict[str, Any]:
    from pinzhi.bench import database

    return await database.prepare(url, scale, reset, say, same_generator=True)


def _load_in_child(url: str, scale: float, reset: bool) -> dict[str, Any]:
    return asyncio.run(_prepare(url, scale, reset))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("CACHE_URL", "memory://")
    if args.database_url.startswith("sqlite://"):
        raise SystemExit("the re-grading benchmark needs PostgreSQL")
    say(f"Database {args.database_url.split('@')[-1]} at scale {args.scale:g}")
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        load = pool.submit(_load_in_child, args.database_url, args.scale, args.reset).result()
    from pinzhi.settings import get_settings

    get_settings.cache_clear()
    measured = asyncio.run(_measure(args, args.period))
    from pinzhi.bench import report

    date = datetime.now(UTC).date().isoformat()
    document = {
        "date": date,
        "scale": args.scale,
        "command": shlex.join(["python", "-m", "pinzhi.bench", "regrade", *argv]),
        **measured,
        "load": load,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    path = args.results_dir / f"{date}-regrade-{args.scale:g}.json"
    report.write_json(path, document)
    say(f"Wrote {path}")
    if not args.no_doc:
        report.update_doc(
            args.doc, report.render_regrade(report.latest_regrade(args.results_dir)), TAG
        )
        say(f"Updated {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
