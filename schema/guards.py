"""The input-text guard: no string input longer than the limit, none with a NUL character.

It runs after validation and before any resolver, over the operation's literal arguments
(checked once per document and operation) and the request's variables, nested input
objects, lists and JSON values included. A NUL reached PostgreSQL and failed there as an
internal error; a 200 KB string reached the services. Services keep their own, tighter
limits per field: this is the floor under all of them.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
)

from pinzhi.schema.errors import BAD_USER_INPUT

Path = list[str | int]


def text_fault(text: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"输入文本超过 {max_length} 个字符 / Input text longer than {max_length} characters"
    if "\x00" in text:
        return "输入文本不得包含 NUL 字符 / Input text must not contain a NUL character"
    return None


def refusal(message: str, path: Path, node: Node | None = None) -> GraphQLError:
    return GraphQLError(
        message, nodes=node, extensions={"code": BAD_USER_INPUT, "argumentPath": path}
    )


def find_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            return definition
    return None


# --- literals ------------------------------------------------------------------------------


def literal_refusal(
    document: DocumentNode, operation: OperationDefinitionNode, max_length: int
) -> GraphQLError | None:
    """The first literal string (or input-object key) of the operation's field arguments
    or variable defaults that is too long or holds a NUL, with the path to it."""
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            path: Path = [f"${definition.variable.name.value}"]
            found = _value_refusal(definition.default_value, path, max_length)
            if found is not None:
                return found
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seen_fragments: set[str] = set()
    stack: list[tuple[SelectionSetNode, Path]] = [(operation.selection_set, [])]
    while stack:
        selection_set, prefix = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                for argument in selection.arguments or ():
                    found = _value_refusal(
                        argument.value, [*prefix, key, argument.name.value], max_length
                    )
                    if found is not None:
                        return found
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, [*prefix, key]))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, prefix))
            elif isinstance(selection, FragmentSpreadNode):
                # Each fragment once: its literals are the same wherever it is spread.
                name = selection.name.value
                if name in fragments and name not in seen_fragments:
                    seen_fragments.add(name)
                    stack.append((fragments[name].selection_set, prefix))
    return None


def _value_refusal(value: ValueNode, path: Path, max_length: int) -> GraphQLError | None:
    stack: list[tuple[ValueNode, Path]] = [(value, path)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, StringValueNode):
            fault = text_fault(node.value, max_length)
            if fault is not None:
                return refusal(fault, at, node)
        elif isinstance(node, ListValueNode):
            stack.extend((item, [*at, index]) for index, item in enumerate(node.values))
        elif isinstance(node, ObjectValueNode):
            for field in node.fields:
                # Keys of a JSON value are names: no NUL, but as long as the lexer allows.
                fault = text_fault(field.name.value, max_length)
                if fault is not None:
                    return refusal(fault, at, field)
                stack.append((field.value, [*at, field.name.value]))
    return None


# --- variables -----------------------------------------------------------------------------


def variables_refusal(
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    max_length: int,
    max_depth: int,
) -> GraphQLError | None:
    """The first string in the declared variables' values (JSON from the client) that is
    too long or holds a NUL, or a value nested deeper than ``max_depth``."""
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables:
            continue
        stack: list[tuple[Any, Path, int]] = [(variables[name], [f"${name}"], 0)]
        while stack:
            value, at, depth = stack.pop()
            if isinstance(value, str):
                fault = text_fault(value, max_length)
                if fault is not None:
                    return refusal(fault, at, definition)
            elif isinstance(value, dict | list):
                if depth >= max_depth:
                    return refusal(
                        f"输入值嵌套超过 {max_depth} 层"
                        f" / An input value nests deeper than {max_depth} levels",
                        at,
                        definition,
                    )
                if isinstance(value, list):
                    stack.extend((item, [*at, i], depth + 1) for i, item in enumerate(value))
                    continue
                for key, item in value.items():
                    fault = text_fault(key, max_length)
                    if fault is not None:
                        return refusal(fault, at, definition)
                    stack.append((item, [*at, key], depth + 1))
    return None
