"""The measured scenarios: a GraphQL document, its variables, the viewer and the floor route.

The GraphQL server and the floor receive the same POST body; the floor ignores the query
text and answers the equivalent hand-written SQL (bench/floor.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pinzhi.bench.plan import PLACE_ORDER_MERCHANTS, PRODUCTS_PER_MERCHANT
from pinzhi.schema.base import to_global_id

TYPENAME = "{ __typename }"

PRODUCTS = """query Products($first: Int!) {
  products(first: $first) {
    edges { node { id title price { amountMinor currency } merchant { name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

MERCHANT_ORDERS = """query MerchantOrders($first: Int!) {
  orders(first: $first) {
    edges { node {
      id state total { amountMinor currency } createdAt
      lines {
        quantity unitPrice { amountMinor currency }
        product { id title price { amountMinor currency } merchant { name } }
      }
      payment { id state amount { amountMinor currency } }
      shipment { id state trackingNumber }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

REGULATOR_COMPLAINTS = """query Complaints($first: Int!) {
  complaints(first: $first) {
    edges { node {
      id state description createdAt
      order { id state total { amountMinor currency } }
      merchant { id name }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

PLACE_ORDER = """mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id state total { amountMinor currency } }
    errors { code field message }
  }
}"""

RECIPIENT = {"name": "王小明", "phone": "13800138000", "address": "浙江省杭州市西湖区文三路 90 号"}


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    viewer: str  # a key of plan.VIEWER_EMAILS
    query: str
    floor_path: str
    page_sizes: tuple[int, ...] = ()  # measured for SQL counts; the load runs use the last
    mutation: bool = False
    # Fields whose values legitimately differ between two executions (new ids).
    volatile: tuple[str, ...] = field(default_factory=tuple)

    def bodies(self, page_size: int | None = None) -> list[bytes]:
        """The POST bodies a load run cycles through."""
        if self.mutation:
            return [_body(self.query, {"input": line}) for line in place_order_inputs()]
        if not self.page_sizes:
            return [_body(self.query, {})]
        return [_body(self.query, {"first": page_size or self.page_sizes[-1]})]


def _body(query: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


def place_order_inputs() -> list[dict[str, Any]]:
    """100 two-line orders over 10 merchants' never-ending stock; product ids ascend
    within an order, so concurrent orders never lock rows in opposite orders."""
    inputs = []
    for merchant in PLACE_ORDER_MERCHANTS:
        first = (merchant - 1) * PRODUCTS_PER_MERCHANT + 1
        for j in range(PRODUCTS_PER_MERCHANT // 2):
            a, b = first + 2 * j, first + 2 * j + 1
            lines = [
                {"productId": to_global_id("Product", a), "quantity": 1},
                {"productId": to_global_id("Product", b), "quantity": 2},
            ]
            inputs.append({"lines": lines, "recipient": RECIPIENT})
    return inputs


SCENARIOS: list[Scenario] = [
    Scenario("typename", "1. { __typename }", "consumer", TYPENAME, "/floor/typename"),
    Scenario(
        "products",
        "2. products page (merchant name, price)",
        "consumer",
        PRODUCTS,
        "/floor/products",
        (1, 10, 50),
    ),
    Scenario(
        "merchant_orders",
        "3. merchant's orders page (lines → product, payment, shipment)",
        "merchant",
        MERCHANT_ORDERS,
        "/floor/merchant_orders",
        (1, 10, 50),
    ),
    Scenario(
        "complaints",
        "4. regulator's complaints page (order, merchant)",
        "regulator",
        REGULATOR_COMPLAINTS,
        "/floor/complaints",
        (1, 10, 50),
    ),
    Scenario(
        "place_order",
        "5. placeOrder (consumer, 2 lines)",
        "consumer",
        PLACE_ORDER,
        "/floor/place_order",
        mutation=True,
        volatile=("id",),
    ),
]

BY_KEY = {s.key: s for s in SCENARIOS}
