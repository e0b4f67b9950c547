"""Where scenario 3's time goes: pyinstrument over N in-process executions of the merchant's
orders page against the schema (no HTTP), next to the floor's handler timed the same way.

Self time is grouped by library (graphql-core, strawberry, tortoise, asyncpg, cryptography,
pinzhi, ...) and time spent awaiting the database is shown apart.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from pyinstrument import Profiler
from pyinstrument.frame import Frame

from pinzhi.auth.tokens import viewer_from_access_token
from pinzhi.bench import floor
from pinzhi.bench.checks import count_fields
from pinzhi.bench.database import asyncpg_url
from pinzhi.bench.scenarios import MERCHANT_ORDERS

CATEGORIES = [
    ("/graphql/validation/", "graphql-core validation (runs on every request)"),
    ("/graphql/language/", "graphql-core validation (runs on every request)"),
    ("/graphql/utilities/type_info", "graphql-core validation (runs on every request)"),
    ("/graphql/", "graphql-core execution"),
    ("/strawberry/", "strawberry (types, resolvers wrapping, extensions)"),
    ("/tortoise/", "tortoise ORM (query building, model instances)"),
    ("/pypika", "tortoise ORM (query building, model instances)"),
    ("/asyncpg/", "asyncpg (driver)"),
    ("/cryptography/", "cryptography (Fernet decrypt of PII)"),
    ("/pinzhi/auth/", "pinzhi auth (masking, tokens)"),
    ("/work/main/auth/", "pinzhi auth (masking, tokens)"),
    ("/json/", "json encoding of the response"),
    ("/asyncio/", "asyncio (event loop, task steps, futures)"),
]
AWAIT = "awaiting the database (I/O, PostgreSQL)"


def _category(path: str | None, parent: str) -> str:
    if not path or path.startswith("<"):
        return parent  # a built-in: its caller's time
    for marker, name in CATEGORIES:
        if marker in path:
            return name
    if "/work/main/" in path or "/pinzhi/" in path:
        return "pinzhi (schema, resolvers, loaders)"
    return "other (stdlib, dataloader glue)"


def _walk(
    frame: Frame, by_category: dict[str, float], by_function: dict[str, float], parent: str = ""
) -> None:
    category = _category(frame.file_path, parent or "other (stdlib, dataloader glue)")
    own = frame.time
    for child in frame.children:
        own -= child.time
        if child.identifier.startswith("[await]"):
            by_category[AWAIT] += child.time
        elif child.identifier.startswith("[self]") or child.is_synthetic:
            own += child.time
        else:
            _walk(child, by_category, by_function, category)
    by_category[category] += own
    where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
    by_function[where] += own


async def profile_merchant_orders(
    url: str, token: str, out_dir: Path, stem: str, runs: int = 30, page: int = 50
) -> dict[str, Any]:
    from pinzhi.resolvers.context import Context
    from pinzhi.resolvers.loaders import Loaders
    from pinzhi.schema import build_schema
    from pinzhi.services.cache import make_cache

    schema = build_schema()
    viewer = viewer_from_access_token(token)
    cache = make_cache("memory://")
    variables = {"first": page}

    async def graphql_once() -> bytes:
        context = Context(request=None, viewer=viewer, loaders=Loaders(viewer), cache=cache)
        result = await schema.execute(
            MERCHANT_ORDERS, variable_values=variables, context_value=context
        )
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})  # as the server encodes it (app.py)

    conn = await asyncpg.connect(asyncpg_url(url))
    try:

        async def floor_once() -> bytes:
            data = await floor.merchant_orders(floor.Db(conn), viewer, variables)
            return orjson.dumps({"data": data})

        for _ in range(3):
            body = await graphql_once()
            await floor_once()
        fields = count_fields(orjson.loads(body)["data"])
        graphql_ms = await _mean_ms(graphql_once, runs)
        floor_ms = await _mean_ms(floor_once, runs)
    finally:
        await conn.close()

    concurrency = await _concurrency(graphql_once, runs)
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    profiler.start()
    for _ in range(runs):
        await graphql_once()
    profiler.stop()
    _save(out_dir / f"{stem}-profile.txt", profiler.output_text(unicode=True, color=False))
    session = profiler.last_session
    root = session.root_frame(trim_stem=False) if session else None
    by_category: dict[str, float] = defaultdict(float)
    by_function: dict[str, float] = defaultdict(float)
    if root is not None:
        _walk(root, by_category, by_function)
    total = sum(by_category.values()) or 1.0
    top = sorted(by_function.items(), key=lambda kv: kv[1], reverse=True)[:15]
    return {
        "runs": runs,
        "page_size": page,
        "fields_per_response": fields,
        "graphql_ms_per_execution": round(graphql_ms, 2),
        "floor_ms_per_execution": round(floor_ms, 2),
        "graphql_us_per_field": round(1000 * graphql_ms / max(fields, 1), 2),
        "cpu_ms_per_execution": concurrency,
        "profiled_seconds": round(total, 3),
        "by_category": {
            k: {"seconds": round(v, 4), "share": round(v / total, 4)}
            for k, v in sorted(by_category.items(), key=lambda kv: kv[1], reverse=True)
        },
        "top_self_time": [
            {"frame": k, "seconds": round(v, 4), "share": round(v / total, 4)} for k, v in top
        ],
        "text_file": f"{stem}-profile.txt",
    }


async def _concurrency(once: Any, runs: int) -> dict[str, float]:
    """CPU per execution run one at a time and 16 at once, with the cyclic garbage
    collector on and off: live objects of concurrent requests make each collection dearer."""
    out = {}
    try:
        for collector in ("gc on", "gc off"):
            (gc.enable if collector == "gc on" else gc.disable)()
            for together in (1, 16):
                n = max(together, runs - runs % together)
                started = time.process_time()
                for _ in range(n // together):
                    await asyncio.gather(*[once() for _ in range(together)])
                cpu_ms = 1000 * (time.process_time() - started) / n
                out[f"{collector}, {together} at once"] = round(cpu_ms, 1)
    finally:
        gc.enable()
    return out


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def _mean_ms(once: Any, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        await once()
    return 1000 * (time.perf_counter() - started) / runs
