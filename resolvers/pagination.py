"""Keyset pagination, newest first, for every connection."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError
from tortoise.queryset import QuerySet

from pinzhi.schema.base import Connection, Edge, PageInfo

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, pk = raw.partition(":")
        if prefix != "k":
            raise ValueError
        return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_input("游标无效 / Invalid cursor") from None


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
    page = list(rows[:size])
    nodes = to_nodes(page)
    if not isinstance(nodes, list):
        nodes = await nodes
    edges = [Edge(cursor=encode_cursor(row.id), node=n) for row, n in zip(page, nodes, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )
