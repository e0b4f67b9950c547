"""No N+1 (architecture decision 7): a nested list costs the same SQL at any page size."""

from __future__ import annotations

import pytest

from pinzhi.models import Order, OrderLine, Payment, PaymentState, Product, Shipment, StaffDuty
from tests import factories as f
from tests.helpers import count_sql

NESTED_ORDERS = """
query($first: Int!) {
  orders(first: $first) {
    edges { node {
      id state total { amountMinor }
      recipient { name phone address }
      lines { quantity product { title merchant { name } } }
      payment { state amount { amountMinor } }
      shipment { state trackingNumber }
    } }
    pageInfo { hasNextPage }
  }
}"""


async def _orders_in_bulk(w: f.World, n: int) -> None:
    """Orders with lines, payments and shipments, inserted directly for speed."""
    products = [w.item, *[await f.product(w.shop) for _ in range(2)]]
    await Order.bulk_create(
        [
            Order(
                consumer_id=w.buyer.account.id,
                merchant_id=w.shop.id,
                total_minor=3000,
                currency="CNY",
                recipient_name_enc=_enc("张三"),
                recipient_phone_enc=_enc("13812345678"),
                address_enc=_enc("北京市朝阳区建国路 88 号"),
                state="SHIPPED",
            )
            for _ in range(n)
        ]
    )
    orders = await Order.filter(consumer_id=w.buyer.account.id).order_by("id")
    assert len(orders) == n
    await OrderLine.bulk_create(
        [
            OrderLine(order_id=o.id, product_id=p.id, quantity=1, unit_price_minor=1000)
            for o in orders
            for p in products
        ]
    )
    await Payment.bulk_create(
        [
            Payment(
                order_id=o.id,
                provider_id=w.payer.id,
                consumer_id=o.consumer_id,
                merchant_id=o.merchant_id,
                amount_minor=3000,
                currency="CNY",
                idempotency_key=f"bulk-{o.id:08d}",
                state=PaymentState.SUCCEEDED,
            )
            for o in orders
        ]
    )
    await Shipment.bulk_create(
        [
            Shipment(
                order_id=o.id,
                provider_id=w.carrier.id,
                consumer_id=o.consumer_id,
                merchant_id=o.merchant_id,
                tracking_number=f"SD{o.id:010d}",
            )
            for o in orders
        ]
    )
    assert await Product.filter(merchant_id=w.shop.id).count() == 3


def _enc(text: str) -> str:
    from pinzhi.auth.crypto import encrypt

    return encrypt(text)


async def _count_for(api, w: f.World, viewer_token: str, page: int) -> tuple[int, int]:
    with count_sql() as sql:
        result = await api(NESTED_ORDERS, {"first": page}, token=viewer_token)
    edges = result.data["orders"]["edges"]
    assert all(len(e["node"]["lines"]) == 3 for e in edges)
    assert all(e["node"]["payment"] and e["node"]["shipment"] for e in edges)
    return len(edges), sql.count


@pytest.mark.parametrize("viewer", ["consumer", "merchant"])
async def test_nested_orders_cost_the_same_sql_for_1_10_and_100_orders(api, viewer) -> None:
    w = await f.world()
    await _orders_in_bulk(w, 100)
    token = w.buyer.token if viewer == "consumer" else w.seller.token
    await api.warm(token)
    counts = {}
    for page in (1, 10, 100):
        returned, statements = await _count_for(api, w, token, page)
        assert returned == page
        counts[page] = statements
    assert counts[1] == counts[10] == counts[100], counts
    # orders, lines, products, merchants, payments, shipments; the merchant also reads
    # recipients whole, which costs one insert into the access log (QS 9.4.1).
    assert counts[1] == (6 if viewer == "consumer" else 7), counts


# Staff posts and their qualification (QS 9.3.1, 9.3.3)
STAFF_PAGE = """
query($first: Int!) {
  staffMembers(first: $first) { nodes {
    name team duties experienceMonths posts { post } training { passed course { topic } }
    qualifications { post eligible refusals { code } }
  } }
  staffPerformance(first: $first) { nodes { name score closure { rate } response { share } } }
}"""


async def test_staff_records_and_performance_cost_the_same_sql_for_2_and_6_staff(api) -> None:
    """QS 9.3.1, 9.3.3: a page of staff records with posts, training and qualifications,
    and their performance, in the same statements at any page size."""
    admin = await f.staff(StaffDuty.ADMIN)
    for n in range(6):
        agent = await f.qualified_staff(admin, team=f"组 {n % 2}")
        await f.on_post(admin, agent, "ONLINE_SERVICE", on_duty=n % 2 == 0)
    await api.warm(admin.token)
    counts = {}
    for page in (2, 6):
        with count_sql() as sql:
            result = await api(STAFF_PAGE, {"first": page}, token=admin.token)
        assert len(result.data["staffMembers"]["nodes"]) == page
        assert len(result.data["staffPerformance"]["nodes"]) == page
        counts[page] = sql.count
    assert counts[2] == counts[6], counts
    # Both pages; the records' accounts, posts, enrolments, courses and rules; the seven of
    # performance; the access-log row for the names read whole by the admin (QS 9.4.1).
    assert counts[2] == 15, counts
