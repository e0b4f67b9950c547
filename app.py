"""The Starlette application: /graphql (HTTP, and subscriptions over a websocket), /healthz,
GraphiQL's assets, request ids, the access log, the body-size limit and the event bus."""

from __future__ import annotations

import gc
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, NoReturn

import orjson
from aiocache.base import BaseCache
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.unset import UNSET, UnsetType
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
from pinzhi.services import events
from pinzhi.services.cache import cache_reachable, make_cache
from pinzhi.settings import Settings, get_settings, tortoise_config


class BodySizeLimit:
    """Refuse request bodies over the limit, whether or not Content-Length is honest."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, self._limited_websocket(receive, send), send)
            return
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

    def _limited_websocket(self, receive: Receive, send: Send) -> Receive:
        """A websocket message over the limit closes the socket (1009, message too big);
        the app sees the client leave."""

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode()) if text is not None else len(data or b"")
                if size > self.max_bytes:
                    await send({"type": "websocket.close", "code": 1009, "reason": ""})
                    return {"type": "websocket.disconnect", "code": 1009}
            return message

        return limited_receive


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
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"")
        request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()

        async def with_id(message: Message) -> None:
            # A websocket's id goes with the handshake's answer.
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", []).append((b"x-request-id", request_id))
            await send(message)

        await self.app(scope, receive, with_id)


access_log = logging.getLogger("pinzhi.access")


class AccessLog:
    """One line per request: method, path without the query string (a GET's variables
    can hold personal data), status, duration and request id. Replaces uvicorn's. A
    websocket gets one line when it ends: ``WS``, the path, who closed it with which code
    (or ``refused``, a handshake refused), how long it was open, and its request id."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
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

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        accepted = False
        ending = ""

        async def tracking_send(message: Message) -> None:
            nonlocal accepted, ending
            if message["type"] == "websocket.accept":
                accepted = True
            elif message["type"] == "websocket.close" and not ending:
                ending = f"server closed {message.get('code', 1000)}" if accepted else "refused"
            await send(message)

        async def tracking_receive() -> Message:
            nonlocal ending
            message = await receive()
            if message["type"] == "websocket.disconnect" and not ending:
                ending = f"client closed {message.get('code', 1000)}"
            return message

        try:
            await self.app(scope, tracking_receive, tracking_send)
        except BaseException:
            ending = ending or "server error"
            raise
        finally:
            access_log.info(
                "WS %s %s %.1fms %s",
                _printable(scope["path"]),
                ending or "ended",
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


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are JSON text. strawberry sends what ``encode_json``
    returns, and ours returns bytes (orjson): as binary frames, which a browser's client
    hands over as a Blob its JSON.parse cannot read."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class TransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    """strawberry's graphql-transport-ws handler, with a coded refusal past the limit of
    operations at once (strawberry's own error has no code)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [
                        {
                            "message": f"同时进行的订阅已达 {limit} 个"
                            f" / At most {limit} operations at once on a connection",
                            "extensions": {
                                "code": "BAD_REQUEST",
                                "limit": "operationsPerConnection",
                                "max": limit,
                            },
                        }
                    ],
                }
            )
            return
        await super().handle_subscribe(message)


class PinzhiGraphQL(GraphQLOverHTTP):
    """The view of /graphql: GraphQL over HTTP, and subscriptions over a websocket.

    Websockets speak graphql-transport-ws only (the legacy graphql-ws subprotocol is closed
    with 4406). The credential comes in the ``connection_init`` payload
    (``{"Authorization": "Bearer …"}``, or the handshake's Authorization header): one that
    does not check out closes the socket with 4403; none signs in nobody, who may run no
    subscription there is. Each operation then gets a context of its own
    (``schema.extensions.OperationContext``).
    """

    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportWS

    def __init__(self, cache: BaseCache, **kwargs: Any):
        super().__init__(
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=OPERATIONS_PER_CONNECTION,
            **kwargs,
        )
        self.cache = cache

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(page_html(request.scope.get("root_path", "")))

    def encode_json(self, data: object) -> bytes:
        # orjson writes UTF-8 directly; the standard encoder escaped every Chinese
        # character and took fourteen times as long on a page of orders.
        return orjson.dumps(data)

    async def authenticate(
        self, authorization: str | None, *, shared: bool = False
    ) -> tuple[Viewer, str]:
        """The viewer of an Authorization value, and why it was refused ("" if it was not).
        ``shared``: the standing read joins one in flight for the same account (a burst of
        websockets connecting)."""
        viewer, credential_error = await viewer_for(authorization)
        if viewer.credential == "jwt" and viewer.account_id is not None:
            # A valid token of an account deactivated since, or gone, stops at once.
            account = (
                await standing.recent(self.cache).standing_of(viewer.account_id, within=0)
                if shared
                else await standing.standing_of(self.cache, viewer.account_id)
            )
            if account != standing.ACTIVE:
                viewer, credential_error = ANONYMOUS, f"account {account}"
        return viewer, credential_error

    # The context is ours, for a request or a websocket connection.
    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        language = language_of(request.headers.get("accept-language"))
        if isinstance(request, WebSocket):
            # Nobody until connection_init signs someone in (on_ws_connect).
            return Context(
                request=request,
                viewer=ANONYMOUS,
                loaders=Loaders(ANONYMOUS),
                cache=self.cache,
                language=language,
                transport="websocket",
            )
        viewer, credential_error = await self.authenticate(request.headers.get("authorization"))
        return Context(
            request=request,
            viewer=viewer,
            loaders=Loaders(viewer),
            cache=self.cache,
            language=language,
            credential_error=credential_error,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType:  # type: ignore[override]
        params = context.connection_params or {}
        authorization = _param(params, "Authorization", "authorization")
        if authorization is None and context.request is not None:
            authorization = context.request.headers.get("authorization")
        if authorization is not None and not isinstance(authorization, str):
            self._refuse(context, "Authorization is not a string")
        viewer, credential_error = await self.authenticate(authorization, shared=True)
        if credential_error:
            self._refuse(context, credential_error)
        context.sign_in(viewer)
        language = _param(params, "Accept-Language", "accept-language", "language")
        if isinstance(language, str):
            context.language = language_of(language)
        return UNSET

    def _refuse(self, context: Context, reason: str) -> NoReturn:
        state = context.request.scope.get("state", {}) if context.request is not None else {}
        log.info("websocket refused: %s (request %s)", reason, state.get("request_id", "-"))
        # graphql-transport-ws: the socket closes with 4403 Forbidden.
        raise ConnectionRejectionError()


CONNECTION_INIT_SECONDS = 15
OPERATIONS_PER_CONNECTION = 100
log = logging.getLogger("pinzhi.http")


def _param(params: dict[str, object], *names: str) -> object | None:
    for name in names:
        if name in params:
            return params[name]
    return None


class EventBusScope:
    """Make the app's event bus the one its requests, websockets and the tasks they start
    publish and subscribe on (``services/events``). A context variable set in the lifespan
    would not reach them: under uvicorn each connection runs in a context of its own."""

    def __init__(self, app: ASGIApp, bus: events.Bus):
        self.app = app
        self.bus = bus

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with events.using(self.bus):
            await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    manage_database: bool = True,
    cache: BaseCache | None = None,
    plans: bool = True,
    bus: events.Bus | None = None,
) -> Starlette:
    """Build the app. ``manage_database=False`` leaves the ORM to the caller (tests);
    ``plans=False`` executes with graphql-core's stock executor (``schema/execution.py``).
    The event bus is Redis pub/sub when the cache is Redis, else in process; one passed in
    (``bus``) is the caller's to close."""
    settings = settings or get_settings()
    cache = cache or make_cache(settings.cache_url)
    owns_bus = bus is None
    bus = bus or events.make_bus(settings.cache_url)
    graphql = PinzhiGraphQL(
        cache,
        schema=build_schema(settings, plans=plans),
        graphql_ide="graphiql" if settings.graphiql else None,
        debug=settings.debug,
        # Browsers send an Origin with every handshake: a page of another origin may open a
        # websocket only when allowed, as with CORS (strawberry checks it).
        allowed_origins=settings.allowed_origins,
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
        try:
            if not manage_database:
                yield
                return
            async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
                tune_garbage_collector()
                yield
            await cache.close()
        finally:
            if owns_bus:
                await bus.close()

    middleware = [
        Middleware(EventBusScope, bus=bus),
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
        WebSocketRoute("/graphql", graphql),
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
    app.state.bus = bus
    return app
