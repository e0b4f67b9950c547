"""Documents (schema/documents.py): coded parse and validation errors, the shape limits
checked before validation (fragments, spread chains, nesting), caching per query text,
and hidden suggestions."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, parse

from pinzhi.settings import get_settings
from tests.helpers import client_for, make_app


def limits():  # type: ignore[no-untyped-def]
    from pinzhi.schema.documents import DocumentLimits

    return DocumentLimits(
        max_tokens=4000,
        max_fragments=100,
        max_fragment_depth=16,
        max_selection_nesting=32,
        max_input_depth=16,
    )


def shape_refusal(document) -> GraphQLError | None:  # type: ignore[no-untyped-def]
    from pinzhi.schema.documents import shape_refusal as refusal

    return refusal(document, limits())


def document_cache():  # type: ignore[no-untyped-def]
    from pinzhi.schema.documents import DocumentCache

    return DocumentCache(limits())


def chain(fragments: int) -> str:
    """``{ ...F1 } fragment F1 on Query { ...F2 } … fragment Fn on Query { __typename }``"""
    links = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(1, fragments))
    return f"{{ ...F1 }} {links} fragment F{fragments} on Query {{ __typename }}"


def nested_inline_fragments(levels: int) -> str:
    return "{ " + "... on Query { " * levels + "__typename" + " }" * levels + " }"


def refusal_limit(result) -> str:  # type: ignore[no-untyped-def]
    (error,) = result.errors
    assert result.body.get("data") is None
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    return error["extensions"]["limit"]


def test_settings_bound_what_the_validation_rules_would_recurse_over() -> None:
    settings = get_settings()
    assert settings.max_fragments == 100
    assert settings.max_fragment_depth == 16
    assert settings.max_selection_nesting == 32
    assert settings.max_input_depth == 16


# --- fragments -----------------------------------------------------------------------------


async def test_a_300_fragment_chain_is_refused_without_recursion(api) -> None:
    result = await api(chain(300))
    assert refusal_limit(result) == "fragments"
    assert "recursion" not in str(result.body)


async def test_a_spread_chain_over_the_depth_limit_is_refused(api) -> None:
    depth = get_settings().max_fragment_depth
    assert (await api(chain(depth))).data == {"__typename": "Query"}
    result = await api(chain(depth + 1))
    assert refusal_limit(result) == "fragmentDepth"
    assert str(depth) in result.errors[0]["message"]


async def test_more_fragments_than_the_limit_are_refused(api) -> None:
    limit = get_settings().max_fragments

    def flat(count: int) -> str:
        spreads = " ".join(f"...F{i}" for i in range(count))
        definitions = " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(count))
        return f"{{ {spreads} }} {definitions}"

    assert (await api(flat(limit))).data == {"__typename": "Query"}
    result = await api(flat(limit + 1))
    assert refusal_limit(result) == "fragments"


def test_a_long_chain_in_an_unused_fragment_counts_too() -> None:
    document = parse("{ __typename } " + chain(40).split(" ", 3)[3])
    refusal = shape_refusal(document)
    assert refusal is not None and refusal.extensions["limit"] == "fragmentDepth"


async def test_a_fragment_cycle_is_a_validation_error(api) -> None:
    result = await api(
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }"
    )
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot spread fragment" in result.errors[0]["message"]


def test_a_long_cycle_is_refused_by_its_chain() -> None:
    spreads = " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % 40} }}" for i in range(40))
    refusal = shape_refusal(parse("{ ...F0 } " + spreads))
    assert refusal is not None and refusal.extensions["limit"] == "fragmentDepth"


def test_fragments_spread_many_times_are_measured_once() -> None:
    # F_i spreads F_{i+1} twice: 2^15 paths, measured in one pass per fragment.
    definitions = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} a{i}: __typename ...F{i + 1} }}" for i in range(15)
    )
    document = parse(f"{{ ...F0 }} {definitions} fragment F15 on Query {{ __typename }}")
    assert shape_refusal(document) is None


# --- nesting -------------------------------------------------------------------------------


async def test_selections_nested_through_inline_fragments_are_bounded(api) -> None:
    limit = get_settings().max_selection_nesting
    # The operation's own selection set is the first level.
    assert (await api(nested_inline_fragments(limit - 1))).data == {"__typename": "Query"}
    result = await api(nested_inline_fragments(limit))
    assert refusal_limit(result) == "selectionNesting"


def test_nesting_adds_up_through_fragments() -> None:
    inner = "{ " + "... on Query { " * 20 + "__typename" + " }" * 20 + " }"
    outer = "{ " + "... on Query { " * 20 + "...F" + " }" * 20 + " }"
    refusal = shape_refusal(parse(f"{outer} fragment F on Query {inner}"))
    assert refusal is not None and refusal.extensions["limit"] == "selectionNesting"
    alone = shape_refusal(parse(f"{outer} fragment F on Query {{ __typename }}"))
    assert alone is None


async def test_selection_sets_nested_past_the_parser_are_a_coded_parse_error(api) -> None:
    result = await api("{ " + "me { " * 300 + "id" + " }" * 300 + " }")
    assert result.error_codes == ["GRAPHQL_PARSE_FAILED"]
    assert "nested too deeply" in result.errors[0]["message"]


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("[", "]"), ("{a: ", "}")],
    ids=["lists", "input-objects"],
)
async def test_nested_literal_arguments_are_bounded(api, opening: str, closing: str) -> None:
    limit = get_settings().max_input_depth

    def query(levels: int) -> str:
        return f"{{ products(search: {opening * levels}1{closing * levels}) {{ nodes {{ id }} }} }}"

    # Within the limit the value reaches validation (and is the wrong type there).
    within = await api(query(limit))
    assert within.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "limit" not in within.errors[0]["extensions"]
    assert refusal_limit(await api(query(limit + 1))) == "inputDepth"
    deep = await api(query(3000))
    assert deep.error_codes == ["GRAPHQL_PARSE_FAILED"]


async def test_nested_defaults_and_directive_arguments_are_bounded(api) -> None:
    deep = "[" * 17 + "1" + "]" * 17
    default = await api(f"query($x: [[[Int]]] = {deep}) {{ __typename }}")
    assert refusal_limit(default) == "inputDepth"
    directive = await api(f"{{ __typename @include(if: {deep}) }}")
    assert refusal_limit(directive) == "inputDepth"


# --- codes, caching, suggestions -----------------------------------------------------------


async def test_parse_and_validation_errors_carry_codes(api) -> None:
    assert (await api("{ products(")).error_codes == ["GRAPHQL_PARSE_FAILED"]
    assert (await api("{ products { noSuchField } }")).error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    both = await api("{ a: noSuchField b: alsoMissing }")
    assert both.error_codes == ["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED"]


def test_a_query_text_is_parsed_and_validated_once() -> None:
    from pinzhi.schema import schema

    cache = document_cache()
    first = cache.prepare("{ __typename }")
    assert cache.prepare("{ __typename }") is first
    rules = schema.get_extensions()[0].validation_rules  # any fixed rule set will do
    errors = cache.validate(first, schema._schema, tuple(rules))
    assert cache.validate(first, schema._schema, tuple(rules)) is errors
    assert cache.prepare.cache_info().hits == 1


def test_a_syntax_error_is_coded_each_time() -> None:
    cache = document_cache()
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            cache.prepare("{")
        assert raised.value.extensions == {"code": "GRAPHQL_PARSE_FAILED"}


SUGGESTING = {
    "field": ("{ produts { nodes { id } } }", {}, "Did you mean"),
    "argument": ("{ products(frist: 1) { nodes { id } } }", {}, "Did you mean"),
    "enum-variable": (
        "query($o: ProductOrder!) { products(orderBy: $o) { nodes { id } } }",
        {"o": "RANKK"},
        "Did you mean",
    ),
}


@pytest.mark.parametrize("case", SUGGESTING.values(), ids=SUGGESTING.keys())
async def test_suggestions_can_be_switched_off(api, cache, case) -> None:  # type: ignore[no-untyped-def]
    query, variables, hint = case
    shown = await api(query, variables)
    assert hint in shown.errors[0]["message"]

    async with client_for(make_app(cache, field_suggestions=False)) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    (error,) = response.json()["errors"]
    assert hint not in error["message"]
    assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}


INTROSPECTION = ["{ __schema { queryType { name } } }", '{ __type(name: "Query") { name } }']


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_introspection_can_be_switched_off(api, cache, query: str) -> None:
    assert (await api(query)).errors == []
    async with client_for(make_app(cache, introspection=False)) as http:
        refused = await http.post("/graphql", json={"query": query})
        typename = await http.post("/graphql", json={"query": "{ __typename }"})
    errors = refused.json()["errors"]
    assert errors and {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection has been disabled" in errors[0]["message"]
    assert typename.json() == {"data": {"__typename": "Query"}}
