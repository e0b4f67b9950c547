"""``python -m pinzhi.bench subscriptions``: how fast one worker fans a session's messages
out to its subscribers, over real websockets, on the in-process bus and on Redis.

    python -m pinzhi.bench subscriptions --subscribers 100 --messages 200 \\
        --database-url postgres://postgres@127.0.0.1:5432/pinzhi_bench_live \\
        --redis-url redis://127.0.0.1:6379/0

The database is created fresh for the run (migrated; one consumer with one session, and
``--agents`` customer-service staff). Then, for each bus, one uvicorn worker serves the app
(``CACHE_URL`` memory:// for the in-process bus, the Redis URL for Redis pub/sub, which
also puts the cache, and so the account-standing reads, on Redis), and this process opens
``--subscribers`` websockets that each subscribe to the session's messages
(graphql-transport-ws): the consumer's, then one per agent (by default 1 consumer and 99
agents: 100 accounts, two scope keys). The consumer sends messages in the session with
``sendServiceMessage`` over HTTP; the run ends when every subscriber has every message.
Each delivery costs the worker the standing check (one read per account and second), the
message read through the subscriber's scope (one per scope key and message, shared), the
execution of its selection and the frame.

Each round has two phases. *Burst*: the messages are sent as fast as the worker answers,
which it then fans out as fast as it can: deliveries per second (subscribers x messages /
wall time from the first send to the last delivery) is the figure, its latencies are those
of a queue. *Paced*: one sender at a third of the message rate the burst sustained, for
the latency from a send to its delivery where the worker keeps up (p50, p99, max; the clock
is the machine's monotonic one, shared by both processes). Both report the worker's CPU
per delivery. Results go to bench/results/<date>-subscriptions-<n>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinzhi_bench_live"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PROTOCOL = "graphql-transport-ws"
SEND = """mutation($s: ID!, $body: String!) {
  sendServiceMessage(input: {sessionId: $s, body: $body}) { errors { code } } }"""
SUBSCRIBE = """subscription($s: ID!) {
  serviceSessionMessages(sessionId: $s) { id authorKind body createdAt } }"""


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m pinzhi.bench subscriptions", description=__doc__.split("\n")[0]
    )
    p.add_argument("--subscribers", type=int, default=100)
    p.add_argument(
        "--agents",
        type=int,
        default=None,
        help="distinct agents among the subscribers, the rest the consumer's sockets "
        "(default: all but one)",
    )
    p.add_argument("--messages", type=int, default=200, help="messages sent per run")
    p.add_argument("--senders", type=int, default=4, help="concurrent HTTP senders")
    p.add_argument("--rounds", type=int, default=3, help="burst + paced runs per bus")
    p.add_argument("--buses", default="memory,redis", help="memory, redis or both")
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--redis-url", default=DEFAULT_REDIS, help=f"default {DEFAULT_REDIS}")
    p.add_argument("--port", type=int, default=18790)
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    return p.parse_args(argv)


async def _seed(url: str, agents: int) -> tuple[str, list[str], str]:
    """A consumer with one open session, and ``agents`` customer-service staff: (the
    consumer's access token, the agents' tokens, the session's global id)."""
    from tortoise import Tortoise

    from pinzhi.auth.tokens import issue_access_token
    from pinzhi.auth.viewer import Viewer
    from pinzhi.models import Role, StaffDuty
    from pinzhi.resolvers.ids import to_global_id
    from pinzhi.services import accounts
    from pinzhi.services.customer_service import sessions
    from pinzhi.settings import tortoise_config

    await Tortoise.init(config=tortoise_config(url))
    try:
        account = await accounts.register_consumer(
            "live-bench@bench.pinzhi", "bench-password-2026", "基准测试", "13800000000"
        )
        token, _ = issue_access_token(account, None)
        staff = []
        for n in range(agents):
            agent = await accounts.create_account(
                f"agent{n}@bench.pinzhi",
                "bench-password-2026",
                Role.STAFF,
                duties=str(StaffDuty.CUSTOMER_SERVICE),
            )
            staff.append(issue_access_token(agent, None)[0])
        viewer = Viewer(role=Role.CONSUMER, account_id=account.id, credential="jwt")
        session = await sessions.open_session(viewer)
        # Handed over: the AI no longer answers the consumer's messages, so each one sent is
        # one message to deliver.
        await sessions.request_human(viewer, session.id)
        return token, staff, to_global_id("ServiceSession", session.id)
    finally:
        await Tortoise.close_connections()


class Subscriber:
    """One websocket subscribed to the session. A message's body is ``<phase> <sent at>``;
    each phase's latencies are kept apart."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.latencies: dict[str, list[float]] = {}
        self.last: dict[str, float] = {}
        self.changed = asyncio.Event()

    def count(self, phase: str) -> int:
        return len(self.latencies.get(phase, ()))

    async def run(self, url: str, token: str, session_id: str, ready: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        async with connect(url, subprotocols=[PROTOCOL], max_size=None) as socket:  # type: ignore[list-item]
            await socket.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            ack = json.loads(await socket.recv())
            assert ack["type"] == "connection_ack", ack
            await socket.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"s": session_id}},
                    }
                )
            )
            ready.set()
            async for raw in socket:
                now = time.monotonic()
                message = json.loads(raw)
                if message.get("type") != "next":
                    raise RuntimeError(f"subscriber {self.index}: {message}")
                body = message["payload"]["data"]["serviceSessionMessages"]["body"]
                phase, _, sent = body.partition(" ")
                if not sent:
                    continue  # the platform's notices
                self.latencies.setdefault(phase, []).append(now - float(sent))
                self.last[phase] = now
                self.changed.set()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Crowd:
    """The subscribers: the session's consumer first, then its agents in turn."""

    def __init__(
        self, server: Any, token: str, agents: list[str], session_id: str, size: int
    ) -> None:
        self.server = server
        self.token = token
        self.tokens = [token, *agents] if agents else [token]
        self.session_id = session_id
        self.members = [Subscriber(i) for i in range(size)]
        self.tasks: list[asyncio.Task[None]] = []
        self.phases = 0

    async def __aenter__(self) -> Crowd:
        ws_url = f"ws://127.0.0.1:{self.server.port}/graphql"
        for member in self.members:
            ready = asyncio.Event()
            token = self.tokens[member.index % len(self.tokens)]
            self.tasks.append(
                asyncio.create_task(member.run(ws_url, token, self.session_id, ready))
            )
            await ready.wait()
        headers = {"authorization": f"Bearer {self.token}"}
        self.http = httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=60)
        # Until every subscriber is listening (the protocol does not say when): a message
        # every few seconds, so that few are still being delivered when a phase starts.
        deadline = time.monotonic() + 60
        while not all(m.count("warm") for m in self.members):
            if time.monotonic() > deadline:
                raise SystemExit("the subscribers did not all start listening within 60 s")
            await self.send("warm")
            await self._all(lambda m: m.count("warm") > 0, 3, quiet=True)
        await asyncio.sleep(1.0)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def send(self, phase: str) -> None:
        body = f"{phase} {time.monotonic()!r}"
        response = await self.http.post(
            "/graphql", json={"query": SEND, "variables": {"s": self.session_id, "body": body}}
        )
        answer = response.json()
        if answer.get("errors") or answer["data"]["sendServiceMessage"]["errors"]:
            raise RuntimeError(f"send refused: {answer}")

    async def _all(self, done: Any, within: float, quiet: bool = False) -> None:
        deadline = time.monotonic() + within
        while not all(done(m) for m in self.members):
            for task in self.tasks:
                if task.done():
                    task.result()
            left = deadline - time.monotonic()
            if left <= 0:
                if quiet:
                    return
                raise SystemExit(f"not every subscriber had every message within {within} s")
            for member in self.members:
                member.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait(
                        [asyncio.create_task(m.changed.wait()) for m in self.members],
                        return_when=asyncio.FIRST_COMPLETED,
                    ),
                    min(left, 1.0),
                )

    async def phase(self, messages: int, senders: int, rate: float | None) -> dict[str, Any]:
        """``messages`` sent by ``senders`` as fast as answered, or one sender at ``rate``
        messages a second; until every subscriber has them all."""
        from pinzhi.bench.servers import process_cpu_seconds

        self.phases += 1
        tag = f"p{self.phases}"
        cpu_before = process_cpu_seconds(self.server.pid)
        started = time.monotonic()
        if rate is None:
            queue: asyncio.Queue[int] = asyncio.Queue()
            for n in range(messages):
                queue.put_nowait(n)

            async def sender() -> None:
                while not queue.empty():
                    queue.get_nowait()
                    await self.send(tag)

            await asyncio.gather(*(sender() for _ in range(senders)))
        else:
            for n in range(messages):
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
                await self.send(tag)
        sent = time.monotonic() - started
        await self._all(lambda m: m.count(tag) >= messages, 600)
        cpu = process_cpu_seconds(self.server.pid) - cpu_before
        elapsed = max(m.last[tag] for m in self.members) - started
        latencies = [x for m in self.members for x in m.latencies[tag]]
        deliveries = len(latencies)
        return {
            "mode": "burst" if rate is None else f"paced at {rate:g} messages/s",
            "deliveries": deliveries,
            "seconds": round(elapsed, 3),
            "sending_seconds": round(sent, 3),
            "deliveries_per_second": round(deliveries / elapsed, 1),
            "messages_per_second": round(messages / elapsed, 2),
            "latency_ms": {
                "p50": round(statistics.median(latencies) * 1000, 1),
                "p99": round(_percentile(latencies, 0.99) * 1000, 1),
                "max": round(max(latencies) * 1000, 1),
            },
            "worker_cpu_seconds": round(cpu, 2),
            "worker_cpu_us_per_delivery": round(cpu / deliveries * 1e6, 1),
        }


async def _measure(
    server: Any, seeded: tuple[str, list[str], str], args: argparse.Namespace, bus: str
) -> list[dict[str, Any]]:
    token, agents, session_id = seeded
    results = []
    async with Crowd(server, token, agents, session_id, args.subscribers) as crowd:
        for number in range(1, args.rounds + 1):
            burst = await crowd.phase(args.messages, args.senders, None)
            # Latency where the worker keeps up: a third of the rate it just sustained.
            rate = max(0.5, round(burst["messages_per_second"] / 3, 1))
            paced = await crowd.phase(max(10, int(rate * 10)), 1, rate)
            for result in (burst, paced):
                say(
                    f"  {bus:<6} round {number} {result['mode']:<24} "
                    f"{result['deliveries_per_second']:>8,.0f} deliveries/s "
                    f"({result['messages_per_second']:,.2f} messages/s to {args.subscribers}), "
                    f"latency p50 {result['latency_ms']['p50']} ms, "
                    f"p99 {result['latency_ms']['p99']} ms; "
                    f"{result['worker_cpu_us_per_delivery']} µs worker CPU a delivery"
                )
            results.append({"burst": burst, "paced": paced})
    return results


def _run_bus(
    bus: str, args: argparse.Namespace, seeded: tuple[str, list[str], str], log_dir: Path
) -> dict[str, Any]:
    from pinzhi.bench.servers import Server

    cache_url = "memory://" if bus == "memory" else args.redis_url
    server = Server(
        name=f"live-{bus}",
        factory="pinzhi.app:create_app",
        port=args.port,
        path="/graphql",
        env={"DATABASE_URL": args.database_url, "CACHE_URL": cache_url},
    )
    server.start(log_dir)
    try:
        rounds = asyncio.run(_measure(server, seeded, args, bus))
        return {"cache_url": cache_url.split("@")[-1], "rounds": rounds}
    finally:
        server.stop()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("PINZHI_ACCESS_TOKEN_MINUTES", "720")  # tokens outlive the run
    from pinzhi.settings import get_settings

    get_settings.cache_clear()
    from pinzhi.bench.database import _migrate, ensure_database

    buses = [b.strip() for b in args.buses.split(",") if b.strip()]
    if not buses or set(buses) - {"memory", "redis"}:
        raise SystemExit("--buses takes memory, redis or both")
    say(f"Database {args.database_url.split('@')[-1]} (fresh)")
    asyncio.run(ensure_database(args.database_url, True, say))
    asyncio.run(_migrate(args.database_url))
    agents = args.subscribers - 1 if args.agents is None else args.agents
    seeded = asyncio.run(_seed(args.database_url, agents))
    log_dir = args.results_dir / "tmp"
    log_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"{args.subscribers} subscribers of one session, {args.messages} messages from "
        f"{args.senders} senders, {args.rounds} rounds per bus; the subscribers are the "
        f"session's consumer and {agents} agents"
    )
    results = {bus: _run_bus(bus, args, seeded, log_dir) for bus in buses}
    date = datetime.now(UTC).date().isoformat()
    document = {
        "date": date,
        "subscribers": args.subscribers,
        "messages": args.messages,
        "senders": args.senders,
        "agents": agents,
        "buses": results,
        "best_deliveries_per_second": {
            bus: max(r["burst"]["deliveries_per_second"] for r in found["rounds"])
            for bus, found in results.items()
        },
        "command": " ".join(["python", "-m", "pinzhi.bench", "subscriptions", *argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    path = args.results_dir / f"{date}-subscriptions-{args.subscribers}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
