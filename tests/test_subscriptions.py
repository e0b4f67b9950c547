"""Messages arrive live (QS 9.2.2, 9.7.2): subscriptions over a real websocket.

The app runs under uvicorn on a free localhost port in the test's event loop (so it shares
the test's database), and the client speaks graphql-transport-ws by hand with the
``websockets`` package. Mutations go over real HTTP to the same server, so events are
published the way requests publish them. On the PostgreSQL + Redis pass the bus is Redis
pub/sub (a channel prefix of the test's own), and one test runs two servers whose
subscribers and publishers meet only through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiocache.base import BaseCache
from starlette.applications import Starlette
from tortoise.context import TortoiseContext

from pinzhi.app import create_app
from pinzhi.auth import standing
from pinzhi.models import Account, MessageAuthor, ServiceMessage, StaffDuty
from pinzhi.services import events, state
from pinzhi.settings import get_settings
from tests import factories as f
from tests.conftest import CACHE_URL
from tests.helpers import GraphQLClient
from tests.live import PROTOCOL, LiveServer, TransportWS, bearer, serve, websocket

ON_REDIS = CACHE_URL.startswith("redis://")

OPEN = "mutation { openServiceSession { session { id } errors { code } } }"
HUMAN = "mutation($s: ID!) { requestHumanAgent(sessionId: $s) { errors { code } } }"
TAKE = "mutation($s: ID) { takeServiceSession(sessionId: $s) { errors { code } } }"
SEND = """mutation($s: ID!, $body: String!) {
  sendServiceMessage(input: {sessionId: $s, body: $body}) { message { id } errors { code } } }"""
SEND_WITH_REPLIES = """mutation($s: ID!, $body: String!) {
  sendServiceMessage(input: {sessionId: $s, body: $body}) {
    message { id } replies { id authorKind } errors { code } } }"""
CLOSE = "mutation($s: ID!) { closeServiceSession(sessionId: $s) { errors { code } } }"
HISTORY = """query($id: ID!) { node(id: $id) { ... on ServiceSession {
  messages(first: 50) { nodes { id } } } } }"""

MESSAGES = """subscription($s: ID!, $after: ID) {
  serviceSessionMessages(sessionId: $s, after: $after) { id authorKind body sessionId } }"""
QUEUE = """subscription { serviceQueueEvents { kind session { id state } } }"""


@dataclass
class Live:
    server: LiveServer
    app: Starlette
    api: GraphQLClient

    @property
    def bus(self) -> events.Bus:
        bus: events.Bus = self.app.state.bus
        return bus

    async def until_listening(self, topic: str, count: int = 1) -> None:
        """Wait until ``count`` subscribers of this server listen on ``topic`` (the
        protocol has no message that says a subscription has started)."""
        await _until(lambda: self.bus.subscriber_count(topic) == count)


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _test_bus() -> events.Bus:
    """The bus the test's cache calls for, on a channel prefix of this test's own."""
    return events.make_bus(CACHE_URL, prefix=f"pinzhi-test:{uuid.uuid4().hex}:")


@contextlib.asynccontextmanager
async def _live(cache: BaseCache, bus: events.Bus) -> AsyncIterator[Live]:
    app = create_app(get_settings(), manage_database=False, cache=cache, bus=bus)
    async with serve(app) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield Live(server, app, GraphQLClient(http))


@pytest_asyncio.fixture
async def live(db: TortoiseContext, cache: BaseCache) -> AsyncIterator[Live]:
    bus = _test_bus()
    try:
        async with _live(cache, bus) as running:
            yield running
    finally:
        await bus.close()


async def _session(live: Live, buyer: f.Actor) -> str:
    opened = (await live.api(OPEN, token=buyer.token)).data["openServiceSession"]
    assert opened["errors"] == []
    sid: str = opened["session"]["id"]
    return sid


async def _waiting(live: Live, buyer: f.Actor) -> str:
    """A session handed over to the agents' queue: the customer's messages get no AI reply."""
    sid = await _session(live, buyer)
    await _ok(live, HUMAN, {"s": sid}, buyer.token)
    return sid


async def _written(sid: str, author: MessageAuthor, body: str) -> ServiceMessage:
    """A message row written without its event (as the AI would write one, or as one whose
    event was lost)."""
    return await ServiceMessage.create(
        session_id=_pk(sid), author_kind=author, body=body, created_at=state.now()
    )


def _pk(global_id: str) -> int:
    from pinzhi.resolvers.ids import pk_of

    pk = pk_of(global_id, "ServiceSession")
    assert pk is not None
    return pk


async def _ok(live: Live, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    data = (await live.api(query, variables, token=token)).data
    payload: dict[str, Any] = next(iter(data.values()))
    assert payload["errors"] == [], payload
    return payload


async def _error_of(ws: TransportWS, operation_id: str) -> dict[str, Any]:
    message = await ws.receive()
    assert message["type"] == "error" and message["id"] == operation_id, message
    error: dict[str, Any] = message["payload"][0]
    return error


async def test_qs_9_2_2_a_consumer_sees_every_message_of_their_session_live(live: Live) -> None:
    """QS 9.2.2, 9.7.2: the consumer's subscription gets their own messages, the AI's
    answers, the platform's notices and the agent's answers as they are written, then
    completes at the close."""
    w = await f.world()
    agent = await f.online_agent()
    sid = await _session(live, w.buyer)
    topic = events.session_topic(_pk(sid))
    async with websocket(live.server) as ws:
        assert (await ws.init(bearer(w.buyer.token)))["type"] == "connection_ack"
        await ws.subscribe("m", MESSAGES, {"s": sid})
        await live.until_listening(topic)

        # The AI answers first (QS 9.7.1): the question and its answer arrive live.
        sent = await _ok(live, SEND_WITH_REPLIES, {"s": sid, "body": "怎么退货"}, w.buyer.token)
        assert [r["authorKind"] for r in sent["replies"]] == ["AI"]
        question = (await ws.next_data("m"))["serviceSessionMessages"]
        assert (question["id"], question["authorKind"]) == (sent["message"]["id"], "CUSTOMER")
        answer = (await ws.next_data("m"))["serviceSessionMessages"]
        assert (answer["id"], answer["authorKind"]) == (sent["replies"][0]["id"], "AI")
        assert answer["sessionId"] == sid

        await _ok(live, HUMAN, {"s": sid}, w.buyer.token)
        handover = (await ws.next_data("m"))["serviceSessionMessages"]
        assert handover["authorKind"] == "SYSTEM"
        await _ok(live, TAKE, {"s": sid}, agent.token)
        assert (await ws.next_data("m"))["serviceSessionMessages"]["authorKind"] == "SYSTEM"
        await _ok(live, SEND, {"s": sid, "body": "您好，我来帮您"}, agent.token)
        human = (await ws.next_data("m"))["serviceSessionMessages"]
        assert (human["authorKind"], human["body"]) == ("AGENT", "您好，我来帮您")
        await _ok(live, SEND, {"s": sid, "body": "谢谢"}, w.buyer.token)
        assert (await ws.next_data("m"))["serviceSessionMessages"]["authorKind"] == "CUSTOMER"

        await _ok(live, CLOSE, {"s": sid}, w.buyer.token)
        closing = (await ws.next_data("m"))["serviceSessionMessages"]
        assert closing["authorKind"] == "SYSTEM"
        assert await ws.receive() == {"id": "m", "type": "complete"}
    history = (await live.api(HISTORY, {"id": sid}, token=w.buyer.token)).data["node"]
    assert len(history["messages"]["nodes"]) == 7
    await _until(lambda: live.bus.subscriber_count(topic) == 0)


async def test_qs_9_2_2_a_session_the_viewer_cannot_read_is_not_found(live: Live) -> None:
    """QS 9.2.2: another consumer's subscription to the session, and one to a session that
    does not exist, are refused alike at subscribe time; a regulator, who reads sessions'
    timing but not their conversation, is refused before that."""
    w = await f.world()
    sid = await _session(live, w.buyer)
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.other_buyer.token))
        await ws.subscribe("other", MESSAGES, {"s": sid})
        refused = await _error_of(ws, "other")
        assert refused["extensions"] == {"code": "NOT_FOUND", "field": ["sessionId"]}
        await ws.subscribe("none", MESSAGES, {"s": f.gid("ServiceSession", 999_999)})
        assert (await _error_of(ws, "none"))["extensions"]["code"] == "NOT_FOUND"
        await ws.subscribe("junk", MESSAGES, {"s": "not an id"})
        assert (await _error_of(ws, "junk"))["extensions"]["code"] == "NOT_FOUND"
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.regulator.token))
        await ws.subscribe("r", MESSAGES, {"s": sid})
        assert (await _error_of(ws, "r"))["extensions"]["code"] == "FORBIDDEN"
    assert live.bus.subscriber_count(events.session_topic(_pk(sid))) == 0


async def test_a_bad_credential_closes_the_socket_with_4403(live: Live) -> None:
    """graphql-transport-ws: a connection_init whose credential does not check out is
    Forbidden; so is the token of an account deactivated since it was issued."""
    w = await f.world()
    for payload in (
        {"Authorization": "Bearer not-a-token"},
        {"authorization": "Basic abc"},
        {"Authorization": 42},
    ):
        async with websocket(live.server) as ws:
            await ws.send({"type": "connection_init", "payload": payload})
            assert (await ws.closed()).code == 4403
    await Account.filter(id=w.buyer.account.id).update(is_active=False)
    await standing.remember(live.app.state.cache, w.buyer.account.id, active=False)
    async with websocket(live.server) as ws:
        await ws.send({"type": "connection_init", "payload": bearer(w.buyer.token)})
        assert (await ws.closed()).code == 4403
    # The lower-case key works as well as the header's name.
    async with websocket(live.server) as ws:
        assert (await ws.init({"authorization": f"Bearer {w.agent.token}"}))["type"] == (
            "connection_ack"
        )


async def test_anonymous_connections_may_run_no_subscription(live: Live) -> None:
    w = await f.world()
    sid = await _session(live, w.buyer)
    async with websocket(live.server) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        await ws.subscribe("a", MESSAGES, {"s": sid})
        assert (await _error_of(ws, "a"))["extensions"]["code"] == "UNAUTHENTICATED"
        await ws.subscribe("q", QUEUE)
        assert (await _error_of(ws, "q"))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_graphql_transport_ws_is_spoken(live: Live) -> None:
    """The legacy graphql-ws subprotocol (subscriptions-transport-ws) is refused."""
    async with websocket(live.server, subprotocols=("graphql-ws",)) as ws:
        assert ws.socket.subprotocol is None
        assert (await ws.closed()).code == 4406
    async with websocket(live.server, subprotocols=("graphql-ws", PROTOCOL)) as ws:
        assert ws.socket.subprotocol == PROTOCOL


async def test_queries_and_mutations_go_over_http(live: Live) -> None:
    w = await f.world()
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("q", "{ __typename }")
        message = await ws.receive()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert await ws.receive() == {"id": "q", "type": "complete"}


async def test_qs_9_2_1_merchants_and_consumers_cannot_follow_the_agents_queue(
    live: Live,
) -> None:
    w = await f.world()
    for actor in (w.buyer, w.seller, w.regulator):
        async with websocket(live.server) as ws:
            await ws.init(bearer(actor.token))
            await ws.subscribe("q", QUEUE)
            assert (await _error_of(ws, "q"))["extensions"]["code"] == "FORBIDDEN"
    assert live.bus.subscriber_count(events.QUEUE_TOPIC) == 0


async def test_qs_9_7_2_an_agent_sees_a_session_queued_then_taken(live: Live) -> None:
    """QS 9.7.2, 9.2.1: the handover reaches the agents' queue at once, and so does its
    taking, each with the session as it is then."""
    w = await f.world()
    other_agent = await f.online_agent()
    sid = await _session(live, w.buyer)
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.agent.token))
        await ws.subscribe("q", QUEUE)
        await live.until_listening(events.QUEUE_TOPIC)
        await _ok(live, HUMAN, {"s": sid}, w.buyer.token)
        queued = (await ws.next_data("q"))["serviceQueueEvents"]
        assert queued == {"kind": "QUEUED", "session": {"id": sid, "state": "WAITING"}}
        await _ok(live, TAKE, {"s": sid}, other_agent.token)
        taken = (await ws.next_data("q"))["serviceQueueEvents"]
        assert taken == {"kind": "TAKEN", "session": {"id": sid, "state": "ACTIVE"}}


async def test_complete_stops_delivery(live: Live) -> None:
    """Unsubscribing (complete) stops the events, and the server lets go of the topic."""
    w = await f.world()
    sid = await _waiting(live, w.buyer)
    topic = events.session_topic(_pk(sid))
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", MESSAGES, {"s": sid})
        await live.until_listening(topic)
        await _ok(live, SEND, {"s": sid, "body": "第一条"}, w.buyer.token)
        assert (await ws.next_data("m"))["serviceSessionMessages"]["body"] == "第一条"
        await ws.complete("m")
        await live.until_listening(topic, 0)
        await _ok(live, SEND, {"s": sid, "body": "第二条"}, w.buyer.token)
        assert await ws.silent()
        # The connection still serves: a new subscription gets what is written next.
        await ws.subscribe("m2", MESSAGES, {"s": sid})
        await live.until_listening(topic)
        await _ok(live, SEND, {"s": sid, "body": "第三条"}, w.buyer.token)
        assert (await ws.next_data("m2"))["serviceSessionMessages"]["body"] == "第三条"


async def test_qs_9_2_2_after_a_history_query_nothing_falls_between(live: Live) -> None:
    """QS 9.2.2: a client that read the history, then subscribes naming the newest
    message it has (``after``), gets what was written in between first, then live."""
    w = await f.world()
    sid = await _waiting(live, w.buyer)
    first = (await _ok(live, SEND, {"s": sid, "body": "一"}, w.buyer.token))["message"]["id"]
    # Written after the client's history query, before it subscribed.
    await _ok(live, SEND, {"s": sid, "body": "二"}, w.buyer.token)
    await _ok(live, SEND, {"s": sid, "body": "三"}, w.buyer.token)
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", MESSAGES, {"s": sid, "after": first})
        bodies = [(await ws.next_data("m"))["serviceSessionMessages"]["body"] for _ in "12"]
        assert bodies == ["二", "三"]
        await live.until_listening(events.session_topic(_pk(sid)))
        await _ok(live, SEND, {"s": sid, "body": "四"}, w.buyer.token)
        assert (await ws.next_data("m"))["serviceSessionMessages"]["body"] == "四"
        assert await ws.silent()
        # A message of another session is no place to start from.
        other = await _session(live, w.buyer)
        await ws.subscribe("x", MESSAGES, {"s": other, "after": first})
        assert (await _error_of(ws, "x"))["extensions"] == {"code": "NOT_FOUND", "field": ["after"]}


async def test_qs_9_2_2_events_lost_are_read_back_from_the_database(live: Live) -> None:
    """QS 9.2.2: when the bus says events may have been lost (a worker's link to Redis
    dropped), the subscription reads what it missed from the database, once each."""
    w = await f.world()
    sid = await _waiting(live, w.buyer)
    topic = events.session_topic(_pk(sid))
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", MESSAGES, {"s": sid})
        await live.until_listening(topic)
        await _ok(live, SEND, {"s": sid, "body": "收到"}, w.buyer.token)
        assert (await ws.next_data("m"))["serviceSessionMessages"]["body"] == "收到"
        # Two messages whose events were lost, then the bus's gap marker.
        for body in ("丢失一", "丢失二"):
            await _written(sid, MessageAuthor.CUSTOMER, body)
        _fanout_of(live.bus).gap()
        got = [(await ws.next_data("m"))["serviceSessionMessages"]["body"] for _ in "12"]
        assert got == ["丢失一", "丢失二"]
        _fanout_of(live.bus).gap()
        assert await ws.silent()


def _fanout_of(bus: events.Bus) -> events.Fanout:
    fanout: events.Fanout = bus._fanout
    return fanout


async def test_qs_9_2_1_the_queue_says_resync_after_lost_events(live: Live) -> None:
    w = await f.world()
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.agent.token))
        await ws.subscribe("q", QUEUE)
        await live.until_listening(events.QUEUE_TOPIC)
        _fanout_of(live.bus).gap()
        assert (await ws.next_data("q"))["serviceQueueEvents"] == {
            "kind": "RESYNC",
            "session": None,
        }


async def test_a_deactivated_accounts_subscription_ends(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account's standing is read again before each event (the cached read every HTTP
    request makes, shared by the worker's streams of the account for RECENT_SECONDS):
    deactivated, the stream ends with UNAUTHENTICATED at its next event and delivers
    nothing more; new subscriptions on the same socket are refused."""
    monkeypatch.setattr(standing, "RECENT_SECONDS", 0.2)
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    sid = await _session(live, w.buyer)
    topic = events.session_topic(_pk(sid))
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", MESSAGES, {"s": sid})
        await live.until_listening(topic)
        deactivate = """mutation($id: ID!) { setAccountActive(input: {accountId: $id,
          active: false, reason: "测试停用"}) { errors { code } } }"""
        await _ok(live, deactivate, {"id": f.gid("Account", w.buyer.account.id)}, admin.token)
        await asyncio.sleep(0.3)  # what the worker's streams read of it has aged
        row = await _written(sid, MessageAuthor.AI, "不应送达")
        await live.bus.publish(topic, {"session": _pk(sid), "message": row.id})
        ended = await ws.receive()
        assert ended["type"] == "next" and ended["payload"]["data"] is None
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await ws.receive() == {"id": "m", "type": "complete"}
        await ws.subscribe("again", MESSAGES, {"s": sid})
        assert (await _error_of(ws, "again"))["extensions"]["code"] == "UNAUTHENTICATED"
    await _until(lambda: live.bus.subscriber_count(topic) == 0)


async def test_each_event_reads_rows_as_they_are_then(live: Live) -> None:
    """Loaders are fresh for each event: a long subscription does not serve the rows it
    read for an earlier event."""
    w = await f.world()
    agent = await f.online_agent()
    sid = await _waiting(live, w.buyer)
    await _ok(live, TAKE, {"s": sid}, agent.token)
    query = """subscription($s: ID!) { serviceSessionMessages(sessionId: $s) {
      body author { id duties } } }"""
    async with websocket(live.server) as ws:
        await ws.init(bearer(agent.token))
        await ws.subscribe("m", query, {"s": sid})
        await live.until_listening(events.session_topic(_pk(sid)))
        await _ok(live, SEND, {"s": sid, "body": "一"}, agent.token)
        first = (await ws.next_data("m"))["serviceSessionMessages"]
        assert first["author"]["duties"] == ["CUSTOMER_SERVICE"]
        await Account.filter(id=agent.account.id).update(duties="CUSTOMER_SERVICE,ADMIN")
        await _ok(live, SEND, {"s": sid, "body": "二"}, agent.token)
        second = (await ws.next_data("m"))["serviceSessionMessages"]
        assert second["author"]["duties"] == ["CUSTOMER_SERVICE", "ADMIN"]


async def test_subscription_input_meets_the_string_guard(live: Live) -> None:
    """Input limits hold for subscriptions as for queries: refused before any event."""
    w = await f.world()
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", MESSAGES, {"s": "x" * 20_000})
        refusal = await _error_of(ws, "m")
        assert refusal["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_websocket_message_over_the_body_limit_closes_the_socket(live: Live) -> None:
    """A message larger than the HTTP body limit closes the socket (1009); the server goes
    on serving."""
    w = await f.world()
    limit = get_settings().max_body_bytes
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.buyer.token))
        await ws.subscribe("m", "subscription { serviceQueueEvents { kind } }" + " " * limit)
        assert (await ws.closed()).code == 1009
    async with websocket(live.server) as ws:
        assert (await ws.init(bearer(w.buyer.token)))["type"] == "connection_ack"
    assert (await live.api("{ __typename }")).data == {"__typename": "Query"}


@pytest.mark.skipif(not ON_REDIS, reason="two workers meet through Redis (PINZHI_TEST_CACHE_URL)")
async def test_qs_9_2_2_a_message_posted_on_one_worker_reaches_a_subscriber_on_another(
    db: TortoiseContext, cache: BaseCache
) -> None:
    """QS 9.2.2: two instances, each with its own Redis bus, sharing the database and
    Redis: a message sent through instance A reaches a subscriber connected to B."""
    w = await f.world()
    prefix = f"pinzhi-test:{uuid.uuid4().hex}:"
    bus_a, bus_b = events.make_bus(CACHE_URL, prefix), events.make_bus(CACHE_URL, prefix)
    try:
        async with _live(cache, bus_a) as a, _live(cache, bus_b) as b:
            sid = await _session(a, w.buyer)
            topic = events.session_topic(_pk(sid))
            async with websocket(b.server) as ws, websocket(b.server) as queue:
                await ws.init(bearer(w.buyer.token))
                await ws.subscribe("m", MESSAGES, {"s": sid})
                await queue.init(bearer(w.agent.token))
                await queue.subscribe("q", QUEUE)
                await b.until_listening(topic)
                await b.until_listening(events.QUEUE_TOPIC)
                assert a.bus.subscriber_count(topic) == 0
                await _ok(a, HUMAN, {"s": sid}, w.buyer.token)
                assert (await ws.next_data("m"))["serviceSessionMessages"]["authorKind"] == (
                    "SYSTEM"
                )
                assert (await queue.next_data("q"))["serviceQueueEvents"]["kind"] == "QUEUED"
                await _ok(a, SEND, {"s": sid, "body": "从 A 发出"}, w.buyer.token)
                got = (await ws.next_data("m"))["serviceSessionMessages"]
                assert got["body"] == "从 A 发出" and got["authorKind"] == "CUSTOMER"
    finally:
        await bus_a.close()
        await bus_b.close()


@pytest.mark.skipif(not ON_REDIS, reason="needs Redis (PINZHI_TEST_CACHE_URL)")
async def test_the_redis_bus_survives_a_dropped_link() -> None:
    """The worker's pub/sub connection is killed: the bus reconnects, subscribes again and
    gaps its subscribers (what was published meanwhile is lost to pub/sub); events flow
    again afterwards. Nothing raises into the subscriber."""
    from redis.asyncio import Redis

    from pinzhi.services.events.redis_bus import RedisBus

    prefix = f"pinzhi-test:{uuid.uuid4().hex}:"
    bus = RedisBus(CACHE_URL, prefix=prefix)
    admin = Redis.from_url(CACHE_URL)
    try:
        async with bus.subscribe("t") as feed:
            await bus.publish("t", {"n": 1})
            assert await feed.next(5) == {"n": 1, "topic": "t"}
            clients = await admin.client_list()
            mine = [c["id"] for c in clients if c.get("name") == bus.client_name]
            assert mine
            for client_id in mine:
                await admin.execute_command("CLIENT", "KILL", "ID", client_id)
            assert await feed.next(10) == events.GAP
            await bus.publish("t", {"n": 2})
            assert await feed.next(5) == {"n": 2, "topic": "t"}
            assert bus.reconnects >= 1
    finally:
        await bus.close()
        await admin.aclose()


async def test_a_websocket_has_a_request_id_and_one_access_log_line(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    """The handshake's answer carries the request id (the client's, if sane); the access
    log writes one line when the socket ends: who closed it, with which code."""
    import logging

    caplog.set_level(logging.INFO, logger="pinzhi")
    w = await f.world()
    async with websocket(live.server, additional_headers={"X-Request-Id": "ws-check-1"}) as ws:
        assert ws.socket.response is not None
        assert ws.socket.response.headers["x-request-id"] == "ws-check-1"
        await ws.init(bearer(w.buyer.token))
    async with websocket(live.server) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": "Bearer x"}})
        await ws.closed()

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "pinzhi.access"]

    await _until(lambda: len(lines()) == 2)
    first, second = lines()
    assert first.startswith("WS /graphql client closed 1000 ") and first.endswith(" ws-check-1")
    assert second.startswith("WS /graphql server closed 4403 ")
    assert "Bearer" not in caplog.text


async def test_the_server_stops_with_subscriptions_open(
    db: TortoiseContext, cache: BaseCache
) -> None:
    """Shutting down closes the open sockets (1012, service restart) and lets go of the
    bus's subscribers."""
    w = await f.world()
    bus = _test_bus()
    try:
        async with contextlib.AsyncExitStack() as client:
            async with _live(cache, bus) as running:
                ws = await client.enter_async_context(websocket(running.server))
                await ws.init(bearer(w.agent.token))
                await ws.subscribe("q", QUEUE)
                await running.until_listening(events.QUEUE_TOPIC)
            assert (await ws.closed()).code == 1012
        assert bus.subscriber_count(events.QUEUE_TOPIC) == 0
    finally:
        await bus.close()


async def test_a_message_is_read_once_per_scope_among_a_workers_subscribers(live: Live) -> None:
    """Five subscribers of one session on one worker, of two scope keys (the consumer on two
    devices; three agents, who read every session): each new message is read twice, not
    five times (auth/scopes.scope_key)."""
    from pinzhi.bench.measure import count_sql
    from pinzhi.services.customer_service import sessions

    w = await f.world()
    agents = [w.agent, await f.staff(StaffDuty.CUSTOMER_SERVICE), await f.staff(StaffDuty.ADMIN)]
    sid = await _waiting(live, w.buyer)
    topic = events.session_topic(_pk(sid))
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for actor in [w.buyer, w.buyer, *agents]:
            ws = await stack.enter_async_context(websocket(live.server))
            await ws.init(bearer(actor.token))
            await ws.subscribe("m", MESSAGES, {"s": sid})
            sockets.append(ws)
        await live.until_listening(topic, 5)
        with count_sql() as counted:
            with events.using(live.bus):
                await sessions.send_message(w.buyer.viewer, _pk(sid), "五个人都看到")
            got = [(await ws.next_data("m"))["serviceSessionMessages"] for ws in sockets]
        assert {m["body"] for m in got} == {"五个人都看到"}
        assert counted.counts["start"]["SELECT service_message"] == 2


async def test_operations_at_once_per_connection_are_limited_with_a_code(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await f.world()
    view = next(r.endpoint for r in live.app.routes if getattr(r, "path", "") == "/graphql")
    monkeypatch.setattr(view, "max_subscriptions_per_connection", 3)
    async with websocket(live.server) as ws:
        await ws.init(bearer(w.agent.token))
        for n in range(3):
            await ws.subscribe(f"q{n}", QUEUE)
        await live.until_listening(events.QUEUE_TOPIC, 3)
        await ws.subscribe("q3", QUEUE)
        refused = await _error_of(ws, "q3")
        assert refused["extensions"] == {
            "code": "BAD_REQUEST",
            "limit": "operationsPerConnection",
            "max": 3,
        }
        await ws.complete("q0")
        await live.until_listening(events.QUEUE_TOPIC, 2)
        await ws.subscribe("q4", QUEUE)
        await live.until_listening(events.QUEUE_TOPIC, 3)


async def test_a_queue_event_is_read_once_for_a_workers_agents(live: Live) -> None:
    """Three agents follow the queue on one worker: an event's session is read once for
    them (they read every session alike), as it is when the event arrives."""
    from pinzhi.bench.measure import count_sql

    w = await f.world()
    agents = [w.agent, await f.staff(StaffDuty.CUSTOMER_SERVICE), await f.online_agent()]
    sid = await _waiting(live, w.buyer)
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for agent in agents:
            ws = await stack.enter_async_context(websocket(live.server))
            await ws.init(bearer(agent.token))
            await ws.subscribe("q", QUEUE)
            sockets.append(ws)
        await live.until_listening(events.QUEUE_TOPIC, 3)
        with count_sql() as counted:
            await live.bus.publish(events.QUEUE_TOPIC, {"session": _pk(sid), "event": "QUEUED"})
            got = [(await ws.next_data("q"))["serviceQueueEvents"] for ws in sockets]
        assert got == [{"kind": "QUEUED", "session": {"id": sid, "state": "WAITING"}}] * 3
        assert counted.counts["start"]["SELECT service_session"] == 1
