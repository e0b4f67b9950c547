"""The phone queue over the API (QS 9.2.2): a contact centre pushes call events with its API
key; supervisors and regulators read the queue's figures; nobody else does either."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pinzhi.models import Call, CallEvent, ProviderKind, StaffDuty
from tests import factories as f
from tests.helpers import Clock, GraphQLClient, count_sql

RECORD = """
mutation($events: [CallEventInput!]!) {
  recordCallEvents(events: $events) {
    accepted duplicates refused
    results { index eventId outcome call { id callId queue waitSeconds agentId }
              error { code field message } }
    errors { code field }
  }
}"""
METRICS = """
query($period: String, $from: String, $to: String, $queue: String, $grain: PhoneQueueGrain) {
  phoneQueueMetrics(period: $period, from: $from, to: $to, queue: $queue, grain: $grain) {
    firstDay lastDay grain ruleKey ruleVersion averageAnswerLimitSeconds answeredWithinSeconds
    rows { queue start offered answered abandoned waiting answeredWithin
           averageAnswerSeconds answeredWithinShare abandonmentRate breached }
    totals { queue offered breached }
  }
}"""
CALLS = "query { calls(first: 100) { nodes { id callId providerId } } }"


def _call(ref: str, at: Any, agent_gid: str, wait: float) -> list[dict[str, Any]]:
    return [
        {
            "eventId": f"{ref}-q",
            "callId": ref,
            "queue": "after-sales",
            "kind": "QUEUED",
            "occurredAt": at.isoformat(),
        },
        {
            "eventId": f"{ref}-a",
            "callId": ref,
            "queue": "after-sales",
            "kind": "ANSWERED",
            "occurredAt": (at + timedelta(seconds=wait)).isoformat(),
            "agentId": agent_gid,
        },
    ]


@pytest.fixture
async def centre() -> tuple[Any, f.Actor, str]:
    return await f.provider(ProviderKind.CONTACT_CENTRE)


async def test_qs_9_2_2_a_contact_centre_pushes_a_batch_answered_item_by_item(
    api: GraphQLClient, centre, clock: Clock
) -> None:
    """QS 9.2.2: with its API key, a centre pushes a batch; each item is answered on its
    own, in Chinese or English, and a replay is DUPLICATE."""
    _, _, key = centre
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    events = _call("CALL-1", clock.at - timedelta(minutes=2), agent.gid, 20)
    events.append({**events[0], "eventId": "bad", "callId": "CALL-2", "queue": "AFTER SALES"})
    result = await api(RECORD, {"events": events}, token=key)
    payload = result.data["recordCallEvents"]
    assert (payload["accepted"], payload["duplicates"], payload["refused"]) == (2, 0, 1)
    assert payload["errors"] == []
    answered = payload["results"][1]
    assert answered["outcome"] == "ACCEPTED"
    assert answered["call"]["callId"] == "CALL-1"
    assert (answered["call"]["waitSeconds"], answered["call"]["agentId"]) == (20.0, agent.gid)
    refused = payload["results"][2]
    assert (refused["outcome"], refused["call"]) == ("REFUSED", None)
    assert refused["error"]["code"] == "INVALID_INPUT"
    assert refused["error"]["field"] == ["events", "2", "queue"]

    again = await api(RECORD, {"events": events[:2]}, token=key, headers={"Accept-Language": "en"})
    replay = again.data["recordCallEvents"]
    assert (replay["accepted"], replay["duplicates"]) == (0, 2)
    assert [r["outcome"] for r in replay["results"]] == ["DUPLICATE", "DUPLICATE"]


async def test_an_agent_who_is_not_customer_service_is_refused_per_item(
    api: GraphQLClient, centre, clock: Clock
) -> None:
    """An ANSWERED event names a customer-service agent: a compliance officer, a consumer
    or an id of another type are refused with CALL_AGENT_INVALID, the rest recorded."""
    _, _, key = centre
    officer = await f.staff(StaffDuty.COMPLIANCE)
    buyer = await f.consumer()
    at = clock.at - timedelta(minutes=1)
    events = (
        _call("A", at, officer.gid, 5)
        + _call("B", at, buyer.gid, 5)
        + _call("C", at, f.gid("Merchant", 1), 5)
    )
    payload = (await api(RECORD, {"events": events}, token=key)).data["recordCallEvents"]
    assert [(r["outcome"], (r["error"] or {}).get("code")) for r in payload["results"]] == [
        ("ACCEPTED", None),
        ("REFUSED", "CALL_AGENT_INVALID"),
    ] * 3
    assert await CallEvent.filter(kind="ANSWERED").count() == 0


async def test_a_batch_over_100_is_refused_whole(api: GraphQLClient, centre, clock: Clock) -> None:
    _, _, key = centre
    events = [
        {
            "eventId": f"E{n}",
            "callId": f"C{n}",
            "queue": "orders",
            "kind": "QUEUED",
            "occurredAt": clock.at.isoformat(),
        }
        for n in range(101)
    ]
    payload = (await api(RECORD, {"events": events}, token=key)).data["recordCallEvents"]
    assert payload["errors"] == [{"code": "CALL_BATCH_SIZE", "field": ["events"]}]
    assert payload["results"] == []
    assert await Call.all().count() == 0


@pytest.mark.parametrize("who", ["logistics", "payment", "consumer", "merchant", "staff"])
async def test_qs_9_2_2_only_a_contact_centre_may_push_call_events(
    api: GraphQLClient, clock: Clock, who: str
) -> None:
    """QS 9.2.2: a carrier, a payment provider, a consumer, a merchant and customer-service
    staff are FORBIDDEN at the field; nothing is recorded."""
    w = await f.world()
    token = {
        "logistics": w.carrier_key,
        "payment": w.payer_key,
        "consumer": w.buyer.token,
        "merchant": w.seller.token,
        "staff": w.agent.token,
    }[who]
    events = _call("X", clock.at - timedelta(minutes=1), w.agent.gid, 5)
    result = await api(RECORD, {"events": events}, token=token)
    assert result.error_codes == ["FORBIDDEN"]
    assert await CallEvent.all().count() == 0


async def _pushed(api: GraphQLClient, key: str, agent: f.Actor, clock: Clock) -> None:
    """Three calls at 09:00 today: answered after 10 s, 30 s (ASA 20 s) and 45 s."""
    nine = clock.at.replace(hour=9, minute=0, second=0, microsecond=0)
    events = (
        _call("M1", nine, agent.gid, 10)
        + _call("M2", nine, agent.gid, 30)
        + [{**e, "queue": "orders"} for e in _call("M3", nine, agent.gid, 45)]
    )
    payload = (await api(RECORD, {"events": events}, token=key)).data["recordCallEvents"]
    assert payload["accepted"] == 6, payload


@pytest.fixture
def evening(clock: Clock) -> Clock:
    clock.at = clock.at.replace(hour=18)
    return clock


@pytest.mark.parametrize("reader", ["customer_service", "admin", "regulator"])
async def test_qs_9_2_2_supervisors_and_regulators_read_the_queue_figures(
    api: GraphQLClient, centre, evening: Clock, reader: str
) -> None:
    """QS 9.2.2: customer-service and admin staff and regulators read the figures per queue
    and day, with the rule's version; ASA exactly 20 s is within, 45 s a breach."""
    _, _, key = centre
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    await _pushed(api, key, agent, evening)
    token = {
        "customer_service": agent.token,
        "admin": (await f.staff(StaffDuty.ADMIN)).token,
        "regulator": (await f.regulator()).token,
    }[reader]
    today = evening.at.date().isoformat()
    data = (await api(METRICS, {"period": today}, token=token)).data["phoneQueueMetrics"]
    assert (data["firstDay"], data["lastDay"], data["grain"]) == (today, today, "DAY")
    assert (data["ruleKey"], data["ruleVersion"]) == ("customer_service.phone", 1)
    assert (data["averageAnswerLimitSeconds"], data["answeredWithinSeconds"]) == (20.0, 20.0)
    assert [
        (r["queue"], r["offered"], r["averageAnswerSeconds"], r["answeredWithin"], r["breached"])
        for r in data["rows"]
    ] == [("after-sales", 2, 20.0, 1, False), ("orders", 1, 45.0, 0, True)]
    hours = (await api(METRICS, {"grain": "HOUR", "queue": "orders"}, token=token)).data
    assert [r["start"][11:13] for r in hours["phoneQueueMetrics"]["rows"]] == ["09"]


@pytest.mark.parametrize("who", ["consumer", "merchant", "compliance", "contact_centre"])
async def test_others_may_not_read_the_queue_figures(
    api: GraphQLClient, centre, clock: Clock, who: str
) -> None:
    """Consumers, merchants, compliance staff and the contact centre itself: FORBIDDEN."""
    buyer = await f.consumer()
    _, seller = await f.merchant()
    token = {
        "consumer": buyer.token,
        "merchant": seller.token,
        "compliance": (await f.staff(StaffDuty.COMPLIANCE)).token,
        "contact_centre": centre[2],
    }[who]
    result = await api(METRICS, {}, token=token)
    assert result.error_codes == ["FORBIDDEN"]


async def test_a_wrong_period_is_bad_user_input(api: GraphQLClient) -> None:
    agent = await f.staff()
    for variables in ({"period": "2026-13-01"}, {"period": "2026-11-05", "from": "2026-11-05"}):
        result = await api(METRICS, variables, token=agent.token)
        assert result.error_codes == ["BAD_USER_INPUT"], result.body


async def test_a_contact_centre_reads_its_own_calls_only(
    api: GraphQLClient, centre, clock: Clock
) -> None:
    """QS 9.4.1, decision 2: another centre's calls and their trails are missing to a
    centre; supervisors see both; consumers none."""
    provider, _, key = centre
    other_provider, _, other_key = await f.provider(ProviderKind.CONTACT_CENTRE)
    agent = await f.staff()
    at = clock.at - timedelta(minutes=1)
    await api(RECORD, {"events": _call("MINE", at, agent.gid, 5)}, token=key)
    await api(RECORD, {"events": _call("THEIRS", at, agent.gid, 5)}, token=other_key)
    theirs = await Call.get(call_ref="THEIRS")

    mine = (await api(CALLS, token=key)).data["calls"]["nodes"]
    assert [(n["callId"], n["providerId"]) for n in mine] == [
        ("MINE", f.gid("ServiceProvider", provider.id))
    ]
    trail = """query($id: ID!) { auditTrail(entityId: $id) { action } }"""
    hidden = await api(trail, {"id": f.gid("Call", theirs.id)}, token=key)
    assert hidden.data["auditTrail"] == []
    own = await api(trail, {"id": f.gid("Call", theirs.id)}, token=other_key)
    assert [e["action"] for e in own.data["auditTrail"]] == ["queued", "answered"]
    supervised = (await api(CALLS, token=agent.token)).data["calls"]["nodes"]
    assert sorted(n["callId"] for n in supervised) == ["MINE", "THEIRS"]
    buyer = await f.consumer()
    assert (await api(CALLS, token=buyer.token)).data["calls"]["nodes"] == []
    assert other_provider.id != provider.id


async def test_a_batch_costs_the_same_statements_over_the_api_for_1_and_100_events(
    api: GraphQLClient, centre, clock: Clock
) -> None:
    """The whole request (the API key's check included) costs the same for one event as
    for a hundred."""
    _, _, key = centre
    agent = await f.staff()
    at = clock.at - timedelta(minutes=5)

    async def statements(prefix: str, size: int) -> int:
        made = [e for n in range(51) for e in _call(f"{prefix}{n}", at, agent.gid, 5)]
        events = made[1 : size + 1]  # ANSWERED first: the one event names an agent
        with count_sql() as sql:
            payload = (await api(RECORD, {"events": events}, token=key)).data
        assert payload["recordCallEvents"]["accepted"] == len(events)
        return sql.count

    await api("{ __typename }", token=key)
    one = await statements("ONE", 1)
    hundred = await statements("MANY", 100)
    print(f"\nrecordCallEvents over the API: 1 event {one}, 100 events {hundred} statements")
    assert one == hundred


@pytest.mark.parametrize(
    "variables",
    [
        {"period": "0000-01"},
        {"period": "9999-12"},
        {"period": "9999-12-31"},
        {"period": "2200-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
    ],
)
async def test_a_period_outside_1970_to_2200_is_bad_user_input(
    api: GraphQLClient, variables: dict[str, str]
) -> None:
    """QS 9.2.2: a month or day the calendar cannot hold, or the platform cannot mean, is
    the caller's error (BAD_USER_INPUT), never an internal one."""
    agent = await f.staff()
    result = await api(METRICS, variables, token=agent.token)
    assert result.error_codes == ["BAD_USER_INPUT"], result.body


async def test_a_calls_filter_that_is_not_a_queue_code_is_bad_user_input(
    api: GraphQLClient,
) -> None:
    """QS 9.2.2: `calls(queue:)` takes a queue code as `phoneQueueMetrics(queue:)` does; one
    longer than any stored code is refused, not a fault."""
    agent = await f.staff()
    listed = "query($q: String) { calls(queue: $q) { nodes { id } } }"
    for bad in ("x" * 200, "Not A Code"):
        result = await api(listed, {"q": bad}, token=agent.token)
        assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert (await api(listed, {"q": "after-sales"}, token=agent.token)).data == {
        "calls": {"nodes": []}
    }
