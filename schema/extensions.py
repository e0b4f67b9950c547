"""Schema-wide guards that run before any resolver, and the per-request access-log flush."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from pinzhi.auth.permissions import forbidden
from pinzhi.models import Role


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

    async def on_execute(self):  # type: ignore[override]
        yield
        await self.execution_context.context.flush_access_log()


def should_mask(error: GraphQLError) -> bool:
    """Mask what we did not raise on purpose: coded errors and GraphQL's own validation
    messages reach the client, internal exceptions do not."""
    if error.extensions and "code" in error.extensions:
        return False
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)
