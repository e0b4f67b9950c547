"""PlanExecutor against graphql-core's own executor (schema/execution.py).

The planning executor completes plain fields itself and hands everything else to
graphql-core, promising the same answer to the byte: data (and its key order), error
messages, paths, locations and null propagation. These tests hold it to that promise.

1. A synthetic strawberry schema, built here without a database, whose ``Box`` type has a
   field for every branch of the planner: built-in leaves, enums and custom scalars
   (nullable and not), values graphql-core coerces or refuses (None where null is not
   allowed, Int out of range, wrong types, NaN), awaitables and exceptions as values,
   nested objects, lists of objects and of leaves (with holes, as tuples, as generators,
   not lists at all), interfaces, unions, object types with strawberry's and with their
   own ``is_type_of``, sync and async resolvers, failing resolvers, permission classes,
   ``schema.base.relation`` fields with and without a preloaded value, a mutation and
   introspection. Each document runs through both executors and
   must give equal errors and the same ``json.dumps`` of its data. A spy on
   ``execute_field`` shows the plans are really taken, so the comparison is not vacuous.

The real schema on real data: tests/schema/test_execution_api.py.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
import strawberry
from graphql import ExecutionResult
from strawberry.permission import BasePermission
from strawberry.scalars import JSON

from pinzhi.schema.base import Preloadable, relation
from pinzhi.schema.execution import PlanExecutor

# --- 1. A synthetic schema ------------------------------------------------------------------

WHEN = datetime(2024, 2, 29, 13, 45, 30, 123456, tzinfo=UTC)


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Fish:
    """An object type with its own is_type_of: never planned."""

    fins: int

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, cls)


Pet = Annotated[Dog | Cat, strawberry.union("Pet")]


class Deny(BasePermission):
    message = "Not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Box(Preloadable):
    # Every field defaults to None so that a case sets only what it needs; a None in a
    # non-null field is one of the cases.
    s: str = None  # type: ignore[assignment]
    i: int = None  # type: ignore[assignment]
    f: float = None  # type: ignore[assignment]
    b: bool = None  # type: ignore[assignment]
    gid: strawberry.ID = None  # type: ignore[assignment]
    color: Color = None  # type: ignore[assignment]
    when: datetime = None  # type: ignore[assignment]
    blob: JSON = None  # type: ignore[assignment]
    ns: str | None = None
    ni: int | None = None
    nf: float | None = None
    nb: bool | None = None
    ncolor: Color | None = None
    nwhen: datetime | None = None
    nblob: JSON | None = None
    child: Box | None = None
    req_child: Box = None  # type: ignore[assignment]
    children: list[Box] | None = None
    nchildren: list[Box | None] | None = None
    req_children: list[Box] = None  # type: ignore[assignment]
    tags: list[str] | None = None
    ntags: list[str | None] | None = None
    nums: list[int] | None = None
    colors: list[Color] | None = None
    dog: Dog | None = None
    dogs: list[Dog] | None = None
    fish: Fish | None = None
    named: Named | None = None
    pet: Pet | None = None
    pets: list[Pet] | None = None

    @strawberry.field
    def echo(self, text: str = "hi") -> str:
        return f"{self.s}:{text}"

    @strawberry.field
    async def later(self) -> Box | None:
        await asyncio.sleep(0)
        return self.child

    @strawberry.field
    async def later_req(self) -> Box:
        return self.child  # type: ignore[return-value]

    @strawberry.field
    async def boom(self) -> str | None:
        raise ValueError(f"boom in {self.s}")

    @strawberry.field
    def wrong_box(self) -> Box | None:
        return Dog(name="rex", barks=True)  # type: ignore[return-value]

    @strawberry.field
    def wrong_dog(self) -> Dog | None:
        return self  # type: ignore[return-value]

    @strawberry.field(permission_classes=[Deny])
    def secret(self) -> str | None:
        return "hidden"

    @strawberry.field(permission_classes=[Deny])
    def secret_req(self) -> str:
        return "hidden"

    @relation()
    def rel(self) -> Box | None:
        return self.preloaded_or("rel", lambda: self._load(leaf("loaded")))

    @relation()
    def req_rel(self) -> Box:
        return self.preloaded_or("req_rel", lambda: self._load(leaf("loaded-req")))

    @relation()
    def rel_list(self) -> list[Box]:
        return self.preloaded_or("rel_list", lambda: self._load([leaf("l0"), leaf("l1")]))

    async def _load(self, value: Any) -> Any:
        await asyncio.sleep(0)
        return value


# fmt: off
# The values of the cases, packed by hand (ruff would give each argument its own line).
def leaf(label: str, **values: Any) -> Box:
    """A box whose non-null leaves are all valid."""
    return Box(**{
        "s": label, "i": 7, "f": 0.25, "b": False, "gid": f"id-{label}", "color": Color.GREEN,
        "when": WHEN, "blob": {"label": label, "n": [1, 2.5, None, True]}, **values,
    })


def good() -> Box:
    return leaf(
        "root", ns="maybe ✓ 可能", ni=-5, nb=True, nwhen=WHEN, nblob=[{"a": None}],
        child=leaf("child", child=leaf("grandchild"), req_child=leaf("child-req")),
        req_child=leaf("req", req_child=leaf("req2")),
        children=[leaf("c0"), leaf("c1", child=leaf("c1-child"))],
        nchildren=[leaf("n0"), None, leaf("n2")], req_children=[leaf("r0")],
        tags=["x", "y"], ntags=["p", None], nums=[0, -(2**31), 2**31 - 1],
        colors=[Color.RED, Color.GREEN], dog=Dog(name="rex", barks=True),
        dogs=[Dog(name="a", barks=False), Dog(name="b", barks=True)], fish=Fish(fins=3),
        named=Cat(name="tom", lives=9), pet=Dog(name="fido", barks=False),
        pets=[Cat(name="kit", lives=1), Dog(name="pup", barks=True)],
    )


VARIANTS: dict[str, Callable[[], Box]] = {
    "good": good,
    "lazy": good,
    "nulls": lambda: Box(),
    "deep_null": lambda: leaf(
        "root", child=leaf("child", req_child=leaf("x", s=None)),
        req_child=leaf("req", req_child=leaf("y", s=None)),
    ),
    # graphql-core coerces these; the planner must leave them to it.
    "coercible": lambda: Box(
        s=5, i=True, f=3, b=1, gid=12, ns=True, ni=3.0, nf=2**40, nb=0.0, nblob=(1, 2)
    ),
    # and refuses these
    "invalid": lambda: Box(
        s=["list"], i=2**31, f=float("nan"), b="yes", gid=1.5, color="PURPLE",
        when="2024-01-01", blob=None, ns=object, ni=-(2**31) - 1, nf=float("inf"), nb="no",
        ncolor=Color, nwhen=12345,
    ),
    "invalid_in_list": lambda: leaf(
        "il", nchildren=[leaf("a"), leaf("b", i=2**31)], children=[leaf("c", f=float("nan"))],
        req_children=[leaf("d"), leaf("e", gid=None)],
    ),
    "tuple": lambda: leaf(
        "t", children=(leaf("t0"), leaf("t1")), nchildren=(None, leaf("t2")),
        req_children=(leaf("t3"),), tags=("a", "b"), ntags=(None, "c"), nums=(1, 2),
        colors=(Color.RED,),
    ),
    "generator": lambda: leaf(
        "g", children=gen([leaf("g0"), leaf("g1")]), tags=gen(["a", "b"]), nums=gen([1, 2])
    ),
    "holes": lambda: leaf(
        "h", children=[leaf("h0"), None], tags=["a", None], nchildren=[None, leaf("h1")],
        ntags=[None, "b"], req_children=[leaf("h2"), None],
    ),
    "bad_items": lambda: leaf(
        "bi", nums=[1, 2**40], colors=[Color.RED, "X"], tags=[1, "a", 2.5],
        ntags=["a", {"no": 1}], dogs=[Dog(name="ok", barks=True), Cat(name="cat", lives=2)],
        children=[leaf("c0"), Dog(name="d", barks=True)],
    ),
    "not_list": lambda: leaf("nl", children=leaf("single"), tags="abc", nums=7),
    "wrong_objects": lambda: leaf(
        "wo", dog=leaf("not-a-dog"), dogs=[Dog(name="ok", barks=True), leaf("nor-this")],
        fish=Dog(name="rex", barks=True), named=leaf("not-named"), pet=leaf("not-a-pet"),
        child=Dog(name="in-a-box", barks=True),
    ),
    # strawberry's is_type_of takes any Named for a Dog
    "cat_as_dog": lambda: leaf("cd", dog=Cat(name="tom", lives=9)),
    # values graphql-core awaits or reports as they are
    "awaitables": lambda: leaf(
        "aw", ns=later("soon"), child=later(leaf("ac")), children=later([leaf("x")]),
        tags=later(["t"]), nchildren=[leaf("a"), later(leaf("b"))], ntags=["a", later("b")],
    ),
    "errors": lambda: leaf(
        "er", ns=ValueError("a value that is an error"), ntags=["a", KeyError("item")],
        child=RuntimeError("an error for an object"), nchildren=[leaf("a"), ValueError("x")],
    ),
    "preloaded": lambda: preloaded(
        rel=leaf("pre"), req_rel=leaf("pre-req"), rel_list=[leaf("p0"), leaf("p1")]
    ),
    "preloaded_none": lambda: preloaded(rel=None, req_rel=None, rel_list=[]),
}
# fmt: on


def preloaded(**relations: Any) -> Box:
    box = good()
    box.child.preloaded.update(relations)  # type: ignore[union-attr]
    return box


def gen(items: list[Any]) -> Iterator[Any]:
    yield from items


async def later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


@strawberry.type
class Query:
    @strawberry.field
    def box(self, variant: str = "good") -> Box | None:
        return VARIANTS[variant]()

    @strawberry.field
    def req_box(self, variant: str = "good") -> Box:
        return VARIANTS[variant]()


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def make(self, variant: str = "good") -> Box | None:
        return VARIANTS[variant]()


PLANNED = strawberry.Schema(query=Query, mutation=Mutation, execution_context_class=PlanExecutor)
STOCK = strawberry.Schema(query=Query, mutation=Mutation)
assert STOCK.execution_context_class is not PlanExecutor

LEAVES = "s i f b gid color when blob ns ni nf nb ncolor nwhen nblob"
OBJECTS = """
  dog { name barks __typename } dogs { name } fish { fins }
  named { __typename name ... on Cat { lives } ... on Dog { barks } }
  pet { __typename ... on Dog { name } ... on Cat { lives } }
  pets { __typename ... on Named { name } ... on Dog { barks } }
"""
LISTS = "children { s i } nchildren { s } reqChildren { s } tags ntags nums colors"
RELATIONS = "rel { s ns } reqRel { s child { s } } relList { s i }"
ALL_PLAIN = f"{LEAVES} child {{ s child {{ s }} }} reqChild {{ s reqChild {{ s }} }} {LISTS}"


def box(variant: str, selection: str) -> str:
    return f'{{ box(variant: "{variant}") {{ {selection} }} }}'


SYNTHETIC: dict[str, str] = {
    "leaves": box("good", LEAVES),
    "leaves_non_null_root": f"{{ reqBox {{ {LEAVES} }} }}",
    "coercible": box("coercible", "s i f b gid ns ni nf nb nblob"),
    "invalid_nullables": box("invalid", "ns ni nf nb ncolor nwhen s"),
    **{
        f"invalid_{name}": box("invalid", f"__typename {name}")
        for name in ("s", "i", "f", "b", "gid", "color", "when", "blob")
    },
    "invalid_in_lists": box("invalid_in_list", "s nchildren { s i } children { f }"),
    "invalid_in_non_null_list": box("invalid_in_list", "s reqChildren { s gid }"),
    "null_leaf": box("nulls", "ns ni s i"),
    "null_leaf_at_non_null_root": '{ reqBox(variant: "nulls") { ns s } }',
    "deep_null_to_nullable_child": box("deep_null", "s child { s reqChild { i s } }"),
    "deep_null_through_non_null": box("deep_null", "s reqChild { s reqChild { i s } }"),
    "nested_and_lists": box("good", ALL_PLAIN),
    "tuples": box("tuple", LISTS),
    "generators": box("generator", "s children { s } tags nums"),
    "holes_nullable_items": box("holes", "nchildren { s } ntags"),
    "holes_non_null_items": box("holes", "s children { s } tags ni"),
    "holes_non_null_list": box("holes", "s reqChildren { s }"),
    "bad_items": box("bad_items", "nums colors tags ntags dogs { name barks }"),
    "bad_object_in_list": box("bad_items", "s children { s }"),
    "not_lists": box("not_list", "s tags nums children { s }"),
    "interfaces_and_unions": box("good", OBJECTS),
    "wrong_objects": box(
        "wrong_objects",
        "s dog { name barks } dogs { name } fish { fins } named { name } pet { __typename }"
        " child { name: s }",
    ),
    "wrong_object_in_interface_type_fails": box("cat_as_dog", "s dog { name barks }"),
    "awaitable_values": box(
        "awaitables", "s ns child { s } children { s } tags nchildren { s } ntags"
    ),
    "error_values": box("errors", "s ns ntags child { s } nchildren { s }"),
    "wrong_object_in_interface_type": box("cat_as_dog", "dog { name }"),
    "typename_aliases_merged": """{ __typename
        a: box { __typename one: s two: s child { s } child { i grand: child { s } } }
        b: box { child { __typename child { __typename } } s } }""",
    "fragments": """query { box { ...Bits ... on Box { i child { ...Bits } }
        children { ...Bits } } } fragment Bits on Box { s color nums child { f } }""",
    "skip_include": """query Q($yes: Boolean!, $no: Boolean!) { box {
        s @skip(if: $yes) i @include(if: $yes) f @include(if: $no)
        ... on Box @include(if: $yes) { b child { s } }
        ... @skip(if: $no) { gid child { i @include(if: $no) f } }
        children @skip(if: $yes) { s }
        children @include(if: $yes) { i } } }""",
    "resolvers_under_plain": box(
        "good",
        'child { s echo e2: echo(text: "yo") later { s later { s } } children: laterReq { s } }'
        " children { echo later { i } }",
    ),
    "async_resolver_raises": box("good", "s child { s boom } children { boom i }"),
    "async_error_in_list_items": box(
        "good", "s nchildren { s laterReq { s } } children { s later { s } }"
    ),
    "async_error_through_non_null_list": box("good", "s reqChildren { s laterReq { s } }"),
    "async_non_null_resolver_returns_null": box("good", "s child { s child { laterReq { s } } }"),
    "resolver_wrong_object": box("good", "child { wrongBox { s } wrongDog { name } }"),
    "permission": box("good", "child { s secret i } children { secret }"),
    "permission_non_null": box("good", "s child { s secretReq i }"),
    "relation_lazy": box("lazy", f"child {{ {RELATIONS} }}"),
    "relation_preloaded": box("preloaded", f"child {{ {RELATIONS} }}"),
    "relation_preloaded_none": box("preloaded_none", f"s child {{ s {RELATIONS} }}"),
    "relation_preloaded_none_nullable": box("preloaded_none", "child { rel { s } relList { s } }"),
    "mutation": f'mutation {{ make {{ {ALL_PLAIN} }} b: make(variant: "holes") {{ s }} }}',
    "introspection": '{ __type(name: "Box") { name fields { name } } box { __typename } }',
}
VARIABLES = {"skip_include": {"yes": True, "no": False}}


def outcome(result: ExecutionResult) -> tuple[str, list[dict[str, Any]]]:
    return json.dumps(result.data), [e.formatted for e in result.errors or ()]


@pytest.mark.parametrize("case", list(SYNTHETIC))
async def test_synthetic_document_gives_the_same_result_as_graphql_core(case: str) -> None:
    document, variables = SYNTHETIC[case], VARIABLES.get(case)
    planned = await PLANNED.execute(document, variable_values=variables)
    stock = await STOCK.execute(document, variable_values=variables)
    assert planned.data == stock.data
    assert outcome(planned) == outcome(stock)


def test_every_variant_is_used() -> None:
    used = {v for doc in SYNTHETIC.values() for v in VARIANTS if f'"{v}"' in doc}
    assert used | {"good"} == set(VARIANTS)


def spied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path of every field PlanExecutor hands to graphql-core."""
    calls: list[str] = []
    original = PlanExecutor.execute_field

    def execute_field(self: PlanExecutor, *args: Any) -> Any:
        calls.append(".".join(str(key) for key in args[3].as_list()))
        return original(self, *args)

    monkeypatch.setattr(PlanExecutor, "execute_field", execute_field)
    return calls


async def test_plain_fields_take_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spied(monkeypatch)
    result = await PLANNED.execute(box("good", f"__typename {ALL_PLAIN} {OBJECTS}"))
    assert not result.errors
    assert result.data["box"]["children"][1]["s"] == "c1"  # type: ignore[index]
    # Only the root field's resolver, the type with its own is_type_of, and the interface
    # and union fields, whose runtime type graphql-core resolves; every other plain leaf,
    # object and list is completed directly.
    assert calls == ["box", "box.fish", "box.named", "box.pet", "box.pets"]


async def test_resolvers_and_relations_take_graphql_core(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spied(monkeypatch)
    selection = f"child {{ s echo later {{ s }} {RELATIONS} }}"
    result = await PLANNED.execute(box("lazy", selection))
    assert not result.errors
    assert result.data["box"]["child"]["rel"]["s"] == "loaded"  # type: ignore[index]
    relations = ["box.child.rel", "box.child.reqRel", "box.child.relList"]
    assert calls == ["box", "box.child.echo", "box.child.later", *relations]
    calls.clear()
    result = await PLANNED.execute(box("preloaded", selection))
    assert not result.errors
    assert result.data["box"]["child"]["rel"]["s"] == "pre"  # type: ignore[index]
    assert calls == ["box", "box.child.echo", "box.child.later"]  # relations read directly
