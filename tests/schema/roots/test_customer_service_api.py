"""Customer-service chat through the API (QS 9.2.1, 9.2.2, 9.7.2), walked by each role:
the consumer who asks for a human, the agent who takes and answers, the supervisor and the
regulator who read the response times."""

from __future__ import annotations

import pytest

from pinzhi.models import StaffDuty
from tests import factories as f

OPEN = """mutation($order: ID) { openServiceSession(input: {orderId: $order}) {
  session { id state priority handoverReason } errors { code field } } }"""
SEND = """mutation($s: ID!, $body: String!, $key: String) {
  sendServiceMessage(input: {sessionId: $s, body: $body, clientKey: $key}) {
    message { id authorKind body responseSeconds } replies { authorKind body }
    session { state } replayed errors { code field message } } }"""
HUMAN = """mutation($s: ID!) { requestHumanAgent(sessionId: $s) {
  session { id state handoverReason responseDueAt firstResponseOverdue waitingSeconds }
  errors { code } } }"""
TAKE = """mutation($s: ID) { takeServiceSession(sessionId: $s) {
  session { id state agent { id } } errors { code } } }"""
QUEUE = "{ serviceQueue(first: 10) { nodes { id priority state } } }"
SESSION = """query($id: ID!) { node(id: $id) { ... on ServiceSession { id state
  firstResponseSeconds messages(first: 10) { nodes { authorKind body } } } } }"""
METRICS = """query($p: String!, $g: ServiceMetricsGroup) {
  serviceResponseMetrics(period: $p, groupBy: $g) {
    sessions firstResponses firstWithinLimit responses responseSecondsAvg breached
    agent { id } firstResponseLimitSeconds averageResponseLimitSeconds ruleVersion } }"""
CONTACT = "{ customerServiceContact { hotlines { number label hours } onlineHours } }"


async def test_qs_9_7_2_a_consumer_reaches_an_agent_in_one_call_and_is_answered(api, clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.7.2, 9.2.2: one call to a human; the agent's first answer is timed."""
    w = await f.world()
    w.agent = await f.online_agent()
    placed = await f.order(w.buyer, w.item)
    opened = (await api(OPEN, {"order": f.gid("Order", placed.id)}, token=w.buyer.token)).data
    session = opened["openServiceSession"]["session"]
    assert session["state"] == "BOT" and opened["openServiceSession"]["errors"] == []
    sid = session["id"]
    human = (await api(HUMAN, {"s": sid}, token=w.buyer.token)).data["requestHumanAgent"]
    assert human["session"]["state"] == "WAITING"
    assert human["session"]["handoverReason"] == "REQUESTED"
    assert human["session"]["firstResponseOverdue"] is False
    assert human["session"]["waitingSeconds"] == 0.0

    queue = (await api(QUEUE, token=w.agent.token)).data["serviceQueue"]["nodes"]
    assert [n["id"] for n in queue] == [sid]
    taken = (await api(TAKE, token=w.agent.token)).data["takeServiceSession"]
    assert taken["session"]["id"] == sid and taken["session"]["state"] == "ACTIVE"
    clock.advance(seconds=12)
    answer = (await api(SEND, {"s": sid, "body": "您好，我来帮您"}, token=w.agent.token)).data
    assert answer["sendServiceMessage"]["message"]["authorKind"] == "AGENT"
    assert answer["sendServiceMessage"]["message"]["responseSeconds"] == 12.0

    seen = (await api(SESSION, {"id": sid}, token=w.buyer.token)).data["node"]
    assert seen["firstResponseSeconds"] == 12.0
    assert [m["authorKind"] for m in seen["messages"]["nodes"]] == ["AGENT", "SYSTEM", "SYSTEM"]
    # Another consumer does not see the session at all, nor can write in it.
    assert (await api(SESSION, {"id": sid}, token=w.other_buyer.token)).data["node"] is None
    stranger = await api(SEND, {"s": sid, "body": "hi"}, token=w.other_buyer.token)
    assert stranger.data["sendServiceMessage"]["errors"][0]["code"] == "NOT_FOUND"

    # A supervisor and a regulator read the times; the regulator not the conversation.
    day = clock.at.strftime("%Y-%m-%d")
    for reader in (w.agent, w.regulator):
        [row] = (await api(METRICS, {"p": day}, token=reader.token)).data["serviceResponseMetrics"]
        assert (row["sessions"], row["firstResponses"], row["firstWithinLimit"]) == (1, 1, 1)
        assert (row["firstResponseLimitSeconds"], row["averageResponseLimitSeconds"]) == (30, 60)
    by_agent = (await api(METRICS, {"p": day, "g": "AGENT"}, token=w.regulator.token)).data
    assert by_agent["serviceResponseMetrics"][0]["agent"]["id"] == w.agent.gid
    regulated = (await api(SESSION, {"id": sid}, token=w.regulator.token)).data["node"]
    assert regulated["firstResponseSeconds"] == 12.0
    assert regulated["messages"]["nodes"] == []


@pytest.mark.parametrize("who", ["buyer", "seller"])
async def test_customers_read_neither_the_queue_nor_the_metrics(api, who: str) -> None:  # type: ignore[no-untyped-def]
    w = await f.world()
    token = getattr(w, who).token
    for document, variables in ((QUEUE, None), (METRICS, {"p": "2026-11"})):
        response = await api(document, variables, token=token)
        assert response.error_codes == ["FORBIDDEN"], response.body


async def test_a_bad_period_is_a_coded_input_error(api) -> None:  # type: ignore[no-untyped-def]
    w = await f.world()
    for bad in ("2026-13", "x" * 500, "2026-02-30", "0000-01", "9999-12", "9999-12-31"):
        response = await api(METRICS, {"p": bad}, token=w.agent.token)
        assert response.error_codes == ["BAD_USER_INPUT"], response.body


async def test_the_hotlines_are_public_in_the_readers_language(api) -> None:  # type: ignore[no-untyped-def]
    """QS 9.7.2: a direct human hotline, published as rule data, for anyone."""
    zh = (await api(CONTACT)).data["customerServiceContact"]
    en = (await api(CONTACT, headers={"Accept-Language": "en"})).data["customerServiceContact"]
    assert zh["hotlines"][0]["number"] == en["hotlines"][0]["number"] == "400-820-0000"
    assert zh["hotlines"][0]["label"] == "消费者服务热线"
    assert en["hotlines"][0]["label"] == "Consumer hotline"
    assert zh["onlineHours"] == "00:00-24:00"


async def test_a_replayed_send_changes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    w = await f.world()
    sid = (await api(OPEN, token=w.buyer.token)).data["openServiceSession"]["session"]["id"]
    await api(HUMAN, {"s": sid}, token=w.buyer.token)
    first = (await api(SEND, {"s": sid, "body": "在吗", "key": "k1"}, token=w.buyer.token)).data
    again = (await api(SEND, {"s": sid, "body": "在吗", "key": "k1"}, token=w.buyer.token)).data
    assert again["sendServiceMessage"]["replayed"] is True
    assert (
        again["sendServiceMessage"]["message"]["id"] == first["sendServiceMessage"]["message"]["id"]
    )


async def test_staff_of_other_duties_cannot_take_sessions(api) -> None:  # type: ignore[no-untyped-def]
    """QS 9.3.1: only customer-service staff work the chat queue."""
    await f.world()
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    response = await api(TAKE, token=compliance.token)
    assert response.error_codes == ["FORBIDDEN"]


async def test_qs_9_2_2_supervisors_tell_agents_apart_in_the_metrics_by_agent(api, clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: grouped by agent, each row names its agent by id (agentId) for everyone who
    reads the metrics: a supervisor may not read a colleague's account (`agent` is null
    then), yet must tell one agent's row from another's and from the unanswered sessions'."""
    buyer, other = await f.consumer(), await f.consumer("李四", "13900000000")
    first, second = await f.online_agent(), await f.online_agent("二组 Team 2")
    for customer, agent in ((buyer, first), (other, second)):
        sid = (await api(OPEN, {}, token=customer.token)).data["openServiceSession"]["session"]
        await api(HUMAN, {"s": sid["id"]}, token=customer.token)
        await api(TAKE, {"s": sid["id"]}, token=agent.token)
        await api(SEND, {"s": sid["id"], "body": "您好"}, token=agent.token)
    unanswered = (await api(OPEN, {}, token=buyer.token)).data["openServiceSession"]["session"]
    await api(HUMAN, {"s": unanswered["id"]}, token=buyer.token)
    admin = await f.staff(StaffDuty.ADMIN)
    grouped = """query($p: String!) { serviceResponseMetrics(period: $p, groupBy: AGENT) {
      agentId sessions } }"""
    day = clock.at.strftime("%Y-%m-%d")
    rows = (await api(grouped, {"p": day}, token=admin.token)).data["serviceResponseMetrics"]
    assert sorted((r["agentId"] or "", r["sessions"]) for r in rows) == sorted(
        [(first.gid, 1), (second.gid, 1), ("", 1)]
    )
