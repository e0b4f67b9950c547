"""GraphQL over HTTP: media types, status codes and coded errors for every request.

Follows the GraphQL-over-HTTP specification (checked in CI by graphql-http's server audit,
tools/graphql-http/). A client that accepts ``application/graphql-response+json`` gets it,
with a 4xx status and no ``data`` entry when the request fails before execution (parse,
validation, variables); ``application/json`` (also for ``*/*`` or no Accept header) keeps
status 200 for every well-formed request. A request that is not well-formed HTTP for
GraphQL (body, method, media type) gets a 4xx in both, with a ``BAD_REQUEST`` error.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from pinzhi.schema.errors import (
    BAD_REQUEST,
    FORBIDDEN,
    INTERNAL,
    INTERNAL_MESSAGE,
    UNAUTHENTICATED,
    code_of,
    masked,
    with_code,
)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

log = logging.getLogger("pinzhi.http")


class RequestAborted(Exception):
    """Raised inside ``receive`` by a middleware that answers for itself (the body-size
    limit): the view lets it through."""


class RequestRefused(Exception):
    """The HTTP request is not a GraphQL request we can run."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# --- content negotiation -------------------------------------------------------------------


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str | None:
    """The media type to answer in for an Accept header, or None if it takes neither.

    Each type takes the quality of the most specific range that matches it. On a tie the
    newer type wins only when it is named: ``*/*`` and ``application/*`` mean JSON.
    """
    if accept is None or not accept.strip():
        return JSON
    found: dict[str, tuple[int, float]] = {}  # type -> (specificity, quality)
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        for candidate in (GRAPHQL_RESPONSE_JSON, JSON):
            specificity = _specificity(media, candidate)
            if specificity > found.get(candidate, (-1, 0.0))[0]:
                found[candidate] = (specificity, quality)
    newer = found.get(GRAPHQL_RESPONSE_JSON, (-1, 0.0))
    older = found.get(JSON, (-1, 0.0))
    if newer[1] <= 0 and older[1] <= 0:
        return None
    if newer[1] > older[1] or (newer[1] == older[1] and newer[0] == 2):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def _specificity(media_range: str, media_type: str) -> int:
    if media_range == media_type:
        return 2
    if media_type == JSON and media_range in ("application/*", "*/*"):
        return 1 if media_range == "application/*" else 0
    return -1


# --- request errors ------------------------------------------------------------------------

# Strawberry's own refusals, in both languages.
_STRAWBERRY_REASONS = {
    "No GraphQL query found in the request": "请求中没有 GraphQL 查询",
    "GraphQL only supports GET and POST requests.": "仅支持 GET 和 POST 请求",
    "Can't get GraphQL operation type": "找不到要执行的操作",
}


def _from_strawberry(error: HTTPException) -> RequestRefused:
    reason = error.reason
    chinese = _STRAWBERRY_REASONS.get(reason)
    if chinese is None and reason.startswith("Unknown operation named"):
        chinese = "文档中没有该名称的操作"
    headers = {"Allow": "GET, POST"} if error.status_code == 405 else None
    return RequestRefused(error.status_code, f"{chinese or '请求无效'} / {reason}", headers)


def _request_error_status(errors: list[GraphQLError]) -> int:
    codes = {code_of(error) for error in errors}
    if INTERNAL in codes:
        return 500
    if UNAUTHENTICATED in codes:
        return 401
    if FORBIDDEN in codes:
        return 403
    return 400


class GraphQLBody(dict):
    """A response body that knows its status and media type (strawberry hands the body,
    not the request, from ``process_result`` to ``create_response``)."""

    status: int = 200
    media_type: str = JSON


# --- the view ------------------------------------------------------------------------------


class GraphQLOverHTTP(GraphQL):
    """strawberry's ASGI view with the specification's media types and status codes,
    JSON bodies for every refusal, and no traceback for what the client got wrong."""

    def __init__(self, *, debug: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except RequestRefused as refused:
            response = self.refusal_response(request, refused)
        except HTTPException as error:
            response = self.refusal_response(request, _from_strawberry(error))
        except RequestAborted:
            raise
        except Exception:
            log.exception("internal error (request %s)", _request_id(request))
            response = self.error_response(request, 500, INTERNAL_MESSAGE, INTERNAL, headers=None)
        await response(scope, receive, send)

    def refusal_response(self, request: Request, refused: RequestRefused) -> Response:
        log.info(
            "request refused %s %s (request %s)", refused.status, BAD_REQUEST, _request_id(request)
        )
        return self.error_response(
            request, refused.status, refused.message, BAD_REQUEST, refused.headers
        )

    def error_response(
        self,
        request: Request,
        status: int,
        message: str,
        code: str,
        headers: dict[str, str] | None,
    ) -> Response:
        media_type = negotiate(request.headers.get("accept")) or JSON
        body = {"errors": [{"message": message, "extensions": {"code": code}}]}
        return Response(
            orjson.dumps(body),
            status_code=status,
            headers=headers,
            media_type=f"{media_type}; charset=utf-8",
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Without an IDE a bare GET is a request without a query (400), not a missing page.
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    # --- reading the request ---------------------------------------------------------------

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses invalid UTF-8, lone surrogates and nesting past 1,024 levels with
        # a JSONDecodeError; the standard decoder let the first and last escape as 500s.
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except orjson.JSONDecodeError as error:
            raise RequestRefused(
                400, f"请求不是有效的 JSON / The request is not valid JSON: {error}"
            ) from None

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key in ("query", "operationName"):
            if key in params:
                data[key] = params[key]
        for key in ("variables", "extensions"):
            raw = params.get(key)
            if raw:
                try:
                    data[key] = self.decode_json(raw)
                except orjson.JSONDecodeError:
                    raise RequestRefused(
                        400, f"参数 {key} 不是有效的 JSON / The {key} parameter is not valid JSON"
                    ) from None
        return data

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if negotiate(request.headers.get("accept")) is None:
            raise RequestRefused(
                406,
                f"只能以 {GRAPHQL_RESPONSE_JSON} 或 {JSON} 应答"
                f" / Responses are {GRAPHQL_RESPONSE_JSON} or {JSON} only",
            )
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        else:
            media_type, _, params = (request.content_type or "").partition(";")
            charset = params.partition("charset=")[2].strip().strip('"').lower()
            if media_type.strip().lower() != JSON or charset not in ("", "utf-8", "utf8"):
                raise RequestRefused(
                    415,
                    "请求体须为 UTF-8 编码的 application/json"
                    " / The request body must be application/json in UTF-8",
                )
            body = await request.get_body()
            if not body:
                raise RequestRefused(400, "请求体为空 / The request body is empty")
            data = self.parse_json(body)
        if not isinstance(data, dict):
            raise RequestRefused(
                400, "请求须为一个 JSON 对象 / The request must be one JSON object"
            )
        return GraphQLRequestData(
            query=_parameter(data, "query", str),
            operation_name=_parameter(data, "operationName", str),
            variables=_parameter(data, "variables", dict),
            extensions=_parameter(data, "extensions", dict),
            protocol="http",
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            cause = error.__cause__
            if (
                isinstance(cause, InvalidOperationTypeError)
                and cause.operation_type == OperationType.MUTATION
            ):
                # The specification: a mutation over GET is 405, and it is not executed.
                raise RequestRefused(
                    405,
                    "变更操作须用 POST 发送 / Mutations must be sent with POST",
                    {"Allow": "POST"},
                ) from None
            raise

    # --- writing the response --------------------------------------------------------------

    # Returns the body this view writes itself (GraphQLBody), not strawberry's response dict.
    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLBody:  # type: ignore[override]
        media_type = negotiate(request.headers.get("accept")) or JSON
        errors = [self._finished(error) for error in result.errors] if result.errors else []
        # Errors before execution have no path and leave no data (the GraphQL spec's
        # request errors); a field error always has a path.
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        body = GraphQLBody()
        strict = media_type == GRAPHQL_RESPONSE_JSON
        if not (request_error and strict):
            body["data"] = result.data
        if errors:
            body["errors"] = [error.formatted for error in errors]
        if result.extensions:
            body["extensions"] = result.extensions
        body.media_type = media_type
        if request_error and strict:
            body.status = _request_error_status(errors)
        return body

    def _finished(self, error: GraphQLError) -> GraphQLError:
        """Every error leaves with a code; outside debug mode an internal one leaves with
        nothing else (errors raised around strawberry's extensions skip MaskErrors)."""
        code = code_of(error) or code_of(with_code(error, INTERNAL))
        if code == INTERNAL and not self.debug and error.message != INTERNAL_MESSAGE:
            return masked(error)
        return error

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        status = getattr(response_data, "status", 200)
        media_type = getattr(response_data, "media_type", JSON)
        response = Response(
            self.encode_json(response_data),
            status_code=status,
            media_type=f"{media_type}; charset=utf-8",
        )
        response.headers["vary"] = "Accept"
        if status == 401:
            response.headers["www-authenticate"] = "Bearer"
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response


_KINDS: dict[type, tuple[str, str]] = {str: ("字符串", "a string"), dict: ("对象", "an object")}


def _parameter(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        chinese, english = _KINDS[kind]
        raise RequestRefused(
            400,
            f"参数 {name} 须为{chinese}或 null / The {name} parameter must be {english} or null",
        )
    return value


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))
