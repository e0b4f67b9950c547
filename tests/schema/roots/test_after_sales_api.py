"""After-sales over HTTP, as each party walks it (QS 9.2.1, 9.2.3, 9.7.3-9.7.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.models import (
    AfterSalesKind,
    AfterSalesLine,
    AfterSalesRequest,
    Order,
    OrderLine,
    Payment,
    PaymentState,
)
from pinzhi.services import accounts
from tests import factories as f
from tests.helpers import count_sql

OPEN = """
mutation($i: OpenAfterSalesRequestInput!) {
  openAfterSalesRequest(input: $i) {
    request { id state kind responseDueAt ruleVersion amount { amountMinor } benefits }
    errors { code field message }
  }
}"""
DECIDE = """
mutation($i: DecideAfterSalesRequestInput!) {
  decideAfterSalesRequest(input: $i) {
    request { id state firstResponseAt respondedOnTime } errors { code field }
  }
}"""
SHIP_RETURN = """
mutation($i: AfterSalesShipmentInput!) {
  shipReturn(input: $i) { returnShipment { id state } request { state } errors { code field } }
}"""
TRACK = """
mutation($i: RecordTrackingEventInput!) {
  recordTrackingEvent(input: $i) {
    event { eventId status } returnShipment { id state } shipment { id } errors { code field }
  }
}"""
RECEIVED = """
mutation($id: ID!) { confirmReturnReceived(requestId: $id) {
  request { state refunds { id state amount { amountMinor } } } errors { code field } } }"""
CONFIRM_REFUND = """
mutation($i: ConfirmRefundInput!) {
  confirmRefund(input: $i) {
    refund { state } payment { state refunded { amountMinor } } replayed errors { code field }
  }
}"""
REQUESTS = "{ afterSalesRequests(first: 10) { nodes { id state } } }"
QUEUE = """
query($first: Int, $after: String) {
  afterSalesQueue(first: $first, after: $after) {
    nodes { id priority responseDueAt }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _open_vars(order_id: int, **change: object) -> dict:
    base = {
        "orderId": f.gid("Order", order_id),
        "kind": "RETURN_REFUND",
        "reason": "尺码不合适 wrong size",
        "amountMinor": 1000,
        "evidence": ["uploads/photo-1.jpg"],
    }
    return {"i": {**base, **change}}


async def test_each_party_walks_a_return_and_refund(api) -> None:
    """QS 9.2.3: the consumer opens, the merchant approves within the limit, the consumer
    ships it back, the carrier scans it, the merchant confirms receipt, the payment
    provider executes the refund; each party sees what is theirs and no more."""
    w = await f.world()
    order, _ = await f.delivered_order(w)

    opened = (await api(OPEN, _open_vars(order.id), token=w.buyer.token)).data
    request = opened["openAfterSalesRequest"]["request"]
    assert opened["openAfterSalesRequest"]["errors"] == []
    assert (request["state"], request["kind"]) == ("REQUESTED", "RETURN_REFUND")
    rid = request["id"]

    queue = (await api(QUEUE, {"first": 10}, token=w.seller.token)).data["afterSalesQueue"]
    assert [n["id"] for n in queue["nodes"]] == [rid]
    other_queue = (await api(QUEUE, {"first": 10}, token=w.other_seller.token)).data
    assert other_queue["afterSalesQueue"]["nodes"] == []
    other = await api(REQUESTS, token=w.other_buyer.token)
    assert other.data["afterSalesRequests"]["nodes"] == []

    decided = await api(DECIDE, {"i": {"requestId": rid, "approve": True}}, token=w.seller.token)
    body = decided.data["decideAfterSalesRequest"]
    assert body["request"]["state"] == "APPROVED" and body["request"]["respondedOnTime"] is True

    shipped = await api(
        SHIP_RETURN,
        {
            "i": {
                "requestId": rid,
                "providerId": f.gid("ServiceProvider", w.carrier.id),
                "trackingNumber": "RT-HTTP-0001",
            }
        },
        token=w.buyer.token,
    )
    back = shipped.data["shipReturn"]
    assert back["request"]["state"] == "RETURN_IN_TRANSIT"

    scan = {
        "shipmentId": back["returnShipment"]["id"],
        "eventId": "RT-HTTP-EV-1",
        "status": "DELIVERED",
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    tracked = await api(TRACK, {"i": scan}, token=w.carrier_key)
    event = tracked.data["recordTrackingEvent"]
    assert event["errors"] == [] and event["returnShipment"]["state"] == "DELIVERED"
    assert event["shipment"] is None
    hidden = await api("query($id: ID!) { node(id: $id) { id } }", {"id": rid}, token=w.carrier_key)
    assert hidden.data["node"] is None  # the carrier sees the return, not the request
    foreign = await api(TRACK, {"i": {**scan, "eventId": "X-1"}}, token=w.other_carrier_key)
    assert foreign.data["recordTrackingEvent"]["errors"][0]["code"] == "NOT_FOUND"

    received = (await api(RECEIVED, {"id": rid}, token=w.seller.token)).data
    refunds = received["confirmReturnReceived"]["request"]["refunds"]
    assert [(r["state"], r["amount"]["amountMinor"]) for r in refunds] == [("REQUESTED", 1000)]

    listed = await api("{ refunds(first: 5) { nodes { id } } }", token=w.payer_key)
    assert [n["id"] for n in listed.data["refunds"]["nodes"]] == [refunds[0]["id"]]
    assert (await api("{ refunds { nodes { id } } }", token=w.other_payer_key)).data["refunds"][
        "nodes"
    ] == []
    confirm = {"refundId": refunds[0]["id"], "succeeded": True, "providerReference": "RF-HTTP"}
    confirmed = (await api(CONFIRM_REFUND, {"i": confirm}, token=w.payer_key)).data
    assert confirmed["confirmRefund"]["refund"]["state"] == "SUCCEEDED"
    assert confirmed["confirmRefund"]["payment"]["refunded"]["amountMinor"] == 1000

    mine = (await api(REQUESTS, token=w.buyer.token)).data["afterSalesRequests"]["nodes"]
    assert mine == [{"id": rid, "state": "REFUNDED"}]
    seen = (await api(REQUESTS, token=w.regulator.token)).data["afterSalesRequests"]["nodes"]
    assert [n["id"] for n in seen] == [rid]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amountMinor": 1001}, "AMOUNT_NOT_REFUNDABLE", ["amount"]),
        ({"reason": "坏\u0000了"}, None, None),
        ({"reason": "坏\u0007了"}, "INVALID_INPUT", ["reason"]),
        ({"reason": "x" * 100_000}, None, None),
        ({"kind": "REFUND_BEFORE_SHIPMENT"}, "KIND_NOT_ALLOWED", ["kind"]),
        ({"orderId": "not-an-id"}, "NOT_FOUND", ["orderId"]),
        ({"lines": [{"orderLineId": "T3JkZXJMaW5lOjk5OTk5", "quantity": 1}]}, "NOT_FOUND", None),
    ],
)
async def test_bad_input_over_http_is_coded_and_changes_nothing(api, change, code, field):
    w = await f.world()
    order, _ = await f.delivered_order(w)

    result = await api(OPEN, _open_vars(order.id, **change), token=w.buyer.token)

    assert await AfterSalesRequest.all().count() == 0
    if code is None:  # a NUL byte or an oversized string: refused before any resolver
        assert result.error_codes == ["BAD_USER_INPUT"], result.body
        return
    errors = result.data["openAfterSalesRequest"]["errors"]
    assert errors[0]["code"] == code, errors
    if field is not None:
        assert errors[0]["field"] == field


@pytest.mark.parametrize("amount", [2**31, -(2**31) - 1, 1.5, "1000"])
async def test_an_amount_that_is_no_32_bit_integer_is_a_validation_error(api, amount):
    w = await f.world()
    order, _ = await f.delivered_order(w)

    result = await api(OPEN, _open_vars(order.id, amountMinor=amount), token=w.buyer.token)

    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert await AfterSalesRequest.all().count() == 0


async def test_a_second_request_on_the_same_order_at_once_opens_one(api) -> None:
    """Two clients at once: the order's lock lets one request claim the lines."""
    import asyncio

    w = await f.world()
    order, _ = await f.delivered_order(w)

    results = await asyncio.gather(
        *(api(OPEN, _open_vars(order.id), token=w.buyer.token) for _ in range(2))
    )

    payloads = [r.data["openAfterSalesRequest"] for r in results]
    assert sorted(bool(p["request"]) for p in payloads) == [False, True]
    refused = next(p for p in payloads if not p["request"])
    assert refused["errors"][0]["code"] == "REQUEST_EXISTS"
    assert await AfterSalesRequest.all().count() == 1


# --- The queue (QS 9.2.1) --------------------------------------------------------------------


async def _requests_in_bulk(w: f.World, n: int, *, priorities: list[int] | None = None) -> None:
    """Delivered orders with one request each, inserted directly for speed."""
    await Order.bulk_create(
        [
            Order(
                consumer_id=w.buyer.account.id,
                merchant_id=w.shop.id,
                total_minor=1000,
                currency="CNY",
                recipient_name_enc="",
                recipient_phone_enc="",
                address_enc="",
                state="DELIVERED",
            )
            for _ in range(n)
        ]
    )
    placed = await Order.filter(merchant_id=w.shop.id).order_by("id")
    await OrderLine.bulk_create(
        [
            OrderLine(order_id=o.id, product_id=w.item.id, quantity=1, unit_price_minor=1000)
            for o in placed
        ]
    )
    await Payment.bulk_create(
        [
            Payment(
                order_id=o.id,
                provider_id=w.payer.id,
                consumer_id=o.consumer_id,
                merchant_id=o.merchant_id,
                amount_minor=1000,
                currency="CNY",
                idempotency_key=f"bulk-{o.id:08d}",
                state=PaymentState.SUCCEEDED,
            )
            for o in placed
        ]
    )
    start = datetime.now(UTC).replace(microsecond=0)
    await AfterSalesRequest.bulk_create(
        [
            AfterSalesRequest(
                order_id=o.id,
                consumer_id=o.consumer_id,
                merchant_id=o.merchant_id,
                kind=AfterSalesKind.RETURN_REFUND,
                reason="批量",
                amount_minor=1000,
                currency="CNY",
                response_due_at=start + timedelta(minutes=(i * 7) % 50),
                rule_version=1,
                priority=(priorities or [0])[i % len(priorities or [0])],
            )
            for i, o in enumerate(placed)
        ]
    )
    lines = {
        line.order_id: line for line in await OrderLine.filter(order_id__in=[o.id for o in placed])
    }
    requests = await AfterSalesRequest.filter(merchant_id=w.shop.id)
    await AfterSalesLine.bulk_create(
        [
            AfterSalesLine(request_id=r.id, order_line_id=lines[r.order_id].id, quantity=1)
            for r in requests
        ]
    )


QUEUE_PAGE = """
query($first: Int!) {
  afterSalesQueue(first: $first) {
    edges { node {
      id kind state priority responseDueAt overdue amount { amountMinor }
      order { id state }
      lines { quantity orderLine { id quantity product { title } } }
      returnShipments { trackingNumber }
      refunds { state }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_the_merchants_queue_page_costs_the_same_sql_for_1_10_and_100(api) -> None:
    """Decision 7 (no N+1): the merchant's after-sales queue with each request's order,
    lines, products, returns and refunds costs fixed statements at any page size."""
    w = await f.world()
    await _requests_in_bulk(w, 100)
    await api.warm(w.seller.token)
    counts = {}
    for size in (1, 10, 100):
        with count_sql() as sql:
            result = await api(QUEUE_PAGE, {"first": size}, token=w.seller.token)
        edges = result.data["afterSalesQueue"]["edges"]
        assert len(edges) == size
        assert all(e["node"]["lines"][0]["orderLine"]["product"]["title"] for e in edges)
        counts[size] = sql.count
    assert counts[1] == counts[10] == counts[100], counts
    # requests; orders; request lines; order lines; products; returns; refunds
    assert counts[1] == 7, counts


async def test_the_queue_orders_by_priority_then_deadline_then_age_and_pages(api) -> None:
    """QS 9.2.1: the published order (after_sales.queue): premium and accessibility first,
    then the nearest deadline; walking it by cursor gives every request exactly once."""
    w = await f.world()
    await _requests_in_bulk(w, 30, priorities=[0, 1, 2])
    seen: list[tuple[int, str]] = []
    after = None
    while True:
        page = (await api(QUEUE, {"first": 7, "after": after}, token=w.seller.token)).data
        nodes = page["afterSalesQueue"]["nodes"]
        seen.extend((n["priority"], n["responseDueAt"]) for n in nodes)
        if not page["afterSalesQueue"]["pageInfo"]["hasNextPage"]:
            break
        after = page["afterSalesQueue"]["pageInfo"]["endCursor"]
    assert len(seen) == 30
    assert seen == sorted(seen, key=lambda item: (-item[0], item[1]))
    assert [p for p, _ in seen[:10]] == [2] * 10


async def test_a_consumer_with_an_accessibility_profile_is_served_first(api) -> None:
    """QS 9.2.1: an accessibility profile puts the consumer's later requests ahead of
    earlier ones of others; the queue shows the priority, never the profile."""
    w = await f.world()
    first, _ = await f.delivered_order(w)
    await api(OPEN, _open_vars(first.id), token=w.buyer.token)
    helped = await f.consumer("王五", "13700000000")
    await accounts.set_accessibility_profile(helped.viewer, True)
    w2 = f.World(**{**w.__dict__, "buyer": helped})
    second, _ = await f.delivered_order(w2)
    await api(OPEN, _open_vars(second.id), token=helped.token)

    queue = (await api(QUEUE, {"first": 10}, token=w.agent.token)).data["afterSalesQueue"]

    assert [n["priority"] for n in queue["nodes"]] == [1, 0]
    profile = await api(
        "query($id: ID!) { node(id: $id) { ... on Account { accessibilityProfile } } }",
        {"id": helped.gid},
        token=w.agent.token,
    )
    assert profile.data["node"] in (None, {"accessibilityProfile": None})
    own = await api("{ me { accessibilityProfile } }", token=helped.token)
    assert own.data["me"]["accessibilityProfile"] is True


async def test_roles_outside_the_queue_are_refused_it(api) -> None:
    w = await f.world()
    for token in (w.buyer.token, w.carrier_key, w.regulator.token):
        result = await api(QUEUE, {"first": 1}, token=token)
        assert result.error_codes == ["FORBIDDEN"], result.body
