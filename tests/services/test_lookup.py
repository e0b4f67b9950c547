"""Reading rows through the viewer's scope, and taking many rows' locks (services/lookup.py)."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from pinzhi.models import Merchant
from pinzhi.services.lookup import lock_rows
from tests import factories as f
from tests.conftest import DATABASE_URL
from tests.databases import is_postgres


@pytest.mark.skipif(not is_postgres(DATABASE_URL), reason="row locks: PostgreSQL")
async def test_lock_rows_holds_the_rows_locks_until_the_transaction_ends(db) -> None:
    """The grading jobs write merchants' and products' trails under lock_rows: another
    transaction cannot lock those rows meanwhile (tortoise drops FOR UPDATE from a values
    query, so the locks must be taken by a query of rows)."""
    shop, _ = await f.merchant()
    other, _ = await f.merchant()
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await lock_rows(Merchant, [shop.id])
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    try:
        async with in_transaction():
            with pytest.raises(Exception) as refused:
                await Merchant.filter(id=shop.id).select_for_update(nowait=True).first()
            assert getattr(refused.value, "sqlstate", None) == "55P03"  # lock_not_available
        async with in_transaction():
            # A row it did not lock is free.
            assert await Merchant.filter(id=other.id).select_for_update(nowait=True).first()
    finally:
        release.set()
        await holder
