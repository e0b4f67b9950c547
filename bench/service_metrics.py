"""``python -m pinzhi.bench service-metrics``: the chat response metrics over many sessions.

    python -m pinzhi.bench service-metrics --sessions 10 10000 \\
        --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench_chat

The database is created afresh and migrated. For each size, that many customer-service
sessions are written with COPY (not timed): handed over today, answered first after 1-60
seconds by one of 20 agents in 4 teams, each with three agent answers timed 1-120 seconds;
every twentieth still unanswered past its limit. Then ``serviceResponseMetrics``' service
call runs for the day grouped by platform, agent and team: wall time (best of 5) and SQL
statements. Results go to bench/results/<date>-service-metrics.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise

from pinzhi.bench.database import _migrate, asyncpg_url, ensure_database
from pinzhi.bench.measure import count_sql
from pinzhi.settings import tortoise_config

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench_chat"
AGENTS, TEAMS = 20, 4


async def _fill(url: str, sessions: int, now: datetime) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        await conn.execute("TRUNCATE service_message, service_session CASCADE")
        rows = await conn.fetch("SELECT id FROM account ORDER BY id")
        ids = [r["id"] for r in rows]
        opener, agents = ids[0], ids[1 : AGENTS + 1]
        rng = random.Random(sessions)
        session_rows, message_rows = [], []
        message_id = 0
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for n in range(1, sessions + 1):
            handed = start + timedelta(seconds=rng.uniform(0, 3600 * 12))
            agent = agents[n % AGENTS]
            team = f"team-{n % TEAMS}"
            unanswered = n % 20 == 0
            first = None if unanswered else rng.uniform(1, 60)
            session_rows.append(
                (
                    n, opener, "CONSUMER", "CLOSED" if not unanswered else "WAITING", "zh",
                    0, "", 0, "REQUESTED", handed, handed + timedelta(seconds=30),
                    None if unanswered else agent,
                    None if first is None else handed + timedelta(seconds=first),
                    first, None if unanswered else agent, "" if unanswered else team,
                    1, handed, handed,
                )
            )  # fmt: skip
            if unanswered:
                continue
            for _ in range(3):
                message_id += 1
                message_rows.append(
                    (message_id, n, "AGENT", agent, "好的", rng.uniform(1, 120), team, handed)
                )
        await conn.copy_records_to_table(
            "service_session",
            records=session_rows,
            columns=[
                "id", "opener_id", "opener_role", "state", "language", "priority",
                "priority_reasons", "ai_failures", "handover_reason", "handed_over_at",
                "response_due_at", "agent_id", "first_response_at", "first_response_seconds",
                "first_responder_id", "first_responder_team", "rule_version", "created_at",
                "updated_at",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "service_message",
            records=message_rows,
            columns=[
                "id", "session_id", "author_kind", "author_id", "body", "response_seconds",
                "team", "created_at",
            ],
        )  # fmt: skip
        await conn.execute("ANALYZE service_session; ANALYZE service_message")
    finally:
        await conn.close()


async def _accounts(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        if await conn.fetchval("SELECT count(*) FROM account") > AGENTS:
            return
        for n in range(AGENTS + 1):
            role = "CONSUMER" if n == 0 else "STAFF"
            await conn.execute(
                "INSERT INTO account (password_hash, role, duties, name_enc, phone_enc, "
                "is_active, created_at, email_enc, email_hash) "
                "VALUES ('x', $1, $2, '', '', true, now(), '', $3)",
                role,
                "" if n == 0 else "CUSTOMER_SERVICE",
                f"bench-{n}",
            )
    finally:
        await conn.close()


async def run(url: str, sizes: list[int]) -> dict[str, Any]:
    from pinzhi.services.customer_service import metrics

    await ensure_database(url, True, print)
    await _migrate(url)
    await _accounts(url)
    now = datetime.now(UTC)
    results: dict[str, Any] = {}
    for size in sizes:
        await _fill(url, size, now)
        await Tortoise.init(config=tortoise_config(url))
        try:
            day = now.strftime("%Y-%m-%d")
            for group in metrics.GroupBy:
                best = float("inf")
                for _ in range(5):
                    with count_sql() as sql:
                        began = time.perf_counter()
                        _, rows = await metrics.response_metrics(day, group, now=now)
                        best = min(best, time.perf_counter() - began)
                results[f"{size}/{group}"] = {
                    "sessions": size,
                    "group_by": str(group),
                    "groups": len(rows),
                    "statements": sql.count,
                    "best_ms": round(best * 1000, 2),
                }
                print(f"  {size:>6} sessions, by {group:<8}: {len(rows):>3} groups, "
                      f"{sql.count} statements, {best * 1000:.2f} ms")  # fmt: skip
        finally:
            await Tortoise.close_connections()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pinzhi.bench service-metrics")
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 10_000])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.database_url, args.sessions))
    out = HERE / "results" / f"{datetime.now(UTC):%Y-%m-%d}-service-metrics.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"  wrote {out}")
    return 0
