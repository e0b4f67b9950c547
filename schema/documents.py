"""Parse and validate each query text once, refusing before validation the documents whose
shape would make validation recurse.

graphql-core's parser bounds the nesting inside one definition, but strawberry's depth
limiter and several validation rules follow fragment spreads recursively: a chain of 300
fragments overflowed the interpreter's stack and the client saw "maximum recursion depth
exceeded". The shape of a document (fragments, spread chains, nesting through fragments,
nested argument values) is measured here with explicit stacks, once per query text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse, validate
from graphql.language import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
)
from graphql.validation import ASTValidationRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from pinzhi.schema.errors import PARSE_FAILED, VALIDATION_FAILED, with_code

# The rules strawberry adds to every validation (strawberry.schema.schema.validate_document).
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


@dataclass(frozen=True)
class DocumentLimits:
    max_tokens: int
    max_fragments: int
    max_fragment_depth: int
    max_selection_nesting: int
    max_input_depth: int
    hide_suggestions: bool = False
    # Query texts kept parsed and validated (strawberry's caches keep 128).
    cache_size: int = 256


class PreparedDocument:
    """A parsed query text with what was decided about it, kept between requests."""

    __slots__ = ("document", "literal_checks", "refusal", "validations")

    def __init__(self, document: DocumentNode, refusal: GraphQLError | None) -> None:
        self.document = document
        self.refusal = refusal
        self.validations: dict[tuple[type[ASTValidationRule], ...], list[GraphQLError]] = {}
        # Operation name -> the literal-argument check of schema/guards.py (None: passed).
        self.literal_checks: dict[str | None, GraphQLError | None] = {}


class DocumentCache:
    """Parsed and validated documents of one schema, keyed by query text: a string's hash is
    cached by Python, while hashing a document walks its whole tree on every request."""

    def __init__(self, limits: DocumentLimits) -> None:
        self.limits = limits
        self.prepare = lru_cache(maxsize=limits.cache_size)(self._prepare)

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            # Not cached: lru_cache keeps only what returns.
            raise with_code(error, PARSE_FAILED) from None
        return PreparedDocument(document, shape_refusal(document, self.limits))

    def validate(
        self,
        prepared: PreparedDocument,
        schema: GraphQLSchema,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        errors = prepared.validations.get(rules)
        if errors is None:
            if prepared.refusal is not None:
                errors = [prepared.refusal]
            else:
                found = validate(
                    schema,
                    prepared.document,
                    (*rules, *STRAWBERRY_RULES),
                    hide_suggestions=self.limits.hide_suggestions,
                )
                errors = [with_code(error, VALIDATION_FAILED) for error in found]
            prepared.validations[rules] = errors
        return errors


# --- the shape of a document ---------------------------------------------------------------


@dataclass
class _Shape:
    nesting: int  # selection sets, counted inside this definition
    spreads: list[tuple[str, int]]  # fragment name, nesting of the selection set holding it
    value_depth: int  # lists and input objects inside argument values and defaults


def shape_refusal(document: DocumentNode, limits: DocumentLimits) -> GraphQLError | None:
    """Why the document is refused before validation, or None."""
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    if len(fragments) > limits.max_fragments:
        return _refused(
            f"文档定义了 {len(fragments)} 个片段，上限为 {limits.max_fragments}"
            f" / The document defines {len(fragments)} fragments, more than"
            f" {limits.max_fragments}",
            "fragments",
            limits.max_fragments,
        )
    shapes: dict[str, _Shape] = {}
    operations: list[_Shape] = []
    for definition in document.definitions:
        if not isinstance(definition, ExecutableDefinitionNode):
            continue  # validation refuses type definitions
        shape = _local_shape(definition)
        if shape.value_depth > limits.max_input_depth:
            return _refused(
                f"参数值嵌套超过 {limits.max_input_depth} 层"
                f" / An argument value nests deeper than {limits.max_input_depth} levels",
                "inputDepth",
                limits.max_input_depth,
            )
        if isinstance(definition, FragmentDefinitionNode):
            shapes.setdefault(definition.name.value, shape)
        else:
            operations.append(shape)
    totals = _through_fragments(shapes)
    measured = [*totals.values(), *(_combine(shape, totals) for shape in operations)]
    deepest_chain = max((chain for _, chain in measured), default=0)
    if deepest_chain > limits.max_fragment_depth:
        return _refused(
            f"片段展开嵌套超过 {limits.max_fragment_depth} 层"
            f" / Fragment spreads nest deeper than {limits.max_fragment_depth} levels",
            "fragmentDepth",
            limits.max_fragment_depth,
        )
    deepest = max((nesting for nesting, _ in measured), default=0)
    if deepest > limits.max_selection_nesting:
        return _refused(
            f"选择集嵌套超过 {limits.max_selection_nesting} 层"
            f" / Selection sets nest deeper than {limits.max_selection_nesting} levels",
            "selectionNesting",
            limits.max_selection_nesting,
        )
    return None


def _refused(message: str, limit: str, maximum: int) -> GraphQLError:
    return GraphQLError(
        message, extensions={"code": VALIDATION_FAILED, "limit": limit, "max": maximum}
    )


def _local_shape(definition: ExecutableDefinitionNode) -> _Shape:
    nesting = 0
    spreads: list[tuple[str, int]] = []
    values: list[ValueNode] = list(_directive_values(definition.directives))
    if isinstance(definition, OperationDefinitionNode):
        for variable in definition.variable_definitions or ():
            if variable.default_value is not None:
                values.append(variable.default_value)
            values.extend(_directive_values(variable.directives))
    stack: list[tuple[SelectionSetNode, int]] = [(definition.selection_set, 1)]
    while stack:
        selection_set, depth = stack.pop()
        nesting = max(nesting, depth)
        for selection in selection_set.selections:
            values.extend(_directive_values(selection.directives))
            if isinstance(selection, FieldNode):
                values.extend(argument.value for argument in selection.arguments or ())
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, depth + 1))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, depth + 1))
            elif isinstance(selection, FragmentSpreadNode):
                spreads.append((selection.name.value, depth))
    return _Shape(nesting, spreads, _value_depth(values))


def _directive_values(directives: Iterable[Any] | None) -> Iterator[ValueNode]:
    for directive in directives or ():
        for argument in directive.arguments or ():
            yield argument.value


def _value_depth(values: list[ValueNode]) -> int:
    deepest = 0
    stack: list[tuple[ValueNode, int]] = [(value, 0) for value in values]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ListValueNode):
            depth += 1
            stack.extend((item, depth) for item in node.values)
        elif isinstance(node, ObjectValueNode):
            depth += 1
            stack.extend((field.value, depth) for field in node.fields)
        deepest = max(deepest, depth)
    return deepest


def _through_fragments(shapes: dict[str, _Shape]) -> dict[str, tuple[int, int]]:
    """For each fragment: its nesting with the fragments it spreads, and its longest chain
    of spreads. Depth first without recursion; a spread that closes a cycle or names no
    fragment adds nothing (validation reports both)."""
    totals: dict[str, tuple[int, int]] = {}
    for root in shapes:
        if root in totals:
            continue
        path: list[tuple[str, Iterator[tuple[str, int]]]] = [(root, iter(shapes[root].spreads))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread, _depth in spreads:
                if spread in shapes and spread not in totals and spread not in on_path:
                    path.append((spread, iter(shapes[spread].spreads)))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                totals[name] = _combine(shapes[name], totals)
    return totals


def _combine(shape: _Shape, totals: dict[str, tuple[int, int]]) -> tuple[int, int]:
    nesting, chain = shape.nesting, 0
    for spread, depth in shape.spreads:
        if spread in totals:
            spread_nesting, spread_chain = totals[spread]
            # The fragment's selections take the place of the spread, one level in.
            nesting = max(nesting, depth - 1 + spread_nesting)
            chain = max(chain, 1 + spread_chain)
    return nesting, chain
