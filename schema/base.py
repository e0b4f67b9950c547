"""Shared GraphQL building blocks: global ids, Node, connections, money, user errors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from pinzhi.errors import ErrorCode as ServiceErrorCode
from pinzhi.errors import ServiceError

ErrorCode = strawberry.enum(ServiceErrorCode, name="ErrorCode", description="Stable error codes.")

T = TypeVar("T")

__all__ = ["JSON"]


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


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode())


def from_global_id(global_id: str | None) -> tuple[str, int] | None:
    """Decode an opaque id; None when it is not one of ours (treated like a missing id)."""
    if not global_id or len(global_id) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id.encode()).decode()
        type_name, _, pk = raw.partition(":")
        value = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not type_name or value <= 0 or value > 2**31 - 1:
        return None
    return type_name, value


def pk_of(global_id: str | None, type_name: str) -> int | None:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


@strawberry.interface(description="An object with an opaque global id (Relay).")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, newest first; pass endCursor as `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of the edges, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


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
