"""Violation cases, key control, training and listing through the GraphQL API, with the
role boundaries of each step (QS 6.3, QS 6.4, QS 5.2, QS 9.1.2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pinzhi.models import Course, Enrolment, Merchant, Product, StaffDuty, ViolationCase
from pinzhi.schema.base import pk_of
from pinzhi.services import state, training
from tests import factories as f
from tests.helpers import count_sql

OPEN = """
mutation($i: OpenViolationCaseInput!) { openViolationCase(input: $i) {
  violationCase { id state type evidence { description url } merchant { id } }
  errors { code field message } } }"""
DECIDE = """
mutation($i: DecideViolationCaseInput!) { decideViolationCase(input: $i) {
  violationCase { id state penalty repeatCount ruleVersion appealDeadline decidedAt
    deduction { amountMinor currency } }
  errors { code field message } } }"""
APPEAL = """
mutation($i: AppealViolationCaseInput!) { appealViolationCase(input: $i) {
  violationCase { id state appealText appealedAt } errors { code field message } } }"""
DECIDE_APPEAL = """
mutation($i: DecideAppealInput!) { decideAppeal(input: $i) {
  violationCase { id state outcomeNote closedAt } errors { code field message } } }"""
CASES = """
query($state: ViolationState, $merchantId: ID) {
  violationCases(state: $state, merchantId: $merchantId) { nodes { id state merchant { id } } }
}"""
MERCHANT = """
query($id: ID!) { node(id: $id) { ... on Merchant {
  underKeyControl keyControl { until restrictions ruleVersion }
  trainingRecords { id score passed completedAt course { code passMark } } } } }"""
CREATE_PRODUCT = """
mutation($i: CreateProductInput!) { createProduct(input: $i) {
  product { id title category isListed stock price { amountMinor currency } merchant { id } }
  errors { code field message } } }"""
UPDATE_LISTING = """
mutation($i: UpdateProductListingInput!) { updateProductListing(input: $i) {
  product { id isListed stock } errors { code field } } }"""
TRAIL = """
query($id: ID!) {
  auditTrail(entityId: $id) { action fromState toState actorRole data }
  verifyAuditTrail(entityId: $id) { valid checked }
}"""


def _evidence() -> list[dict[str, Any]]:
    return [{"description": "刷假货订单截图 screenshots", "url": "https://evidence.test/a.png"}]


async def _open(api, officer: f.Actor, shop: Merchant, kind: str = "COUNTERFEIT") -> str:
    variables = {
        "i": {"merchantId": f.gid("Merchant", shop.id), "type": kind, "evidence": _evidence()}
    }
    payload = (await api(OPEN, variables, token=officer.token)).data["openViolationCase"]
    assert payload["errors"] == []
    return payload["violationCase"]["id"]


async def _decide(api, officer: f.Actor, case_id: str, **extra: Any) -> dict[str, Any]:
    variables = {"i": {"caseId": case_id, "decision": "DECIDED", **extra}}
    return (await api(DECIDE, variables, token=officer.token)).data["decideViolationCase"]


async def _merchant_view(api, shop: Merchant, token: str | None) -> dict[str, Any]:
    return (await api(MERCHANT, {"id": f.gid("Merchant", shop.id)}, token=token)).data["node"]


async def test_a_counterfeit_case_from_opening_to_overturned_appeal(api) -> None:
    """QS 6.4 end to end: compliance opens and decides a COUNTERFEIT case (LISTING_FREEZE,
    key control); the merchant sees its restrictions, is refused new listings, appeals;
    compliance overturns; the restrictions are gone and the whole trail verifies (QS 9.1.2)."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case_id = await _open(api, officer, shop)

    decided = await _decide(api, officer, case_id, penalty="LISTING_FREEZE", note="鉴定为假货")
    assert decided["errors"] == []
    case = decided["violationCase"]
    assert (case["state"], case["penalty"], case["repeatCount"]) == ("DECIDED", "LISTING_FREEZE", 0)
    assert case["ruleVersion"] == 1 and case["deduction"] is None

    view = await _merchant_view(api, shop, seller.token)
    assert view["underKeyControl"] is True
    assert "NO_NEW_LISTINGS" in view["keyControl"]["restrictions"]
    assert "NO_NEW_LISTINGS_IN_CATEGORY:food" in view["keyControl"]["restrictions"]
    assert view["keyControl"]["ruleVersion"] == 1

    product_input = {
        "title": "有机绿茶 Organic green tea",
        "category": "food",
        "priceMinor": 8800,
        "stock": 10,
        "attributes": {"brand": "山野"},
    }
    refused = (
        await api(
            CREATE_PRODUCT,
            {"i": product_input},
            token=seller.token,
            headers={"Accept-Language": "en"},
        )
    ).data["createProduct"]
    assert refused["product"] is None
    assert refused["errors"] == [
        {
            "code": "LISTING_FROZEN",
            "field": ["category"],
            "message": "New listings are blocked while a penalty is in force (LISTING_FREEZE)",
        }
    ]

    appealed = (
        await api(
            APPEAL,
            {"i": {"caseId": case_id, "text": "货品为正品 genuine goods"}},
            token=seller.token,
        )
    ).data["appealViolationCase"]
    assert appealed["errors"] == [] and appealed["violationCase"]["state"] == "APPEALED"

    overturned = (
        await api(
            DECIDE_APPEAL,
            {"i": {"caseId": case_id, "outcome": "OVERTURNED", "note": "复检为正品"}},
            token=officer.token,
        )
    ).data["decideAppeal"]
    assert overturned["errors"] == []
    assert overturned["violationCase"]["state"] == "OVERTURNED"

    view = await _merchant_view(api, shop, seller.token)
    assert (view["underKeyControl"], view["keyControl"]) == (False, None)
    created = (await api(CREATE_PRODUCT, {"i": product_input}, token=seller.token)).data
    product = created["createProduct"]["product"]
    assert created["createProduct"]["errors"] == []
    assert (product["category"], product["isListed"], product["merchant"]["id"]) == (
        "food",
        True,
        f.gid("Merchant", shop.id),
    )
    assert (await Product.get(merchant_id=shop.id)).attributes == {"brand": "山野"}

    trail = (await api(TRAIL, {"id": case_id}, token=seller.token)).data
    assert [(e["action"], e["toState"]) for e in trail["auditTrail"]] == [
        ("opened", "OPEN"),
        ("decided", "DECIDED"),
        ("appealed", "APPEALED"),
        ("overturned", "OVERTURNED"),
    ]
    assert trail["auditTrail"][1]["data"]["rule_version"] == 1
    assert trail["verifyAuditTrail"] == {"valid": True, "checked": 4}


async def test_the_ladder_is_enforced_through_the_api(api) -> None:
    """QS 6.4, QS 5.2: a penalty other than the ladder's step is PENALTY_NOT_IN_LADDER (the
    case stays OPEN); a second decision is ILLEGAL_TRANSITION; DEPOSIT_DEDUCTION shows the
    amount deducted."""
    shop, _ = await f.merchant()
    await Merchant.filter(id=shop.id).update(deposit_held_minor=300_000)
    officer = await f.compliance_officer()
    case_id = await _open(api, officer, shop, "FAKE_ORDERS")

    wrong = await _decide(api, officer, case_id, penalty="SUSPENSION")
    assert wrong["violationCase"] is None
    assert wrong["errors"][0]["code"] == "PENALTY_NOT_IN_LADDER"
    assert wrong["errors"][0]["field"] == ["penalty"]
    assert (await ViolationCase.get(id=pk_of(case_id, "ViolationCase"))).state == "OPEN"

    assert (await _decide(api, officer, case_id))["violationCase"]["penalty"] == "WARNING"
    twice = await _decide(api, officer, case_id)
    assert [(e["code"], e["field"]) for e in twice["errors"]] == [
        ("ILLEGAL_TRANSITION", ["caseId"])
    ]

    for _ in range(2):
        last = await _decide(api, officer, await _open(api, officer, shop, "FAKE_ORDERS"))
    assert last["violationCase"]["penalty"] == "DEPOSIT_DEDUCTION"
    assert last["violationCase"]["deduction"] == {"amountMinor": 300_000, "currency": "CNY"}
    assert (await Merchant.get(id=shop.id)).deposit_held_minor == 0


async def test_appeal_boundaries(api) -> None:
    """QS 6.4: another merchant's case is NOT_FOUND; a second appeal is APPEAL_EXISTS; an
    appeal after the deadline is APPEAL_CLOSED. Refusals change nothing."""
    shop, seller = await f.merchant()
    _, other_seller = await f.merchant()
    officer = await f.compliance_officer()
    first = await _open(api, officer, shop, "OTHER")
    late = await _open(api, officer, shop, "OTHER")
    await _decide(api, officer, first)
    await _decide(api, officer, late)
    text = {"text": "申诉理由 my reasons"}

    foreign = (await api(APPEAL, {"i": {"caseId": first, **text}}, token=other_seller.token)).data
    assert foreign["appealViolationCase"] == {
        "violationCase": None,
        "errors": [{"code": "NOT_FOUND", "field": ["caseId"], "message": "对象不存在"}],
    }
    assert (await ViolationCase.get(id=pk_of(first, "ViolationCase"))).state == "DECIDED"

    ok = (await api(APPEAL, {"i": {"caseId": first, **text}}, token=seller.token)).data
    assert ok["appealViolationCase"]["violationCase"]["state"] == "APPEALED"
    again = (await api(APPEAL, {"i": {"caseId": first, **text}}, token=seller.token)).data
    assert [e["code"] for e in again["appealViolationCase"]["errors"]] == ["APPEAL_EXISTS"]

    await ViolationCase.filter(id=pk_of(late, "ViolationCase")).update(
        appeal_deadline=state.now() - timedelta(minutes=1)
    )
    closed = (await api(APPEAL, {"i": {"caseId": late, **text}}, token=seller.token)).data
    assert [e["code"] for e in closed["appealViolationCase"]["errors"]] == ["APPEAL_CLOSED"]
    assert (await ViolationCase.get(id=pk_of(late, "ViolationCase"))).state == "DECIDED"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("seller", {"own"}),
        ("other_seller", {"other"}),
        ("consumer", set()),
        ("officer", {"own", "other"}),
        ("agent", set()),
        ("admin", set()),
        ("regulator", {"own", "other"}),
    ],
)
async def test_violation_cases_are_scoped_by_viewer(api, who: str, expected: set[str]) -> None:
    """QS 6.4, 9.4.1: a merchant sees its own cases, compliance staff and regulators all;
    staff of other duties (customer service, admin) and consumers none."""
    shop, seller = await f.merchant()
    other_shop, other_seller = await f.merchant()
    officer = await f.compliance_officer()
    ids = {"own": await _open(api, officer, shop), "other": await _open(api, officer, other_shop)}
    actors = {
        "seller": seller,
        "other_seller": other_seller,
        "consumer": await f.consumer(),
        "officer": officer,
        "agent": await f.staff(StaffDuty.CUSTOMER_SERVICE),
        "admin": await f.staff(StaffDuty.ADMIN),
        "regulator": await f.regulator(),
    }
    token = actors[who].token
    nodes = (await api(CASES, token=token)).data["violationCases"]["nodes"]
    assert {n["id"] for n in nodes} == {ids[k] for k in expected}
    # node(id) goes through the same scope.
    for key, case_id in ids.items():
        found = await api("query($id: ID!) { node(id: $id) { id } }", {"id": case_id}, token=token)
        assert (found.data["node"] is not None) == (key in expected), (who, key)
    # Filters narrow within the scope.
    filtered = await api(
        CASES, {"state": "OPEN", "merchantId": f.gid("Merchant", other_shop.id)}, token=token
    )
    assert {n["id"] for n in filtered.data["violationCases"]["nodes"]} == (
        {ids["other"]} if "other" in expected else set()
    )


async def test_anonymous_cannot_list_violation_cases(api) -> None:
    response = await api(CASES)
    assert response.error_codes == ["UNAUTHENTICATED"]


COMPLIANCE_MUTATIONS = {
    "openViolationCase": (
        OPEN,
        lambda s: {
            "i": {
                "merchantId": f.gid("Merchant", s["shop"].id),
                "type": "OTHER",
                "evidence": _evidence(),
            }
        },
    ),
    "decideViolationCase": (DECIDE, lambda s: {"i": {"caseId": s["case"], "decision": "DECIDED"}}),
    "decideAppeal": (DECIDE_APPEAL, lambda s: {"i": {"caseId": s["case"], "outcome": "UPHELD"}}),
}


@pytest.mark.parametrize("who", ["consumer", "seller", "agent", "admin", "regulator"])
@pytest.mark.parametrize("name", list(COMPLIANCE_MUTATIONS))
async def test_only_compliance_staff_use_compliance_mutations(api, who: str, name: str) -> None:
    """QS 6.4 (QS 9.3.1 duties): consumers, merchants, customer-service and admin staff and
    regulators calling openViolationCase, decideViolationCase or decideAppeal get a
    top-level FORBIDDEN, and no case changes."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    scene = {"shop": shop, "case": await _open(api, officer, shop)}
    actors = {
        "consumer": await f.consumer(),
        "seller": seller,
        "agent": await f.staff(StaffDuty.CUSTOMER_SERVICE),
        "admin": await f.staff(StaffDuty.ADMIN),
        "regulator": await f.regulator(),
    }
    document, variables = COMPLIANCE_MUTATIONS[name]
    response = await api(document, variables(scene), token=actors[who].token)
    assert response.error_codes == ["FORBIDDEN"], response.body
    assert response.body["data"] is None
    assert await ViolationCase.all().count() == 1
    assert (await ViolationCase.get(id=pk_of(scene["case"], "ViolationCase"))).state == "OPEN"


@pytest.mark.parametrize("who", ["consumer", "officer", "regulator"])
async def test_only_merchants_appeal_enrol_and_list(api, who: str) -> None:
    """QS 6.4, QS 6.3: appealViolationCase, enrolCourse, createProduct and
    updateProductListing are merchant mutations: FORBIDDEN for others."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    course = await training.create_course(
        (await f.staff(StaffDuty.ADMIN)).viewer, "QC-101", "质量管控", "QUALITY_CONTROL", 60
    )
    item = await f.product(shop)
    actors = {"consumer": await f.consumer(), "officer": officer, "regulator": await f.regulator()}
    calls = [
        (APPEAL, {"i": {"caseId": await _open(api, officer, shop), "text": "申诉理由 reasons"}}),
        (
            "mutation($id: ID!) { enrolCourse(courseId: $id) { errors { code } } }",
            {"id": f.gid("Course", course.id)},
        ),
        (
            CREATE_PRODUCT,
            {"i": {"title": "绿茶 tea", "category": "food", "priceMinor": 100, "stock": 1}},
        ),
        (UPDATE_LISTING, {"i": {"productId": f.gid("Product", item.id), "isListed": False}}),
    ]
    for document, variables in calls:
        response = await api(document, variables, token=actors[who].token)
        assert response.error_codes == ["FORBIDDEN"], (who, document)
    assert await Enrolment.all().count() == 0
    assert await Product.all().count() == 1 and (await Product.get(id=item.id)).is_listed


async def test_key_control_is_visible_to_the_merchant_staff_and_regulators_only(api) -> None:
    """QS 6.4: underKeyControl is public; keyControl (until, restrictions) is for the
    merchant itself, staff and regulators, null for others."""
    shop, seller = await f.merchant()
    _, other_seller = await f.merchant()
    officer = await f.compliance_officer()
    await f.decided_case(officer, shop, "COUNTERFEIT")
    until = (await Merchant.get(id=shop.id)).key_control_until
    for token in [seller.token, officer.token, (await f.regulator()).token]:
        view = await _merchant_view(api, shop, token)
        assert view["underKeyControl"] is True
        assert view["keyControl"]["until"] == until.isoformat()
    for token in [other_seller.token, (await f.consumer()).token, None]:
        view = (
            await api(
                "query($id: ID!) { node(id: $id) { ... on Merchant { underKeyControl keyControl "
                "{ until } } } }",
                {"id": f.gid("Merchant", shop.id)},
                token=token,
            )
        ).data["node"]
        assert view == {"underKeyControl": True, "keyControl": None}


async def test_listing_through_the_api_under_key_control(api) -> None:
    """QS 6.4: under key control without a freeze (a serious type whose published step is a
    warning) listing in a key category is KEY_CONTROL_RESTRICTION, elsewhere allowed;
    relisting a key-category product is refused too; bad input is INVALID_INPUT."""
    from pinzhi.services import rules

    shop, seller = await f.merchant()
    old = await rules.current("violation.penalties")
    ladder = {**old.content["ladder"], "UNSAFE_PRODUCT": ["WARNING"]}
    await rules.publish(
        "violation.penalties",
        {**old.content, "ladder": ladder},
        title_zh=old.title_zh,
        title_en=old.title_en,
    )
    baby = await f.product(shop, category="mother_baby", is_listed=False)
    await f.decided_case(await f.compliance_officer(), shop, "UNSAFE_PRODUCT")

    def product(category: str, **extra: Any) -> dict[str, Any]:
        return {
            "i": {
                "title": "商品 item",
                "category": category,
                "priceMinor": 990,
                "stock": 3,
                **extra,
            }
        }

    refused = (await api(CREATE_PRODUCT, product("mother_baby"), token=seller.token)).data
    assert [(e["code"], e["field"]) for e in refused["createProduct"]["errors"]] == [
        ("KEY_CONTROL_RESTRICTION", ["category"])
    ]
    allowed = (await api(CREATE_PRODUCT, product("electronics"), token=seller.token)).data
    assert allowed["createProduct"]["product"]["isListed"] is True

    relist = {"i": {"productId": f.gid("Product", baby.id), "isListed": True}}
    relisted = (await api(UPDATE_LISTING, relist, token=seller.token)).data
    assert relisted["updateProductListing"]["errors"] == [
        {"code": "KEY_CONTROL_RESTRICTION", "field": ["isListed"]}
    ]
    bad = (
        await api(CREATE_PRODUCT, product("food", attributes={"weight": 5}), token=seller.token)
    ).data
    assert bad["createProduct"]["errors"][0]["code"] == "INVALID_INPUT"
    assert await Product.filter(merchant_id=shop.id).count() == 2


COURSE = """
mutation($i: CreateCourseInput!) { createCourse(input: $i) {
  course { id code topic passMark } errors { code field } } }"""
ENROL = """
mutation($id: ID!) { enrolCourse(courseId: $id) {
  enrolment { id score passed course { code } } errors { code field } } }"""
ASSESS = """
mutation($id: ID!, $score: Int!) { recordAssessment(enrolmentId: $id, score: $score) {
  enrolment { id score passed completedAt } errors { code field message } } }"""


async def test_training_through_the_api(api) -> None:
    """QS 6.3: admin staff create a course, anyone lists courses, a merchant enrols once,
    compliance staff record the score; the record shows on Merchant.trainingRecords for
    the merchant, staff and regulators and is null for others."""
    shop, seller = await f.merchant()
    admin = await f.staff(StaffDuty.ADMIN)
    officer = await f.compliance_officer()
    created = (
        await api(
            COURSE,
            {
                "i": {
                    "code": "cp-301",
                    "title": "电商合规 Compliance",
                    "topic": "COMPLIANCE",
                    "passMark": 70,
                }
            },
            token=admin.token,
        )
    ).data["createCourse"]
    assert created["errors"] == []
    course = created["course"]
    assert (course["code"], course["topic"], course["passMark"]) == ("CP-301", "COMPLIANCE", 70)
    forbidden = await api(
        COURSE,
        {"i": {"code": "X-1", "title": "t t", "topic": "SERVICE", "passMark": 1}},
        token=officer.token,
    )
    assert forbidden.error_codes == ["FORBIDDEN"]

    listed = (await api("{ courses { code title topic } }")).data["courses"]
    assert listed == [{"code": "CP-301", "title": "电商合规 Compliance", "topic": "COMPLIANCE"}]

    enrolled = (await api(ENROL, {"id": course["id"]}, token=seller.token)).data["enrolCourse"]
    assert enrolled["errors"] == [] and enrolled["enrolment"]["course"]["code"] == "CP-301"
    again = (await api(ENROL, {"id": course["id"]}, token=seller.token)).data["enrolCourse"]
    assert again["errors"] == [{"code": "ENROLMENT_EXISTS", "field": ["courseId"]}]
    missing = (await api(ENROL, {"id": f.gid("Course", 999)}, token=seller.token)).data
    assert missing["enrolCourse"]["errors"] == [{"code": "COURSE_NOT_FOUND", "field": ["courseId"]}]

    enrolment_id = enrolled["enrolment"]["id"]
    out = (
        await api(
            ASSESS,
            {"id": enrolment_id, "score": 101},
            token=officer.token,
            headers={"Accept-Language": "en"},
        )
    ).data["recordAssessment"]
    assert out["errors"] == [
        {
            "code": "SCORE_OUT_OF_RANGE",
            "field": ["score"],
            "message": "The score is out of the allowed range (0–100)",
        }
    ]
    assessed = (await api(ASSESS, {"id": enrolment_id, "score": 70}, token=officer.token)).data
    record = assessed["recordAssessment"]["enrolment"]
    assert (record["score"], record["passed"]) == (70, True) and record["completedAt"]
    consumer = await f.consumer()
    refused = await api(ASSESS, {"id": enrolment_id, "score": 90}, token=consumer.token)
    assert refused.error_codes == ["FORBIDDEN"]

    for token in [seller.token, admin.token, (await f.regulator()).token]:
        records = (await _merchant_view(api, shop, token))["trainingRecords"]
        assert records == [
            {
                "id": enrolment_id,
                "score": 70,
                "passed": True,
                "completedAt": record["completedAt"],
                "course": {"code": "CP-301", "passMark": 70},
            }
        ]
    _, other_seller = await f.merchant()
    for token in [other_seller.token, consumer.token, None]:
        view = await api(
            "query($id: ID!) { node(id: $id) { ... on Merchant { trainingRecords { id } } } }",
            {"id": f.gid("Merchant", shop.id)},
            token=token,
        )
        assert view.data["node"] == {"trainingRecords": None}
    assert await Course.all().count() == 1


async def test_merchant_governance_fields_cost_a_fixed_number_of_statements(api) -> None:
    """Decision 7: keyControl and trainingRecords over a page of merchants are batched; the
    statement count does not grow with the number of merchants."""
    officer = await f.compliance_officer()
    admin = await f.staff(StaffDuty.ADMIN)
    course = await training.create_course(admin.viewer, "SV-401", "服务 Service", "SERVICE", 60)
    query = (
        "{ merchants(first: 50) { nodes { underKeyControl keyControl { restrictions } "
        "trainingRecords { score course { code } } } } }"
    )

    async def shops(n: int) -> None:
        for _ in range(n):
            shop, seller = await f.merchant()
            await f.decided_case(officer, shop, "COUNTERFEIT")
            await training.enrol(seller.viewer, course.id)

    await shops(2)
    await api.warm(officer.token)
    with count_sql() as small:
        first = (await api(query, token=officer.token)).data
    await shops(4)
    with count_sql() as large:
        second = (await api(query, token=officer.token)).data
    assert len(first["merchants"]["nodes"]) == 2 and len(second["merchants"]["nodes"]) == 6
    assert all(n["keyControl"] for n in second["merchants"]["nodes"])
    assert large.count == small.count, (small.statements, large.statements)
