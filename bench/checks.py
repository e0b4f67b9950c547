"""Before measuring: mint the viewers' tokens, prove the floor and every GraphQL variant
return the same data, and count SQL statements per request at each page size.

SQL is counted in this process, one request at a time: GraphQL requests go through
``httpx.ASGITransport`` with a handler on the ``tortoise.db_client`` logger
(bench/measure.py ``count_sql``, which the tests use too), floor requests through a
counting connection.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import orjson

from pinzhi.auth.crypto import decrypt
from pinzhi.auth.tokens import issue_access_token, viewer_from_access_token
from pinzhi.bench import floor
from pinzhi.bench.database import asyncpg_url
from pinzhi.bench.measure import count_sql
from pinzhi.bench.plan import VIEWER_EMAILS
from pinzhi.bench.scenarios import Scenario
from pinzhi.bench.servers import Server
from pinzhi.services import accounts


async def mint_tokens() -> dict[str, str]:
    """An access token for each bench viewer (the lifetime comes from the environment)."""
    tokens = {}
    for role, email in VIEWER_EMAILS.items():
        account = await accounts.find_by_email(email)
        if account is None:
            raise SystemExit(f"no account {email}: load the data first (--reset)")
        tokens[role], _ = issue_access_token(account, None)
    return tokens


def load_factory(spec: str) -> Callable[[], Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def count_fields(value: Any) -> int:
    """Fields in a response: every key of every object (each one a resolved field)."""
    if isinstance(value, dict):
        return len(value) + sum(count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0


def _sizes(scenario: Scenario) -> tuple[int | None, ...]:
    return scenario.page_sizes or (None,)


async def sql_counts(
    url: str, variants: dict[str, str], scenarios: list[Scenario], tokens: dict[str, str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """{scenario: {server: {page size: statements}}}, plus the response's field count."""
    result: dict[str, dict[str, dict[str, Any]]] = {s.key: {} for s in scenarios}
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        for s in scenarios:
            viewer = viewer_from_access_token(tokens[s.viewer])
            counts: dict[str, Any] = {}
            for size in _sizes(s):
                db = floor.Db(conn)
                variables = orjson.loads(s.bodies(size)[0])["variables"]
                if s.key != "typename":
                    await floor.HANDLERS[s.key](db, viewer, variables)
                counts[str(size or "-")] = db.statements
            result[s.key]["floor"] = counts
    finally:
        await conn.close()
    for name, spec in variants.items():
        app = load_factory(spec)()
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for s in scenarios:
                counts = {}
                for size in _sizes(s):
                    headers = {"authorization": f"Bearer {tokens[s.viewer]}"}
                    headers["content-type"] = "application/json"
                    with count_sql() as sql:
                        response = await http.post(
                            "/graphql", content=s.bodies(size)[0], headers=headers
                        )
                    body = response.json()
                    if body.get("errors"):
                        raise SystemExit(f"{name} {s.key}: {body['errors']}")
                    counts[str(size or "-")] = sql.count
                    counts[f"fields@{size or '-'}"] = count_fields(body["data"])
                result[s.key][name] = counts
    return result


def _normalise(value: Any, volatile: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            k: "<volatile>" if k in volatile else _normalise(v, volatile) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalise(v, volatile) for v in value]
    return value


def check_same_data(
    url: str,
    floor_server: Server,
    graphql: list[Server],
    scenarios: list[Scenario],
    tokens: dict[str, str],
) -> list[str]:
    """Post every scenario (at every page size) to the floor and to each GraphQL server
    and compare the parsed ``data``; returns one line per comparison, raises on a mismatch."""
    lines = []
    for s in scenarios:
        for size in _sizes(s):
            body = s.bodies(size)[0]
            expected_raw = _floor_data(floor_server, s, body, tokens)
            expected = _normalise(expected_raw, s.volatile)
            for server in graphql:
                response = server.post(server.path, body, tokens[s.viewer])
                got = response.json()
                if response.status_code != 200 or got.get("errors"):
                    raise SystemExit(f"{server.name} {s.key}: {response.status_code} {got}")
                if s.mutation:
                    lines.append(_same_writes(url, s, got["data"], expected_raw))
                if _normalise(got["data"], s.volatile) != expected:
                    raise SystemExit(
                        f"{server.name} and the floor differ on {s.key} (first={size}):\n"
                        f"graphql: {orjson.dumps(got['data'])[:600]!r}\n"
                        f"floor:   {orjson.dumps(expected)[:600]!r}"
                    )
                lines.append(f"  {s.key:<16} first={size!s:<4} {server.name}: identical")
    return lines


def _floor_data(server: Server, s: Scenario, body: bytes, tokens: dict[str, str]) -> Any:
    response = server.post(s.floor_path, body, tokens[s.viewer])
    if response.status_code != 200:
        raise SystemExit(f"floor {s.key}: {response.status_code} {response.text[:300]}")
    return response.json()["data"]


def _same_writes(url: str, s: Scenario, graphql_data: Any, floor_data: Any) -> str:
    """The order each placed must be the same rows: order (PII decrypted), lines, and the
    audit link, less ids and times. Catches an application that starts writing something
    the floor does not."""
    ids = [pk_of(d["placeOrder"]["order"]["id"]) for d in (graphql_data, floor_data)]
    mine, floors = asyncio.run(_written(url, ids))
    if mine != floors:
        raise SystemExit(
            f"{s.key}: the floor writes differently from the application; update "
            f"bench/floor.py\napplication: {mine}\nfloor:       {floors}"
        )
    return f"  {s.key:<16} same rows written (order, lines, audit event)"


def pk_of(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id.encode()).decode().partition(":")[2])


async def _written(url: str, ids: list[int]) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        out = []
        for order_id in ids:
            order = dict(await conn.fetchrow('SELECT * FROM "order" WHERE id = $1', order_id))
            for key in [k for k in order if k.endswith("_enc")]:
                order[key] = decrypt(order[key])
            for key in ("id", "created_at", "updated_at"):
                order.pop(key)
            rows = await conn.fetch(
                "SELECT * FROM order_line WHERE order_id = $1 ORDER BY product_id", order_id
            )
            lines = [{k: v for k, v in r.items() if k not in ("id", "order_id")} for r in rows]
            rows = await conn.fetch(
                "SELECT * FROM audit_event WHERE entity_type = 'Order' AND entity_id = $1 "
                "ORDER BY seq",
                order_id,
            )
            skip = ("id", "entity_id", "occurred_at", "hash", "data")
            audit = [
                {**{k: v for k, v in r.items() if k not in skip}, "data": orjson.loads(r["data"])}
                for r in rows
            ]
            out.append({"order": order, "lines": lines, "audit": audit})
        return out
    finally:
        await conn.close()
