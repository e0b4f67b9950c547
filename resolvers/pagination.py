"""Keyset pagination, newest first, for every connection."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from pinzhi.schema.base import Connection, Edge, PageInfo

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Primary keys are 32-bit integers: a cursor beyond them was never issued, and reaching the
# database with it fails there instead of here.
MAX_PK = 2**31 - 1


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode()


def _invalid_cursor() -> GraphQLError:
    return bad_input("游标无效 / Invalid cursor")


def _cursor_pk(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(text)
    pk = int(text)
    if not 0 < pk <= MAX_PK:
        raise ValueError(text)
    return pk


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, pk = raw.partition(":")
        if prefix != "k":
            raise ValueError
        return _cursor_pk(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid_cursor() from None


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise bad_input(f"first 须在 0 到 {MAX_PAGE_SIZE} 之间 / first must be 0–{MAX_PAGE_SIZE}")
    return first


async def paginate(
    query: QuerySet[Any],
    first: int | None,
    after: str | None,
    to_nodes: Callable[[Sequence[Any]], Awaitable[list[T]] | list[T]],
) -> Connection[T]:
    size = page_size(first)
    if after:
        query = query.filter(id__lt=decode_cursor(after))
    rows = await query.order_by("-id").limit(size + 1)
    return await connection_of(rows, size, to_nodes)


async def connection_of(
    rows: Sequence[Any],
    size: int,
    to_nodes: Callable[[Sequence[Any]], Awaitable[list[T]] | list[T]],
    key: Callable[[Any], int] = lambda row: row.id,
) -> Connection[T]:
    """A page from up to ``size + 1`` rows newest first (the extra one says there is more);
    ``key`` gives a row's id for its cursor."""
    page = list(rows[:size])
    nodes = to_nodes(page)
    if not isinstance(nodes, list):
        nodes = await nodes
    edges = [
        Edge(cursor=encode_cursor(key(row)), node=n) for row, n in zip(page, nodes, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )


# --- Keyset pagination on a composite key: (a float column, id), both descending ------------


def encode_ranked_cursor(value: float, pk: int) -> str:
    return base64.urlsafe_b64encode(f"r:{float(value)!r}:{pk}".encode()).decode()


def decode_ranked_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, value, pk = raw.split(":")
        if prefix != "r":
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        return number, _cursor_pk(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid_cursor() from None


async def paginate_ranked(
    query: QuerySet[Any],
    column: str,
    first: int | None,
    after: str | None,
    to_nodes: Callable[[Sequence[Any]], Awaitable[list[T]] | list[T]],
) -> Connection[T]:
    """Like ``paginate``, ordered by ``column`` then id, both descending; the cursor holds
    both, so rows that tie on ``column`` still page exactly once each."""
    size = page_size(first)
    if after:
        value, pk = decode_ranked_cursor(after)
        query = query.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": pk}))
    rows = await query.order_by(f"-{column}", "-id").limit(size + 1)
    page = list(rows[:size])
    nodes = to_nodes(page)
    if not isinstance(nodes, list):
        nodes = await nodes
    edges = [
        Edge(cursor=encode_ranked_cursor(getattr(row, column), row.id), node=n)
        for row, n in zip(page, nodes, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )
