"""Live events for subscriptions: publish to a topic, subscribe to topics.

Services publish after their transaction commits (a subscriber reads the row the event
names, so it must be there). An event carries ids, never content: whoever receives it
reads the row through the same scoping as a query, so an event can tell a subscriber no
more than a query would.

The bus in use is a context variable, set by the app for its requests and jobs: the
in-process bus by default, Redis pub/sub when ``CACHE_URL`` is Redis (so an event crosses
workers). ``bus()`` is the one in force.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import orjson

Event = dict[str, Any]

# A subscriber that falls this far behind loses the oldest events rather than the
# server's memory.
QUEUE_LIMIT = 1000


class Bus(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(
        self, *topics: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Event]]: ...

    async def close(self) -> None: ...


class MemoryBus:
    """Events within one process: the default, and what tests of one app use."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = {}

    async def publish(self, topic: str, event: Event) -> None:
        # Encoded and decoded as Redis would, so that both buses hand out the same values.
        payload = orjson.loads(orjson.dumps(event))
        for queue in list(self._queues.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait({**payload, "topic": topic})

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        for topic in topics:
            self._queues.setdefault(topic, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            for topic in topics:
                subscribers = self._queues.get(topic)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        del self._queues[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._queues.get(topic, ()))

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        yield await queue.get()


_default = MemoryBus()
_bus: ContextVar[Bus] = ContextVar("event_bus", default=_default)


def bus() -> Bus:
    return _bus.get()


@contextlib.contextmanager
def using(chosen: Bus) -> Iterator[None]:
    """Publish and subscribe on ``chosen`` within the block."""
    token = _bus.set(chosen)
    try:
        yield
    finally:
        _bus.reset(token)


def use(chosen: Bus) -> None:
    """Make ``chosen`` the bus of the current context and the tasks it starts (the app's
    lifespan and its requests)."""
    _bus.set(chosen)


async def publish(topic: str, event: Event) -> None:
    await _bus.get().publish(topic, event)


def session_topic(session_id: int) -> str:
    return f"service-session:{session_id}"


QUEUE_TOPIC = "service-queue"
