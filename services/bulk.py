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
