"""The whole normal path through the API, as each role would walk it (QS 9.1.1, 9.1.2)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests import factories as f

PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id state total { amountMinor currency } }
    errors { code field message } }
}"""
PAY = """
mutation($input: PayOrderInput!) {
  payOrder(input: $input) { payment { id state } created errors { code field } }
}"""
CONFIRM = """
mutation($input: ConfirmPaymentInput!) {
  confirmPayment(input: $input) { payment { id state order { id } } errors { code } }
}"""
SHIP = """
mutation($input: ShipOrderInput!) {
  shipOrder(input: $input) { shipment { id state trackingNumber } errors { code field } }
}"""
TRACK = """
mutation($input: RecordTrackingEventInput!) {
  recordTrackingEvent(input: $input) { event { eventId status } replayed
    shipment { state destination { name phone address } } errors { code field } }
}"""
RECEIPT = """
mutation($id: ID!) { confirmReceipt(orderId: $id) { order { state } errors { code } } }"""
FEEDBACK = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { feedback { score subjectType } errors { code field } }
}"""
TRAIL = """
query($id: ID!) {
  auditTrail(entityId: $id) { seq action fromState toState actorRole }
  verifyAuditTrail(entityId: $id) { valid checked firstBroken { seq } }
}"""


async def test_order_walks_from_placement_to_feedback(api) -> None:
    w = await f.world()
    placed = await api(
        PLACE,
        {
            "input": {
                "lines": [{"productId": f.gid("Product", w.item.id), "quantity": 2}],
                "recipient": {
                    "name": "张三",
                    "phone": "13812345678",
                    "address": "北京市朝阳区建国路 88 号",
                },
            }
        },
        token=w.buyer.token,
    )
    order = placed.data["placeOrder"]["order"]
    assert placed.data["placeOrder"]["errors"] == []
    assert order["state"] == "PENDING_PAYMENT"
    assert order["total"] == {"amountMinor": 2000, "currency": "CNY"}

    paid = await api(
        PAY,
        {
            "input": {
                "orderId": order["id"],
                "providerId": f.gid("ServiceProvider", w.payer.id),
                "idempotencyKey": "pay-once-0001",
            }
        },
        token=w.buyer.token,
    )
    payment = paid.data["payOrder"]["payment"]
    assert payment["state"] == "PENDING" and paid.data["payOrder"]["created"] is True

    confirmed = await api(
        CONFIRM,
        {"input": {"paymentId": payment["id"], "succeeded": True, "providerReference": "SP-1"}},
        token=w.payer_key,
    )
    assert confirmed.data["confirmPayment"]["payment"]["state"] == "SUCCEEDED"
    # The payment provider may not see the order itself: the nested edge is scoped.
    assert confirmed.data["confirmPayment"]["payment"]["order"] is None

    shipped = await api(
        SHIP,
        {
            "input": {
                "orderId": order["id"],
                "providerId": f.gid("ServiceProvider", w.carrier.id),
                "trackingNumber": "SD0000000001",
            }
        },
        token=w.seller.token,
    )
    shipment = shipped.data["shipOrder"]["shipment"]
    assert shipment["state"] == "CREATED"

    for i, status in enumerate(["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]):
        tracked = await api(
            TRACK,
            {
                "input": {
                    "shipmentId": shipment["id"],
                    "eventId": f"E{i}",
                    "status": status,
                    "occurredAt": datetime.now(UTC).isoformat(),
                    "location": "杭州",
                }
            },
            token=w.carrier_key,
        )
        result = tracked.data["recordTrackingEvent"]
        assert result["errors"] == [] and result["shipment"]["state"] == status
    # The assigned carrier sees where to deliver, whole.
    assert result["shipment"]["destination"]["phone"] == "13812345678"

    received = await api(RECEIPT, {"id": order["id"]}, token=w.buyer.token)
    assert received.data["confirmReceipt"]["order"]["state"] == "COMPLETED"

    rated = await api(
        FEEDBACK,
        {"input": {"subjectType": "ORDER", "subjectId": order["id"], "score": 5}},
        token=w.buyer.token,
    )
    assert rated.data["submitFeedback"]["feedback"]["score"] == 5

    trail = await api(TRAIL, {"id": order["id"]}, token=w.buyer.token)
    actions = [e["action"] for e in trail.data["auditTrail"]]
    assert actions == ["placed", "paid", "shipped", "delivered", "receipt_confirmed"]
    assert trail.data["verifyAuditTrail"] == {"valid": True, "checked": 5, "firstBroken": None}
