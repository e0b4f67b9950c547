"""Writing many rows' new values in one round trip, for the periodic jobs.

tortoise's ``bulk_update`` builds a ``CASE WHEN id = …`` expression per field whose size
grows with the batch; at 200,000 products that took most of the re-grading time
(docs/PERFORMANCE.md). Here one plain ``UPDATE … WHERE id = ?`` is executed for all rows
at once by the driver (``executemany``), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.models import Model


async def update_fields(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> None:
    if not rows:
        return
    connection = model._choose_db(for_write=True)
    meta = model._meta
    columns = [meta.fields_map[name].source_field or name for name in fields]
    if connection.capabilities.dialect == "postgres":
        marks = [f"${i}" for i in range(1, len(columns) + 2)]
    else:
        marks = ["?"] * (len(columns) + 1)
    assignments = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, marks, strict=False))
    query = f'UPDATE "{meta.db_table}" SET {assignments} WHERE "{meta.pk_attr}" = {marks[-1]}'
    values = [
        [meta.fields_map[name].to_db_value(getattr(row, name), row) for name in fields] + [row.pk]
        for row in rows
    ]
    await connection.execute_many(query, values)


# After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
# SQLite binds every value of a multi-row INSERT: stay well under its limit of bound
# parameters in one statement (32,766 since 3.32).
MAX_PARAMETERS = 30_000


async def insert_rows(
    model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert plain rows (values as the driver takes them: ints, strings, booleans, aware
    datetimes, JSON already encoded) inside the caller's transaction, in one statement: on
    PostgreSQL ``INSERT … SELECT * FROM unnest($1::type[], …)``, one array per column; on
    SQLite a multi-row ``INSERT … VALUES`` (per ``MAX_PARAMETERS`` values). tortoise's
    ``bulk_create`` builds a model object per row and executes the insert once per row
    (``executemany``): for the 100,000 notices and key nodes of a sweep that was most of
    its time (docs/PERFORMANCE.md). No defaults are applied: every column without a
    database default is given."""
    if not rows:
        return
    connection = model._choose_db(for_write=True)
    meta = model._meta
    fields = [meta.fields_map[c] for c in columns]
    names = ", ".join(f'"{f.source_field or c}"' for f, c in zip(fields, columns, strict=True))
    insert = f'INSERT INTO "{meta.db_table}" ({names})'
    if connection.capabilities.dialect == "postgres":
        arrays = ", ".join(
            f"${i}::{f.get_for_dialect('postgres', 'SQL_TYPE')}[]"
            for i, f in enumerate(fields, start=1)
        )
        by_column = [list(column) for column in zip(*rows, strict=True)]
        await connection.execute_query(f"{insert} SELECT * FROM unnest({arrays})", by_column)
        return
    width = len(columns)
    one = "(" + ", ".join("?" * width) + ")"
    per_statement = max(1, MAX_PARAMETERS // width)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = [value for row in chunk for value in row]
        await connection.execute_query(f"{insert} VALUES {', '.join([one] * len(chunk))}", values)


# The phone queue (QS 9.2.2)
async def insert_new_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> list[dict[str, object]]:
    """``insert_rows``, skipping each row whose ``conflict`` columns (a unique constraint)
    match a row already there, or one another transaction is inserting (which it waits
    for): ``INSERT … ON CONFLICT (…) DO NOTHING``. Returns the ``returning`` columns of
    the rows it did insert, so two clients inserting the same key at once learn which of
    them wrote it. In one statement (per ``MAX_PARAMETERS`` values on SQLite)."""
    if not rows:
        return []
    connection = model._choose_db(for_write=True)
    meta = model._meta

    def column(name: str) -> str:
        return f'"{meta.fields_map[name].source_field or name}"'

    fields = [meta.fields_map[c] for c in columns]
    names = ", ".join(column(c) for c in columns)
    tail = f" ON CONFLICT ({', '.join(column(c) for c in conflict)}) DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(column(c) for c in returning)
    insert = f'INSERT INTO "{meta.db_table}" ({names})'
    if connection.capabilities.dialect == "postgres":
        arrays = ", ".join(
            f"${i}::{f.get_for_dialect('postgres', 'SQL_TYPE')}[]"
            for i, f in enumerate(fields, start=1)
        )
        by_column = [list(values) for values in zip(*rows, strict=True)]
        return await connection.execute_query_dict(
            f"{insert} SELECT * FROM unnest({arrays}){tail}", by_column
        )
    width = len(columns)
    one = "(" + ", ".join("?" * width) + ")"
    per_statement = max(1, MAX_PARAMETERS // width)
    found: list[dict[str, object]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = [value for row in chunk for value in row]
        found += await connection.execute_query_dict(
            f"{insert} VALUES {', '.join([one] * len(chunk))}{tail}", values
        )
    return found
