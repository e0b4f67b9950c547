"""Bulky goods over HTTP, as each party walks them (QS 9.7.5): delivery with installation
and trade-in, each party seeing what is theirs and no more (QS 9.4.1)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pinzhi.models import InstallationAppointment, Refund, TradeIn
from pinzhi.resolvers.ids import pk_or_missing
from pinzhi.services import bulky, trade_ins
from tests import factories as f
from tests.helpers import Clock, count_sql

BOOK = """
mutation($i: BookInstallationInput!) {
  bookInstallation(input: $i) {
    appointment { id state category slotStart slotEnd ruleVersion provider { name } }
    errors { code field message }
  }
}"""
RESCHEDULE = """
mutation($i: RescheduleInstallationInput!) {
  rescheduleInstallation(input: $i) {
    appointment { id state slotStart reschedules } errors { code field }
  }
}"""
CONFIRM = """
mutation($i: ConfirmInstallationInput!) {
  confirmInstallation(input: $i) {
    appointment { id state confirmedAt provider { id } } errors { code field }
  }
}"""
COMPLETE = """
mutation($i: CompleteInstallationInput!) {
  completeInstallation(input: $i) {
    appointment { id state onTime completedAt outcomeNote } errors { code field }
  }
}"""
APPOINTMENTS = """
{ installationAppointments(first: 10) { nodes {
    id state slotStart
    visitAddress { name phone address }
    order { id } orderLine { quantity product { category } }
} } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
REQUEST = """
mutation($i: RequestTradeInInput!) {
  requestTradeIn(input: $i) {
    tradeIn { id state value { amountMinor currency } condition ruleVersion }
    errors { code field message }
  }
}"""
ACCEPT = """
mutation($i: AcceptTradeInInput!) {
  acceptTradeIn(input: $i) { tradeIn { id state provider { id } } errors { code field } }
}"""
COLLECT = """
mutation($i: RecordTradeInCollectedInput!) {
  recordTradeInCollected(input: $i) {
    tradeIn { id state collectionEventId credits { id state amount { amountMinor } } }
    replayed errors { code field }
  }
}"""
CONFIRM_REFUND = """
mutation($i: ConfirmRefundInput!) {
  confirmRefund(input: $i) { refund { state } errors { code field } }
}"""
TRADE_INS = """
{ tradeIns(first: 10) { nodes { id state value { amountMinor } credits { state } } } }"""
SLOTS = "{ installationSlots { start end } }"
TRAIL = "query($id: ID!) { auditTrail(entityId: $id) { action toState } }"


def _book(line_id: int, start) -> dict:  # type: ignore[no-untyped-def]
    return {"i": {"orderLineId": f.gid("OrderLine", line_id), "slotStart": start.isoformat()}}


async def test_each_party_walks_a_delivery_with_installation(api, clock: Clock) -> None:
    """QS 9.7.5: the consumer books one of the listed slots, the carrier of the order
    confirms, delivers and installs; the consumer, the merchant and the carrier see it
    (the visit address masked by role), nobody else does."""
    w = await f.world()
    order, line = await f.bulky_order(w, "shipped")
    slots = (await api(SLOTS, token=w.buyer.token)).data["installationSlots"]
    start = f.slot(clock.at)
    assert {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()} in slots

    booked = (await api(BOOK, _book(line.id, start), token=w.buyer.token)).data
    appointment = booked["bookInstallation"]["appointment"]
    assert booked["bookInstallation"]["errors"] == []
    assert (appointment["state"], appointment["category"], appointment["ruleVersion"]) == (
        "PROPOSED",
        "furniture",
        1,
    )
    assert appointment["provider"]["name"] == w.carrier.name
    aid = appointment["id"]

    confirmed = await api(CONFIRM, {"i": {"appointmentId": aid}}, token=w.carrier_key)
    assert confirmed.data["confirmInstallation"]["appointment"]["state"] == "CONFIRMED"

    carrier_view = (await api(APPOINTMENTS, token=w.carrier_key)).data
    (seen,) = carrier_view["installationAppointments"]["nodes"]
    assert seen["visitAddress"] == {
        "name": "张三",
        "phone": "13812345678",
        "address": "北京市朝阳区建国路 88 号",
    }
    assert seen["order"] is None and seen["orderLine"] is None  # not the carrier's to read
    merchant_view = (await api(APPOINTMENTS, token=w.seller.token)).data
    (shop_seen,) = merchant_view["installationAppointments"]["nodes"]
    assert shop_seen["visitAddress"]["phone"] == "138****5678"
    assert shop_seen["orderLine"]["product"]["category"] == "furniture"
    for outsider in (w.other_buyer.token, w.other_seller.token, w.other_carrier_key, w.payer_key):
        listed = (await api(APPOINTMENTS, token=outsider)).data
        assert listed["installationAppointments"]["nodes"] == [], outsider
        assert (await api(NODE, {"id": aid}, token=outsider)).data["node"] is None

    clock.at = start
    await f.deliver_shipped(w, order)
    done = await api(
        COMPLETE, {"i": {"appointmentId": aid, "note": "已安装 installed"}}, token=w.carrier_key
    )
    body = done.data["completeInstallation"]
    assert body["errors"] == []
    assert (body["appointment"]["state"], body["appointment"]["onTime"]) == ("COMPLETED", True)
    trail = (await api(TRAIL, {"id": aid}, token=w.buyer.token)).data["auditTrail"]
    assert [e["action"] for e in trail] == ["booked", "confirmed", "completed"]


async def test_a_non_bulky_line_is_refused_with_its_code(api, clock: Clock) -> None:
    """QS 9.7.5: a food line is not bulky: NOT_BULKY on the line's field, in the client's
    language; nothing is created."""
    w = await f.world()
    order, _ = await f.paid_order(w)
    line = await order.lines.all().first()
    assert line is not None
    result = await api(
        BOOK,
        _book(line.id, f.slot(clock.at)),
        token=w.buyer.token,
        headers={"Accept-Language": "en"},
    )
    (error,) = result.data["bookInstallation"]["errors"]
    assert (error["code"], error["field"]) == ("NOT_BULKY", ["orderLineId"])
    assert error["message"].startswith("This product is not a bulky good")
    asked = await api(
        REQUEST,
        {
            "i": {
                "orderLineId": f.gid("OrderLine", line.id),
                "condition": "WORKING",
                "description": "旧冰箱 old fridge",
            }
        },
        token=w.buyer.token,
    )
    assert [e["code"] for e in asked.data["requestTradeIn"]["errors"]] == ["NOT_BULKY"]
    assert await InstallationAppointment.all().count() == 0
    assert await TradeIn.all().count() == 0


async def test_slots_off_the_grid_or_outside_the_window_are_refused(api, clock: Clock) -> None:
    w = await f.world()
    _, line = await f.bulky_order(w)
    start = f.slot(clock.at)
    cases = [
        (start + timedelta(minutes=30), "INVALID_SLOT"),
        (start - timedelta(days=2), "SLOT_OUT_OF_RANGE"),
        (start + timedelta(days=14), "SLOT_OUT_OF_RANGE"),
    ]
    for when, code in cases:
        result = await api(BOOK, _book(line.id, when), token=w.buyer.token)
        errors = result.data["bookInstallation"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, ["slotStart"])], when


async def test_rescheduling_closes_one_second_after_the_cut_off(api, clock: Clock) -> None:
    """QS 9.7.5: 24 hours before the slot and a second more, a move is taken; a second
    past the cut-off, RESCHEDULE_CLOSED."""
    w = await f.world()
    _, line = await f.bulky_order(w)
    start = f.slot(clock.at, days=4)
    booked = (await api(BOOK, _book(line.id, start), token=w.buyer.token)).data
    aid = booked["bookInstallation"]["appointment"]["id"]

    clock.at = start - timedelta(hours=24, seconds=1)
    moved_to = start + timedelta(hours=2)
    moved = await api(
        RESCHEDULE,
        {"i": {"appointmentId": aid, "slotStart": moved_to.isoformat()}},
        token=w.buyer.token,
    )
    appointment = moved.data["rescheduleInstallation"]["appointment"]
    assert (appointment["slotStart"], appointment["reschedules"]) == (moved_to.isoformat(), 1)

    clock.at = moved_to - timedelta(hours=24) + timedelta(seconds=1)
    late = await api(
        RESCHEDULE,
        {"i": {"appointmentId": aid, "slotStart": (moved_to + timedelta(days=1)).isoformat()}},
        token=w.buyer.token,
    )
    assert [e["code"] for e in late.data["rescheduleInstallation"]["errors"]] == [
        "RESCHEDULE_CLOSED"
    ]


async def test_each_party_walks_a_trade_in_credited_once(api, clock: Clock) -> None:
    """QS 9.7.5: the consumer asks at order time, the merchant accepts, the carrier collects
    with the delivery (a replay changes nothing), the payment provider pays the credit and
    the trade-in is CREDITED; the carrier sees the trade-in, not the money."""
    w = await f.world()
    order, line = await f.bulky_order(w, "paid")
    asked = await api(
        REQUEST,
        {
            "i": {
                "orderLineId": f.gid("OrderLine", line.id),
                "condition": "WORN",
                "description": "旧沙发 old sofa",
            }
        },
        token=w.buyer.token,
    )
    trade_in = asked.data["requestTradeIn"]["tradeIn"]
    assert trade_in["value"] == {"amountMinor": 12000, "currency": "CNY"}
    tid = trade_in["id"]
    await f.ship(w, order)
    accepted = (await api(ACCEPT, {"i": {"tradeInId": tid}}, token=w.seller.token)).data
    assert accepted["acceptTradeIn"]["tradeIn"]["state"] == "SCHEDULED"

    pick = {"i": {"tradeInId": tid, "eventId": "PICK-1", "collectedAt": clock.at.isoformat()}}
    first = (await api(COLLECT, pick, token=w.carrier_key)).data["recordTradeInCollected"]
    again = (await api(COLLECT, pick, token=w.carrier_key)).data["recordTradeInCollected"]
    assert (first["tradeIn"]["state"], first["replayed"]) == ("COLLECTED", False)
    assert (again["tradeIn"]["state"], again["replayed"]) == ("COLLECTED", True)
    assert first["tradeIn"]["credits"] == []  # the refund is not the carrier's to read

    refund = await Refund.get(trade_in_id=pk_or_missing(tid, "TradeIn"))
    paid = await api(
        CONFIRM_REFUND,
        {
            "i": {
                "refundId": f.gid("Refund", refund.id),
                "succeeded": True,
                "providerReference": "RF-T1",
            }
        },
        token=w.payer_key,
    )
    assert paid.data["confirmRefund"]["refund"]["state"] == "SUCCEEDED"

    mine = (await api(TRADE_INS, token=w.buyer.token)).data["tradeIns"]["nodes"]
    assert mine == [
        {
            "id": tid,
            "state": "CREDITED",
            "value": {"amountMinor": 12000},
            "credits": [{"state": "SUCCEEDED"}],
        }
    ]
    for outsider in (w.other_buyer.token, w.other_seller.token, w.other_carrier_key):
        assert (await api(TRADE_INS, token=outsider)).data["tradeIns"]["nodes"] == []


async def test_two_collection_reports_at_once_over_http_credit_once(api, clock: Clock) -> None:
    """QS 9.7.5: the carrier's report and its retry racing: one collection, one refund."""
    w = await f.world()
    _, line = await f.bulky_order(w, "shipped")
    asked = await f.trade_in(w, line.id)
    await trade_ins.accept(w.seller.viewer, asked.id)
    pick = {
        "i": {
            "tradeInId": f.gid("TradeIn", asked.id),
            "eventId": "PICK-RACE",
            "collectedAt": clock.at.isoformat(),
        }
    }

    results = await asyncio.gather(*(api(COLLECT, pick, token=w.carrier_key) for _ in range(2)))

    payloads = [r.data["recordTradeInCollected"] for r in results]
    assert all(p["errors"] == [] for p in payloads), payloads
    assert sorted(p["replayed"] for p in payloads) == [False, True]
    assert await Refund.filter(trade_in_id=asked.id).count() == 1


async def test_ids_of_another_type_are_not_found(api, clock: Clock) -> None:
    """Hostile input: an order's id where a line's is asked, a trade-in's id where an
    appointment's is asked: NOT_FOUND, as for a missing row."""
    w = await f.world()
    order, line = await f.bulky_order(w)
    result = await api(BOOK, _book(0, f.slot(clock.at)), token=w.buyer.token)
    assert [e["code"] for e in result.data["bookInstallation"]["errors"]] == ["NOT_FOUND"]
    wrong = {"orderLineId": f.gid("Order", order.id), "slotStart": f.slot(clock.at).isoformat()}
    result = await api(BOOK, {"i": wrong}, token=w.buyer.token)
    assert [e["code"] for e in result.data["bookInstallation"]["errors"]] == ["NOT_FOUND"]
    asked = await f.trade_in(w, line.id)
    confirm = await api(
        CONFIRM, {"i": {"appointmentId": f.gid("TradeIn", asked.id)}}, token=w.seller.token
    )
    assert confirm.data["confirmInstallation"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["appointmentId"]}
    ]


async def test_the_slot_list_is_for_signed_in_viewers_and_matches_the_rule(
    api, clock: Clock
) -> None:
    w = await f.world()
    assert (await api(SLOTS)).error_codes == ["UNAUTHENTICATED"]
    slots = (await api(SLOTS, token=w.buyer.token)).data["installationSlots"]
    assert [(s["start"], s["end"]) for s in slots] == [
        (start.isoformat(), end.isoformat())
        for start, end in bulky.open_slots(clock.at, (await _installation_rule()))
    ]


async def _installation_rule() -> dict:
    from pinzhi.services import rules

    return (await rules.current("bulky_goods")).content["installation"]


PAGE = """
query($first: Int!) { installationAppointments(first: $first) { nodes {
  id state provider { name } order { id state } orderLine { quantity product { title } }
} } }"""


async def test_a_page_of_appointments_costs_the_same_sql_for_2_and_6(api, clock: Clock) -> None:
    """Decision 7 (no N+1): appointments with their provider, order, line and product
    cost fixed statements at any page size."""
    w = await f.world()
    for _ in range(6):
        _, line = await f.bulky_order(w, "shipped")
        await f.installation(w, line.id, f.slot(clock.at))
    await api.warm(w.seller.token)
    counts = {}
    for size in (2, 6):
        with count_sql() as sql:
            result = await api(PAGE, {"first": size}, token=w.seller.token)
        nodes = result.data["installationAppointments"]["nodes"]
        assert len(nodes) == size and all(n["orderLine"]["product"]["title"] for n in nodes)
        counts[size] = sql.count
    assert counts[2] == counts[6], counts
