"""The input-text guard (schema/guards.py): no string input over the length limit, none
with a NUL, in literals or variables at any depth; refused before any resolver runs."""

from __future__ import annotations

import pytest

from pinzhi.schema import extensions as schema_extensions
from pinzhi.services import accounts, catalog
from pinzhi.settings import get_settings
from tests import factories as f
from tests.helpers import client_for, count_sql, make_app

LOGIN_LITERAL = (
    'mutation { login(input: {email: "%s", password: "whatever-password"}) '
    "{ accessToken errors { code } } }"
)
CREATE_PRODUCT = (
    "mutation($i: CreateProductInput!) { createProduct(input: $i) "
    "{ product { id } errors { code field } } }"
)


@pytest.fixture
def services_untouched(monkeypatch):  # type: ignore[no-untyped-def]
    """Fail the test if a guarded request reaches the services."""
    reached: list[str] = []

    def recording(name: str):  # type: ignore[no-untyped-def]
        async def called(*args: object, **kwargs: object) -> None:
            reached.append(name)
            raise AssertionError(f"{name} was called")

        return called

    monkeypatch.setattr(accounts, "authenticate", recording("authenticate"))
    monkeypatch.setattr(catalog, "create_product", recording("create_product"))
    return reached


def refused(result, path: list) -> str:  # type: ignore[no-untyped-def]
    (error,) = result.errors
    assert result.body.get("data") is None
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argumentPath": path}, error
    return error["message"]


def product_input(**changes: object) -> dict:
    return {
        "title": "桂花糕 osmanthus cake",
        "category": "food",
        "priceMinor": 1500,
        "stock": 3,
        **changes,
    }


# --- length --------------------------------------------------------------------------------


async def test_a_long_literal_is_refused_before_any_resolver(api, services_untouched) -> None:
    limit = get_settings().max_string_length
    assert limit == 10_000
    message = refused(await api(LOGIN_LITERAL % ("a" * (limit + 1))), ["login", "input", "email"])
    assert "10000" in message
    assert services_untouched == []


async def test_a_string_at_the_limit_passes_the_guard(api) -> None:
    limit = get_settings().max_string_length
    result = await api(
        "query($s: String) { products(search: $s) { nodes { id } } }", {"s": "茶" * limit}
    )
    assert result.data == {"products": {"nodes": []}}


async def test_a_200_kb_variable_is_refused(api, services_untouched) -> None:
    big = "长" * (200_000 // 3)  # 200 KB of UTF-8, under the body limit
    query = 'mutation($e: String!) { login(input: {email: $e, password: "pw"}) { accessToken } }'
    refused(await api(query, {"e": big}), ["$e"])
    assert services_untouched == []


async def test_the_limit_is_a_setting(db, cache) -> None:
    async with client_for(make_app(cache, max_string_length=5)) as http:
        ok = await http.post(
            "/graphql", json={"query": '{ products(search: "12345") { nodes { id } } }'}
        )
        too_long = await http.post(
            "/graphql", json={"query": '{ products(search: "123456") { nodes { id } } }'}
        )
    assert ok.json() == {"data": {"products": {"nodes": []}}}
    assert too_long.json()["errors"][0]["extensions"]["argumentPath"] == ["products", "search"]


# --- NUL -----------------------------------------------------------------------------------


async def test_a_nul_in_a_literal_is_refused(api, services_untouched) -> None:
    message = refused(
        await api(LOGIN_LITERAL % "a\\u0000b@example.com"), ["login", "input", "email"]
    )
    assert "NUL" in message
    assert services_untouched == []


async def test_a_nul_in_a_variable_is_refused(api, services_untouched) -> None:
    query = 'mutation($e: String!) { login(input: {email: $e, password: "pw"}) { accessToken } }'
    refused(await api(query, {"e": "a\x00b@example.com"}), ["$e"])
    assert services_untouched == []


async def test_a_nul_deep_in_an_input_object_variable_is_refused(api, services_untouched) -> None:
    _shop, owner = await f.merchant()
    result = await api(
        CREATE_PRODUCT,
        {"i": product_input(attributes={"brand": "good", "origin": "杭州\x00"})},
        token=owner.token,
    )
    refused(result, ["$i", "attributes", "origin"])
    assert services_untouched == []


async def test_a_nul_in_a_json_key_is_refused(api, services_untouched) -> None:
    _shop, owner = await f.merchant()
    result = await api(
        CREATE_PRODUCT, {"i": product_input(attributes={"br\x00and": "x"})}, token=owner.token
    )
    refused(result, ["$i", "attributes"])
    assert services_untouched == []


async def test_a_nul_in_a_json_literal_is_refused(api, services_untouched) -> None:
    _shop, owner = await f.merchant()
    query = (
        'mutation { made: createProduct(input: {title: "桂花糕", category: "food", '
        'priceMinor: 1500, stock: 3, attributes: {tags: ["ok", "b\\u0000d"]}}) '
        "{ errors { code } } }"
    )
    refused(await api(query, token=owner.token), ["made", "input", "attributes", "tags", 1])
    assert services_untouched == []


async def test_a_nul_in_a_list_of_a_variable_is_refused(api) -> None:
    buyer = await f.consumer()
    query = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { errors { code } } }"
    lines = [{"productId": "UHJvZHVjdDox", "quantity": 1}, {"productId": "x\x00", "quantity": 1}]
    recipient = {"name": "n", "phone": "13812345678", "address": "a"}
    await api.warm(buyer.token)
    with count_sql() as sql:
        result = await api(
            query, {"i": {"lines": lines, "recipient": recipient}}, token=buyer.token
        )
    refused(result, ["$i", "lines", 1, "productId"])
    assert sql.count == 0


async def test_literals_are_found_through_fragments_and_aliases(api) -> None:
    query = (
        "{ ...F } fragment F on Query { ... on Query { "
        'hits: products(search: "x\\u0000") { nodes { id } } } }'
    )
    refused(await api(query), ["hits", "search"])


async def test_a_nul_in_a_variables_default_is_refused(api) -> None:
    query = 'query($s: String = "tea\\u0000") { products(search: $s) { nodes { id } } }'
    refused(await api(query), ["$s"])


async def test_an_undeclared_variable_is_not_looked_at(api) -> None:
    result = await api("{ __typename }", {"unused": "x\x00"})
    assert result.data == {"__typename": "Query"}


# --- cost ----------------------------------------------------------------------------------


async def test_literals_are_checked_once_per_document(api, monkeypatch) -> None:
    calls: list[object] = []
    original = schema_extensions.literal_refusal

    def counting(*args: object):  # type: ignore[no-untyped-def]
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(schema_extensions, "literal_refusal", counting)
    query = '{ products(search: "tea") { nodes { id } } }'
    for _ in range(3):
        assert (await api(query)).data == {"products": {"nodes": []}}
    assert len(calls) == 1


async def test_variables_are_walked_only_when_there_are_any(api, monkeypatch) -> None:
    calls: list[object] = []

    def counting(*args: object) -> None:
        calls.append(args)

    monkeypatch.setattr(schema_extensions, "variables_refusal", counting)
    assert (await api("{ __typename }")).data == {"__typename": "Query"}
    assert calls == []
    query = "query($s: String) { products(search: $s) { nodes { id } } }"
    assert (await api(query, {"s": "tea"})).data == {"products": {"nodes": []}}
    assert len(calls) == 1
