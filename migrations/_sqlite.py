"""Helpers shared by migrations (the loader skips modules whose names start with _)."""

from __future__ import annotations


async def sqlite_foreign_keys_off(apps, schema_editor) -> None:
    """SQLite adds a constraint or drops a column by rebuilding the table: with foreign keys
    enforced, dropping the old table would delete (cascade) or refuse the rows that refer to
    it. SQLite's own procedure turns them off around the rebuild; that can only be done
    outside a transaction, so a migration using these is not atomic."""
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script("PRAGMA foreign_keys=OFF")


async def sqlite_foreign_keys_on(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script("PRAGMA foreign_keys=ON")
