"""Error codes and error logs (schema/errors.py): every top-level error has a code; a
client's error is one log line without its values; only our own failures log a traceback."""

from __future__ import annotations

import logging

import pytest

from pinzhi.services import accounts
from tests.helpers import client_for, make_app

SECRET = "13912345678-zhang.san@example.com"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="pinzhi")
    caplog.set_level(logging.INFO, logger="strawberry")
    return caplog


def graphql_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name in ("pinzhi.graphql", "strawberry.execution")]


CLIENT_ERRORS = {
    "parse": ('{ products(search: "' + SECRET + '" ', None, "GRAPHQL_PARSE_FAILED"),
    "validation": (
        "{ products(search: 12) { nodes { id } } } # " + SECRET,
        None,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "literal-value": (
        '{ products(first: "' + SECRET + '") { nodes { id } } }',
        None,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "variable-coercion": (
        "query($n: Int) { products(first: $n) { nodes { id } } }",
        {"n": SECRET},
        "BAD_USER_INPUT",
    ),
    "input-guard": (
        "query($s: String) { products(search: $s) { nodes { id } } }",
        {"s": SECRET + "\x00"},
        "BAD_USER_INPUT",
    ),
    "resolver": ("{ products(first: 101) { nodes { id } } }", None, "BAD_USER_INPUT"),
    "credential": ("{ __typename }", None, "UNAUTHENTICATED"),
}


@pytest.mark.parametrize("case", CLIENT_ERRORS.values(), ids=CLIENT_ERRORS.keys())
async def test_a_client_error_is_one_coded_line_without_values(api, logs, case) -> None:  # type: ignore[no-untyped-def]
    query, variables, code = case
    headers = {"Authorization": f"Bearer {SECRET}"} if code == "UNAUTHENTICATED" else None
    result = await api(query, variables, headers=headers)
    assert result.error_codes == [code]

    (record,) = graphql_records(logs)
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert code in record.getMessage()
    assert "\n" not in record.getMessage()
    assert SECRET not in logs.text
    assert "zhang" not in logs.text


async def test_an_internal_error_logs_its_traceback_once(api, logs, monkeypatch) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the real cause")

    monkeypatch.setattr(accounts, "authenticate", boom)
    result = await api(
        'mutation { login(input: {email: "' + SECRET + '", password: "pw-pw-pw"}) { accessToken } }'
    )
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert result.errors[0]["message"] == "Internal error"

    (record,) = graphql_records(logs)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "login" in record.getMessage()
    assert SECRET not in record.getMessage()


async def test_debug_mode_shows_the_message_and_keeps_the_code(db, cache, monkeypatch) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the real cause")

    monkeypatch.setattr(accounts, "authenticate", boom)
    query = 'mutation { login(input: {email: "a@example.com", password: "pw"}) { accessToken } }'
    async with client_for(make_app(cache, debug=True)) as http:
        response = await http.post("/graphql", json={"query": query})
    (error,) = response.json()["errors"]
    assert error["message"] == "the real cause"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            "query($o: ProductOrder = RANK) { products(orderBy: $o) { nodes { id } } }",
            {"o": None},
        ),
        ('query($i: ID = "x") { node(id: $i) { id } }', {"i": None}),
    ],
    ids=["enum", "id"],
)
async def test_a_null_for_a_required_argument_is_the_clients_input(
    api, query: str, variables: dict
) -> None:
    """graphql-core reports it during execution, with a path: still bad input, not ours."""
    result = await api(query, variables)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "not to be None" in result.errors[0]["message"]
