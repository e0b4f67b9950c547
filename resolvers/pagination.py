"""Keyset pagination, newest first, for every list: pages of rows, with their cursors.

The schema turns a ``Page`` into a Relay connection (``schema/base.Connection.of``). Lists
ordered by id page both ways (``first``/``after`` and ``last``/``before``); the ranked
products list pages forwards (``first``/``after``).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from graphql import GraphQLError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from pinzhi.resolvers.ids import MAX_PK

R = TypeVar("R")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[R]):
    """Rows in list order (newest first) with the cursor of each."""

    rows: list[R]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True)
class Window:
    """What a client asked for: ``first`` after a cursor, or ``last`` before one."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        return self.last is not None or self.before is not None


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode()


def _invalid_cursor() -> GraphQLError:
    return bad_input("游标无效 / Invalid cursor")


def _cursor_pk(text: str) -> int:
    # Primary keys are 32-bit integers: a cursor beyond them was never issued, and reaching
    # the database with it fails there instead of here.
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


def page_size(first: int | None, name: str = "first") -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise bad_input(f"{name} 须在 0 到 {MAX_PAGE_SIZE} 之间 / {name} must be 0–{MAX_PAGE_SIZE}")
    return first


def page_of(
    rows: Sequence[R],
    size: int,
    # The default is for model rows, which all have an id; R itself is unbounded.
    cursor: Callable[[R], str] = lambda row: encode_cursor(row.id),  # type: ignore[attr-defined]
    *,
    has_previous_page: bool = False,
) -> Page[R]:
    """A page from up to ``size + 1`` rows newest first (the extra one says there is more)."""
    kept = list(rows[:size])
    return Page(kept, [cursor(r) for r in kept], len(rows) > size, has_previous_page)


async def page(query: QuerySet[Any], window: Window) -> Page[Any]:
    """The window of ``query``'s rows, newest (highest id) first."""
    if window.backwards:
        if window.first is not None or window.after is not None:
            raise bad_input("first/after 与 last/before 不能同用 / Use first/after or last/before")
        return await _page_backwards(query, window)
    size = page_size(window.first)
    if window.after:
        query = query.filter(id__lt=decode_cursor(window.after))
    rows = await query.order_by("-id").limit(size + 1)
    return page_of(rows, size, has_previous_page=window.after is not None)


async def _page_backwards(query: QuerySet[Any], window: Window) -> Page[Any]:
    """The ``last`` rows just before the ``before`` cursor in list order, i.e. the oldest of
    the rows newer than it, still listed newest first."""
    size = page_size(window.last, "last")
    if window.before:
        query = query.filter(id__gt=decode_cursor(window.before))
    rows = await query.order_by("id").limit(size + 1)
    kept = list(reversed(rows[:size]))
    return Page(
        kept,
        [encode_cursor(r.id) for r in kept],
        has_next_page=window.before is not None,
        has_previous_page=len(rows) > size,
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


async def ranked_page(
    query: QuerySet[Any], column: str, first: int | None, after: str | None
) -> Page[Any]:
    """Ordered by ``column`` then id, both descending; the cursor holds both, so rows that
    tie on ``column`` still page exactly once each."""
    size = page_size(first)
    if after:
        value, pk = decode_ranked_cursor(after)
        # Any: typed, mypy would match the unpacked keys against Q's join_type: str.
        below: dict[str, Any] = {f"{column}__lt": value}
        tied_below: dict[str, Any] = {column: value, "id__lt": pk}
        query = query.filter(Q(**below) | Q(**tied_below))
    rows = await query.order_by(f"-{column}", "-id").limit(size + 1)
    return page_of(
        rows,
        size,
        lambda row: encode_ranked_cursor(getattr(row, column), row.id),
        has_previous_page=after is not None,
    )


# --- The after-sales queue: priority descending, deadline ascending, id ascending -----------


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A priority is a small integer column; a deadline before 2200 (services/validation.py).
MAX_PRIORITY = 32767
MAX_MICROS = (datetime(2200, 1, 1, tzinfo=UTC) - EPOCH) // MICROSECOND


def encode_queue_cursor(priority: int, due: datetime, pk: int) -> str:
    micros = (due - EPOCH) // MICROSECOND
    return base64.urlsafe_b64encode(f"q:{priority}:{micros}:{pk}".encode()).decode()


def decode_queue_cursor(cursor: str) -> tuple[int, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, priority, micros, pk = raw.split(":")
        if prefix != "q":
            raise ValueError
        if not priority.isascii() or not priority.isdigit() or int(priority) > MAX_PRIORITY:
            raise ValueError(priority)
        if not micros.isascii() or not micros.isdigit() or int(micros) > MAX_MICROS:
            raise ValueError(micros)
        rank = int(priority)
        due = EPOCH + int(micros) * MICROSECOND
        return rank, due, _cursor_pk(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise _invalid_cursor() from None


async def queue_page(query: QuerySet[Any], first: int | None, after: str | None) -> Page[Any]:
    """QS 9.2.1: the rows in queue order (the after_sales.queue rule): higher priority
    first, then the nearest response deadline, then the oldest. The cursor holds all three."""
    size = page_size(first)
    if after:
        priority, due, pk = decode_queue_cursor(after)
        query = query.filter(
            Q(priority__lt=priority)
            | Q(priority=priority, response_due_at__gt=due)
            | Q(priority=priority, response_due_at=due, id__gt=pk)
        )
    rows = await query.order_by("-priority", "response_due_at", "id").limit(size + 1)
    return page_of(
        rows,
        size,
        lambda row: encode_queue_cursor(row.priority, row.response_due_at, row.id),
        has_previous_page=after is not None,
    )
