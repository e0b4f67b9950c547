"""One measuring session: in-process SQL counts, the servers, the same-data check, the
interleaved wrk runs, peak memory, the profile, and the document that reports them."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from tortoise import Tortoise

from pinzhi.auth.crypto import email_lookup
from pinzhi.bench.checks import check_same_data, mint_tokens, sql_counts
from pinzhi.bench.database import asyncpg_url
from pinzhi.bench.load import Run, require_wrk, run_wrk, write_script
from pinzhi.bench.report import summarise
from pinzhi.bench.scenarios import BY_KEY, Scenario
from pinzhi.bench.servers import Server
from pinzhi.settings import tortoise_config


def say(message: str) -> None:
    print(message, flush=True)


async def _in_process(
    url: str, variants: dict[str, str], scenarios: list[Scenario]
) -> tuple[dict[str, str], dict[str, Any], str]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        tokens = await mint_tokens()
        counts = await sql_counts(url, variants, scenarios, tokens)
    finally:
        await Tortoise.close_connections()
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return tokens, counts, f"PostgreSQL {version}"


async def _profile(url: str, token: str, out_dir: Path, stem: str, runs: int) -> dict[str, Any]:
    from pinzhi.bench.profile import profile_merchant_orders

    await Tortoise.init(config=tortoise_config(url))
    try:
        return await profile_merchant_orders(url, token, out_dir, stem, runs=runs)
    finally:
        await Tortoise.close_connections()


async def _orders_of_viewer(url: str, email: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        sql = 'SELECT count(*) FROM "order" o JOIN account a ON a.id = o.consumer_id '
        return await conn.fetchval(sql + "WHERE a.email_hash = $1", email_lookup(email))
    finally:
        await conn.close()


def measure(
    args: argparse.Namespace, variants: dict[str, str], load: dict[str, Any]
) -> dict[str, Any]:
    require_wrk()
    url = args.database_url
    scenarios = [BY_KEY[k.strip()] for k in args.scenarios.split(",") if k.strip()]
    clients = [int(c) for c in args.clients.split(",")]
    date = datetime.now(UTC).date().isoformat()
    load_start = os.getloadavg()
    say("Counting SQL per request in process (page sizes 1, 10, 50)")
    tokens, sql, postgres = asyncio.run(_in_process(url, variants, scenarios))
    for key, by_server in sql.items():
        say(f"  {key:<16} " + "  ".join(f"{n}: {c}" for n, c in by_server.items()))
    work = Path(tempfile.mkdtemp(prefix="pinzhi-bench-"))
    common = {"DATABASE_URL": url, "BENCH_DATABASE_URL": url}
    floor = Server(
        "floor", "pinzhi.bench.floor:create_floor_app", args.port_base, "", common, args.uvicorn_arg
    )
    servers = [floor] + [
        Server(name, spec, args.port_base + 1 + i, "/graphql", common, args.uvicorn_arg)
        for i, (name, spec) in enumerate(variants.items())
    ]
    runs: list[Run] = []
    memory: dict[str, dict[str, int]] = {}
    writes: dict[str, Any] = {}
    try:
        for server in servers:
            server.start(work)
            memory[server.name] = {"start_kib": server.peak_memory_kib()}
            say(f"Started {server.name} ({server.factory}) on :{server.port}, pid {server.pid}")
        say("Checking that every server returns the floor's data")
        checks = check_same_data(url, floor, servers[1:], scenarios, tokens)
        for line in checks:
            say(line)
        for scenario in scenarios:
            script = write_script(
                work / f"{scenario.key}.lua", scenario.bodies(), tokens[scenario.viewer]
            )
            before = asyncio.run(_orders_of_viewer(url, "consumer1@bench.pinzhi"))
            mine = _series(args, scenario, clients, servers, script)
            runs += mine
            if scenario.mutation:
                after = asyncio.run(_orders_of_viewer(url, "consumer1@bench.pinzhi"))
                writes[scenario.key] = {
                    "orders_created": after - before,
                    "requests_completed_by_wrk": sum(r.requests for r in mine),
                }
            for server in servers:
                memory[server.name][f"after_{scenario.key}_kib"] = server.peak_memory_kib()
        for server in servers:
            memory[server.name]["peak_kib"] = server.peak_memory_kib()
            memory[server.name]["rss_at_end_kib"] = server.rss_kib()
    finally:
        for server in servers:
            server.stop()
        say("Stopped the servers")
    profile = None
    if args.profile_runs and "merchant" in tokens:
        say(f"Profiling scenario 3 in process ({args.profile_runs} executions)")
        stem = f"{date}-{args.scale:g}" + (f"-{args.tag}" if args.tag else "")
        stem += "-indexed" if args.add_indexes and not args.tag else ""
        profile = asyncio.run(
            _profile(url, tokens["merchant"], args.results_dir, stem, args.profile_runs)
        )
    return {
        "date": date,
        "scale": args.scale,
        "settings": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "clients": clients,
            "wrk": "wrk -t1 -c<clients> --timeout 10s, keep-alive",
        },
        "variants": variants,
        "machine": {"postgres": postgres, "loadavg_at_start": [round(x, 2) for x in load_start]},
        "load": load,
        "sql_counts": sql,
        "checks": checks,
        "summary": summarise(runs, [s.name for s in servers]),
        "memory": memory,
        "writes": writes,
        "profile": profile,
        "runs": [r.as_dict() for r in runs],
    }


MAX_SECONDS = 30


def _length(args: argparse.Namespace, clients: int, rps: float) -> int:
    """Long enough for ten turns of all the clients: a slow server that interleaves 16
    requests finishes them in bursts, and a run that ends between two bursts would
    under-count by up to one burst."""
    if rps <= 0:
        return MAX_SECONDS
    return max(args.seconds, min(MAX_SECONDS, math.ceil(10 * clients / rps)))


def _series(
    args: argparse.Namespace,
    scenario: Scenario,
    clients: list[int],
    servers: list[Server],
    script: Path,
) -> list[Run]:
    """Per client count: a warm-up of each server, then rounds of floor, variant(s), ..."""
    database = urlsplit(args.database_url).path.lstrip("/")
    runs: list[Run] = []
    for count in clients:
        seconds = {}
        for server in servers:
            path = scenario.floor_path if server.name == "floor" else server.path
            rps = max([r.rps for r in runs if r.server == server.name] or [0.0])
            if args.warmup > 0:
                warm = run_wrk(server, path, script, scenario=scenario.key, clients=count,
                               seconds=args.warmup, database=database)  # fmt: skip
                rps = max(rps, warm.rps)
            seconds[server.name] = _length(args, count, rps) if count > 1 else args.seconds
        for round_ in range(args.rounds):
            for server in servers:
                path = scenario.floor_path if server.name == "floor" else server.path
                run = run_wrk(
                    server,
                    path,
                    script,
                    scenario=scenario.key,
                    clients=count,
                    seconds=seconds[server.name],
                    database=database,
                    round_=round_,
                )
                runs.append(run)
                say(
                    f"  {scenario.key:<16} c={count:<3} {server.name:<8} {run.rps:>9,.1f} req/s  "
                    f"p50 {run.p50_ms:7.2f}  p99 {run.p99_ms:7.2f} ms  n={run.requests:<6} "
                    f"{run.seconds:4.0f} s  errors {run.errors}  "
                    f"cpu srv {run.server_cpu_s / run.seconds:4.0%} "
                    f"pg {run.postgres_cpu_s / run.seconds:4.0%} "
                    f"wrk {run.wrk_cpu_s / run.seconds:4.0%} "
                    f"others {run.other_cpu_s / run.seconds:4.0%}"
                )
    return runs
