"""The fence around graphql-core's and strawberry's internals that the planning executor
(``schema/execution.py``) stands on.

``PlanExecutor`` subclasses strawberry's execution context, overrides one method that
graphql-core marks private (``:meta private:``), calls four more, reads two named tuples of
graphql-core's field collection and decides which fields are plain from strawberry's field
metadata. None of that is public API: a release of either library may rename or reshape it
without notice (graphql-core 3.3 already renamed ``ExecutionContext`` to ``Executor``).

This module is the one place that names those internals; ``schema/execution.py`` reaches
them only through it (tests/schema/test_executor_compat.py checks that statically).
``constraints.txt`` pins the versions that were tested. ``problems()`` checks at start-up
that every name is there with the shape the executor relies on (it exists, is callable,
takes the parameters it is called with, and strawberry still marks and describes plain
fields the same way, seen on a small probe schema); when anything is off,
``execution.planning_executor()`` leaves ``build_schema`` on the stock executor and logs
one warning naming what did not match.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType

if TYPE_CHECKING:
    from graphql.execution.collect_fields import CollectedFields as CollectedFields
    from graphql.execution.collect_fields import FieldDetails as FieldDetails
    from graphql.execution.collect_fields import FieldDetailsList as FieldDetailsList
    from graphql.execution.collect_fields import GroupedFieldSet as GroupedFieldSet
    from strawberry.types.field import StrawberryField

# -- what the executor uses -------------------------------------------------------------

EXECUTOR_BASE = "strawberry.schema.schema:StrawberryGraphQLCoreExecutionContext"
GRAPHQL_EXECUTOR = "graphql.execution:Executor"

# Methods of graphql-core's executor that PlanExecutor overrides (execute_fields) or calls,
# with the parameters after ``self`` in the order it passes them.
EXECUTOR_METHODS: dict[str, tuple[str, ...]] = {
    "execute_fields": (
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    ),
    "execute_field": ("parent_type", "source", "field_details_list", "path", "position_context"),
    "handle_field_error": ("raw_error", "return_type", "field_details_list", "path"),
    "collect_subfields": ("return_type", "field_details_list"),
    "settle_in_background": ("awaitables",),
}
# Attributes an executor sets in ``__init__`` from parameters of the same name.
EXECUTOR_ATTRIBUTES = ("schema", "middleware_manager", "is_awaitable")
EXECUTOR_NAMES = frozenset(EXECUTOR_METHODS) | frozenset(EXECUTOR_ATTRIBUTES)

# Named tuples of graphql-core's field collection, and the fields the executor reads.
NAMED_TUPLES: dict[str, tuple[str, ...]] = {
    "graphql.execution.collect_fields:CollectedFields": (
        "grouped_field_set",
        "new_defer_usages",
        "forbidden_directive_instances",
    ),
    "graphql.execution.collect_fields:FieldDetails": ("node", "defer_usage"),
}

# Functions, with their parameters.
FUNCTIONS: dict[str, tuple[str, ...]] = {
    # graphql-core's own way of awaiting sibling fields together
    "graphql.pyutils:gather_with_cancel": ("awaitables",),
    # reads the mark strawberry puts on the resolver of a field without one of its own
    "strawberry.resolvers:is_default_resolver": ("func",),
}

# Where strawberry keeps its definition of a GraphQL type or field (in ``extensions``).
DEFINITION_BACKREF = "strawberry.schema.schema_converter:GraphQLCoreConverter.DEFINITION_BACKREF"
STRAWBERRY_FIELD = "strawberry.types.field:StrawberryField"

_ABSENT = object()


def _find(where: str) -> Any:
    """``module:attribute.path``, looked up now (so a test may take a name away)."""
    module_name, _, path = where.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError:
        return _ABSENT
    for part in path.split("."):
        found = getattr(found, part, _ABSENT)
        if found is _ABSENT:
            return _ABSENT
    return found


# The objects execution.py uses, bound once. Should one be gone, problems() reports it and
# PlanExecutor is never used; the stand-in base keeps execution.py importable meanwhile.
try:
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext as ExecutorBase
except ImportError:  # pragma: no cover - only with an untested strawberry
    # A class of another type: mypy checks against the one imported above.
    from graphql.execution import Executor as ExecutorBase  # type: ignore[assignment]

gather_with_cancel: Callable[..., Awaitable[list[Any]]] = _find(
    "graphql.pyutils:gather_with_cancel"
)
_backref: str = _find(DEFINITION_BACKREF)
_field_class: type[StrawberryField] = _find(STRAWBERRY_FIELD)
_is_default_resolver: Callable[[Any], bool] = _find("strawberry.resolvers:is_default_resolver")


# -- strawberry's field metadata, read while a plan is made ------------------------------


def strawberry_field(field_def: GraphQLField) -> StrawberryField | None:
    """The strawberry field behind a GraphQL field, if it is one."""
    found = field_def.extensions.get(_backref)
    return found if isinstance(found, _field_class) else None


def reads_attribute(field_def: GraphQLField, field: StrawberryField) -> bool:
    """Does the field resolve to ``getattr(source, field.python_name)``: strawberry's own
    resolver for a field without one, with the default ``getattr``?"""
    return _is_default_resolver(field_def.resolve) and field.default_resolver is getattr


def has_own_is_type_of(object_type: GraphQLObjectType) -> bool:
    """Whether the type's ``is_type_of`` may be the application's (which may read the resolve
    info); strawberry's own, for types with interfaces, does not read it."""
    definition = object_type.extensions.get(_backref)
    return definition is None or getattr(definition, "is_type_of", None) is not None


# -- the start-up check -----------------------------------------------------------------


def _parameters(function: Callable[..., Any], skip_self: bool) -> tuple[str, ...] | None:
    try:
        names = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None
    return names[1:] if skip_self else names


def _signature_problem(what: str, found: Any, expected: Sequence[str], method: bool) -> str | None:
    if found is _ABSENT:
        return f"{what} is missing"
    if not callable(found):
        return f"{what} is not callable"
    names = _parameters(found, skip_self=method)
    # Only the leading parameters are passed; a new trailing one with a default is fine.
    if names is None or names[: len(expected)] != tuple(expected):
        return f"{what} takes {names}, expected {tuple(expected)}"
    return None


def _executor_problems() -> list[str]:
    base = _find(EXECUTOR_BASE)
    if base is _ABSENT:
        return [f"{EXECUTOR_BASE} is missing"]
    found: list[str] = []
    graphql_executor = _find(GRAPHQL_EXECUTOR)
    if graphql_executor is _ABSENT or not (
        isinstance(base, type) and issubclass(base, graphql_executor)
    ):
        found.append(f"{EXECUTOR_BASE} is not a subclass of {GRAPHQL_EXECUTOR}")
    if base is not ExecutorBase:
        found.append(f"{EXECUTOR_BASE} is not the class PlanExecutor subclasses")
    for name, expected in EXECUTOR_METHODS.items():
        problem = _signature_problem(
            f"{EXECUTOR_BASE}.{name}", getattr(base, name, _ABSENT), expected, method=True
        )
        if problem:
            found.append(problem)
    init = _parameters(base.__init__, skip_self=True) or ()
    # strawberry's __init__ passes *args and **kwargs on: graphql-core's names them.
    if "args" in init and isinstance(graphql_executor, type):
        init = _parameters(graphql_executor, skip_self=False) or ()
    found += [
        f"{EXECUTOR_BASE}.__init__ takes no {name!r}"
        for name in EXECUTOR_ATTRIBUTES
        if name not in init
    ]
    if not callable(getattr(base, "is_awaitable", None)):
        found.append(f"{EXECUTOR_BASE}.is_awaitable is not callable")
    middleware_manager = _find("graphql:MiddlewareManager")
    if middleware_manager is _ABSENT or getattr(middleware_manager(), "middlewares", None) != ():
        found.append("graphql.MiddlewareManager().middlewares is not an empty tuple")
    return found


def _collection_problems() -> list[str]:
    found: list[str] = []
    for where, fields in NAMED_TUPLES.items():
        named_tuple = _find(where)
        present = getattr(named_tuple, "_fields", ())
        missing = [name for name in fields if name not in present]
        if named_tuple is _ABSENT:
            found.append(f"{where} is missing")
        elif missing:
            found.append(f"{where} has no field {', '.join(missing)}")
    for where, expected in FUNCTIONS.items():
        problem = _signature_problem(where, _find(where), expected, method=False)
        if problem:
            found.append(problem)
    return found


# A small schema, looked at the way the executor looks at ours. (Module level: strawberry
# resolves annotations in the module's globals.)
@strawberry.interface(name="ExecutorCompatProbeNamed")
class _ProbeNamed:
    name: str


@strawberry.type(name="ExecutorCompatProbeItem")
class _ProbeItem(_ProbeNamed):
    plain: int
    marked: int = strawberry.field(metadata={"probe": True})

    @strawberry.field
    def computed(self) -> int:
        return self.plain


@strawberry.type(name="ExecutorCompatProbeQuery")
class _ProbeQuery:
    item: _ProbeItem


def _strawberry_problems() -> list[str]:
    backref = _find(DEFINITION_BACKREF)
    field_class = _find(STRAWBERRY_FIELD)
    if not isinstance(backref, str):
        return [f"{DEFINITION_BACKREF} is not a string"]
    if not isinstance(field_class, type):
        return [f"{STRAWBERRY_FIELD} is missing"]
    try:
        graphql_schema = strawberry.Schema(query=_ProbeQuery)._schema
        item_type = graphql_schema.type_map["ExecutorCompatProbeItem"]
        if not isinstance(item_type, GraphQLObjectType):
            return ["strawberry's probe type is not an object type"]
        # Called as the planning executor calls it: without the resolve info.
        is_type_of: Callable[[Any, Any], Any] | None = item_type.is_type_of
        fields = item_type.fields
        plain = fields["plain"].extensions.get(backref)
        marked = fields["marked"].extensions.get(backref)
        definition = item_type.extensions.get(backref)
        checks = {
            "a field's extensions hold its StrawberryField": isinstance(plain, field_class),
            "StrawberryField.python_name names the attribute": plain.python_name == "plain",
            "a plain field has no field extensions": not plain.extensions,
            "a plain field reads its attribute": reads_attribute(fields["plain"], plain),
            "a field with a resolver does not": not reads_attribute(
                fields["computed"], fields["computed"].extensions.get(backref)
            ),
            "StrawberryField.metadata keeps what strawberry.field was given": (
                marked.metadata.get("probe") is True
            ),
            "a type's extensions hold its definition, with is_type_of": (
                definition is not None and getattr(definition, "is_type_of", 0) is None
            ),
            "strawberry's is_type_of does without the resolve info": (
                is_type_of is not None
                and is_type_of(_ProbeItem(name="", plain=1, marked=2), None) is True
                and is_type_of(object(), None) is False
            ),
        }
    except Exception as error:
        return [f"strawberry's probe schema could not be read ({type(error).__name__}: {error})"]
    return [f"strawberry: not true that {what}" for what, holds in checks.items() if not holds]


@functools.cache
def problems() -> tuple[str, ...]:
    """Every way in which the installed graphql-core and strawberry differ from what the
    planning executor expects; empty when it may run. Checked once per process."""
    return (*_executor_problems(), *_collection_problems(), *_strawberry_problems())
