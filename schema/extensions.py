"""Schema-wide guards that run before any resolver, and the per-request access-log flush."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult, FieldNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from pinzhi.models import Role
from pinzhi.resolvers.context import Context
from pinzhi.schema.documents import DocumentCache, PreparedDocument
from pinzhi.schema.guards import find_operation, literal_refusal, variables_refusal
from pinzhi.schema.permissions import forbidden
from pinzhi.services import regulator_reads


class OperationContext(SchemaExtension):
    """Over a websocket, give each operation a context of its own (fresh loaders, the
    viewer's standing read again: ``Context.for_operation``), and run subscriptions only:
    queries and mutations go over HTTP, with its limits, status codes and access log."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.is_connection:
            self.execution_context.context = await context.for_operation()
        yield

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if (
            isinstance(execution.context, Context)
            and execution.context.transport == "websocket"
            and execution.operation_type != OperationType.SUBSCRIPTION
            and execution.result is None
        ):
            execution.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "此连接只用于订阅；查询和变更请用 HTTP POST /graphql"
                        " / Only subscriptions run over the websocket: send queries and "
                        "mutations with HTTP POST /graphql",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ],
            )
        yield


class RequestGuard(SchemaExtension):
    """Refuse, before execution, a request whose credential did not check out
    (UNAUTHENTICATED) and any mutation by a regulator (FORBIDDEN, decision 4)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        error: GraphQLError | None = None
        if context.credential_error:
            error = GraphQLError(
                "凭证无效或已过期 / Invalid or expired credential",
                extensions={"code": "UNAUTHENTICATED", "reason": context.credential_error},
            )
        elif (
            self.execution_context.operation_type == OperationType.MUTATION
            and context.viewer.role == Role.REGULATOR
        ):
            error = forbidden("监管账户只读 / Regulator accounts are read-only")
        if error is not None:
            self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield


class FlushAccessLog(SchemaExtension):
    """Write the request's whole-PII reads once, after execution (QS 9.4.1)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        await self.execution_context.context.flush_access_log()

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        # Each event of a subscription, before it is sent.
        await self.execution_context.context.flush_access_log()
        yield


class RecordRegulatorReads(SchemaExtension):
    """After a regulator's query, record what it asked for and which entities the answer
    held (services/regulator_reads.py, QS 9.4.1)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        viewer = context.context.viewer
        if viewer.role != Role.REGULATOR or context.result is None or not context.result.data:
            return
        operation = (
            find_operation(context.graphql_document, context.operation_name)
            if context.graphql_document is not None
            else None
        )
        fields_read = (
            [
                s.name.value
                for s in operation.selection_set.selections
                if isinstance(s, FieldNode) and s.name.value != "__typename"
            ]
            if operation is not None
            else []
        )
        await regulator_reads.record(
            viewer, context.query or "", context.operation_name, fields_read, context.result.data
        )


class CheckedDocuments(SchemaExtension):
    """Parse and validate through the schema's document cache (schema/documents.py), then,
    after validation and before any resolver, refuse input text the guard of
    schema/guards.py does not let through: nothing is executed then."""

    def __init__(self, documents: DocumentCache, max_string_length: int, max_input_depth: int):
        self.documents = documents
        self.max_string_length = max_string_length
        self.max_input_depth = max_input_depth
        self.prepared: PreparedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # A syntax error propagates as strawberry's ParserCache lets it.
            self.prepared = self.documents.prepare(context.query)
            context.graphql_document = self.prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.prepared is not None:
            context.pre_execution_errors = list(
                self.documents.validate(
                    self.prepared, context.schema._schema, context.validation_rules
                )
            )
            # A subscription is started whatever ``on_execute`` sets as the result: its
            # input is refused here, as the operation's error before any event.
            if not context.pre_execution_errors and (
                context.operation_type == OperationType.SUBSCRIPTION
            ):
                refusal = self._input_refusal()
                if refusal is not None:
                    context.pre_execution_errors = [refusal]
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and self.prepared is not None:
            error = self._input_refusal()
            if error is not None:
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _input_refusal(self) -> GraphQLError | None:
        context, prepared = self.execution_context, self.prepared
        assert prepared is not None
        name = context.operation_name
        if name in prepared.literal_checks:
            found = prepared.literal_checks[name]
        else:
            operation = find_operation(prepared.document, name)
            found = (
                None
                if operation is None
                else literal_refusal(prepared.document, operation, self.max_string_length)
            )
            prepared.literal_checks[name] = found
        if found is not None or not context.variables:
            return found
        operation = find_operation(prepared.document, name)
        if operation is None or not operation.variable_definitions:
            return None
        return variables_refusal(
            operation, context.variables, self.max_string_length, self.max_input_depth
        )
