"""The fence around graphql-core's and strawberry's internals (schema/executor_compat.py).

1. The installed versions match it, and schema/execution.py reaches those internals only
   through it (read from its source): every executor name PlanExecutor overrides or calls
   is one that the fence checks, and it imports nothing else from either library.
2. A mismatch (a changed signature, a name taken away, a named tuple without a field,
   strawberry no longer marking plain fields) is found, ``build_schema`` falls back to the
   stock executor and one warning says what did not match.
3. Under the fallback the real schema answers with the same bytes as with plans.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import graphql.pyutils
import pytest
from aiocache.base import BaseCache
from graphql.execution import Executor, collect_fields
from strawberry.schema.schema_converter import GraphQLCoreConverter

from pinzhi.schema import build_schema, execution
from pinzhi.schema import executor_compat as compat
from pinzhi.schema.execution import PlanExecutor, planning_executor
from tests.schema.test_execution_api import (
    FRAGMENTS,
    NODES,
    ORDERS_IN_FULL,
    PAGE,
    PARTIAL,
    post,
    real_world,
)


@pytest.fixture
def fresh_check() -> Iterator[None]:
    """The check runs once per process: forget its answer before and after the test."""
    compat.problems.cache_clear()
    planning_executor.cache_clear()
    yield
    compat.problems.cache_clear()
    planning_executor.cache_clear()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pinzhi.executor"]


# --- 1. As installed --------------------------------------------------------------------


def test_the_installed_versions_match(fresh_check: None, caplog: pytest.LogCaptureFixture) -> None:
    assert compat.problems() == ()
    assert planning_executor() is PlanExecutor
    assert build_schema().execution_context_class is PlanExecutor
    assert warnings_of(caplog) == []


def _names_execution_uses() -> tuple[set[str], set[str]]:
    """The modules execution.py imports, and the executor names PlanExecutor inherits and
    uses (through ``self`` or ``super()``) or overrides."""
    tree = ast.parse(Path(execution.__file__).read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    executor = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "PlanExecutor"
    )
    own = {
        node.name
        for node in executor.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    on_self: set[str] = set()
    assigned: set[str] = set()
    on_super: set[str] = set()
    for node in ast.walk(executor):
        if not isinstance(node, ast.Attribute):
            continue
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            (assigned if isinstance(node.ctx, ast.Store) else on_self).add(node.attr)
        elif (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            on_super.add(node.attr)
    overridden = own & set(dir(compat.ExecutorBase))
    inherited = (on_self - own - assigned) | on_super | overridden
    return modules, inherited - {"__init__"}


def test_execution_reaches_the_internals_only_through_the_fence() -> None:
    modules, inherited = _names_execution_uses()
    libraries = {m for m in modules if m.split(".")[0] in ("graphql", "strawberry")}
    assert libraries <= {"graphql", "graphql.pyutils"}, "public graphql-core API only"
    assert "pinzhi.schema.executor_compat" in modules
    # Each name is checked, and each checked name is used: the list cannot go stale.
    assert inherited == compat.EXECUTOR_NAMES


# --- 2. Mismatches ----------------------------------------------------------------------


def _renamed_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Executor.handle_field_error

    # graphql-core calls it positionally, so the stock executor still works.
    def handle_field_error(
        self: Executor, error: Exception, return_type: Any, field_details_list: Any, path: Any
    ) -> None:
        original(self, error, return_type, field_details_list, path)

    monkeypatch.setattr(Executor, "handle_field_error", handle_field_error)


def _function_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(graphql.pyutils, "gather_with_cancel")


def _named_tuple_field_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    class FieldDetails(NamedTuple):
        node: Any

    monkeypatch.setattr(collect_fields, "FieldDetails", FieldDetails)


def _plain_fields_unmarked(monkeypatch: pytest.MonkeyPatch) -> None:
    original = GraphQLCoreConverter.from_resolver

    def from_resolver(self: GraphQLCoreConverter, field: Any) -> Callable[..., Any]:
        resolver = original(self, field)

        def unmarked(*args: Any, **kwargs: Any) -> Any:
            return resolver(*args, **kwargs)

        return unmarked

    monkeypatch.setattr(GraphQLCoreConverter, "from_resolver", from_resolver)


MISMATCHES = {
    "renamed_parameter": (
        _renamed_parameter,
        "strawberry.schema.schema:StrawberryGraphQLCoreExecutionContext.handle_field_error takes "
        "('error', 'return_type', 'field_details_list', 'path'), "
        "expected ('raw_error', 'return_type', 'field_details_list', 'path')",
    ),
    "function_gone": (_function_gone, "graphql.pyutils:gather_with_cancel is missing"),
    "named_tuple_field_gone": (
        _named_tuple_field_gone,
        "graphql.execution.collect_fields:FieldDetails has no field defer_usage",
    ),
    "plain_fields_unmarked": (
        _plain_fields_unmarked,
        "strawberry: not true that a plain field reads its attribute",
    ),
}


@pytest.mark.parametrize("case", MISMATCHES)
def test_a_mismatch_falls_back_to_the_stock_executor_with_one_warning(
    case: str,
    fresh_check: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    break_it, expected = MISMATCHES[case]
    break_it(monkeypatch)
    caplog.set_level(logging.WARNING, logger="pinzhi.executor")

    assert compat.problems() == (expected,)
    schema = build_schema()
    assert schema.execution_context_class is compat.ExecutorBase  # strawberry's stock one
    assert schema.execution_context_class is not PlanExecutor
    build_schema()  # the app builds more than one schema: still one warning
    (warning,) = warnings_of(caplog)
    assert "planning executor disabled" in warning
    assert expected in warning


# --- 3. Same answers under the fallback -------------------------------------------------


async def test_the_fallback_answers_with_the_same_bytes(
    db: Any,
    cache: BaseCache,
    fresh_check: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pinzhi.app import create_app
    from pinzhi.settings import get_settings

    runs: list[int] = []  # selection sets the planning executor ran
    original_run = PlanExecutor._run

    def run(self: PlanExecutor, *args: Any) -> Any:
        runs.append(1)
        return original_run(self, *args)

    monkeypatch.setattr(PlanExecutor, "_run", run)
    planned = create_app(get_settings(), manage_database=False, cache=cache)
    _renamed_parameter(monkeypatch)
    compat.problems.cache_clear()
    planning_executor.cache_clear()
    fallback = create_app(get_settings(), manage_database=False, cache=cache)
    assert warnings_of(caplog), "the fallback app was built on the stock executor"

    tokens, ids = await real_world()
    documents = {
        "orders_in_full": (ORDERS_IN_FULL, PAGE),
        "nodes": (NODES, ids),
        "fragments": (FRAGMENTS, {"first": 3, "withPrice": True, "noLines": False}),
        "partial": (PARTIAL, {"order": ids["order"]}),  # errors go through handle_field_error
    }
    differences = []
    for who in ("anonymous", "consumer", "merchant", "staff"):
        for name, (document, variables) in documents.items():
            ours = await post(planned, tokens[who], document, variables)
            planned_runs = len(runs)
            theirs = await post(fallback, tokens[who], document, variables)
            assert len(runs) == planned_runs, "the fallback must not plan"
            if ours != theirs:
                differences.append(f"{who} {name}:\n  plans: {ours!r}\n  fallback: {theirs!r}")
    assert not differences, "\n".join(differences)
    assert len(runs) > 20  # the planning app really planned
