"""The HTTP edge: health, body-size limit, request ids, query limits, pagination arguments
and the masking of internal errors."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from graphql.language import Lexer, Source, TokenKind

from pinzhi.services import accounts
from pinzhi.settings import get_settings
from tests import factories as f

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _app(cache, **changes):  # type: ignore[no-untyped-def]
    from pinzhi.app import create_app

    settings = dataclasses.replace(get_settings(), **changes)
    return create_app(settings, manage_database=False, cache=cache)


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- health --------------------------------------------------------------------------------


async def test_healthz_reports_database_and_cache(api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "cache": True}


async def test_healthz_reports_a_broken_cache(db, monkeypatch) -> None:
    from pinzhi.services.cache import make_cache

    broken = make_cache("memory://")

    async def fail(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(broken, "set", fail)
    async with _client(_app(broken)) as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": True, "cache": False}


# --- body-size limit -----------------------------------------------------------------------


def _body_of_size(size: int) -> bytes:
    """A valid GraphQL request body of exactly ``size`` bytes (padded with whitespace)."""
    base = json.dumps({"query": "{ __typename }"}).encode()
    assert size >= len(base)
    return base[:-1] + b" " * (size - len(base)) + b"}"


def _assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAYLOAD_TOO_LARGE"]
    assert str(limit) in body["errors"][0]["message"]
    assert "data" not in body


async def test_body_at_the_limit_is_served_and_one_byte_more_is_refused(api) -> None:
    limit = get_settings().max_body_bytes
    headers = {"content-type": "application/json"}
    ok = await api.http.post("/graphql", content=_body_of_size(limit), headers=headers)
    assert ok.status_code == 200
    assert ok.json() == {"data": {"__typename": "Query"}}

    refused = await api.http.post("/graphql", content=_body_of_size(limit + 1), headers=headers)
    _assert_too_large(refused, limit)
    assert HEX32.match(refused.headers["x-request-id"])


async def test_streamed_body_without_content_length_is_cut_off(api) -> None:
    limit = get_settings().max_body_bytes
    body = _body_of_size(limit + 50_000)
    chunks_sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for start in range(0, len(body), 16_384):
            chunks_sent += 1
            yield body[start : start + 16_384]

    response = await api.http.post(
        "/graphql", content=stream(), headers={"content-type": "application/json"}
    )
    _assert_too_large(response, limit)
    assert chunks_sent > 1


async def test_small_streamed_body_is_served(api) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __ty'
        yield b'pename }"}'

    response = await api.http.post(
        "/graphql", content=stream(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_dishonest_content_length_does_not_get_past_the_limit(db, cache) -> None:
    """A client that declares a small body and sends a large one is still cut off."""
    limit = 1000
    app = _app(cache, max_body_bytes=limit)
    body = _body_of_size(5000)
    chunks = [body[i : i + 500] for i in range(0, len(body), 500)]
    sent: list[dict] = []

    async def receive() -> dict:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 50002),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(payload)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("declared", [b"not-a-number", b"-1", str(10**12).encode()])
async def test_bad_or_huge_declared_length_is_refused_at_once(db, cache, declared: bytes) -> None:
    app = _app(cache)
    sent: list[dict] = []

    async def receive() -> dict:
        raise AssertionError("the body must not be read")

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"content-length", declared), (b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


# --- request ids ---------------------------------------------------------------------------


async def test_request_id_is_echoed(api) -> None:
    response = await api.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "client-abc-123"}
    )
    assert response.headers["x-request-id"] == "client-abc-123"


async def test_request_id_is_generated_when_missing_or_unsane(api) -> None:
    generated = await api.http.post("/graphql", json={"query": "{ __typename }"})
    assert HEX32.match(generated.headers["x-request-id"])
    again = await api.http.get("/healthz")
    assert HEX32.match(again.headers["x-request-id"])
    assert again.headers["x-request-id"] != generated.headers["x-request-id"]

    too_long = await api.http.get("/healthz", headers={"X-Request-Id": "x" * 65})
    assert HEX32.match(too_long.headers["x-request-id"])
    longest = await api.http.get("/healthz", headers={"X-Request-Id": "y" * 64})
    assert longest.headers["x-request-id"] == "y" * 64
    # Exactly one id header, never the client's plus ours.
    assert len(longest.headers.get_list("x-request-id")) == 1


# --- query limits --------------------------------------------------------------------------


def _path_query(fields: int) -> str:
    """``orders { edges { node { payment { order { ... id }}}}}`` with ``fields`` fields on
    the path from the root to the leaf."""
    path = ["orders", "edges", "node"]
    while len(path) < fields - 1:
        path.append("payment" if path[-1] in ("node", "order") else "order")
    path.append("id")
    text = path[-1]
    for name in reversed(path[:-1]):
        text = f"{name} {{ {text} }}"
    return "{ " + text + " }"


def _assert_refused(result, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert result.body.get("data") is None
    assert result.errors and fragment in result.errors[0]["message"]


async def test_query_depth_limit(api) -> None:
    buyer = await f.consumer()
    limit = get_settings().max_query_depth
    # Depth counts from 0 at the root field, so a path of limit + 1 fields is at the limit.
    at_limit = await api(_path_query(limit + 1), token=buyer.token)
    assert at_limit.data == {"orders": {"edges": []}}

    too_deep = await api(_path_query(limit + 2), token=buyer.token)
    _assert_refused(too_deep, f"exceeds maximum operation depth of {limit}")


async def test_alias_limit(api) -> None:
    limit = get_settings().max_aliases
    allowed = await api("{ " + " ".join(f"a{i}: __typename" for i in range(limit)) + " }")
    assert allowed.data == {f"a{i}": "Query" for i in range(limit)}

    refused = await api("{ " + " ".join(f"a{i}: __typename" for i in range(limit + 1)) + " }")
    _assert_refused(refused, f"{limit + 1} aliases found. Allowed: {limit}")


def _token_count(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def _order_with_lines(lines: int) -> str:
    items = " ".join('{productId: "UHJvZHVjdDox" quantity: 1}' for _ in range(lines))
    return (
        "mutation { placeOrder(input: {lines: [" + items + "] "
        'recipient: {name: "n" phone: "13812345678" address: "a"}}) { errors { code } } }'
    )


def _query_of_tokens(tokens: int) -> str:
    """A query of exactly ``tokens`` tokens (what the parser counts)."""
    lines = 1
    while _token_count(_order_with_lines(lines + 1)) <= tokens:
        lines += 1
    query = _order_with_lines(lines)
    missing = tokens - _token_count(query)
    # Pad with (unused-free) tokens: each `__typename` selection adds one token.
    query = query[: -len(" } }")] + " __typename" * missing + " } }"
    assert _token_count(query) == tokens
    return query


async def test_token_limit(api) -> None:
    limit = get_settings().max_tokens
    # At the limit the document is parsed and executed (an anonymous order is refused).
    at_limit = await api(_query_of_tokens(limit))
    assert at_limit.error_codes == ["UNAUTHENTICATED"]

    refused = await api(_query_of_tokens(limit + 1))
    _assert_refused(refused, f"more than {limit} tokens")


# --- pagination arguments ------------------------------------------------------------------


@pytest.mark.parametrize("first", [101, -1, 10**6])
async def test_first_out_of_range_is_bad_user_input(api, first: int) -> None:
    result = await api("query($n: Int) { products(first: $n) { edges { cursor } } }", {"n": first})
    assert result.body["data"] is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "first must be 0–100" in result.errors[0]["message"]


async def test_first_at_the_bounds_is_fine(api) -> None:
    shop, _ = await f.merchant()
    await f.product(shop)
    full = await api("{ products(first: 100) { edges { cursor } pageInfo { hasNextPage } } }")
    assert len(full.data["products"]["edges"]) == 1
    empty = await api("{ products(first: 0) { edges { cursor } } }")
    assert empty.data["products"] == {"edges": []}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    ["not a cursor", "abc", "游标", _b64(b"x:12"), _b64(b"k:twelve"), _b64(b"\xff\xfe"), "===="],
)
async def test_invalid_after_cursor_is_bad_user_input(api, cursor: str) -> None:
    result = await api(
        "query($c: String) { products(after: $c) { edges { cursor } } }", {"c": cursor}
    )
    assert result.body["data"] is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "Invalid cursor" in result.errors[0]["message"]


async def test_a_cursor_from_a_page_continues_it(api) -> None:
    shop, _ = await f.merchant()
    made = [await f.product(shop) for _ in range(3)]
    page = (
        "query($c: String) { products(first: 2, after: $c) { edges { cursor node { id } } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    first = (await api(page)).data["products"]
    assert [e["node"]["id"] for e in first["edges"]] == [
        f.gid("Product", p.id) for p in made[:0:-1]
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await api(page, {"c": first["pageInfo"]["endCursor"]})).data["products"]
    assert [e["node"]["id"] for e in second["edges"]] == [f.gid("Product", made[0].id)]
    assert second["pageInfo"]["hasNextPage"] is False


# --- internal errors -----------------------------------------------------------------------

LOGIN = """
mutation { login(input: {email: "a@example.com", password: "whatever-password"}) {
  accessToken errors { code } } }"""


async def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("secret detail")


async def test_internal_error_is_masked_outside_debug(api, monkeypatch) -> None:
    monkeypatch.setattr(accounts, "authenticate", _boom)
    response = await api.http.post("/graphql", json={"query": LOGIN})
    assert response.status_code == 200
    assert "secret detail" not in response.text
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["Internal error"]
    assert "RuntimeError" not in response.text


async def test_internal_error_is_shown_in_debug_mode(db, cache, monkeypatch) -> None:
    monkeypatch.setattr(accounts, "authenticate", _boom)
    async with _client(_app(cache, debug=True)) as http:
        response = await http.post("/graphql", json={"query": LOGIN})
    assert response.json()["errors"][0]["message"] == "secret detail"


async def test_coded_errors_are_not_masked(api) -> None:
    result = await api("{ orders { edges { cursor } } }")
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["message"] != "Internal error"


# --- response encoding ---------------------------------------------------------------------


async def test_responses_are_utf8_json_without_escapes(api) -> None:
    shop, _ = await f.merchant("杭州小店 Hangzhou shop")
    response = await api.http.post("/graphql", json={"query": "{ merchants { nodes { name } } }"})
    assert response.headers["content-type"].startswith("application/json")
    assert "杭州小店".encode() in response.content  # not \u676d\u5dde...
    assert json.loads(response.content)["data"]["merchants"]["nodes"] == [{"name": shop.name}]


@pytest.mark.parametrize("sent", ["with space", "new\nline", "tab\there", "é-accent", "a\x00b"])
async def test_a_request_id_with_invisible_or_foreign_characters_is_replaced(
    api, sent: str
) -> None:
    scope_headers = [(b"x-request-id", sent.encode())]
    sent_headers = httpx.Headers(scope_headers)
    response = await api.http.get("/healthz", headers=sent_headers)
    assert HEX32.match(response.headers["x-request-id"])


# --- access log ----------------------------------------------------------------------------


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pinzhi.access"]


async def test_the_access_log_has_one_line_without_the_query_string(api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pinzhi")
    secret = "zhang.san@example.com"
    response = await api.http.get(
        "/graphql",
        params={
            "query": "query($e: String) { products(search: $e) { nodes { id } } }",
            "variables": json.dumps({"e": secret}),
        },
        headers={"X-Request-Id": "req-42"},
    )
    assert response.status_code == 200
    (line,) = _access_lines(caplog)
    method, path, status, duration, request_id = line.split(" ")
    assert (method, path, status, request_id) == ("GET", "/graphql", "200", "req-42")
    assert re.fullmatch(r"\d+\.\dms", duration)
    assert secret not in caplog.text and "query" not in caplog.text


async def test_refusals_and_failures_are_in_the_access_log(api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pinzhi")
    limit = get_settings().max_body_bytes
    await api.http.post(
        "/graphql", content=_body_of_size(limit + 1), headers={"content-type": "application/json"}
    )
    await api.http.get("/no/such/page")
    await api.http.post("/graphql", content=b"[]", headers={"content-type": "application/json"})
    statuses = [line.split(" ")[:3] for line in _access_lines(caplog)]
    assert statuses == [
        ["POST", "/graphql", "413"],
        ["GET", "/no/such/page", "404"],
        ["POST", "/graphql", "400"],
    ]


async def test_an_unprintable_path_is_escaped_in_the_access_log(api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pinzhi")
    await api.http.get("/a%0Afake%20line")
    (line,) = _access_lines(caplog)
    assert "\n" not in line
    assert "\\n" in line


async def test_production_shows_no_schema_unless_asked(db, cache) -> None:
    """Introspection, suggestions and GraphiQL are off in production by default, and
    each can be switched back on."""
    from pinzhi.app import create_app
    from pinzhi.settings import load_settings

    secrets = {
        "PINZHI_ENV": "production",
        "PINZHI_TOKEN_SECRET": "an-operator-chosen-token-secret-of-some-length",
        "PINZHI_DATA_KEY": base64.urlsafe_b64encode(b"o" * 32).decode(),
    }
    browser = {"accept": "text/html,*/*;q=0.8"}

    async def probe(env: dict[str, str]) -> tuple[list[str], str, int]:
        app = create_app(load_settings(env), manage_database=False, cache=cache)
        async with _client(app) as http:
            schema = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
            typo = await http.post("/graphql", json={"query": "{ produts { nodes { id } } }"})
            page = await http.get("/graphql", headers=browser)
        return (
            [e["extensions"]["code"] for e in schema.json().get("errors", [])],
            typo.json()["errors"][0]["message"],
            page.status_code,
        )

    introspection, typo, page = await probe(secrets)
    assert introspection and set(introspection) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "Did you mean" not in typo
    assert page == 400

    switched_on = {
        **secrets,
        "PINZHI_INTROSPECTION": "on",
        "PINZHI_FIELD_SUGGESTIONS": "on",
        "PINZHI_GRAPHIQL": "on",
    }
    introspection, typo, page = await probe(switched_on)
    assert introspection == []
    assert "Did you mean 'products'?" in typo
    assert page == 200
