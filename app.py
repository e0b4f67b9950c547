"""The Starlette application: /graphql, /healthz, GraphiQL's assets, request ids, the access
log and the body-size limit."""

from __future__ import annotations

import gc
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiocache.base import BaseCache
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from pinzhi.auth import standing
from pinzhi.auth.api_keys import looks_like_api_key, viewer_from_api_key
from pinzhi.auth.tokens import InvalidCredential, viewer_from_access_token
from pinzhi.auth.viewer import ANONYMOUS, Viewer
from pinzhi.graphiql import ASSETS_PATH, assets_app, page_html
from pinzhi.graphql_http import GraphQLOverHTTP, RequestAborted
from pinzhi.resolvers.context import Context, language_of
from pinzhi.resolvers.loaders import Loaders
from pinzhi.schema import build_schema
from pinzhi.services.cache import cache_reachable, make_cache
from pinzhi.settings import Settings, get_settings, tortoise_config


class BodySizeLimit:
    """Refuse request bodies over the limit, whether or not Content-Length is honest."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, receive, send, self.max_bytes)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(scope, receive, send, self.max_bytes)


class _BodyTooLarge(RequestAborted):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(
        {
            "errors": [
                {
                    "message": f"请求体超过 {limit} 字节 / Request body over {limit} bytes",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ]
        },
        status_code=413,
    )
    await response(scope, receive, send)


# Visible ASCII only: the id is echoed in a header and written to the log.
SANE_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,64}")


class RequestId:
    """Give every response an X-Request-Id (the client's, if it sent a sane one)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"")
        request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id))
            await send(message)

        await self.app(scope, receive, with_id)


access_log = logging.getLogger("pinzhi.access")


class AccessLog:
    """One line per request: method, path without the query string (a GET's variables
    can hold personal data), status, duration and request id. Replaces uvicorn's."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            access_log.info(
                "%s %s %d %.1fms %s",
                scope["method"],
                _printable(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
                scope.get("state", {}).get("request_id", "-"),
            )


def _printable(path: str) -> str:
    path = path[:200]
    return path if path.isprintable() else ascii(path)


async def viewer_for(authorization: str | None) -> tuple[Viewer, str]:
    """Turn an Authorization header into a viewer; the second value names a credential
    that was presented but did not check out (the request is then refused)."""
    if not authorization:
        return ANONYMOUS, ""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return ANONYMOUS, "malformed Authorization header"
    try:
        if looks_like_api_key(credential):
            return await viewer_from_api_key(credential), ""
        return viewer_from_access_token(credential), ""
    except InvalidCredential as error:
        return ANONYMOUS, str(error)


def tune_garbage_collector() -> None:
    """A GraphQL response allocates many short-lived objects; with the default threshold
    the cyclic collector runs every few hundred of them and, in the benchmark, took a third
    of the CPU of an orders page (docs/PERFORMANCE.md). Collect less often, and move what
    start-up loaded (modules, schema) out of the collector's view."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)


GC_THRESHOLD = 20_000


class PinzhiGraphQL(GraphQLOverHTTP):
    def __init__(self, cache: BaseCache, **kwargs: Any):
        super().__init__(**kwargs)
        self.cache = cache

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(page_html(request.scope.get("root_path", "")))

    def encode_json(self, data: object) -> bytes:
        # orjson writes UTF-8 directly; the standard encoder escaped every Chinese
        # character and took fourteen times as long on a page of orders.
        return orjson.dumps(data)

    # Only HTTP requests reach this view (no websockets), and the context is ours.
    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        viewer, credential_error = await viewer_for(request.headers.get("authorization"))
        if viewer.credential == "jwt" and viewer.account_id is not None:
            # A valid token of an account deactivated since, or gone, stops at once.
            account = await standing.standing_of(self.cache, viewer.account_id)
            if account != standing.ACTIVE:
                viewer, credential_error = ANONYMOUS, f"account {account}"
        return Context(
            request=request,
            viewer=viewer,
            loaders=Loaders(viewer),
            cache=self.cache,
            language=language_of(request.headers.get("accept-language")),
            credential_error=credential_error,
        )


def create_app(
    settings: Settings | None = None,
    *,
    manage_database: bool = True,
    cache: BaseCache | None = None,
    plans: bool = True,
) -> Starlette:
    """Build the app. ``manage_database=False`` leaves the ORM to the caller (tests);
    ``plans=False`` executes with graphql-core's stock executor (``schema/execution.py``)."""
    settings = settings or get_settings()
    cache = cache or make_cache(settings.cache_url)
    graphql = PinzhiGraphQL(
        cache,
        schema=build_schema(settings, plans=plans),
        graphql_ide="graphiql" if settings.graphiql else None,
        debug=settings.debug,
    )

    async def healthz(request: Request) -> JSONResponse:
        try:
            conn = Tortoise.get_connection("default")
            await conn.execute_query("SELECT 1")
            database = True
        except Exception:
            database = False
        cache_ok = await cache_reachable(cache)
        ok = database and cache_ok
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": database, "cache": cache_ok},
            status_code=200 if ok else 503,
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            tune_garbage_collector()
            yield
        await cache.close()

    middleware = [
        Middleware(RequestId),
        Middleware(AccessLog),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
    ]
    if settings.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "accept-language"],
            )
        )
    # Every method reaches the view, which answers the ones it does not take with a coded
    # 405 and an Allow header.
    routes: list[BaseRoute] = [
        Route("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, assets_app()))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.cache = cache
    return app
