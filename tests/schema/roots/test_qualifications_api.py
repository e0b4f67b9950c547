"""A merchant taken from nothing to A+ through the API alone (QS 6.1.1, 6.1.2).

Admin staff open the shop; its merchant submits licences, brands and its deposit; compliance
staff verify them; it lists a product; registered consumers buy, the payment provider
confirms, the merchant ships, the carrier delivers, consumers confirm and rate. Before the
submissions are verified the same perfect operations cannot lift it above B.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pinzhi.models import ProviderKind, StaffDuty
from pinzhi.services import jobs
from tests import factories as f
from tests.helpers import GraphQLClient

LATER = (datetime.now(UTC) + timedelta(days=365)).isoformat()
SCAN = [{"description": "证照扫描件 / scan", "url": "https://docs.test/scan.pdf"}]
PASSWORD = "a long enough password"
ORDERS = 20


async def _ok(api: GraphQLClient, document: str, variables: dict, token: str | None) -> dict:
    data = (await api(document, variables, token=token)).data
    payload = next(iter(data.values()))
    assert payload.get("errors", []) == [], payload
    return payload


async def _login(api: GraphQLClient, email: str) -> str:
    payload = await _ok(
        api,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code } } }",
        {"i": {"email": email, "password": PASSWORD}},
        None,
    )
    return payload["accessToken"]


async def _live_grade(api: GraphQLClient, merchant_id: str, token: str) -> dict:
    query = """query($id: ID!) { node(id: $id) { ... on Merchant {
        liveGrade { level score provisional dimensions { name score } } } } }"""
    return (await api(query, {"id": merchant_id}, token=token)).data["node"]["liveGrade"]


async def _sell(api: GraphQLClient, seller: str, product_id: str, w: dict) -> None:
    """One order walked from placement to a five-star rating, each step by its party."""
    n = w["n"] = w["n"] + 1
    email = f"buyer{n}@test.pinzhi"
    await _ok(
        api,
        "mutation($i: RegisterConsumerInput!) { registerConsumer(input: $i) { errors { code } } }",
        {"i": {"email": email, "password": PASSWORD, "name": "买家", "phone": "13812345678"}},
        None,
    )
    buyer = await _login(api, email)
    placed = await _ok(
        api,
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code } } }",
        {
            "i": {
                "lines": [{"productId": product_id, "quantity": 1}],
                "recipient": {
                    "name": "买家",
                    "phone": "13812345678",
                    "address": "浙江省杭州市西湖区",
                },
                "idempotencyKey": f"walk-order-{n:04d}",
            }
        },
        buyer,
    )
    order_id = placed["order"]["id"]
    paid = await _ok(
        api,
        "mutation($i: PayOrderInput!) { payOrder(input: $i) { payment { id } errors { code } } }",
        {"i": {"orderId": order_id, "providerId": w["payer"], "idempotencyKey": f"pay-{n:06d}"}},
        buyer,
    )
    await _ok(
        api,
        "mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { errors { code } } }",
        {
            "i": {
                "paymentId": paid["payment"]["id"],
                "succeeded": True,
                "providerReference": f"P{n}",
            }
        },
        w["payer_key"],
    )
    shipped = await _ok(
        api,
        "mutation($i: ShipOrderInput!) { shipOrder(input: $i) "
        "{ shipment { id } errors { code } } }",
        {"i": {"orderId": order_id, "providerId": w["carrier"], "trackingNumber": f"SF{n:08d}"}},
        seller,
    )
    await _ok(
        api,
        "mutation($i: RecordTrackingEventInput!) { recordTrackingEvent(input: $i) "
        "{ errors { code } } }",
        {
            "i": {
                "shipmentId": shipped["shipment"]["id"],
                "eventId": f"EV-{n}",
                "status": "DELIVERED",
                "occurredAt": datetime.now(UTC).isoformat(),
            }
        },
        w["carrier_key"],
    )
    await _ok(
        api,
        "mutation($id: ID!) { confirmReceipt(orderId: $id) { errors { code } } }",
        {"id": order_id},
        buyer,
    )
    await _ok(
        api,
        "mutation($i: SubmitFeedbackInput!) { submitFeedback(input: $i) { errors { code } } }",
        {"i": {"subjectType": "ORDER", "subjectId": order_id, "score": 5, "comment": "很好"}},
        buyer,
    )


async def _submit(api: GraphQLClient, seller: str, officer: str, name: str, item: dict) -> None:
    """A submission by the merchant, verified by compliance staff."""
    input_type = name[0].upper() + name[1:] + "Input"
    selection = f"{SELECT[name]} errors {{ code }}"
    document = f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ {selection} }} }}"
    payload = await _ok(api, document, {"i": {**item, "evidence": SCAN}}, seller)
    submission_id = next(v["id"] for v in payload.values() if isinstance(v, dict))
    reviewed = await _ok(
        api,
        "mutation($i: ReviewSubmissionInput!) { reviewSubmission(input: $i) "
        "{ submission { state } errors { code field } } }",
        {"i": {"submissionId": submission_id, "decision": "VERIFIED", "note": "核验无误"}},
        officer,
    )
    assert reviewed["submission"]["state"] == "VERIFIED"


SELECT = {
    "submitMerchantLicence": "licence { id }",
    "submitBrandRegistration": "brandRegistration { id }",
    "submitDepositPayment": "depositPayment { id }",
}


async def test_a_merchant_goes_from_nothing_to_a_plus_through_the_api_alone(api) -> None:
    admin = await f.staff(StaffDuty.ADMIN)
    officer = await f.compliance_officer()
    payer, _, payer_key = await f.provider(ProviderKind.PAYMENT)
    carrier, _, carrier_key = await f.provider(ProviderKind.LOGISTICS)
    onboarded = await _ok(
        api,
        "mutation($i: OnboardMerchantInput!) { onboardMerchant(input: $i) "
        "{ merchant { id } errors { code field } } }",
        {
            "i": {
                "name": "青禾食品旗舰店",
                "depositRequiredMinor": 500000,
                "email": "owner@qinghe.test",
                "password": PASSWORD,
                "contactName": "王店长",
                "contactPhone": "13800001111",
            }
        },
        admin.token,
    )
    merchant_id = onboarded["merchant"]["id"]
    seller = await _login(api, "owner@qinghe.test")
    product = await _ok(
        api,
        "mutation($i: CreateProductInput!) { createProduct(input: $i) "
        "{ product { id } errors { code field } } }",
        {
            "i": {
                "title": "青禾 有机燕麦片 1kg",
                "category": "food",
                "priceMinor": 3990,
                "stock": 500,
                "attributes": {"brand": "青禾", "origin": "内蒙古", "shelf_life": "12个月"},
            }
        },
        seller,
    )
    world = {
        "n": 0,
        "payer": f.gid("ServiceProvider", payer.id),
        "payer_key": payer_key,
        "carrier": f.gid("ServiceProvider", carrier.id),
        "carrier_key": carrier_key,
    }
    for _ in range(ORDERS):
        await _sell(api, seller, product["product"]["id"], world)

    # Perfect operations, nothing proven yet: qualification 0, deposit short.
    before = await _live_grade(api, merchant_id, seller)
    assert before["provisional"] is False
    assert before["level"] == "B", before
    dims = {d["name"]: d["score"] for d in before["dimensions"]}
    assert (dims["operation"], dims["service"], dims["qualification"]) == (100.0, 100.0, 0.0)

    for kind, number in (("BUSINESS_LICENCE", "91330100MA2"), ("FOOD_BUSINESS_LICENCE", "JY133")):
        await _submit(
            api,
            seller,
            officer.token,
            "submitMerchantLicence",
            {"kind": kind, "number": number, "validUntil": LATER},
        )
    for brand, number in (("青禾", "TM-0001"), ("禾田", "TM-0002")):
        await _submit(
            api,
            seller,
            officer.token,
            "submitBrandRegistration",
            {
                "brand": brand,
                "relation": "REGISTERED",
                "registrationNumber": number,
                "validUntil": LATER,
            },
        )
    await _submit(
        api,
        seller,
        officer.token,
        "submitDepositPayment",
        {"amountMinor": 500000, "reference": "ICBC-20261201-0001"},
    )

    after = await _live_grade(api, merchant_id, seller)
    assert after["level"] == "A+", after
    assert {d["name"]: d["score"] for d in after["dimensions"]} == {
        "brand": 100.0,
        "qualification": 100.0,
        "operation": 100.0,
        "credit": 100.0,
        "service": 100.0,
    }
    await jobs.run("regrade", progress=lambda _: None)
    public = await api(
        "query($id: ID!) { node(id: $id) { ... on Merchant { grade { level } } } }",
        {"id": merchant_id},
    )
    assert public.data["node"]["grade"]["level"] == "A+"
