"""load_all: a page's keys loaded in one batch call, shared with concurrent loads of the same
keys, and errors that reach every waiter without poisoning the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from strawberry.dataloader import DataLoader

from pinzhi.resolvers.loaders import load_all


class Recorder:
    """A batch function that records the keys of each call and answers key * 10."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database went away")
        return [key * 10 for key in keys]


async def held_and_waiting(loader: DataLoader) -> tuple[asyncio.Future, asyncio.Future]:
    """A load of key 1 held inside the batch function, and a second load waiting for it."""
    held = asyncio.ensure_future(load_all(loader, [1]))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(load_all(loader, [1]))
    await asyncio.sleep(0)
    return held, waiting


async def test_values_come_back_in_key_order_with_repeats_from_one_call() -> None:
    batch = Recorder()
    loader = DataLoader(load_fn=batch)
    assert await load_all(loader, [3, 1, 3, 2]) == [30, 10, 30, 20]
    assert batch.calls == [[3, 1, 2]]


async def test_cached_keys_are_not_loaded_again() -> None:
    batch = Recorder()
    loader = DataLoader(load_fn=batch)
    loader.prime(1, 111)
    assert await load_all(loader, [1, 2]) == [111, 20]
    assert await load_all(loader, [2, 1]) == [20, 111]
    assert batch.calls == [[2]]


async def test_a_concurrent_load_of_the_same_keys_waits_for_the_first() -> None:
    batch = Recorder()
    batch.release.clear()
    loader = DataLoader(load_fn=batch)
    first = asyncio.ensure_future(load_all(loader, [1, 2]))
    await asyncio.sleep(0)  # the first call is now inside the batch function
    second = asyncio.ensure_future(load_all(loader, [2, 1]))
    plain = asyncio.ensure_future(loader.load(1))
    await asyncio.sleep(0)
    batch.release.set()
    assert await first == [10, 20]
    assert await second == [20, 10]
    assert await plain == 10
    assert batch.calls == [[1, 2]]


async def test_a_failed_batch_reaches_every_waiter_and_is_retried_later() -> None:
    batch = Recorder(fail=True)
    batch.release.clear()
    loader = DataLoader(load_fn=batch)
    first, second = await held_and_waiting(loader)
    batch.release.set()
    for waiter in (first, second):
        with pytest.raises(RuntimeError, match="database went away"):
            await waiter
    batch.fail = False
    assert await load_all(loader, [1]) == [10]
    assert batch.calls == [[1], [1]]


async def test_a_cancelled_batch_leaves_nothing_behind() -> None:
    batch = Recorder()
    batch.release.clear()
    loader = DataLoader(load_fn=batch)
    first, waiter = await held_and_waiting(loader)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    with pytest.raises(asyncio.CancelledError):
        await waiter
    batch.release.set()
    assert await load_all(loader, [1]) == [10]
