"""Synthetic data at a scale factor, as rows ready for COPY (or batched inserts).

Scale 1 is 1,000 merchants, 20,000 products, 100,000 orders with their lines, payments,
shipments and tracking events, 5,000 complaints and 20,000 feedback records, product reviews,
and what grading reads besides (licences, brands, violation cases, certificates:
bench/grading_data.py). Ids are set here, so foreign keys need no round trip; the loader
resets the sequences afterwards.

Personal data holds real Fernet tokens: a small pool of values is encrypted once and reused.
Every account has a real argon2 hash of ``BENCH_PASSWORD`` (hashed once, shared).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pinzhi.auth.crypto import email_lookup, encrypt
from pinzhi.auth.passwords import hash_password
from pinzhi.bench.grading_data import add_reviews, grading_tables, product_attributes
from pinzhi.bench.plan import (
    ACCOUNT_COLUMNS,
    BENCH_PASSWORD,
    CATEGORIES,
    CITIES,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CATEGORY_WEIGHTS,
    COMPLAINT_COLUMNS,
    COMPLAINT_STATES,
    COMPLAINT_WEIGHTS,
    EVENT_COLUMNS,
    FEEDBACK_COLUMNS,
    HISTORY_DAYS,
    LINE_COLUMNS,
    LOGISTICS_PROVIDERS,
    MERCHANT_COLUMNS,
    NAMES,
    ORDER_COLUMNS,
    ORDER_STATES,
    ORDER_WEIGHTS,
    ORDERS_END_DAYS,
    PAYMENT_COLUMNS,
    PAYMENT_PROVIDERS,
    PLACE_ORDER_MERCHANTS,
    PRODUCT_COLUMNS,
    PRODUCTS_PER_MERCHANT,
    REVIEW_COLUMNS,
    SHIPMENT_COLUMNS,
    UNLIMITED_STOCK,
    Plan,
    Row,
    Table,
)


@dataclass
class OrderFacts:
    """What complaints and feedback need to know of each generated order."""

    ids: list[int]
    consumers: list[int]
    merchants: list[int]
    states: list[str]


class Generator:
    def __init__(self, plan: Plan, seed: int = 2026, now: datetime | None = None):
        self.plan = plan
        self.rng = random.Random(seed)
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.step = (self.now - self.start - timedelta(days=ORDERS_END_DAYS)) / plan.orders
        self.seed = seed
        self.names = [encrypt(n) for n in NAMES]
        self.phones = [encrypt(f"13{i}0012{i:04d}") for i in range(10, 20)]
        self.addresses = [
            encrypt(f"{city}建设路 {n} 号 {n % 7 + 1} 单元") for city in CITIES for n in (8, 66)
        ]
        self.password_hash = hash_password(BENCH_PASSWORD)
        self.prices: list[int] = [0]  # by product id
        self.facts = OrderFacts([], [], [], [])
        self.ids = {"line": 0, "payment": 0, "shipment": 0, "event": 0}

    # -- reference data -------------------------------------------------------------------

    def reference_tables(self) -> Iterator[Table]:
        p, rng, at = self.plan, self.rng, self.start - timedelta(days=30)
        held = {i: 500_000 for i in range(7, p.merchants + 1, 20)}  # short of the deposit
        merchants = [
            (i, f"店铺 {i:05d} Shop {i}", f"商家 {i} 的店铺", at, 1_000_000, held.get(i, 1_000_000))
            for i in range(1, p.merchants + 1)
        ]
        yield Table("merchant", MERCHANT_COLUMNS, merchants)
        providers = [(i, f"物流 Logistics {i}", "LOGISTICS", at) for i in (1, 2, 3, 4)]
        providers += [(4 + i, f"支付 Payment {i}", "PAYMENT", at) for i in (1, 2, 3)]
        yield Table("service_provider", ("id", "name", "kind", "created_at"), providers)
        yield Table("account", ACCOUNT_COLUMNS, list(self._accounts()))
        rows = []
        for pid in range(1, p.products + 1):
            merchant = (pid - 1) // PRODUCTS_PER_MERCHANT + 1
            price = rng.randrange(500, 50_000, 10)
            self.prices.append(price)
            unlimited = merchant in PLACE_ORDER_MERCHANTS
            stock = UNLIMITED_STOCK if unlimited else rng.randrange(0, 1000)
            listed = unlimited or rng.random() < 0.95
            category = CATEGORIES[pid % len(CATEGORIES)]
            brand = f"品牌{merchant}"
            title = f"{brand} 商品 {pid} Product {pid} ({category})"
            rank = round(rng.uniform(0, 100), 2)  # QS 7.2 ranking, as grading publishes it
            attributes = product_attributes(pid, category, brand)
            rows.append(
                (pid, merchant, title, category, price, "CNY", stock, listed, at, rank, attributes)
            )
        yield Table("product", PRODUCT_COLUMNS, rows)
        yield from grading_tables(p, self.now, self.seed + 1)

    def _accounts(self) -> Iterator[Row]:
        p, at, h = self.plan, self.start - timedelta(days=30), self.password_hash

        def account(id_: int, email: str, role: str, **kw: Any) -> Row:
            name, phone = self.names[id_ % 10], self.phones[id_ % 10]
            return (
                id_,
                encrypt(email),
                email_lookup(email),
                h,
                role,
                kw.get("duties", ""),
                kw.get("merchant"),
                kw.get("provider"),
                name,
                phone,
                True,
                at,
            )

        for i in range(1, p.merchants + 1):
            yield account(i, f"merchant{i}@bench.pinzhi", "MERCHANT", merchant=i)
        for j in range(1, LOGISTICS_PROVIDERS + PAYMENT_PROVIDERS + 1):
            yield account(
                p.merchants + j, f"provider{j}@bench.pinzhi", "SERVICE_PROVIDER", provider=j
            )
        regulator, service, compliance = p.staff_ids
        yield account(regulator, "regulator@bench.pinzhi", "REGULATOR")
        yield account(service, "service@bench.pinzhi", "STAFF", duties="CUSTOMER_SERVICE")
        yield account(compliance, "compliance@bench.pinzhi", "STAFF", duties="COMPLIANCE,ADMIN")
        for k in range(p.consumers):
            yield account(p.first_consumer_id + k, f"consumer{k + 1}@bench.pinzhi", "CONSUMER")

    # -- orders and what hangs off them ---------------------------------------------------

    def order_chunks(self, chunk: int = 20_000) -> Iterator[list[Table]]:
        p = self.plan
        merchant_orders = min(p.orders // 4, max(200, p.orders // 50))
        consumer_orders = min(p.orders // 4, 100)
        every_m, every_c = p.orders // merchant_orders, p.orders // consumer_orders
        step = self.step
        for begin in range(1, p.orders + 1, chunk):
            orders: list[Row] = []
            lines: list[Row] = []
            payments: list[Row] = []
            shipments: list[Row] = []
            events: list[Row] = []
            reviews: list[Row] = []
            for oid in range(begin, min(begin + chunk, p.orders + 1)):
                merchant = 1 if oid % every_m == 0 else self.rng.randrange(1, p.merchants + 1)
                consumer = (
                    p.first_consumer_id
                    if oid % every_c == 1
                    else self.rng.randrange(p.first_consumer_id, p.first_consumer_id + p.consumers)
                )
                created = self.start + step * oid
                state = self.rng.choices(ORDER_STATES, ORDER_WEIGHTS)[0]
                first_line = len(lines)
                total = self._lines(oid, merchant, lines)
                # One shipment in 25 leaves more than 48 hours after payment (late).
                late = timedelta(days=2 if self.rng.random() < 0.04 else 0)
                orders.append(self._order(oid, consumer, merchant, state, total, created, late))
                self._payments(oid, consumer, merchant, state, total, created, payments)
                if state in ("SHIPPED", "DELIVERED", "COMPLETED"):
                    shipped = created + timedelta(days=1) + late
                    self._shipment(oid, consumer, merchant, state, shipped, shipments, events)
                if state == "COMPLETED":
                    order = (oid, consumer, created + late + timedelta(days=6))
                    add_reviews(self.rng, self.ids, order, lines[first_line:], reviews)
                self.facts.ids.append(oid)
                self.facts.consumers.append(consumer)
                self.facts.merchants.append(merchant)
                self.facts.states.append(state)
            yield [
                Table("order", ORDER_COLUMNS, orders),
                Table("order_line", LINE_COLUMNS, lines),
                Table("payment", PAYMENT_COLUMNS, payments),
                Table("shipment", SHIPMENT_COLUMNS, shipments),
                Table("tracking_event", EVENT_COLUMNS, events),
                Table("product_review", REVIEW_COLUMNS, reviews),
            ]

    def _lines(self, oid: int, merchant: int, out: list[Row]) -> int:
        first = (merchant - 1) * PRODUCTS_PER_MERCHANT + 1
        count = self.rng.choices((1, 2, 3), (50, 30, 20))[0]
        total = 0
        for offset in sorted(self.rng.sample(range(PRODUCTS_PER_MERCHANT), count)):
            pid, qty = first + offset, self.rng.randint(1, 3)
            self.ids["line"] += 1
            out.append((self.ids["line"], oid, pid, qty, self.prices[pid]))
            total += qty * self.prices[pid]
        return total

    def _order(
        self,
        oid: int,
        consumer: int,
        merchant: int,
        state: str,
        total: int,
        created: datetime,
        late: timedelta,
    ) -> Row:
        stage = ORDER_STATES.index(state)
        cancelled = state == "CANCELLED"
        # One cancelled order in five was paid first (refunded): a cancellation before shipment.
        paid_first = 1 <= stage <= 4 or (cancelled and oid % 5 == 0)
        paid = created + timedelta(minutes=10) if paid_first else None
        shipped = created + timedelta(days=1) + late if 2 <= stage <= 4 else None
        delivered = created + timedelta(days=3) + late if 3 <= stage <= 4 else None
        completed = created + timedelta(days=5) + late if stage == 4 else None
        cancelled_at = created + timedelta(hours=1) if cancelled else None
        updated = max(t for t in (created, paid, shipped, delivered, completed, cancelled_at) if t)
        i = oid % len(self.addresses)
        return (
            oid,
            consumer,
            merchant,
            state,
            total,
            "CNY",
            self.names[i % 10],
            self.phones[i % 10],
            self.addresses[i],
            created,
            updated,
            paid,
            shipped,
            delivered,
            completed,
            cancelled_at,
        )

    def _payments(
        self,
        oid: int,
        consumer: int,
        merchant: int,
        state: str,
        total: int,
        created: datetime,
        out: list[Row],
    ) -> None:
        rng = self.rng
        provider = LOGISTICS_PROVIDERS + rng.randint(1, PAYMENT_PROVIDERS)
        attempts: list[str] = []
        if state == "PENDING_PAYMENT":
            attempts = ["PENDING"] if rng.random() < 0.4 else []
        elif state == "CANCELLED":
            attempts = ["REFUNDED"] if oid % 5 == 0 else rng.choice([[], ["FAILED"]])
        else:
            attempts = ["FAILED", "SUCCEEDED"] if rng.random() < 0.05 else ["SUCCEEDED"]
        for n, pstate in enumerate(attempts):
            self.ids["payment"] += 1
            pay_id = self.ids["payment"]
            at = created + timedelta(minutes=2 + 4 * n)
            reference = f"SP{pay_id:010d}" if pstate in ("SUCCEEDED", "REFUNDED") else None
            out.append(
                (
                    pay_id,
                    oid,
                    provider,
                    consumer,
                    merchant,
                    pstate,
                    total,
                    "CNY",
                    f"gen-{pay_id:010d}",
                    reference,
                    at,
                    at + timedelta(minutes=1),
                )
            )

    def _shipment(
        self,
        oid: int,
        consumer: int,
        merchant: int,
        state: str,
        shipped: datetime,
        shipments: list[Row],
        events: list[Row],
    ) -> None:
        self.ids["shipment"] += 1
        sid, provider = self.ids["shipment"], self.rng.randint(1, LOGISTICS_PROVIDERS)
        steps = [("IN_TRANSIT", "杭州转运中心 Hangzhou hub")]
        if state != "SHIPPED":
            steps += [("OUT_FOR_DELIVERY", "派送中 Out for delivery"), ("DELIVERED", "已签收")]
        if self.rng.random() < 0.03:
            steps = []  # never scanned: no valid tracking (QS 6.1.1 operation)
        for n, (status, where) in enumerate(steps):
            self.ids["event"] += 1
            at = shipped + timedelta(hours=8 * (n + 1))
            events.append(
                (
                    self.ids["event"],
                    sid,
                    provider,
                    f"gen-{self.ids['event']}",
                    status,
                    where,
                    "",
                    at,
                    at + timedelta(seconds=30),
                )
            )
        last = shipped + timedelta(hours=8 * len(steps))
        status = steps[-1][0] if steps else "CREATED"
        shipments.append(
            (sid, oid, provider, consumer, merchant, f"GEN{sid:010d}", status, shipped, last)
        )

    # -- complaints and feedback ----------------------------------------------------------

    def service_tables(self) -> Iterator[Table]:
        p, rng, f = self.plan, self.rng, self.facts
        _, service, _ = p.staff_ids
        placed = [i for i, s in enumerate(f.states) if s != "PENDING_PAYMENT"]
        rows = []
        for cid in range(1, p.complaints + 1):
            i = rng.choice(placed)
            order = f.ids[i] if rng.random() < 0.9 else None
            state = rng.choices(COMPLAINT_STATES, COMPLAINT_WEIGHTS)[0]
            category = rng.choices(COMPLAINT_CATEGORIES, COMPLAINT_CATEGORY_WEIGHTS)[0]
            # A resolution finds the consumer right (upheld: an order defect) or not.
            upheld = rng.random() < 0.6 if state == "RESOLVED" else None
            placed_at = self.start + self.step * f.ids[i]
            created = min(placed_at + timedelta(days=rng.uniform(1, 10)), self.now)
            promised = created + timedelta(days=3) if state == "PROMISED" else None
            resolved = created + timedelta(days=1) if state == "RESOLVED" else None
            rows.append(
                (
                    cid,
                    f.consumers[i],
                    f.merchants[i],
                    order,
                    None if state == "OPEN" else service,
                    state,
                    f"投诉 {cid}: 商品与描述不符 / Not as described",
                    "已退款 / Refunded" if resolved else "",
                    "等待商家回复 / Waiting for the merchant" if promised else "",
                    promised,
                    1 if state in ("PROMISED", "RESOLVED") else None,
                    created,
                    resolved,
                    category,
                    upheld,
                )
            )
        yield Table("complaint", COMPLAINT_COLUMNS, rows)
        yield Table("feedback", FEEDBACK_COLUMNS, self._feedback())

    def _feedback(self) -> list[Row]:
        f, rng = self.facts, self.rng
        completed = [i for i, s in enumerate(f.states) if s == "COMPLETED"]
        rng.shuffle(completed)
        rows: list[Row] = []
        seen: set[tuple[int, str, int]] = set()
        for i in completed:
            if len(rows) >= self.plan.feedback:
                break
            about_merchant = rng.random() < 0.25
            subject = ("MERCHANT", f.merchants[i]) if about_merchant else ("ORDER", f.ids[i])
            key = (f.consumers[i], *subject)
            if key in seen:
                continue
            seen.add(key)
            score = rng.choices((1, 2, 3, 4, 5), (5, 5, 10, 30, 50))[0]
            at = self.start + self.step * f.ids[i] + timedelta(days=6)
            rows.append(
                (
                    len(rows) + 1,
                    f.consumers[i],
                    "CONSUMER",
                    subject[0],
                    subject[1],
                    f.merchants[i],
                    f.consumers[i],
                    score,
                    "",
                    at,
                )
            )
        return rows
