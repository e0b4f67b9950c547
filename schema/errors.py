"""Top-level error codes and error logging.

Every top-level error a client sees carries ``extensions.code``. Errors of the request
(parse, validation, variables, limits, refusals) are the client's and are logged as one
line without values; only errors we did not raise on purpose log a traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.language import ArgumentNode, ValueNode, VariableDefinitionNode
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"

INTERNAL_MESSAGE = "Internal error"

# What an error about the client's input points at (a variable is a value node too).
INPUT_NODES = (VariableDefinitionNode, ArgumentNode, ValueNode)

log = logging.getLogger("pinzhi.graphql")


def code_of(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """Give ``error`` a code unless it has one (it may be a cached validation error)."""
    if code_of(error) is None:
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def is_unexpected(error: GraphQLError) -> bool:
    """An exception we did not raise on purpose (what ``original_error`` wraps)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def classify(error: GraphQLError) -> str:
    """The code of an error that reached the end of execution without one.

    Parse and validation errors are coded where they are made (schema/documents.py).
    graphql-core's own errors point at what they are about: a variable's definition
    (its value does not coerce) or an argument's value (a null where the argument needs
    one) is the client's input; without a path and about nothing else, the request's
    operation. Anything else, a field's result included, is an internal error.
    """
    if is_unexpected(error):
        return INTERNAL
    nodes = error.nodes or ()
    if nodes and all(isinstance(n, INPUT_NODES) for n in nodes):
        return BAD_USER_INPUT
    if error.path is None:
        return BAD_REQUEST
    return INTERNAL


def request_id_of(execution_context: ExecutionContext | None) -> str:
    context = getattr(execution_context, "context", None)
    request = getattr(context, "request", None)
    if request is None:
        return "-"
    return str(request.scope.get("state", {}).get("request_id", "-"))


NAME = re.compile(r"\$?[_A-Za-z][_0-9A-Za-z]{0,63}")


def _where(error: GraphQLError) -> str:
    """Where the error is, for the log: response paths name fields; an argument path can
    hold the keys of a client's JSON value, and only name-like keys are written."""
    if error.path:
        return ".".join(str(key) for key in error.path)
    argument_path = (error.extensions or {}).get("argumentPath")
    if argument_path:
        return ".".join(
            str(key) if isinstance(key, int) or NAME.fullmatch(key) else "…"
            for key in argument_path
        )
    return "-"


class PinzhiSchema(strawberry.Schema):
    """The strawberry schema with coded errors, quiet client errors and, when asked,
    no "Did you mean …" in variable errors (validation hides them in documents.py)."""

    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def _get_custom_context_kwargs(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # The keyword arguments strawberry passes to graphql-core's execute().
        custom = super()._get_custom_context_kwargs(*args, **kwargs)
        if self.hide_suggestions:
            custom["hide_suggestions"] = True
        return custom

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = request_id_of(execution_context)
        for error in errors:
            code = code_of(error) or code_of(with_code(error, classify(error)))
            if code == INTERNAL:
                log.error(
                    "internal error at %s (request %s)",
                    _where(error),
                    request_id,
                    exc_info=error.original_error,
                )
            else:
                # The message may quote the input (a variable's value, a literal): the
                # code and where it happened are enough to find the request.
                log.info("client error %s at %s (request %s)", code, _where(error), request_id)


class MaskInternalErrors(MaskErrors):
    """Replace what we did not raise on purpose by "Internal error", keeping the code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error)


def should_mask(error: GraphQLError) -> bool:
    """Mask what we did not raise on purpose: coded errors and GraphQL's own validation
    messages reach the client, internal exceptions do not."""
    code = code_of(error)
    if code is not None and code != INTERNAL:
        return False
    return is_unexpected(error) or code == INTERNAL


def masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL},
    )
