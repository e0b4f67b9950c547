"""The event bus across workers: Redis pub/sub (``CACHE_URL=redis://…``).

One worker holds one pub/sub connection, whatever the number of its subscribers: a topic
is subscribed in Redis while at least one of the worker's subscribers wants it, and each
message read is handed to those subscribers in process (``Fanout``). Publishing goes
through a small pool of ordinary connections.

Channels are ``<prefix><topic>``; the prefix is ``pinzhi:events:<db>:`` by default (Redis
pub/sub channels are server-wide, not per database, so the database number keeps two
deployments on one server apart).

``subscribe`` returns once Redis has confirmed the subscription, so a subscriber that
reads the database after it misses nothing committed later. When the link to Redis drops,
the reader logs it, reconnects with back-off, subscribes every topic still wanted and
then puts a gap marker in every feed: whatever was published meanwhile is lost to pub/sub
and must be read from the database. A publish that fails is logged (the change it
announces is committed already) and gaps the worker's own subscribers of that topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from pinzhi.services.events import QUEUE_LIMIT, Event, Fanout, Feed

log = logging.getLogger("pinzhi.events")

# How long a subscribe waits for Redis to confirm it (else it goes on, and gets a gap
# marker once the reader is subscribed again).
CONFIRM_SECONDS = 5.0
# With nothing read for this long the reader pings; unanswered for three times as long, the
# link is taken for dead (a silent network drop never raises by itself).
HEARTBEAT_SECONDS = 5.0
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0
PUBLISH_TIMEOUT = 2.0
PUBLISH_CONNECTIONS = 20


def default_prefix(url: str) -> str:
    path = urlparse(url).path.strip("/")
    db = path if path.isdigit() else "0"
    return f"pinzhi:events:{db}:"


class RedisBus:
    def __init__(
        self, url: str, *, prefix: str | None = None, queue_limit: int = QUEUE_LIMIT
    ) -> None:
        self.prefix = prefix if prefix is not None else default_prefix(url)
        self._prefix = self.prefix.encode()
        self._queue_limit = queue_limit
        # The name of the pub/sub connection in CLIENT LIST.
        self.client_name = f"pinzhi-events-{uuid.uuid4().hex[:12]}"
        # One retry at once: a pooled connection may have gone stale since its last use.
        # A burst of publishes waits for a free connection rather than failing.
        self._publisher = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                url,
                max_connections=PUBLISH_CONNECTIONS,
                timeout=PUBLISH_TIMEOUT,
                socket_timeout=PUBLISH_TIMEOUT,
                socket_connect_timeout=PUBLISH_TIMEOUT,
                retry=Retry(NoBackoff(), 1),
            )
        )
        # The reader handles every failure itself (reconnect, resubscribe, gap).
        self._listener: Redis = Redis.from_url(
            url,
            socket_connect_timeout=PUBLISH_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            client_name=self.client_name,
        )
        # Subscribed first and last on every connection: the pub/sub connection is never
        # without a channel, and its confirmation says every earlier one is in force.
        self._control = f"{self.prefix}bus:{uuid.uuid4().hex}".encode()
        self._fanout = Fanout()
        self._pubsub: PubSub | None = None
        self._subscribed: set[str] = set()
        # Per channel, a future per SUBSCRIBE sent and not yet confirmed, oldest first.
        self._pending: dict[bytes, deque[asyncio.Future[None]]] = {}
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self._unsure = False  # events may have been missed: gap every feed once subscribed
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.reconnects = 0

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, topic: str, event: Event) -> None:
        try:
            await self._publisher.publish(self.prefix + topic, orjson.dumps(event))
        except (RedisError, OSError) as error:
            log.warning("event bus: publish to %s failed (%s); event lost", topic, error)
            self._fanout.gap(topic)

    # --- subscribing ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Feed]:
        if self._closed:
            raise RuntimeError("the event bus is closed")
        feed = Feed(self._queue_limit)
        self._fanout.add(feed, topics)
        try:
            await self._want(topics, feed)
            yield feed
        finally:
            gone = self._fanout.remove(feed, topics)
            if gone and not self._closed:
                # Not awaited here: this runs as the subscriber's task is cancelled.
                self._spawn(self._unwant(gone))

    def subscriber_count(self, topic: str) -> int:
        return self._fanout.count(topic)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _channel(self, topic: str) -> bytes:
        return self._prefix + topic.encode()

    async def _want(self, topics: tuple[str, ...], feed: Feed) -> None:
        """Subscribe what is not subscribed yet, and wait until Redis confirms it. Not
        confirmed in time, ``feed`` gets a gap marker once it is."""
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._run())
        try:
            await asyncio.wait_for(self._connected.wait(), CONFIRM_SECONDS)
        except TimeoutError:
            self._unsure = True
            return
        waits: list[asyncio.Future[None]] = []
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None:
                self._unsure = True
                return
            missing = [t for t in topics if t not in self._subscribed and self._fanout.count(t) > 0]
            if missing:
                channels = [self._channel(t) for t in missing]
                for channel in channels:
                    self._expect(channel)
                try:
                    await pubsub.subscribe(*channels)
                except (RedisError, OSError) as error:
                    log.warning("event bus: subscribe failed (%s)", error)
                    self._unsure = True
                    return
                self._subscribed.update(missing)
            for topic in topics:
                pending = self._pending.get(self._channel(topic))
                if pending:
                    waits.append(pending[-1])
        if waits:
            _, late = await asyncio.wait(waits, timeout=CONFIRM_SECONDS)
            for future in late:
                future.add_done_callback(lambda _: feed.gap())

    def _expect(self, channel: bytes) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(channel, deque()).append(future)
        return future

    async def _unwant(self, topics: list[str]) -> None:
        async with self._lock:
            drop = [t for t in topics if self._fanout.count(t) == 0 and t in self._subscribed]
            if not drop or self._pubsub is None:
                return
            self._subscribed.difference_update(drop)
            try:
                await self._pubsub.unsubscribe(*[self._channel(t) for t in drop])
            except (RedisError, OSError) as error:
                # The reader reconnects, and subscribes only what is still wanted.
                log.info("event bus: unsubscribe failed (%s)", error)

    # --- the reader -----------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._closed:
            pubsub = self._listener.pubsub()
            try:
                await self._connect(pubsub)
                backoff = BACKOFF_FIRST
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # RedisError, OSError, and whatever the link raises
                if self._closed:
                    break
                log.warning(
                    "event bus: lost Redis (%s: %s); resubscribing in %.1f s",
                    type(error).__name__,
                    error,
                    backoff,
                )
                self._disconnected()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                self.reconnects += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _connect(self, pubsub: PubSub) -> None:
        async with self._lock:
            wanted = self._fanout.topics()
            channels = [self._channel(t) for t in wanted]
            for channel in channels:
                self._expect(channel)
            # The control channel last: its confirmation comes after all the others'.
            self._expect(self._control)
            await pubsub.subscribe(*channels, self._control)
            self._pubsub = pubsub
            self._subscribed = set(wanted)
            self._connected.set()

    def _disconnected(self) -> None:
        self._connected.clear()
        self._pubsub = None
        self._subscribed.clear()
        if self._fanout.topics():
            self._unsure = True
        for pending in self._pending.values():
            for future in pending:
                if not future.done():
                    future.set_result(None)
        self._pending.clear()

    async def _read(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while not self._closed:
            message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
            now = loop.time()
            if message is None:
                if now - heard > 3 * HEARTBEAT_SECONDS:
                    raise ConnectionError("no answer from Redis")
                async with self._lock:
                    await pubsub.ping()
                continue
            heard = now
            kind = message.get("type")
            if kind == "message":
                self._deliver(message["channel"], message["data"])
            elif kind == "subscribe":
                self._confirmed(message["channel"])

    def _deliver(self, channel: bytes, data: bytes) -> None:
        if not channel.startswith(self._prefix) or channel == self._control:
            return
        topic = channel[len(self._prefix) :].decode()
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("event bus: a message on %s is not JSON; dropped", topic)
            return
        if isinstance(event, dict):
            self._fanout.deliver(topic, {**event, "topic": topic})

    def _confirmed(self, channel: bytes) -> None:
        pending = self._pending.get(channel)
        if pending:
            future = pending.popleft()
            if not future.done():
                future.set_result(None)
            if not pending:
                del self._pending[channel]
        if channel == self._control and self._unsure:
            # Every wanted topic is subscribed again: the subscribers catch up.
            self._unsure = False
            self._fanout.gap()
            log.info("event bus: subscribed again to %d topics", len(self._subscribed))

    # --- shutting down --------------------------------------------------------------------

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        for task in list(self._tasks):
            task.cancel()
        self._fanout.clear()
        await self._listener.aclose()
        await self._publisher.aclose(close_connection_pool=True)
