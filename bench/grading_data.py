"""What grading reads besides orders: merchants' brands, licences and violation cases,
products' certificates (QS 6.1.1, 6.3, 7.1). A few rows per merchant or product, drawn from
their own random stream so that the order data does not depend on them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import orjson

from pinzhi.bench.plan import (
    ATTRIBUTES,
    BRAND_COLUMNS,
    CATEGORIES,
    CERTIFICATE_COLUMNS,
    KEY_CATEGORIES,
    LICENCE_COLUMNS,
    VIOLATION_COLUMNS,
    Plan,
    Row,
    Table,
)

CATEGORY_LICENCES = ("FOOD_BUSINESS_LICENCE", "COSMETICS_LICENCE", "MOTHER_BABY_PERMIT")
VIOLATION_TYPES = ["COUNTERFEIT", "FAKE_ORDERS", "FALSE_ADVERTISING", "UNSAFE_PRODUCT", "OTHER"]
VIOLATION_STATES = ["DECIDED", "UPHELD", "APPEALED", "DISMISSED", "OVERTURNED"]
# state, evidence (JSON text, as the other JSON columns here) and review note of a record
# compliance staff verified.
VERIFIED = ("VERIFIED", "[]", "")
VALUES = {"origin": "浙江", "shelf_life": "12个月", "net_weight": "500g", "age_range": "0-3岁"}
VALUES |= {"material": "棉", "volume": "50ml"}


def product_attributes(pid: int, category: str, brand: str) -> str:
    """The listing attributes grading checks (JSON); one product in eight lacks one."""
    values = {"brand": brand, **{name: VALUES[name] for name in ATTRIBUTES.get(category, ())}}
    if pid % 8 == 3:
        values.popitem()
    return orjson.dumps(values).decode()


def add_reviews(
    rng: random.Random,
    ids: dict[str, int],
    order: tuple[int, int, datetime],
    lines: list[Row],
    out: list[Row],
) -> None:
    """Now and then a review of a completed order's product (QS 7.1.1 reviews). ``order`` is
    (id, consumer, review time), ``lines`` its rows (id, order, product, ...), ``ids`` the
    generator's id counters."""
    oid, consumer, at = order
    for line in lines:
        if rng.random() < 0.3:
            rating = rng.choices((1, 2, 3, 4, 5), (4, 4, 10, 30, 52))[0]
            praises = rating >= 4 and rng.random() < 0.4
            ids["review"] = ids.get("review", 0) + 1
            text = "质量很好" if praises else ""
            out.append((ids["review"], line[2], oid, consumer, rating, text, praises, at))


def grading_tables(plan: Plan, now: datetime, seed: int) -> Iterator[Table]:
    rng = random.Random(seed)
    year = timedelta(days=365)
    licences: list[Row] = []
    brands: list[Row] = []
    cases: list[Row] = []
    _, _, compliance = plan.staff_ids
    for m in range(1, plan.merchants + 1):
        # Every merchant sells in every category (20 products over 7 categories), so each
        # needs its business licence and the three category licences; a few lapsed or lack.
        for kind in ("BUSINESS_LICENCE", *CATEGORY_LICENCES):
            r = rng.random()
            if r < 0.04 and kind != "BUSINESS_LICENCE":
                continue  # never obtained
            until = now - timedelta(days=rng.randint(1, 60)) if r > 0.96 else now + year
            licences.append(
                (len(licences) + 1, m, kind, f"L{m:06d}-{kind[:4]}", until, now - year, *VERIFIED)
            )
        relations = ["REGISTERED"] if rng.random() < 0.3 else []
        relations += ["AUTHORISED"] * rng.choice((0, 0, 1, 1, 2))
        for n, relation in enumerate(relations):
            until = now - timedelta(days=20) if rng.random() < 0.1 else now + 2 * year
            brands.append(
                (
                    len(brands) + 1,
                    m,
                    f"品牌 Brand {m}-{n}",
                    relation,
                    f"TM{m:06d}{n}",
                    until,
                    now,
                    *VERIFIED,
                )
            )
        if rng.random() < 0.06:
            decided = now - timedelta(days=rng.uniform(1, 110))
            state = rng.choices(VIOLATION_STATES, (45, 20, 10, 20, 5))[0]
            kind = rng.choice(VIOLATION_TYPES)
            cases.append(
                (
                    len(cases) + 1,
                    m,
                    kind,
                    state,
                    compliance,
                    compliance,
                    "WARNING",
                    "bench",
                    decided,
                    decided - timedelta(days=3),
                )
            )
    yield Table("merchant_licence", LICENCE_COLUMNS, licences)
    yield Table("brand_registration", BRAND_COLUMNS, brands)
    yield Table("violation_case", VIOLATION_COLUMNS, cases)
    yield Table("product_certificate", CERTIFICATE_COLUMNS, _certificates(plan, now, rng))


def _certificates(plan: Plan, now: datetime, rng: random.Random) -> list[Row]:
    """Key-category products mostly hold a passed inspection (some lapsed, some failed);
    any product may hold a certification or compliance record."""
    rows: list[Row] = []

    def add(pid: int, kind: str, result: str, issued: datetime) -> None:
        number = f"R{len(rows) + 1:08d}"
        row = (len(rows) + 1, pid, kind, "检测机构 Lab", number, result, issued)
        rows.append((*row, issued + timedelta(days=365), issued))

    for pid in range(1, plan.products + 1):
        category = CATEGORIES[pid % len(CATEGORIES)]
        if category in KEY_CATEGORIES:
            r = rng.random()
            issued = now - timedelta(days=rng.uniform(5, 420))  # beyond 365 days: lapsed
            if r < 0.85:
                add(pid, "THIRD_PARTY_INSPECTION", "PASS", issued)
            elif r < 0.90:
                add(pid, "THIRD_PARTY_INSPECTION", "FAIL", issued)
        for kind, share in (
            ("INDUSTRY_CERTIFICATION", 0.3),
            ("SAFETY_COMPLIANCE", 0.2),
            ("ENVIRONMENTAL_COMPLIANCE", 0.1),
        ):
            if rng.random() < share:
                add(pid, kind, "PASS", now - timedelta(days=rng.uniform(5, 300)))
    return rows
