"""Shared pieces of the floor: a statement-counting connection, global ids and cursors,
and row scoping as auth/scopes.py has it, for the viewers the scenarios use."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg

from pinzhi.auth.viewer import Viewer
from pinzhi.models.enums import Role

Data = dict[str, Any]


def defaults_after(table: str, written: str, first: int) -> tuple[str, str, tuple[Any, ...]]:
    """Extra ``(", col", ", $n", values)`` for the columns a hand-written INSERT into
    ``table`` does not name: the model's defaults, as the ORM would send them."""
    from pinzhi.bench.database import model_defaults

    columns, values = model_defaults(table, [c.strip() for c in written.split(",")])
    names = "".join(f", {c}" for c in columns)
    marks = "".join(f", ${first + i}" for i in range(len(columns)))
    return names, marks, tuple(values)


# Global ids and cursors as schema/base.py and resolvers/pagination.py make them (copied,
# so that the floor loads no schema; the same-data check catches any drift).
def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode()


def encode_ranked_cursor(value: float, pk: int) -> str:
    return base64.urlsafe_b64encode(f"r:{float(value)!r}:{pk}".encode()).decode()


def pk_of(global_id: str, type_name: str) -> int | None:
    try:
        kind, _, pk = base64.urlsafe_b64decode(global_id.encode()).decode().partition(":")
        return int(pk) if kind == type_name else None
    except ValueError:
        return None


class Db:
    """An asyncpg connection that counts the statements it runs."""

    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn
        self.statements = 0

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.statements += 1
        return await self.conn.fetch(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements += 1
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        self.statements += 1
        return await self.conn.execute(sql, *args)

    def transaction(self) -> Any:
        return self.conn.transaction()


def _sees_all(v: Viewer) -> bool:
    return v.role in (Role.REGULATOR, Role.STAFF)


def order_scope(v: Viewer, t: str) -> str:
    if _sees_all(v):
        return "TRUE"
    if v.role == Role.CONSUMER:
        return f"{t}.consumer_id = {int(v.account_id or 0)}"
    if v.role == Role.MERCHANT:
        return f"{t}.merchant_id = {int(v.merchant_id or 0)}"
    return "FALSE"


def payment_scope(v: Viewer, t: str) -> str:
    if v.is_payment:
        return f"{t}.provider_id = {int(v.provider_id or 0)}"
    return order_scope(v, t)


def shipment_scope(v: Viewer, t: str) -> str:
    if v.is_logistics:
        return f"{t}.provider_id = {int(v.provider_id or 0)}"
    return order_scope(v, t)


def product_scope(v: Viewer, t: str) -> str:
    if _sees_all(v):
        return "TRUE"
    if v.role == Role.MERCHANT:
        return f"({t}.is_listed OR {t}.merchant_id = {int(v.merchant_id or 0)})"
    return f"{t}.is_listed"
