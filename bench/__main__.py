"""``python -m pinzhi.bench``: load the data, check the floor, measure, profile, report.

    python -m pinzhi.bench --scale 1 --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench

The database is created when missing and filled once per scale (``--reset`` drops and
refills it). Results go to bench/results/<date>-<scale>.json and the generated section of
docs/PERFORMANCE.md. ``python -m pinzhi.bench regrade --scale 1`` times the re-grading job
instead (bench/regrade.py); ``python -m pinzhi.bench anchors`` times anchoring and verifying
an hour of the audit trail (bench/anchors.py); ``python -m pinzhi.bench sweep`` times the
after-sales sweep over a backlog of breached requests (bench/sweep.py); ``python -m pinzhi.bench
service-metrics`` the chat response metrics over many sessions (bench/service_metrics.py);
``python -m pinzhi.bench subscriptions`` measures how fast one worker fans a session's
messages out to its websocket subscribers (bench/subscriptions.py).
``--variant NAME=module:factory`` adds a server variant measured against the same floor in
the same run (today's is ``graphql=pinzhi.app:create_app``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench"
DEFAULT_VARIANT = "graphql=pinzhi.app:create_app"
ALL_SCENARIOS = ["typename", "products", "merchant_orders", "complaints", "place_order"]


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pinzhi.bench", description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="1 = 100,000 orders; 0.01 is quick")
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--reset", action="store_true", help="drop, recreate and refill the database")
    p.add_argument("--load-only", action="store_true", help="fill the database and stop")
    p.add_argument(
        "--scenarios", default="typename,products,merchant_orders,complaints,place_order"
    )
    p.add_argument("--clients", default="1,16", help="concurrent keep-alive clients per run")
    p.add_argument("--seconds", type=int, default=8, help="length of one measured run")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured run before each series")
    p.add_argument("--rounds", type=int, default=3, help="floor/GraphQL pairs per client count")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=module:factory",
        help=f"a GraphQL server to measure (repeatable; {DEFAULT_VARIANT} unless --only-variants)",
    )
    p.add_argument("--only-variants", action="store_true", help="drop the default variant")
    p.add_argument("--uvicorn-arg", action="append", default=[], help="passed to every server")
    p.add_argument(
        "--add-indexes",
        action="store_true",
        help="add indexes the migrations lack (order_line.order_id, payment.order_id, "
        "tracking_event.shipment_id, product rank order); without it they are dropped",
    )
    p.add_argument("--tag", default="", help="suffix of the results file and doc section")
    p.add_argument("--port-base", type=int, default=18700)
    p.add_argument("--profile-runs", type=int, default=30, help="0 skips the profile")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    p.add_argument("--doc", type=Path, default=HERE.parent / "docs" / "PERFORMANCE.md")
    p.add_argument("--no-doc", action="store_true", help="write the JSON only")
    return p.parse_args(argv)


def variants_of(args: argparse.Namespace) -> dict[str, str]:
    specs = ([] if args.only_variants else [DEFAULT_VARIANT]) + args.variant
    variants: dict[str, str] = {}
    for spec in specs:
        name, sep, factory = spec.partition("=")
        if not sep or ":" not in factory or not name or name == "floor":
            raise SystemExit(f"--variant wants NAME=module:factory, got {spec!r}")
        variants[name] = factory
    if not variants:
        raise SystemExit("no server variant to measure")
    return variants


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["regrade"]:
        from pinzhi.bench import regrade

        return regrade.main(words[1:])
    if words[:1] == ["anchors"]:
        from pinzhi.bench import anchors

        return anchors.main(words[1:])
    if words[:1] == ["sweep"]:
        from pinzhi.bench import sweep

        return sweep.main(words[1:])
    if words[:1] == ["service-metrics"]:
        from pinzhi.bench import service_metrics

        return service_metrics.main(words[1:])
    if words[:1] == ["subscriptions"]:
        from pinzhi.bench import subscriptions

        return subscriptions.main(words[1:])
    args = parse_args(argv)
    # Before any pinzhi module reads its settings: the servers and this process share them.
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("CACHE_URL", "memory://")
    os.environ.setdefault("PINZHI_ACCESS_TOKEN_MINUTES", "720")  # tokens outlive the run
    from pinzhi.settings import get_settings

    get_settings.cache_clear()
    from pinzhi.bench import database

    variants = variants_of(args)
    say(f"Database {args.database_url.split('@')[-1]} at scale {args.scale:g}")
    load_report = asyncio.run(database.prepare(args.database_url, args.scale, args.reset, say))
    if args.load_only or database.is_sqlite(args.database_url):
        if database.is_sqlite(args.database_url) and not args.load_only:
            say("SQLite holds the data; the floor and the load runs need PostgreSQL.")
        if not load_report["reused"]:
            from pinzhi.bench import report

            date = datetime.now(UTC).date().isoformat()
            path = args.results_dir / f"{date}-{args.scale:g}-load.json"
            document = {"date": date, "scale": args.scale, "command": _command(argv)}
            report.write_json(path, {**document, "machine": _machine({}), "load": load_report})
            say(f"Wrote {path}")
        return 0
    indexes = asyncio.run(database.set_extra_indexes(args.database_url, args.add_indexes))
    tag = args.tag or ("indexed" if args.add_indexes else "")
    from pinzhi.bench.run import measure

    document = measure(args, variants, load_report)
    document["extra_indexes"] = indexes
    document["tag"] = tag
    document["command"] = _command(argv)
    document["machine"] = _machine(document.get("machine", {}))
    from pinzhi.bench import report

    stem = f"{document['date']}-{args.scale:g}" + (f"-{tag}" if tag else "")
    report.write_json(args.results_dir / f"{stem}.json", document)
    say(f"Wrote {args.results_dir / f'{stem}.json'}")
    if not args.no_doc:
        report.update_doc(args.doc, report.render(document), tag or "shipped-schema")
        say(f"Updated {args.doc}")
    return 0


def _command(argv: list[str] | None) -> str:
    words = ["python", "-m", "pinzhi.bench", *(sys.argv[1:] if argv is None else argv)]
    return shlex.join(words)


def _machine(extra: dict[str, Any]) -> dict[str, Any]:
    loops = []
    for module, label in (("uvloop", "uvloop"), ("httptools", "httptools")):
        try:
            __import__(module)
            loops.append(label)
        except ImportError:
            pass
    uvicorn = "uvicorn " + (
        "with " + " and ".join(loops) if loops else "(asyncio loop, h11: no uvloop/httptools)"
    )
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "uvicorn": uvicorn,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        **extra,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sys.exit(main())
