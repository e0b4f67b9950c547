"""Product grades, badges, certificates and reviews through the API (QS 7.1.1, 7.1.2, 7.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pinzhi.models import (
    CertificateKind,
    CertificateResult,
    Product,
    ProductCertificate,
    ProductReview,
    StaffDuty,
)
from pinzhi.services import product_grading
from pinzhi.services.scoring import current_period
from tests import factories as f
from tests.helpers import count_sql

NOW = datetime.now(UTC)
FOOD = {"brand": "良品", "origin": "浙江", "shelf_life": "12 个月", "net_weight": "500 g"}

LIST = """
query($first: Int, $after: String, $order: ProductOrder) {
  products(first: $first, after: $after, orderBy: $order) {
    edges { cursor node { id grade { level score } badge isKeyCategory } }
    pageInfo { hasNextPage endCursor }
  }
}"""

DETAIL = """
query($id: ID!) {
  node(id: $id) { ... on Product {
    grade { level }
    badge
    certificates { kind agency reportNumber result issuedAt validUntil valid }
    gradeDetail { score level period ruleVersion reasons dimensions { name score inputs } }
  } }
}"""

RECORD = """
mutation($i: RecordProductCertificateInput!) {
  recordProductCertificate(input: $i) {
    certificate { kind agency reportNumber result valid productId }
    errors { code field }
  }
}"""

REVIEW = """
mutation($i: SubmitProductReviewInput!) {
  submitProductReview(input: $i) {
    review { rating text praisesQuality productId orderId }
    errors { code field }
  }
}"""


async def _cert(item: Product, kind: CertificateKind, result: str = "PASS") -> None:
    await ProductCertificate.create(
        product_id=item.id,
        kind=kind,
        agency="中国检验认证集团",
        report_number=f"CCIC-{item.id}-{kind}",
        result=CertificateResult(result),
        issued_at=NOW - timedelta(days=30),
        valid_until=NOW + timedelta(days=335),
    )


async def _graded_shop(w: f.World) -> dict[str, Product]:
    """Three products of ``w.shop`` at different grades, plus ``w.item`` graded too."""
    top = await f.product(w.shop, category="electronics", title="良品 耳机", attributes=FOOD)
    for kind in CertificateKind:
        await _cert(top, kind)
    middle = await f.product(w.shop, category="electronics", title="良品 音箱", attributes=FOOD)
    await _cert(middle, CertificateKind.SAFETY_COMPLIANCE)
    bottom = await f.product(w.shop, category="food", title="无名 坚果", attributes={})
    await product_grading.grade_products(current_period(NOW), NOW)
    return {"top": top, "middle": middle, "bottom": bottom}


def _ids(connection: dict) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]


async def test_products_rank_higher_grades_first_and_show_the_badge_to_anyone(api) -> None:
    """QS 7.2: without orderBy, products order by the published rank score (grade first),
    then newest; the badge and level are public; orderBy NEWEST keeps the old order."""
    w = await f.world()
    made = await _graded_shop(w)
    ungraded = await f.product(w.shop, title="新品 new")  # rank 0, newest
    data = (await api(LIST, {"first": 10})).data["products"]
    ranked = await Product.all().order_by("-rank_score", "-id")
    assert _ids(data) == [f.gid("Product", p.id) for p in ranked]
    assert _ids(data)[0] == f.gid("Product", made["top"].id)
    assert _ids(data)[-1] == f.gid("Product", ungraded.id)
    first = data["edges"][0]["node"]
    assert first["grade"]["level"] == "A+" and first["badge"] == "品质优选"
    assert first["isKeyCategory"] is False
    by_id = {e["node"]["id"]: e["node"] for e in data["edges"]}
    assert by_id[f.gid("Product", made["bottom"].id)]["isKeyCategory"] is True
    assert by_id[f.gid("Product", made["bottom"].id)]["badge"] is None
    assert by_id[f.gid("Product", ungraded.id)]["grade"] is None
    english = await api(LIST, {"first": 1}, headers={"Accept-Language": "en"})
    assert english.data["products"]["edges"][0]["node"]["badge"] == "Quality choice"
    newest = (await api(LIST, {"first": 10, "order": "NEWEST"})).data["products"]
    assert _ids(newest) == [f.gid("Product", p.id) for p in sorted(ranked, key=lambda p: -p.id)]


@pytest.mark.parametrize("order", ["RANK", "NEWEST"])
async def test_cursors_walk_every_product_once_in_either_order(api, order: str) -> None:
    """Keyset cursors on (rank score, id): ties on the rank score page exactly once."""
    w = await f.world()
    await _graded_shop(w)
    for _ in range(3):
        await f.product(w.shop)  # three ties at rank 0
    full = _ids((await api(LIST, {"first": 100, "order": order})).data["products"])
    walked, after = [], None
    while True:
        page = (await api(LIST, {"first": 2, "after": after, "order": order})).data["products"]
        walked += _ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == full and len(full) == 7


async def test_a_cursor_of_the_other_order_is_bad_user_input(api) -> None:
    w = await f.world()
    await f.product(w.shop)
    newest = (await api(LIST, {"first": 1, "order": "NEWEST"})).data["products"]
    refused = await api(LIST, {"first": 1, "after": newest["edges"][0]["cursor"]})
    assert refused.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("anonymous", False),
        ("consumer", False),
        ("other_merchant", False),
        ("merchant", True),
        ("compliance", True),
        ("customer_service", False),
        ("regulator", True),
    ],
)
async def test_grade_detail_is_for_the_owner_staff_and_regulators(api, who, sees) -> None:
    """QS 7.1.1 (visible sub-scores), QS 5.2 and 9.4.1: the product's merchant, compliance
    staff and regulators see the dimensions, inputs and reasons; everyone sees the level,
    badge and certificates."""
    w = await f.world()
    made = await _graded_shop(w)
    token = {
        "anonymous": None,
        "consumer": w.buyer.token,
        "other_merchant": w.other_seller.token,
        "merchant": w.seller.token,
        "compliance": (await f.compliance_officer()).token,
        "customer_service": w.agent.token,
        "regulator": w.regulator.token,
    }[who]
    node = (await api(DETAIL, {"id": f.gid("Product", made["top"].id)}, token=token)).data["node"]
    assert node["grade"]["level"] == "A+" and node["badge"] == "品质优选"
    assert len(node["certificates"]) == len(CertificateKind)
    assert node["certificates"][0]["agency"] == "中国检验认证集团"
    assert node["certificates"][0]["valid"] is True
    if not sees:
        assert node["gradeDetail"] is None
        return
    detail = node["gradeDetail"]
    assert (detail["level"], detail["ruleVersion"]) == ("A+", 1)
    assert {d["name"] for d in detail["dimensions"]} == {
        "qualification",
        "production",
        "listing",
        "after_sales",
        "reviews",
    }
    qualification = next(d for d in detail["dimensions"] if d["name"] == "qualification")
    assert qualification["score"] == 100 and qualification["inputs"]["missing"] == []
    assert detail["reasons"] == ["first grade"]


PREVIEW = "query($id: ID!) { productGradePreview(productId: $id) { level score period } }"


async def test_grade_preview_is_live_for_the_owner_and_null_for_other_merchants(api) -> None:
    w = await f.world()
    item = await f.product(w.shop, category="electronics", title="良品 耳机", attributes=FOOD)
    own = await api(PREVIEW, {"id": f.gid("Product", item.id)}, token=w.seller.token)
    assert own.data["productGradePreview"]["period"] == current_period()
    other = await api(PREVIEW, {"id": f.gid("Product", item.id)}, token=w.other_seller.token)
    assert other.data["productGradePreview"] is None
    consumer = await api(PREVIEW, {"id": f.gid("Product", item.id)}, token=w.buyer.token)
    assert consumer.error_codes == ["FORBIDDEN"]


async def test_product_lists_cost_the_same_sql_whatever_the_page_size(api) -> None:
    """Decision 7: certificates, grade details, badges and key categories are loaded by
    batched loaders, so a page of 2 and a page of 7 cost the same statements."""
    w = await f.world()
    for _ in range(2):
        await _graded_shop(w)  # with w.item: 7 products
    query = """query($n: Int) { products(first: $n) { nodes { id badge isKeyCategory
      certificates { kind } gradeDetail { score } } } }"""
    counts = []
    await api.warm(w.seller.token)
    for size in (2, 7):
        with count_sql() as sql:
            data = (await api(query, {"n": size}, token=w.seller.token)).data
        assert len(data["products"]["nodes"]) == size
        counts.append(sql.count)
    assert counts[0] == counts[1], counts
    # products, rules, certificates, latest grades
    assert counts[0] == 4, counts


# --- recordProductCertificate --------------------------------------------------------------


def _certificate_input(item: Product, **changes: object) -> dict:
    return {
        "i": {
            "productId": f.gid("Product", item.id),
            "kind": "THIRD_PARTY_INSPECTION",
            "agency": "SGS 通标标准技术服务有限公司",
            "reportNumber": f"SGS-{item.id}-001",
            "result": "PASS",
            "issuedAt": (NOW - timedelta(days=3)).isoformat(),
            "validUntil": (NOW + timedelta(days=362)).isoformat(),
            **changes,
        }
    }


async def test_the_products_merchant_records_a_certificate_that_changes_the_grade(api) -> None:
    """QS 7.1.2: the merchant records a third-party inspection of its own food product;
    the record is public and the next grade is no longer capped for want of it."""
    w = await f.world()
    response = await api(RECORD, _certificate_input(w.item), token=w.seller.token)
    payload = response.data["recordProductCertificate"]
    assert payload["errors"] == []
    assert payload["certificate"]["kind"] == "THIRD_PARTY_INSPECTION"
    assert payload["certificate"]["valid"] is True
    assert payload["certificate"]["productId"] == f.gid("Product", w.item.id)
    grade = await product_grading.grade_product(w.item.id, NOW, store=False)
    assert grade.dimensions["qualification"]["inputs"]["inspection"] == "passed"
    again = await api(RECORD, _certificate_input(w.item), token=w.seller.token)
    assert again.data["recordProductCertificate"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["reportNumber"]}
    ]


async def test_compliance_staff_record_for_any_product(api) -> None:
    w = await f.world()
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    response = await api(RECORD, _certificate_input(w.item, result="FAIL"), token=compliance.token)
    assert response.data["recordProductCertificate"]["errors"] == []
    assert await ProductCertificate.filter(product_id=w.item.id, result="FAIL").exists()


@pytest.mark.parametrize("who", ["consumer", "customer_service", "logistics"])
async def test_other_roles_are_forbidden_to_record_certificates(api, who: str) -> None:
    w = await f.world()
    token = {
        "consumer": w.buyer.token,
        "customer_service": w.agent.token,
        "logistics": w.carrier_key,
    }[who]
    response = await api(RECORD, _certificate_input(w.item), token=token)
    assert response.error_codes == ["FORBIDDEN"]
    assert not await ProductCertificate.exists()


async def test_a_merchant_cannot_record_for_another_merchants_product(api) -> None:
    w = await f.world()
    response = await api(RECORD, _certificate_input(w.item), token=w.other_seller.token)
    assert response.data["recordProductCertificate"]["errors"] == [
        {"code": "NOT_ELIGIBLE", "field": ["productId"]}
    ]
    unlisted = await f.product(w.shop, is_listed=False)
    hidden = await api(RECORD, _certificate_input(unlisted), token=w.other_seller.token)
    assert hidden.data["recordProductCertificate"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["productId"]}
    ]
    assert not await ProductCertificate.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuedAt": (NOW + timedelta(days=2)).isoformat()}, "issuedAt"),
        ({"validUntil": (NOW - timedelta(days=4)).isoformat()}, "validUntil"),
        ({"validUntil": (NOW - timedelta(days=3)).isoformat()}, "validUntil"),
    ],
)
async def test_impossible_dates_are_refused(api, changes: dict, field: str) -> None:
    """QS 7.1.2: a certificate is not issued in the future and expires after its issue."""
    w = await f.world()
    same = {"issuedAt": (NOW - timedelta(days=3)).isoformat()} if field == "validUntil" else {}
    response = await api(
        RECORD, _certificate_input(w.item, **same, **changes), token=w.seller.token
    )
    assert response.data["recordProductCertificate"]["errors"] == [
        {"code": "INVALID_VALIDITY", "field": [field]}
    ]
    assert not await ProductCertificate.exists()


async def test_blank_agency_is_refused(api) -> None:
    w = await f.world()
    response = await api(RECORD, _certificate_input(w.item, agency="  "), token=w.seller.token)
    assert response.data["recordProductCertificate"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["agency"]}
    ]


# --- submitProductReview -------------------------------------------------------------------


def _review(placed: Any, item: Any, **fields: object) -> dict[str, dict[str, object]]:
    """submitProductReview's variables for one product of one order."""
    ids = {"orderId": f.gid("Order", placed.id), "productId": f.gid("Product", item.id)}
    return {"i": {**ids, **fields}}


async def test_a_consumer_reviews_through_the_api(api) -> None:
    """QS 7.1.1: the review's praise is computed from its words on write."""
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    variables = _review(placed, w.item, rating=5, text="做工精细，正品")
    payload = (await api(REVIEW, variables, token=w.buyer.token)).data["submitProductReview"]
    assert payload["errors"] == []
    assert payload["review"]["praisesQuality"] is True
    again = (await api(REVIEW, variables, token=w.buyer.token)).data["submitProductReview"]
    assert again == {"review": None, "errors": [{"code": "REVIEW_EXISTS", "field": ["productId"]}]}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"rating": 0}, {"code": "SCORE_OUT_OF_RANGE", "field": ["rating"]}),
        ({"rating": 6}, {"code": "SCORE_OUT_OF_RANGE", "field": ["rating"]}),
        ({"text": "好" * 1001}, {"code": "INVALID_INPUT", "field": ["text"]}),
        ({"orderId": "not-an-id"}, {"code": "NOT_FOUND", "field": ["orderId"]}),
        ({"productId": "bm9wZQ=="}, {"code": "NOT_ELIGIBLE", "field": ["productId"]}),
    ],
)
async def test_bad_review_inputs_are_refused(api, changes: dict, error: dict) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    variables = _review(placed, w.item, **{"rating": 4, "text": "质量好", **changes})
    payload = (await api(REVIEW, variables, token=w.buyer.token)).data["submitProductReview"]
    assert payload == {"review": None, "errors": [error]}
    assert not await ProductReview.exists()


@pytest.mark.parametrize("who", ["merchant", "staff"])
async def test_only_consumers_may_review(api, who: str) -> None:
    w = await f.world()
    placed, _ = await f.delivered_order(w)
    variables = _review(placed, w.item, rating=4)
    token = w.seller.token if who == "merchant" else w.agent.token
    assert (await api(REVIEW, variables, token=token)).error_codes == ["FORBIDDEN"]


async def test_the_category_filter_lists_its_products_and_an_overlong_one_lists_none(api) -> None:
    """A category is a slug of at most 50 characters: a longer one matches no product and
    is answered with an empty list, not an error."""
    w = await f.world()
    toy = await f.product(w.shop, category="toys")
    await f.product(w.shop, category="electronics")
    query = "query($c: String) { products(first: 10, category: $c) { edges { node { id } } } }"
    listed = await api(query, {"c": "toys"})
    assert listed.errors == []
    assert _ids(listed.data["products"]) == [f.gid("Product", toy.id)]
    overlong = await api(query, {"c": "f" * 51})
    assert overlong.errors == []
    assert overlong.data["products"]["edges"] == []
