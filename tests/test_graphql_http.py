"""GraphQL over HTTP (graphql_http.py): media types, status codes, coded refusals of
malformed and hostile requests, and mutations over GET."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from pinzhi.services import accounts
from tests import factories as f
from tests.helpers import count_sql

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
STRICT = {"accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"accept": JSON}
JSON_BODY = {"content-type": "application/json"}


async def post(
    http: httpx.AsyncClient, document: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post("/graphql", json=document, headers=headers or {})


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# --- content negotiation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/json; charset=utf-8", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, */*", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, application/json", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.9, */*;q=0.8", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, */*", JSON),
        ("application/json;q=0, */*", None),
        ("text/html", None),
        ("text/html, application/xhtml+xml", None),
        ("application/json;q=nonsense", None),
    ],
)
def test_negotiation(accept: str | None, chosen: str | None) -> None:
    from pinzhi.graphql_http import negotiate

    assert negotiate(accept) == chosen


async def test_graphql_response_json_when_the_client_accepts_it(api) -> None:
    response = await post(api.http, {"query": "{ __typename }"}, STRICT)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
async def test_application_json_for_old_clients(api, accept: str | None) -> None:
    headers = {} if accept is None else {"accept": accept}
    response = await api.http.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={**JSON_BODY, **headers}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_client_accepting_neither_type_gets_406(api) -> None:
    response = await post(api.http, {"query": "{ __typename }"}, {"accept": "text/html"})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response) == ["BAD_REQUEST"]


# --- request errors: 4xx for graphql-response+json, 200 for application/json ----------------

REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": "query($n: Int!) { products(first: $n) { nodes { id } } }", "variables": {}},
        "BAD_USER_INPUT",
        id="missing-variable",
    ),
    pytest.param(
        {
            "query": "query($n: Int) { products(first: $n) { nodes { id } } }",
            "variables": {"n": "ten"},
        },
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
]


@pytest.mark.parametrize(("document", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    api, document: dict, code: str
) -> None:
    response = await post(api.http, document, STRICT)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert codes(response) == [code]


@pytest.mark.parametrize(("document", "code"), REQUEST_ERRORS)
async def test_request_errors_are_200_in_application_json(api, document: dict, code: str) -> None:
    response = await post(api.http, document, LEGACY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert codes(response) == [code]


async def test_a_field_error_keeps_data_and_status_200(api) -> None:
    # `first` out of range is refused by the resolver: execution began, data is null.
    response = await post(api.http, {"query": "{ products(first: 101) { nodes { id } } }"}, STRICT)
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert codes(response) == ["BAD_USER_INPUT"]


async def test_a_refused_credential_is_401_in_graphql_response_json(api) -> None:
    headers = {**STRICT, "authorization": "Bearer not-a-token"}
    response = await post(api.http, {"query": "{ __typename }"}, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "data" not in response.json()
    assert codes(response) == ["UNAUTHENTICATED"]

    legacy = await post(api.http, {"query": "{ __typename }"}, {"authorization": "Bearer x"})
    assert legacy.status_code == 200
    assert codes(legacy) == ["UNAUTHENTICATED"]


async def test_a_regulators_mutation_is_403_in_graphql_response_json(api) -> None:
    regulator = await f.regulator()
    headers = {**STRICT, "authorization": f"Bearer {regulator.token}"}
    response = await post(
        api.http, {"query": 'mutation { logout(refreshToken: "x") { revoked } }'}, headers
    )
    assert response.status_code == 403
    assert codes(response) == ["FORBIDDEN"]


# --- mutations over GET --------------------------------------------------------------------

REGISTER = (
    'mutation { registerConsumer(input: {email: "get@example.com", password: "long-enough-pw",'
    ' name: "n", phone: "13812345678"}) { errors { code } } }'
)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
async def test_a_mutation_over_get_is_405_and_not_executed(api, accept: str) -> None:
    response = await api.http.get(
        "/graphql", params={"query": REGISTER}, headers={"accept": accept}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["BAD_REQUEST"]
    assert await accounts.find_by_email("get@example.com") is None

    posted = await post(api.http, {"query": REGISTER})
    assert posted.json()["data"]["registerConsumer"]["errors"] == []
    assert await accounts.find_by_email("get@example.com") is not None


async def test_queries_over_get(api) -> None:
    response = await api.http.get(
        "/graphql",
        params={
            "query": "query Q($name: String!) { __type(name: $name) { name } }",
            "variables": json.dumps({"name": "Query"}),
            "operationName": "Q",
        },
        headers=STRICT,
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{ __typename }", "variables": "{broken"},
        {"query": "{ __typename }", "extensions": "[1, 2"},
        {"query": "{ __typename }", "variables": "[1]"},
        {"query": "{ __typename }", "variables": '"text"'},
        {"query": "{ __typename }", "extensions": "7"},
        {"query": "{ __typename }", "variables": "[" * 3000 + "]" * 3000},
    ],
    ids=["broken-variables", "broken-extensions", "array", "string", "number", "deep"],
)
async def test_get_with_broken_json_parameters_is_400(api, params: dict) -> None:
    response = await api.http.get("/graphql", params=params, headers=LEGACY)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


async def test_other_methods_are_405_with_allow(api) -> None:
    response = await api.http.put("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert codes(response) == ["BAD_REQUEST"]


# --- malformed and hostile bodies ----------------------------------------------------------

HOSTILE_BODIES = {
    "invalid-utf8": b'{"query": "{ __typename }", "variables": {"x": "\xff\xfe"}}',
    "invalid-utf8-in-query": b'{"query": "{ __typename \xc3 }"}',
    "lone-surrogate": b'{"query": "{ __typename }", "variables": {"x": "\\ud800"}}',
    "nested-3000": b'{"query": "{ __typename }", "variables": {"x": '
    + b"[" * 3000
    + b"]" * 3000
    + b"}}",
    "bare-nesting-3000": b"[" * 3000 + b"]" * 3000,
    "array": b'[{"query": "{ __typename }"}]',
    "string": b'"{ __typename }"',
    "number": b"42",
    "null": b"null",
    "not-json": b'{ "not a JSON',
    "empty": b"",
    "query-object": b'{"query": {"obj": "ect"}}',
    "query-number": b'{"query": 0}',
    "query-false": b'{"query": false}',
    "query-array": b'{"query": ["{ __typename }"]}',
    "operation-name-object": b'{"query": "{ __typename }", "operationName": {}}',
    "variables-string": b'{"query": "{ __typename }", "variables": "x"}',
    "extensions-array": b'{"query": "{ __typename }", "extensions": []}',
    "no-query": b'{"qeury": "{ __typename }"}',
    "unknown-operation": b'{"query": "query A { __typename }", "operationName": "B"}',
}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
async def test_hostile_bodies_are_400_and_touch_nothing(api, body: bytes, accept: str) -> None:
    with count_sql() as sql:
        response = await api.http.post(
            "/graphql", content=body, headers={**JSON_BODY, "accept": accept}
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept)
    assert codes(response) == ["BAD_REQUEST"]
    assert "data" not in response.json()
    assert sql.count == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_utf8_json_is_415(api, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = await api.http.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
    )
    assert response.status_code == 415
    assert codes(response) == ["BAD_REQUEST"]


async def test_the_connection_survives_hostile_bodies(api) -> None:
    """Each refusal is an ordinary response: the next request on the client is served."""
    for body in HOSTILE_BODIES.values():
        refused = await api.http.post("/graphql", content=body, headers=JSON_BODY)
        assert refused.status_code == 400
        served = await post(api.http, {"query": "{ __typename }"})
        assert served.json() == {"data": {"__typename": "Query"}}


# --- every error has a code ----------------------------------------------------------------


async def test_internal_errors_are_coded_and_masked(api, monkeypatch) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(accounts, "authenticate", boom)
    login = 'mutation { login(input: {email: "a@example.com", password: "pw"}) { accessToken } }'
    for headers in (STRICT, LEGACY):
        response = await post(api.http, {"query": login}, headers)
        assert response.status_code == 200  # a field error: execution had begun
        assert "secret detail" not in response.text
        assert [e["message"] for e in response.json()["errors"]] == ["Internal error"]
        assert codes(response) == ["INTERNAL_SERVER_ERROR"]


async def test_an_unexpected_failure_outside_graphql_is_a_coded_500(api, monkeypatch) -> None:
    from pinzhi import app as app_module

    async def broken_viewer(authorization: str | None) -> None:
        raise RuntimeError("database unreachable: secret host")

    monkeypatch.setattr(app_module, "viewer_for", broken_viewer)
    response = await post(api.http, {"query": "{ __typename }"}, STRICT)
    assert response.status_code == 500
    assert "secret" not in response.text
    assert codes(response) == ["INTERNAL_SERVER_ERROR"]


# --- logs ----------------------------------------------------------------------------------

SECRET = "13912345678-zhang.san@example.com"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="pinzhi")
    return caplog


async def test_a_failure_around_the_extensions_is_masked_and_coded(api, logs, monkeypatch) -> None:
    """An exception raised by an extension skips strawberry's MaskErrors: the view masks it."""
    from pinzhi.schema import documents

    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(documents, "shape_refusal", broken)
    result = await api("{ __typename }")
    assert result.errors == [
        {"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    ]
    (record,) = [r for r in logs.records if r.name == "pinzhi.graphql"]
    assert record.exc_info is not None and record.exc_info[0] is RecursionError


async def test_a_refused_http_request_is_one_line(api, logs) -> None:
    response = await api.http.post(
        "/graphql",
        content=b'{"query": "%s' % SECRET.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    records = [r for r in logs.records if r.name == "pinzhi.http"]
    assert len(records) == 1 and records[0].exc_info is None
    assert "BAD_REQUEST" in records[0].getMessage()
    assert SECRET not in logs.text
