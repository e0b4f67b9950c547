"""The ``pinzhi`` command: serve, migrate, demo, jobs, intents, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as run_migrations

from pinzhi.settings import SettingsError, get_settings, tortoise_config

DEMO_DATABASE_URL = "sqlite://pinzhi-demo.sqlite3"


def _say(message: str) -> None:
    print(message, flush=True)


async def _migrate(database_url: str) -> None:
    from pinzhi.services import rules

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            _say(f"  applied {app_label}.{name}")

    config = tortoise_config(database_url)
    await run_migrations(config=config, progress=progress)
    created = await rules.ensure_defaults()
    _say(f"  platform rules: {created} published")


async def _with_database(database_url: str, work: Callable[[], Awaitable[None]]) -> None:
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        await work()
    finally:
        await Tortoise.close_connections()


def cmd_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or get_settings().database_url
    _say(f"Migrating {url.split('@')[-1]}")
    asyncio.run(_with_database(url, lambda: _migrate(url)))
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from pinzhi.schema import schema

    path = Path(args.output)
    path.write_text(str(schema) + "\n", encoding="utf-8")
    _say(f"Wrote {path}")
    return 0


def log_config() -> dict:
    """uvicorn's logging without its access log, which prints the query string (a GET's
    variables); the app writes its own (``pinzhi.access``, app.py). Our loggers, one line
    per event with a timestamp, go to standard error."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["pinzhi"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["pinzhi"] = {
        "class": "logging.StreamHandler",
        "formatter": "pinzhi",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["pinzhi"] = {"handlers": ["pinzhi"], "level": "INFO", "propagate": False}
    return config


def _serve(host: str, port: int, database_url: str) -> None:
    import uvicorn

    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    from pinzhi.app import create_app

    uvicorn.run(
        create_app(get_settings()),
        host=host,
        port=port,
        log_config=log_config(),
        log_level="info",
        access_log=False,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(args.host, args.port, args.database_url or get_settings().database_url)
    return 0


def demo_database_url(flag: str | None, env: dict[str, str] | os._Environ[str]) -> str:
    """``--database-url``, else ``DATABASE_URL``, else the demo's own SQLite file."""
    return flag or env.get("DATABASE_URL") or DEMO_DATABASE_URL


def cmd_demo(args: argparse.Namespace) -> int:
    from pinzhi.services import demo

    url = demo_database_url(args.database_url, os.environ)
    # Refuse a bad environment or URL before touching any database.
    dataclasses.replace(get_settings(), database_url=url).validate()
    started = time.monotonic()
    holder: dict[str, demo.Credentials] = {}

    async def work() -> None:
        where = "the embedded database" if url.startswith("sqlite") else url.split("@")[-1]
        _say(f"1/3 Migrating {where}")
        await _migrate(url)
        _say("2/3 Seeding the demo world")
        holder["creds"] = await demo.seed(progress=_say)

    asyncio.run(_with_database(url, work))
    creds = holder["creds"]
    graphql_url = f"http://{args.host}:{args.port}/graphql"
    document = {"graphql_url": graphql_url, "accounts": creds.accounts, "api_keys": creds.api_keys}
    Path(args.credentials).write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    _say(f"   done in {time.monotonic() - started:.1f} s")
    _say("")
    _say(f"Logins (password for all: {creds.accounts[0]['password']}):")
    for account in creds.accounts:
        _say(f"  {account['role']:<17} {account['email']}")
    _say("API keys (send as 'Authorization: Bearer <key>'):")
    for key in creds.api_keys:
        _say(f"  {key['kind']:<17} {key['key']}")
    _say(f"Written to {args.credentials}")
    if args.no_serve:
        _say(f"Serve it with: pinzhi serve --database-url {url}")
        return 0
    _say("")
    _say(f"3/3 Serving GraphiQL at {graphql_url}  (Ctrl-C to stop)")
    _say(
        '    Log in with: mutation { login(input: {email: "consumer1@demo.pinzhi", '
        'password: "pinzhi-demo-2026"}) { accessToken errors { code message } } }'
    )
    _say('    then set the header {"Authorization": "Bearer <accessToken>"}.')
    _serve(args.host, args.port, url)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from pinzhi.services import jobs

    if args.action == "list":
        for name in jobs.JOBS:
            _say(name)
        return 0
    if args.name not in jobs.JOBS:
        print(f"pinzhi: unknown job {args.name!r}; known: {', '.join(jobs.JOBS)}", file=sys.stderr)
        return 2
    url = args.database_url or get_settings().database_url
    started = time.monotonic()

    async def work() -> None:
        from pinzhi.services import events

        # A job's events (the breach sweep's) reach the web workers' subscribers.
        bus = events.make_bus(get_settings().cache_url)
        try:
            with events.using(bus):
                await jobs.run(args.name, args.period, progress=_say)
        finally:
            await bus.close()

    asyncio.run(_with_database(url, work))
    _say(f"took {time.monotonic() - started:.2f} s")
    return 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_evaluation(title: str, report: object) -> None:
    from pinzhi.services.intents.evaluation import Evaluation

    assert isinstance(report, Evaluation)
    _say(title)
    _say(f"accuracy {report.accuracy:.3f} ({report.correct}/{report.count})")
    for language, count, correct in report.languages:
        _say(f"  {language}: {correct / count:.3f} ({correct}/{count})")
    _say(f"{'intent':<18}{'count':>7}{'recall':>9}{'precision':>11}")
    for score in report.intents:
        _say(
            f"{score.intent:<18}{score.support:>7}{_share(score.recall):>9}"
            f"{_share(score.precision):>11}"
        )
    _say(
        f"mean confidence: right {_share(report.mean_confidence_right)}, "
        f"wrong {_share(report.mean_confidence_wrong)}"
    )
    if report.confusions:
        _say("most frequent confusions (labelled -> read as):")
        for confusion in report.confusions[:10]:
            _say(f"  {confusion.expected} -> {confusion.predicted}: {confusion.count}")
    else:
        _say("no confusions")


def cmd_intents(args: argparse.Namespace) -> int:
    """QS 9.7.1: score the recogniser on the held-out split or on a labelled file, or read
    one message."""
    from pinzhi.services import intents
    from pinzhi.services.intents import corpus, evaluation, model

    if args.action == "classify":
        if args.target is None:
            print("pinzhi: intents classify needs a message", file=sys.stderr)
            return 2
        result = intents.classify(args.target)
        _say(f"{result.intent} {result.confidence:.3f} ({result.language})")
        for alternative in result.alternatives:
            _say(f"  then {alternative.intent} {alternative.confidence:.3f}")
        return 0
    started = time.monotonic()
    if args.target is None:
        report = evaluation.held_out()
        title = (
            f"held-out split of the shipped corpus: {report.count} messages, scored by a "
            f"model trained on the other {report.trained_on}"
        )
    else:
        try:
            examples = corpus.read(args.target)
        except corpus.CorpusError as error:
            print(f"pinzhi: {error}", file=sys.stderr)
            return 2
        report = evaluation.score(examples)
        title = (
            f"{args.target}: {report.count} messages, scored by the model trained on the "
            f"whole shipped corpus ({model.get('all').trained_on} messages)"
        )
    _print_evaluation(title, report)
    _say(f"took {time.monotonic() - started:.2f} s")
    if args.min_accuracy is not None and report.accuracy < args.min_accuracy:
        print(
            f"pinzhi: accuracy {report.accuracy:.3f} is below {args.min_accuracy:.3f}",
            file=sys.stderr,
        )
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinzhi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database-url", default=None)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations and default rules")
    migrate.add_argument("--database-url", default=None)
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="migrate, seed a demo world and serve GraphiQL")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--database-url", default=None, help=f"default: $DATABASE_URL, else {DEMO_DATABASE_URL}"
    )
    demo.add_argument("--credentials", default="demo-credentials.json")
    demo.add_argument("--no-serve", action="store_true", help="seed and exit")
    demo.set_defaults(func=cmd_demo)

    jobs = sub.add_parser("jobs", help="periodic jobs: regrade, monitor, anchor")
    jobs.add_argument("action", choices=["run", "list"])
    jobs.add_argument("name", nargs="?", default="")
    jobs.add_argument(
        "--period", default=None, help="e.g. 2026-11 or 2026-12-01T18 (default: the current one)"
    )
    jobs.add_argument("--database-url", default=None)
    jobs.set_defaults(func=cmd_jobs)

    intents = sub.add_parser(
        "intents",
        help="the customer-message intent recogniser (QS 9.7.1): evaluate it, or classify",
        description="evaluate [FILE.tsv]: score the held-out split of the shipped corpus "
        "(no FILE), or a file of INTENT<TAB>text lines with the full model; "
        'classify "TEXT": read one message.',
    )
    intents.add_argument("action", choices=["evaluate", "classify"])
    intents.add_argument("target", nargs="?", default=None, help="FILE.tsv or the message")
    intents.add_argument(
        "--min-accuracy",
        type=float,
        default=None,
        help="exit with status 1 when the accuracy is below this (0-1)",
    )
    intents.set_defaults(func=cmd_intents)

    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("output", nargs="?", default="schema.graphql")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as error:
        print(f"pinzhi: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
