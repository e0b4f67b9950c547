"""Shared GraphQL building blocks: global ids, Node, connections, money, user errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.queryset import QuerySet

from pinzhi.errors import ErrorCode as ServiceErrorCode
from pinzhi.errors import ServiceError
from pinzhi.resolvers.common import outcome
from pinzhi.resolvers.ids import from_global_id, pk_of, pk_or_missing, to_global_id
from pinzhi.resolvers.pagination import Page, Window, page

ErrorCode = ServiceErrorCode
strawberry.enum(ErrorCode, name="ErrorCode", description="Stable error codes.")

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["JSON", "from_global_id", "pk_of", "pk_or_missing", "to_global_id"]


class Preloadable:
    """Relations a list resolver loaded for a whole page ahead of time (architecture
    decision 13). A field finds its value here and returns it synchronously, so a page of
    50 orders does not cost hundreds of coroutines; without it, the field loads through
    its DataLoader as before. Mixed into the types of list-heavy graphs."""

    @property
    def preloaded(self) -> dict[str, Any]:
        # Kept out of the dataclass fields so that GraphQL never sees it.
        return self.__dict__.setdefault("_preloaded", {})

    def preloaded_or(self, name: str, load: Callable[[], Awaitable[Any]]) -> Any:
        found = self.__dict__.get("_preloaded")
        return found[name] if found is not None and name in found else load()


PRELOADED = "pinzhi.preloaded"


def relation(description: str | None = None) -> Any:
    """A field whose resolver returns ``preloaded_or(<field name>, ...)``. The executor
    (``schema/execution.py``) reads a preloaded value directly instead of calling it."""
    return strawberry.field(description=description, metadata={PRELOADED: True})


@strawberry.interface(description="An object with an opaque global id (Relay).")
class Node:
    id: strawberry.ID


N_co = TypeVar("N_co", bound=Node, covariant=True)


class NodeFromRow(Protocol[N_co]):
    """A Node type built from its model's row: ``Type.from_row(row)``."""

    def from_row(self, row: Any, /) -> N_co: ...


@strawberry.type(description="Where a page stands in its list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(
    description="A page of a list, newest first: pass endCursor as `after` for the next page, "
    "or startCursor as `before` (with `last`) for the previous one where the list has them."
)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of the edges, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(cls, page: Page[Any], nodes: list[T]) -> Connection[T]:
        """The connection of a page of rows, given the nodes built from them (in order)."""
        edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )


@strawberry.type(description="Money in integer minor units (分) of an ISO 4217 currency.")
class Money:
    amount_minor: int
    currency: str


@strawberry.type(description="A refused input, with a stable code and the input field path.")
class UserError:
    code: ErrorCode
    field: list[str]
    message: str

    @classmethod
    def of(cls, error: ServiceError, language: str) -> UserError:
        return cls(code=error.code, field=error.field, message=error.message(language))


Nodes = Callable[[list[Any]], Awaitable[list[Any]] | list[Any]]


async def connection_of(found: Page[Any], to_nodes: Nodes) -> Connection[Any]:
    nodes = to_nodes(found.rows)
    if not isinstance(nodes, list):
        nodes = await nodes
    return Connection.of(found, nodes)


async def listing(query: QuerySet[Any], window: Window, to_nodes: Nodes) -> Connection[Any]:
    """A connection over ``query``'s rows (already scoped by the caller), newest first."""
    return await connection_of(await page(query, window), to_nodes)


async def attempt(info: Info, action: Awaitable[R]) -> tuple[R | None, list[UserError]]:
    """Await a service call; a refusal becomes the payload's ``errors`` in the request's
    language (the service changed nothing then)."""
    result, refusals = await outcome(action)
    return result, [UserError.of(e, info.context.language) for e in refusals]


def refused(info: Info, error: ServiceError) -> list[UserError]:
    return [UserError.of(error, info.context.language)]


def top_level(error: ServiceError, language: str) -> GraphQLError:
    """A refusal where there is no payload to carry it (a subscription): a top-level error
    with the service's code and field path."""
    return GraphQLError(
        error.message(language), extensions={"code": str(error.code), "field": error.field}
    )
