"""No input makes the server fail: generated strings, numbers, ids, dates, JSON, enums and
input objects for every argument of every root field, sent by every kind of viewer, get an
answer or a coded error, never "Internal error" and never a 5xx.

The arguments are generated from the schema itself (hypothesis), so a new field is fuzzed
the day it is added. ``PINZHI_FUZZ_EXAMPLES`` sets the examples per field (default 25);
the examples are derandomised so that CI runs the same ones every time.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinzhi.schema import schema
from tests import factories as f

EXAMPLES = int(os.environ.get("PINZHI_FUZZ_EXAMPLES", "25"))
GRAPHQL = schema._schema

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 10_001,
    "x" * 300,
    "13812345678\n",
    "'; DROP TABLE account; --",
    "🙂" * 40,
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "\r\n\t",
    "2147483648",
    "-1",
    "1e30",
    "NaN",
    "null",
    "{}",
    "[]",
    "../../etc/passwd",
    "<script>alert(1)</script>",
]
TYPE_NAMES = [
    "Order",
    "Product",
    "Merchant",
    "Account",
    "Payment",
    "Shipment",
    "Complaint",
    "ViolationCase",
    "MerchantLicence",
    "DepositPayment",
    "ApiKey",
    "Nope",
    "",
]
NUMBERS = [0, 1, 2, 3, -1, 2**31 - 1, 2**31, 2**63, 10**30]


def _global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(HOSTILE_TEXT),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FFF), max_size=8),
)
ids = st.one_of(
    texts,
    st.builds(_global_id, st.sampled_from(TYPE_NAMES), st.sampled_from(NUMBERS)),
    st.builds(_global_id, st.sampled_from(TYPE_NAMES), texts),
)
ints = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 2**31 - 1, -(2**31)]))
floats = st.floats(allow_nan=False, allow_infinity=False, width=32)
ZONES = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14)), timezone.min]
datetimes = st.one_of(
    st.datetimes(timezones=st.sampled_from(ZONES)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "2026-02-30T00:00:00Z"]
    ),
    texts,
)
json_values = st.recursive(
    st.none() | st.booleans() | ints | floats | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
SCALARS = {
    "String": texts,
    "ID": ids,
    "Int": ints,
    "Float": floats,
    "Boolean": st.booleans(),
    "DateTime": datetimes,
    "JSON": json_values,
}


def value_of(graphql_type: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for an input type; nullable ones are sometimes null."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _non_null(graphql_type.of_type, depth)
    return st.one_of(st.none(), _non_null(graphql_type, depth))


def _non_null(graphql_type: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(graphql_type, GraphQLList):
        return st.lists(value_of(graphql_type.of_type, depth + 1), max_size=3)
    if isinstance(graphql_type, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(graphql_type.values)), texts)
    if isinstance(graphql_type, GraphQLScalarType):
        return SCALARS.get(graphql_type.name, texts)
    if isinstance(graphql_type, GraphQLInputObjectType):
        required = {
            n: value_of(t.type, depth + 1)
            for n, t in graphql_type.fields.items()
            if isinstance(t.type, GraphQLNonNull)
        }
        optional = {
            n: value_of(t.type, depth + 1)
            for n, t in graphql_type.fields.items()
            if not isinstance(t.type, GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)
    raise TypeError(graphql_type)


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "errors" in named.fields:
        return "{ __typename errors { code field } }"
    return "{ __typename }"


def document_for(operation: str, name: str, field: GraphQLField) -> str:
    variables = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{operation}({variables})" if variables else operation
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call} {_selection(field)} }}"


ROOT_FIELDS = [("query", name, field) for name, field in GRAPHQL.query_type.fields.items()] + [
    ("mutation", name, field) for name, field in GRAPHQL.mutation_type.fields.items()
]
VIEWERS = [
    "anonymous",
    "consumer",
    "merchant",
    "service",
    "compliance",
    "admin",
    "regulator",
    "logistics",
    "payment",
]


@pytest.fixture
async def tokens(db) -> dict[str, str | None]:
    from pinzhi.models import StaffDuty

    w = await f.world()
    await f.delivered_order(w)
    await f.complaint(w.buyer, (await f.paid_order(w))[0])
    return {
        "anonymous": None,
        "consumer": w.buyer.token,
        "merchant": w.seller.token,
        "service": w.agent.token,
        "compliance": (await f.compliance_officer()).token,
        "admin": (await f.staff(StaffDuty.ADMIN)).token,
        "regulator": w.regulator.token,
        "logistics": w.carrier_key,
        "payment": w.payer_key,
    }


@pytest.mark.parametrize(
    ("operation", "name", "field"), ROOT_FIELDS, ids=[f"{o}.{n}" for o, n, _ in ROOT_FIELDS]
)
async def test_no_generated_input_makes_the_server_fail(api, tokens, operation, name, field):
    document = document_for(operation, name, field)
    arguments = st.fixed_dictionaries(
        {arg: value_of(spec.type) for arg, spec in field.args.items()}
    )
    for variables, viewer in examples(st.tuples(arguments, st.sampled_from(VIEWERS))):
        response = await api.http.post(
            "/graphql",
            json={"query": document, "variables": variables},
            headers={"Authorization": f"Bearer {tokens[viewer]}"} if tokens[viewer] else {},
        )
        assert response.status_code < 500, (viewer, variables, response.text[:500])
        assert "Internal error" not in response.text, (viewer, variables, response.text[:500])


def examples(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """Draw the examples with hypothesis (derandomised: the same ones every run); they are
    then sent one by one by the async test."""
    drawn: list[Any] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn
