"""Live events for subscriptions: publish to a topic, subscribe to topics.

Services publish after their transaction commits (a subscriber reads the row the event
names, so it must be there). An event carries ids, never content: whoever receives it
reads the row through the same scoping as a query, so an event can tell a subscriber no
more than a query would.

The bus in use is a context variable, set by the app for its requests, websockets and jobs
(``using``): the in-process ``MemoryBus`` by default, ``RedisBus`` (``redis_bus.py``) when
``CACHE_URL`` is Redis, so that an event crosses workers. ``bus()`` is the one in force.

Delivery is at most once, and a subscriber can fall behind or miss events while a worker's
link to Redis is down. Neither passes silently: the subscriber's feed then yields a *gap*
marker (``is_gap``) once it is listening again, and the subscriber catches up from the
database (a session's messages) or tells its client to (the agents' queue).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import orjson

Event = dict[str, Any]

# A subscriber that falls this far behind loses what it holds (it gets a gap marker
# instead) rather than the server's memory.
QUEUE_LIMIT = 1000
GAP: Event = {"gap": True}


def is_gap(event: Event) -> bool:
    """True for the marker that says events may have been lost since the last one."""
    return event.get("gap") is True


T = TypeVar("T")
_READS = "__reads__"


async def shared_read(event: Event, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """What ``read`` returns, read once among the worker's subscribers that got this event
    and pass the same ``key``. Every subscriber of a worker gets the very same event
    object (``Fanout.deliver``), which keeps the reads; a subscriber that goes away does not
    cancel the others' read."""
    reads: dict[Hashable, asyncio.Task[Any]] = event.setdefault(_READS, {})
    task = reads.get(key)
    if task is None:

        async def run() -> T:
            return await read()

        task = reads[key] = asyncio.get_running_loop().create_task(run())
        # Retrieved, so that a failure nobody else awaited is not reported again.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
    found: T = await asyncio.shield(task)
    return found


class Feed:
    """One subscriber's events, in the order they arrived: ``async for``, ``anext(feed)``,
    or ``await feed.next(within)`` (None when nothing came within that many seconds)."""

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._limit = limit

    def put(self, event: Event) -> None:
        if self._queue.qsize() >= self._limit:
            # Behind by the limit: what it holds is dropped, and it learns so.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(GAP)
        self._queue.put_nowait(event)

    def gap(self) -> None:
        self._queue.put_nowait(GAP)

    async def next(self, within: float | None = None) -> Event | None:
        if within is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return None

    def __aiter__(self) -> Feed:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()


class Fanout:
    """The subscribers of one process, by topic: what a bus hands each event to (one
    object for all of them: ``shared_read``)."""

    def __init__(self) -> None:
        self._feeds: dict[str, set[Feed]] = {}

    def add(self, feed: Feed, topics: Iterable[str]) -> list[str]:
        """Register ``feed``; the topics that had no subscriber before."""
        new = []
        for topic in topics:
            feeds = self._feeds.setdefault(topic, set())
            if not feeds:
                new.append(topic)
            feeds.add(feed)
        return new

    def remove(self, feed: Feed, topics: Iterable[str]) -> list[str]:
        """Unregister ``feed``; the topics left without a subscriber."""
        gone = []
        for topic in topics:
            feeds = self._feeds.get(topic)
            if feeds is None:
                continue
            feeds.discard(feed)
            if not feeds:
                del self._feeds[topic]
                gone.append(topic)
        return gone

    def deliver(self, topic: str, event: Event) -> None:
        for feed in list(self._feeds.get(topic, ())):
            feed.put(event)

    def gap(self, topic: str | None = None) -> None:
        """Tell the subscribers of ``topic`` (of every topic: None) that events were lost."""
        if topic is None:
            feeds = {feed for group in self._feeds.values() for feed in group}
        else:
            feeds = set(self._feeds.get(topic, ()))
        for feed in feeds:
            feed.gap()

    def topics(self) -> list[str]:
        return list(self._feeds)

    def count(self, topic: str) -> int:
        return len(self._feeds.get(topic, ()))

    def clear(self) -> None:
        self._feeds.clear()


class Bus(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, *topics: str) -> contextlib.AbstractAsyncContextManager[Feed]: ...

    def subscriber_count(self, topic: str) -> int: ...

    async def close(self) -> None: ...


class MemoryBus:
    """Events within one process: the default, and what tests of one app use."""

    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self._fanout = Fanout()
        self._queue_limit = queue_limit

    async def publish(self, topic: str, event: Event) -> None:
        # Encoded and decoded as Redis would, so that both buses hand out the same values.
        payload = orjson.loads(orjson.dumps(event))
        self._fanout.deliver(topic, {**payload, "topic": topic})

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Feed]:
        feed = Feed(self._queue_limit)
        self._fanout.add(feed, topics)
        try:
            yield feed
        finally:
            self._fanout.remove(feed, topics)

    def subscriber_count(self, topic: str) -> int:
        return self._fanout.count(topic)

    async def close(self) -> None:
        self._fanout.clear()


def make_bus(cache_url: str, prefix: str | None = None) -> Bus:
    """The bus for a deployment: Redis pub/sub when its cache is Redis, else in-process."""
    if cache_url.startswith("redis://") or cache_url.startswith("rediss://"):
        from pinzhi.services.events.redis_bus import RedisBus

        return RedisBus(cache_url, prefix=prefix)
    return MemoryBus()


_default = MemoryBus()
_bus: ContextVar[Bus] = ContextVar("event_bus", default=_default)


def bus() -> Bus:
    return _bus.get()


@contextlib.contextmanager
def using(chosen: Bus) -> Iterator[None]:
    """Publish and subscribe on ``chosen`` within the block (and the tasks it starts)."""
    token = _bus.set(chosen)
    try:
        yield
    finally:
        _bus.reset(token)


def use(chosen: Bus) -> None:
    """Make ``chosen`` the bus of the current context and the tasks it starts from now on.
    Under uvicorn a request does not run in the lifespan's context: the app sets its bus
    per request and websocket (``app.EventBusScope``)."""
    _bus.set(chosen)


async def publish(topic: str, event: Event) -> None:
    await _bus.get().publish(topic, event)


def session_topic(session_id: int) -> str:
    return f"service-session:{session_id}"


QUEUE_TOPIC = "service-queue"
