"""The ``pinzhi`` command, run as a user runs it: in a fresh process, in a fresh directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from tortoise.cli.cli import tortoise_cli_context

from pinzhi import cli, models
from pinzhi.auth.api_keys import viewer_from_api_key
from pinzhi.models import ProviderKind, Role
from pinzhi.services import accounts
from pinzhi.settings import tortoise_config

COUNTED_TABLES = ["order", "merchant", "account", "product", "feedback", "post_assignment"]


def pinzhi(
    *args: str, cwd: Path, env_vars: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PINZHI_ENV"] = "development"
    env.update(env_vars or {})
    return subprocess.run(
        [sys.executable, "-m", "pinzhi.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def row_counts(path: Path, tables: list[str]) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def table_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Run ``pinzhi demo --no-serve`` twice on one database file."""
    tmp = tmp_path_factory.mktemp("demo")
    database, credentials = tmp / "demo.sqlite3", tmp / "creds.json"
    args = [
        "demo",
        "--no-serve",
        "--database-url",
        f"sqlite://{database}",
        "--credentials",
        str(credentials),
    ]
    first = pinzhi(*args, cwd=tmp)
    assert first.returncode == 0, first.stderr
    counts_after_first = row_counts(database, COUNTED_TABLES)
    document = json.loads(credentials.read_text(encoding="utf-8"))
    second = pinzhi(*args, cwd=tmp)
    assert second.returncode == 0, second.stderr
    return {
        "tmp": tmp,
        "database": database,
        "document": document,
        "second_document": json.loads(credentials.read_text(encoding="utf-8")),
        "first": first,
        "second": second,
        "counts": (counts_after_first, row_counts(database, COUNTED_TABLES)),
    }


def test_demo_writes_credentials_for_every_role(demo_runs) -> None:
    document = demo_runs["document"]
    assert set(document) == {"graphql_url", "accounts", "api_keys"}
    assert document["graphql_url"] == "http://127.0.0.1:8000/graphql"

    roles = Counter(a["role"] for a in document["accounts"])
    assert roles["CONSUMER"] >= 2
    assert roles["MERCHANT"] >= 2
    assert roles["REGULATOR"] >= 1
    assert roles["STAFF"] >= 1
    for account in document["accounts"]:
        assert "@" in account["email"] and len(account["password"]) >= 10
    assert len({a["email"] for a in document["accounts"]}) == len(document["accounts"])

    kinds = sorted(k["kind"] for k in document["api_keys"])
    assert kinds == ["CONTACT_CENTRE", "LOGISTICS", "PAYMENT"]
    assert all(k["key"].startswith("pzk_") for k in document["api_keys"])
    # Nothing was created outside the directory it was given.
    assert sorted(p.name for p in demo_runs["tmp"].iterdir()) == ["creds.json", "demo.sqlite3"]


def test_demo_is_idempotent(demo_runs) -> None:
    first, second = demo_runs["counts"]
    assert first == second
    assert all(count > 0 for count in first.values()), first
    assert first["account"] == len(demo_runs["document"]["accounts"])
    # The second run shows the same working credentials.
    assert demo_runs["second_document"] == demo_runs["document"]


def test_demo_prints_its_progress(demo_runs) -> None:
    out = demo_runs["first"].stdout
    for line in [
        "1/3 Migrating the embedded database",
        "  applied models.0001_initial",
        "2/3 Seeding the demo world",
        "  providers: 2",
    ]:
        assert line in out.splitlines(), line
    assert "Serve it with: pinzhi serve --database-url sqlite://" in out
    assert "3/3 Serving" not in out  # --no-serve seeds and exits
    assert any(line.startswith("  orders: ") for line in out.splitlines())
    for account in demo_runs["document"]["accounts"]:
        assert account["email"] in out
    again = demo_runs["second"].stdout
    assert "applied models." not in again
    assert "  demo world already present: nothing added" in again.splitlines()


def test_the_demo_world_has_a_settled_and_an_arbitrated_dispute(demo_runs) -> None:
    """QS 9.7.7: the demo seeds one dispute settled by an accepted offer and one arbitrated,
    each with its refund made; the arbitrated one owes a fund payout."""
    with closing(sqlite3.connect(demo_runs["database"])) as conn:
        rows = conn.execute(
            "SELECT d.state, r.state, d.fund_payout_due_minor FROM dispute d "
            "JOIN refund r ON r.id = d.refund_id ORDER BY d.id"
        ).fetchall()
        accepted = conn.execute(
            "SELECT COUNT(*) FROM dispute_offer WHERE state = 'ACCEPTED'"
        ).fetchone()[0]
    assert [(state, refund) for state, refund, _ in rows] == [
        ("SETTLED", "SUCCEEDED"),
        ("ARBITRATED", "SUCCEEDED"),
    ]
    assert rows[1][2] > 0
    assert accepted == 1


def test_the_demo_world_has_a_day_of_phone_calls(demo_runs) -> None:
    """QS 9.2.2: the contact centre reported yesterday's calls, answered by its agents
    (customer-service staff whose logins are listed), some abandoned."""
    with closing(sqlite3.connect(demo_runs["database"])) as conn:
        offered, answered, abandoned = conn.execute(
            "SELECT COUNT(*), COUNT(answered_at), COUNT(abandoned_at) FROM phone_call"
        ).fetchone()
    assert offered >= 200 and answered + abandoned == offered and abandoned > 0
    assert "  phone queue: " in "\n".join(demo_runs["first"].stdout.splitlines())
    emails = {a["email"] for a in demo_runs["document"]["accounts"]}
    assert "phone-agent1@demo.pinzhi" in emails


def test_the_demo_world_has_chat_sessions_of_every_kind(demo_runs) -> None:
    """QS 9.2.2, 9.7.2: an AI-only session, one handed over and answered in time, one
    whose first answer breached the 30 s limit, and one waiting in the queue."""
    with closing(sqlite3.connect(demo_runs["database"])) as conn:
        rows = conn.execute(
            "SELECT state, handover_reason, first_response_seconds, breached_at IS NOT NULL "
            "FROM service_session ORDER BY id"
        ).fetchall()
        ai_answers = conn.execute(
            "SELECT COUNT(*) FROM service_message WHERE author_kind = 'AI'"
        ).fetchone()[0]
    assert rows == [
        ("CLOSED", None, None, 0),
        ("CLOSED", "REQUESTED", 12.0, 0),
        ("CLOSED", "ACCESSIBILITY", 75.0, 1),
        ("WAITING", "REQUESTED", None, 0),
    ]
    assert ai_answers >= 3
    assert "  customer service: 4 chat sessions" in demo_runs["first"].stdout


def test_the_demo_world_has_agents_on_their_posts_and_a_refused_key_post(demo_runs) -> None:
    """QS 9.3.1-9.3.4: trained agents with teams on the online and phone posts, the senior
    agent (two years, law passed) on complaint handling, and the eight-month agent's key
    post refused, printed with its reason."""
    with closing(sqlite3.connect(demo_runs["database"])) as conn:
        posts = conn.execute(
            "SELECT p.post, COUNT(*) FROM post_assignment p WHERE p.ended_at IS NULL "
            "GROUP BY p.post ORDER BY p.post"
        ).fetchall()
        on_duty = conn.execute("SELECT COUNT(*) FROM staff_profile WHERE on_duty").fetchone()[0]
        teams = {t for (t,) in conn.execute("SELECT team FROM staff_profile").fetchall()}
    assert posts == [("COMPLAINT_HANDLING", 1), ("ONLINE_SERVICE", 3), ("PHONE_SERVICE", 2)]
    assert on_duty == 3 and len(teams) == 3
    out = demo_runs["first"].stdout.splitlines()
    assert "  staff posts: 4 agents on 6 posts, 3 on duty" in out
    assert any(
        line.startswith("  refused (QS 9.3.4): agent1@demo.pinzhi on COMPLAINT_HANDLING")
        and "(8 of 12 months)" in line
        for line in out
    )


async def test_demo_credentials_work(demo_runs) -> None:
    url = f"sqlite://{demo_runs['database']}"
    async with tortoise_cli_context(tortoise_config(url)):
        for entry in demo_runs["document"]["accounts"]:
            account = await accounts.authenticate(entry["email"], entry["password"])
            assert account.role == Role(entry["role"])
        for entry in demo_runs["document"]["api_keys"]:
            viewer = await viewer_from_api_key(entry["key"])
            assert viewer.role == Role.SERVICE_PROVIDER
            assert viewer.provider_kind == ProviderKind(entry["kind"])


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    from pinzhi.schema import schema

    target = tmp_path / "s.graphql"
    result = pinzhi("export-schema", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == str(schema) + "\n"
    assert f"Wrote {target}" in result.stdout


def test_migrate_applies_the_migrations(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite3"
    result = pinzhi("migrate", "--database-url", f"sqlite://{database}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  applied models.0001_initial" in lines
    assert any(
        line.startswith("  platform rules: ") and line != "  platform rules: 0 published"
        for line in lines
    )

    expected = {model._meta.db_table for model in models.__models__}
    assert expected <= table_names(database)
    with closing(sqlite3.connect(database)) as conn:
        applied = conn.execute("SELECT app, name FROM tortoise_migrations").fetchall()
    on_disk = sorted(
        p.stem for p in (Path(models.__file__).parent.parent / "migrations").glob("0*.py")
    )
    assert sorted(name for app, name in applied if app == "models") == on_disk
    rules = row_counts(database, ["platform_rule"])["platform_rule"]
    assert rules > 0

    again = pinzhi("migrate", "--database-url", f"sqlite://{database}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "applied" not in again.stdout
    assert "  platform rules: 0 published" in again.stdout.splitlines()
    assert row_counts(database, ["platform_rule"])["platform_rule"] == rules


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = pinzhi("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize(
    ("flag", "env", "chosen"),
    [
        (
            "sqlite://flag.sqlite3",
            {"DATABASE_URL": "sqlite://env.sqlite3"},
            "sqlite://flag.sqlite3",
        ),
        (None, {"DATABASE_URL": "postgres://u@db:5432/demo"}, "postgres://u@db:5432/demo"),
        (None, {"DATABASE_URL": ""}, cli.DEMO_DATABASE_URL),
        (None, {}, cli.DEMO_DATABASE_URL),
    ],
)
def test_the_demo_database_is_the_flag_then_the_environment_then_its_own(
    flag: str | None, env: dict[str, str], chosen: str
) -> None:
    assert cli.demo_database_url(flag, env) == chosen


def test_demo_seeds_the_database_of_database_url(tmp_path: Path) -> None:
    database = tmp_path / "from-env.sqlite3"
    result = pinzhi(
        "demo",
        "--no-serve",
        "--credentials",
        str(tmp_path / "creds.json"),
        cwd=tmp_path,
        env_vars={"DATABASE_URL": f"sqlite://{database}"},
    )
    assert result.returncode == 0, result.stderr
    assert row_counts(database, ["account"])["account"] > 0
    assert not (tmp_path / "pinzhi-demo.sqlite3").exists()
    assert f"Serve it with: pinzhi serve --database-url sqlite://{database}" in result.stdout


def test_demo_refuses_a_bad_database_url_from_the_environment(tmp_path: Path) -> None:
    result = pinzhi(
        "demo", "--no-serve", cwd=tmp_path, env_vars={"DATABASE_URL": "mysql://root@db/pinzhi"}
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert not (tmp_path / "pinzhi-demo.sqlite3").exists()


def test_serve_replaces_uvicorns_access_log_with_its_own(monkeypatch, tmp_path: Path) -> None:
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.update(kwargs))
    monkeypatch.setenv("DATABASE_URL", f"sqlite://{tmp_path / 'x.sqlite3'}")
    try:
        assert cli.main(["serve", "--port", "8123"]) == 0
    finally:
        from pinzhi.settings import get_settings

        get_settings.cache_clear()
    assert started["access_log"] is False
    config = started["log_config"]
    assert config["loggers"]["pinzhi"]["level"] == "INFO"
    assert config["loggers"]["pinzhi"]["handlers"] == ["pinzhi"]


# Intent recognition (QS 9.7.1)
def test_qs_9_7_1_intents_evaluate_scores_the_held_out_split(tmp_path: Path) -> None:
    """QS 9.7.1: without a file, the held-out split, by the model that never saw it, with
    accuracy, per-intent recall and precision, and the confusions; --min-accuracy fails
    the command below the target."""
    result = pinzhi("intents", "evaluate", "--min-accuracy", "0.9", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("held-out split of the shipped corpus: ")
    assert lines[1].startswith("accuracy 0.9")
    assert any(line.startswith("REFUND ") for line in lines)
    assert "intent              count   recall  precision" in lines
    strict = pinzhi("intents", "evaluate", "--min-accuracy", "1.01", cwd=tmp_path)
    assert strict.returncode == 1 and "is below 1.010" in strict.stderr


def test_qs_9_7_1_intents_evaluate_scores_an_outside_file(tmp_path: Path, capsys) -> None:
    """QS 9.7.1: any INTENT<TAB>text file, scored by the full model."""
    labelled = tmp_path / "outside.tsv"
    labelled.write_text(
        "# messages from last week\nLOGISTICS_STATUS\t快递到哪了\nrefund\trefund not received\n"
        "INVOICE\t能开发票吗\nQUALITY_ISSUE\t收到的碗是碎的\n",
        encoding="utf-8",
    )
    assert cli.main(["intents", "evaluate", str(labelled)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{labelled}: 4 messages, scored by the model trained on the whole")
    assert out[1] == "accuracy 1.000 (4/4)"
    assert "REFUND                  1    1.000      1.000" in out
    assert "no confusions" in out


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("REFUND\t退款\nREFUND 退款没到\n", "bad.tsv:2: expected INTENT<TAB>text, found no tab"),
        ("REFUND\t退款\n\nNOPE\t什么\n", "bad.tsv:3: unknown intent 'NOPE'"),
        (None, "bad.tsv: no such file"),
    ],
)
def test_qs_9_7_1_intents_evaluate_names_a_bad_file_and_line(
    tmp_path: Path, capsys, content: str | None, error: str
) -> None:
    path = tmp_path / "bad.tsv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert cli.main(["intents", "evaluate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"pinzhi: {tmp_path}/{error}"), captured.err
    assert captured.out == ""


def test_intents_classify_reads_one_message(capsys) -> None:
    assert cli.main(["intents", "classify", "转人工，谢谢"]) == 0
    first, *alternatives = capsys.readouterr().out.splitlines()
    assert first.startswith("HUMAN_AGENT 0.") and first.endswith("(zh)")
    assert len(alternatives) == 2 and all(a.startswith("  then ") for a in alternatives)
    assert cli.main(["intents", "classify"]) == 2


def test_a_job_publishes_on_the_deployments_event_bus(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``pinzhi jobs run`` publishes on the bus its settings call for (Redis pub/sub when
    the cache is Redis), so the breach sweep's events reach the web workers' subscribers;
    the bus is closed when the job ends."""
    from pinzhi.services import events, jobs

    made: list[events.MemoryBus] = []
    seen: list[events.Bus] = []

    class Recorded(events.MemoryBus):
        closed = False

        async def close(self) -> None:
            self.closed = True

    def make_bus(cache_url: str, prefix: str | None = None) -> events.Bus:
        made.append(Recorded())
        return made[-1]

    async def run(name: str, period: str | None = None, progress=print) -> None:  # type: ignore[no-untyped-def]
        seen.append(events.bus())

    monkeypatch.setattr(events, "make_bus", make_bus)
    monkeypatch.setattr(jobs, "run", run)
    url = f"sqlite://{tmp_path / 'jobs.sqlite3'}"
    assert cli.main(["jobs", "run", "service-breach-sweep", "--database-url", url]) == 0
    assert seen == made and len(made) == 1
    assert made[0].closed
