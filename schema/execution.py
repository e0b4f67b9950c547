"""The executor: graphql-core's, with a direct path for plain fields.

graphql-core resolves every field the same general way: a response path, a resolve-info
tuple, the resolver through strawberry's wrapper, two awaitable checks and a recursive
completion. That costs 10-20 µs a field, and a page of 50 orders has 2,000 fields: most of
its cost (docs/PERFORMANCE.md). Architecture decision 13 keeps the fields of list-heavy
types plain attributes of objects built by loaders, so most of that work is not needed.

For each selection set a request executes, a plan is made once (graphql-core memoizes the
collected fields, so a plan serves every object of a list). A step of the plan reads its
value directly when the field is

- a plain attribute (a strawberry field without resolver, permission or extension), or
- a relation the list resolver preloaded for the page (``Preloadable``, marked with
  ``schema.base.relation``) and the value is there,

and its type is a leaf, an object type or a list of either. Leaves of the built-in scalars
are checked inline; other leaves use their own ``coerce_output_value``. Everything else
(resolvers, permission checks, arguments, interfaces and unions, values that are missing,
null where null is not allowed, of the wrong kind or awaitable) takes graphql-core's own
path for that field, which also reports the error: a direct step never reports one itself,
it falls back before it has done anything. So the answers, errors and error paths are the
same bytes as graphql-core's; tests/schema/test_execution.py runs documents through both
executors and compares them.

The executor stands on graphql-core's and strawberry's internals (private executor methods,
field collection, strawberry's field metadata); ``schema/executor_compat.py`` names every
one of them and checks them at start-up, and ``planning_executor()`` falls back to the
stock executor when they are not as expected.
"""

from __future__ import annotations

import enum
import functools
import logging
import math
from collections.abc import Callable, Sequence
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
)
from graphql.pyutils import Path, Undefined

from pinzhi.schema import executor_compat as compat
from pinzhi.schema.base import PRELOADED

if TYPE_CHECKING:
    from pinzhi.schema.executor_compat import FieldDetailsList, GroupedFieldSet

log = logging.getLogger("pinzhi.executor")

_MISSING = object()  # "take graphql-core's path": never a field's value


class StepKind(enum.Enum):
    """How a step completes its field. Compared by identity (``is``): as fast as the bare
    ints it replaced, where ``==`` on an IntEnum costs about 6 ns more a step."""

    GENERAL = 0  # graphql-core's execute_field
    TYPENAME = 1
    LEAF = 2
    OBJECT = 3
    OBJECTS = 4  # a list of objects, one level deep
    LEAVES = 5  # a list of leaves, one level deep


# Module globals for the hot loop (one global lookup, no class attribute lookup).
_GENERAL = StepKind.GENERAL
_TYPENAME = StepKind.TYPENAME
_LEAF = StepKind.LEAF
_OBJECT = StepKind.OBJECT
_OBJECTS = StepKind.OBJECTS
_LEAVES = StepKind.LEAVES

# Evaluated when fields are collected; any other directive keeps its field general.
_COLLECTOR_DIRECTIVES = frozenset({"skip", "include"})

_MAX_INT = 2**31 - 1
_MIN_INT = -(2**31)


# -- leaves: the coerced value, or _MISSING when graphql-core must decide ---------------


def _coerce_string(value: Any) -> Any:
    return value if type(value) is str else _MISSING


def _coerce_int(value: Any) -> Any:
    return value if type(value) is int and _MIN_INT <= value <= _MAX_INT else _MISSING


def _coerce_boolean(value: Any) -> Any:
    return value if type(value) is bool else _MISSING


def _coerce_float(value: Any) -> Any:
    return value if type(value) is float and math.isfinite(value) else _MISSING


_BUILT_IN_COERCION: dict[int, Callable[[Any], Any]] = {
    id(GraphQLString): _coerce_string,
    id(GraphQLID): _coerce_string,
    id(GraphQLInt): _coerce_int,
    id(GraphQLBoolean): _coerce_boolean,
    id(GraphQLFloat): _coerce_float,
}


def _leaf_coercion(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    built_in = _BUILT_IN_COERCION.get(id(leaf))
    if built_in is not None:
        return built_in
    coerce_output_value = leaf.coerce_output_value

    def coerce(value: Any) -> Any:
        # An error or an awaitable is graphql-core's to handle; so is a failed coercion,
        # which graphql-core repeats and reports.
        if not _is_plain(value):
            return _MISSING
        try:
            coerced = coerce_output_value(value)
        except Exception:
            return _MISSING
        return _MISSING if coerced is None or coerced is Undefined else coerced

    return coerce


# What a completed field is when it is not awaitable (None, a leaf, a dict, a list).
_COMPLETED = frozenset({dict, list, str, int, float, bool, type(None)})

_plain_classes: dict[type, bool] = {}


def _is_plain(value: Any) -> bool:
    """Neither an error nor awaitable: decided once per class (a coroutine, a generator or
    anything with ``__await__`` is never plain)."""
    cls = value.__class__
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = not (
            issubclass(cls, BaseException)
            or issubclass(cls, (CoroutineType, GeneratorType))
            or hasattr(cls, "__await__")
        )
        _plain_classes[cls] = plain
    return plain


# -- plans ------------------------------------------------------------------------------


class _Step:
    """One field of a selection set, and how to complete it."""

    __slots__ = (
        "attribute",
        "details",
        "is_type_of",
        "item_type",
        "items_nullable",
        "kind",
        "leaf",
        "name",
        "nullable",
        "object_type",
        "preloaded",
        "return_type",
        "subplan",
    )

    def __init__(self, kind: StepKind, name: str, details: FieldDetailsList) -> None:
        self.kind = kind
        self.name = name  # the response key
        self.details = details
        self.return_type: GraphQLOutputType | None = None
        self.attribute = ""  # on the source, or the key of its preloaded relations
        self.preloaded = False
        self.nullable = True
        self.leaf: Callable[[Any], Any] | None = None
        self.object_type: GraphQLObjectType | None = None
        # strawberry's check for types with interfaces; it does not read the resolve info
        self.is_type_of: Callable[[Any, Any], Any] | None = None
        self.item_type: GraphQLOutputType | None = None
        self.items_nullable = True
        self.subplan: list[_Step] | None = None  # filled on first use

    def accepts(self, value: Any) -> bool:
        """May an object be completed directly as this step's object type?"""
        if not _is_plain(value):
            return False
        return self.is_type_of is None or self.is_type_of(value, None) is True


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, False
    return type_, True


def _direct_source(field_def: GraphQLField) -> tuple[str, bool] | None:
    """The attribute a field reads and whether it is a preloaded relation, or None when the
    field must run its resolver."""
    field = compat.strawberry_field(field_def)
    if field is None or field.extensions or field_def.args:
        return None
    if compat.reads_attribute(field_def, field):
        return field.python_name, False
    if field.metadata.get(PRELOADED):
        return field.python_name, True
    return None


def _set_target(step: _Step, type_: GraphQLOutputType, kinds: tuple[StepKind, StepKind]) -> bool:
    """Complete the step as a leaf or an object type; False for any other type."""
    if isinstance(type_, GraphQLLeafType):
        step.kind, step.leaf = kinds[0], _leaf_coercion(type_)
        return True
    if isinstance(type_, GraphQLObjectType):
        if compat.has_own_is_type_of(type_):
            return False  # a type's own is_type_of may read the resolve info
        step.kind, step.object_type, step.is_type_of = kinds[1], type_, type_.is_type_of
        return True
    return False  # an interface or a union: graphql-core resolves the runtime type


class PlanExecutor(compat.ExecutorBase):
    """graphql-core's executor with plans for plain selection sets (module docstring). The
    executor's own names it overrides or calls are listed in ``executor_compat``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[int, int], tuple[GroupedFieldSet, list[_Step]]] = {}
        # strawberry passes an empty manager; middleware would have to wrap every field
        self._has_middleware = bool(getattr(self.middleware_manager, "middlewares", None))

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[_Step]:
        key = (id(parent_type), id(fields))
        cached = self._plans.get(key)
        if cached is not None and cached[0] is fields:
            return cached[1]
        steps = [self._step(parent_type, name, details) for name, details in fields.items()]
        # The field set is kept with its plan so that its id is not reused meanwhile.
        self._plans[key] = (fields, steps)
        return steps

    def _step(self, parent_type: GraphQLObjectType, name: str, details: FieldDetailsList) -> _Step:
        step = _Step(_GENERAL, name, details)
        field_name = details[0].node.name.value
        if field_name == "__typename":
            step.kind = _TYPENAME
            return step
        field_def = self.schema.get_field(parent_type, field_name)
        if field_def is None or self._has_middleware:
            return step
        for detail in details:
            directives = detail.node.directives or ()
            if detail.defer_usage is not None or any(
                d.name.value not in _COLLECTOR_DIRECTIVES for d in directives
            ):
                return step
        source = _direct_source(field_def)
        if source is None:
            return step
        inner, step.nullable = _unwrap(field_def.type)
        if isinstance(inner, GraphQLList):
            step.item_type = inner.of_type
            item, step.items_nullable = _unwrap(inner.of_type)
            targeted = _set_target(step, item, (_LEAVES, _OBJECTS))
        else:
            targeted = _set_target(step, inner, (_LEAF, _OBJECT))
        if not targeted:
            return _Step(_GENERAL, name, details)
        step.return_type = field_def.type
        step.attribute, step.preloaded = source
        return step

    def _subplan(self, step: _Step) -> list[_Step] | None:
        if step.subplan is not None:
            return step.subplan
        assert step.object_type is not None
        collected = self.collect_subfields(step.object_type, step.details)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        step.subplan = self._plan(step.object_type, collected.grouped_field_set)
        return step.subplan

    # -- execution -----------------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if position_context is not None:  # incremental delivery: graphql-core's own way
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._run(
            parent_type, source_value, path, self._plan(parent_type, grouped_field_set)
        )

    def _run(
        self, parent_type: GraphQLObjectType, source: Any, path: Path | None, steps: list[_Step]
    ) -> Any:
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        pending: list[str] = []
        try:
            for step in steps:
                kind = step.kind
                if kind is _LEAF:
                    if step.preloaded:
                        value = self._value(step, source)
                    else:
                        value = getattr(source, step.attribute, _MISSING)
                    if value is None:
                        if step.nullable:
                            results[step.name] = None
                            continue
                    elif value is not _MISSING:
                        # A leaf step gets its coercion with its kind (_set_target); no
                        # check for None on this path, the hottest of the executor.
                        value = step.leaf(value)  # type: ignore[misc]
                        if value is not _MISSING:
                            results[step.name] = value
                            continue
                    result = _MISSING
                elif kind is _TYPENAME:
                    results[step.name] = parent_type.name
                    continue
                elif kind is _GENERAL:
                    result = _MISSING
                else:
                    result = self._direct(step, parent_type, source, path)
                if result is _MISSING:
                    result = self.execute_field(
                        parent_type,
                        source,
                        step.details,
                        Path(path, step.name, parent_type.name),
                        None,
                    )
                    if result is Undefined:
                        continue
                results[step.name] = result
                if type(result) not in _COMPLETED and is_awaitable(result):
                    pending.append(step.name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        return self._gather(results, pending)

    @staticmethod
    async def _gather(container: Any, pending: list[Any]) -> Any:
        """Await the pending entries of a completed object (by response key) or list (by
        index) together, as graphql-core does."""
        if len(pending) == 1:
            container[pending[0]] = await container[pending[0]]
        else:
            awaited = await compat.gather_with_cancel(*(container[key] for key in pending))
            for key, value in zip(pending, awaited, strict=True):
                container[key] = value
        return container

    @staticmethod
    def _value(step: _Step, source: Any) -> Any:
        if not step.preloaded:
            return getattr(source, step.attribute, _MISSING)
        found = getattr(source, "__dict__", {}).get("_preloaded")
        return _MISSING if found is None else found.get(step.attribute, _MISSING)

    def _direct(
        self, step: _Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """The completed value of an object or list step, or _MISSING."""
        if step.preloaded:
            value = self._value(step, source)
        else:
            value = getattr(source, step.attribute, _MISSING)
        if value is None:
            return None if step.nullable else _MISSING
        if value is _MISSING:
            return _MISSING
        if step.kind is _OBJECT:
            if not step.accepts(value):
                return _MISSING
            subplan = self._subplan(step)
            if subplan is None:
                return _MISSING
            field_path = Path(path, step.name, parent_type.name)
            return self._guarded(
                step.return_type,
                step,
                field_path,
                self._run,
                step.object_type,
                value,
                field_path,
                subplan,
            )
        if type(value) is not list and type(value) is not tuple:
            return _MISSING
        for item in value:
            if item is None:
                if not step.items_nullable:
                    return _MISSING
            elif not (step.accepts(item) if step.kind is _OBJECTS else _is_plain(item)):
                return _MISSING
        if step.kind is _LEAVES:
            coerce = step.leaf
            assert coerce is not None
            completed = [None if item is None else coerce(item) for item in value]
            return _MISSING if any(c is _MISSING for c in completed) else completed
        subplan = self._subplan(step)
        if subplan is None:
            return _MISSING
        field_path = Path(path, step.name, parent_type.name)
        return self._guarded(
            step.return_type, step, field_path, self._run_list, step, value, field_path, subplan
        )

    def _run_list(self, step: _Step, items: Sequence[Any], path: Path, subplan: list[_Step]) -> Any:
        is_awaitable = self.is_awaitable
        object_type = step.object_type
        item_type = step.item_type
        assert object_type is not None and item_type is not None
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = Path(path, index, None)
                result = self._guarded(
                    item_type, step, item_path, self._run, object_type, item, item_path, subplan
                )
                completed.append(result)
                if type(result) is not dict and is_awaitable(result):
                    pending.append(index)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        if not pending:
            return completed
        return self._gather(completed, pending)

    def _guarded(
        self,
        return_type: GraphQLOutputType | None,
        step: _Step,
        path: Path,
        complete: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """Complete as graphql-core does, with its error handling: an error below a
        nullable position becomes null there and is reported; below a non-null one it
        propagates to the parent."""
        assert return_type is not None
        try:
            completed = complete(*args)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, step.details, path)
            return None
        if type(completed) in _COMPLETED or not self.is_awaitable(completed):
            return completed
        return self._await_guarded(completed, return_type, step, path)

    async def _await_guarded(
        self, completed: Any, return_type: GraphQLOutputType, step: _Step, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, step.details, path)
            return None


@functools.cache
def planning_executor() -> type[PlanExecutor] | None:
    """The executor ``build_schema`` uses: ``PlanExecutor`` when the installed graphql-core
    and strawberry have the internals it relies on, else None (strawberry's stock
    executor), with one warning per process saying what did not match."""
    problems = compat.problems()
    if not problems:
        return PlanExecutor
    log.warning(
        "planning executor disabled, using graphql-core's stock executor: the installed "
        "graphql-core/strawberry do not match what schema/executor_compat.py expects "
        "(install with -c constraints.txt): %s",
        "; ".join(problems),
    )
    return None
