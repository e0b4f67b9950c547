"""The real schema on a small real world, through two apps: ``plans=True`` (the planning
executor, schema/execution.py) and ``plans=False`` (graphql-core's own). The benchmark
documents and others (orders with recipients, payments and tracking events, ``node`` with
inline fragments, fragments, aliases and ``@include``, permission errors, invalid
arguments) for every kind of viewer must give the same response bytes. The synthetic
cases of every branch are in tests/schema/test_execution.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiocache.base import BaseCache

from pinzhi.bench.scenarios import MERCHANT_ORDERS, PRODUCTS, REGULATOR_COMPLAINTS
from pinzhi.schema.execution import PlanExecutor
from tests import factories as f

ORDERS_IN_FULL = """query Orders($first: Int!) {
  orders(first: $first) {
    edges { cursor node {
      id state createdAt paidAt shippedAt deliveredAt cancelledAt
      total { amountMinor currency }
      recipient { name phone address }
      merchant { id name grade { level } }
      lines { quantity unitPrice { amountMinor } product { id title stock merchant { name } } }
      payment { id state providerReference provider { name kind } }
      payments { id state amount { amountMinor currency } order { id state } }
      shipment {
        id state trackingNumber provider { name }
        destination { name phone address }
        trackingEvents { eventId status location description occurredAt recordedAt }
      }
    } }
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}"""

NODES = """query Nodes($order: ID!, $product: ID!, $merchant: ID!, $shipment: ID!,
                   $payment: ID!, $complaint: ID!, $account: ID!) {
  order: node(id: $order) { __typename id ... on Order { state lines { quantity }
    shipment { trackingNumber trackingEvents { status } } } }
  product: node(id: $product) { __typename ... on Product { title price { amountMinor }
    merchant { name } gradeDetail { level } isKeyCategory certificates { id } } }
  merchant: node(id: $merchant) { id ... on Merchant { name underKeyControl
    gradeDetail { level } feedbackSummary { count } } }
  shipment: node(id: $shipment) { ... on Shipment { state destination { name phone }
    order { id recipient { name } } } ... on Node { id } }
  payment: node(id: $payment) { ... on Payment { state order { state } provider { kind } } }
  complaint: node(id: $complaint) { ... on Complaint { state description
    order { id } merchant { name } } }
  account: node(id: $account) { ... on Account { email role name phone merchant { name } } }
  missing: node(id: "bm90IGFuIGlk") { id }
}"""

FRAGMENTS = """query Mixed($first: Int!, $withPrice: Boolean!, $noLines: Boolean!) {
  me { __typename id role }
  listed: products(first: $first) { ...Page }
  again: products(first: $first, orderBy: NEWEST) { edges { node { id title } } }
  orders(first: $first) { edges { node {
    ...OrderBits
    lines @skip(if: $noLines) { quantity product { title } }
    lines { product { price @include(if: $withPrice) { amountMinor } } }
    total @include(if: $withPrice) { amountMinor }
  } } }
}
fragment Page on ProductConnection {
  edges { node { id ... on Product { title price @include(if: $withPrice) { currency } } } }
  pageInfo { hasNextPage }
}
fragment OrderBits on Order { id state merchant { ...on Merchant { name } } }"""

PERMISSION = """{ me { id role } piiAccessLog(first: 5) { edges { node { id fieldsRead } } } }"""
PROVIDERS_ONLY = """{ apiKeys { id label } }"""
# Partial data: the nullable guarded field fails alone for an anonymous viewer.
PARTIAL = """query($order: ID!) { products(first: 2) { nodes { id title } }
  verifyAuditTrail(entityId: $order) { valid checked } node(id: $order) { id } }"""
INVALID_VARIABLE = """query($first: Int!) { products(first: $first) { nodes { id } } }"""
INVALID_FIRST = """{ orders(first: 1000) { edges { node { id } } } }"""
INVALID_ENUM = """{ products(orderBy: CHEAPEST) { edges { node { id } } } }"""
INVALID_CURSOR = """{ me { id } complaints(first: 2, after: "???") { edges { node { id } } } }"""

PAGE = {"first": 10}


async def real_world() -> tuple[dict[str, str | None], dict[str, str]]:
    """Orders in every stage, two merchants' products, a complaint; the viewers' tokens and
    the ids for the node query."""
    w = await f.world()
    await f.product(w.other_shop, price=2599)
    paid, payment = await f.paid_order(w, quantity=2)
    await f.shipped_order(w)
    delivered, shipment = await f.delivered_order(w)
    await f.order(w.buyer, w.item, 3)
    await f.other_side_order(w, "delivered")
    complaint = await f.complaint(w.buyer, paid)
    await f.complaint(w.buyer, delivered, "迟到 / late")
    # fmt: off
    tokens: dict[str, str | None] = {
        "anonymous": None, "consumer": w.buyer.token, "merchant": w.seller.token,
        "regulator": w.regulator.token, "staff": w.agent.token,
        "logistics": w.carrier_key, "payment": w.payer_key,
    }
    ids = {
        "order": f.gid("Order", delivered.id), "product": f.gid("Product", w.item.id),
        "merchant": f.gid("Merchant", w.shop.id), "shipment": f.gid("Shipment", shipment.id),
        "payment": f.gid("Payment", payment.id), "complaint": f.gid("Complaint", complaint.id),
        "account": w.seller.gid,
    }
    # fmt: on
    return tokens, ids


async def post(app: Any, token: str | None, document: str, variables: dict[str, Any]) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
    return response.content


async def test_real_documents_give_the_same_bytes(
    db: Any, cache: BaseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pinzhi.app import create_app
    from pinzhi.settings import get_settings

    runs: list[int] = []  # selection sets the planning executor ran
    original_run = PlanExecutor._run

    def run(self: PlanExecutor, *args: Any) -> Any:
        runs.append(1)
        return original_run(self, *args)

    monkeypatch.setattr(PlanExecutor, "_run", run)

    planned = create_app(get_settings(), manage_database=False, cache=cache, plans=True)
    stock = create_app(get_settings(), manage_database=False, cache=cache, plans=False)
    tokens, ids = await real_world()
    documents: dict[str, tuple[str, dict[str, Any]]] = {
        "products": (PRODUCTS, PAGE),
        "merchant_orders": (MERCHANT_ORDERS, PAGE),
        "regulator_complaints": (REGULATOR_COMPLAINTS, PAGE),
        "orders_in_full": (ORDERS_IN_FULL, PAGE),
        "nodes": (NODES, ids),
        "fragments": (FRAGMENTS, {"first": 3, "withPrice": True, "noLines": False}),
        "fragments_skipped": (FRAGMENTS, {"first": 3, "withPrice": False, "noLines": True}),
        "permission": (PERMISSION, {}),
        "providers_only": (PROVIDERS_ONLY, {}),
        "partial": (PARTIAL, {"order": ids["order"]}),
        "invalid_variable": (INVALID_VARIABLE, {"first": "ten"}),
        "invalid_first": (INVALID_FIRST, {}),
        "invalid_enum": (INVALID_ENUM, {}),
        "invalid_cursor": (INVALID_CURSOR, {}),
    }
    differences = []
    answered = 0
    for who, token in tokens.items():
        for name, (document, variables) in documents.items():
            ours = await post(planned, token, document, variables)
            planned_runs = len(runs)
            theirs = await post(stock, token, document, variables)
            assert len(runs) == planned_runs, "the stock app must not plan"
            if ours != theirs:
                differences.append(f"{who} {name}:\n  plans: {ours!r}\n  stock: {theirs!r}")
            answered += b'"data":{' in ours
    assert not differences, "\n".join(differences)
    assert answered > len(tokens) * 5  # the documents really returned data
    assert len(runs) > 100  # and the planning app really planned them
