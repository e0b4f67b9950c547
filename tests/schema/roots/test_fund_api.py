"""The advance-compensation fund through the GraphQL API (QS 9.7.6): who pays, who sees
what (consumers their payouts, merchants the recoveries against their shop, staff by duty,
regulators everything masked), coded refusals that change nothing, the merchant's appeal
through the violation path (QS 6.4), traced steps (QS 9.1.2) and statement counts."""

from __future__ import annotations

from typing import Any

import pytest

from pinzhi.auth.tokens import issue_access_token
from pinzhi.models import AfterSalesKind, FundRecovery, Merchant, RecoveryState, Role, StaffDuty
from pinzhi.services import accounts
from tests import factories as f
from tests.helpers import count_sql

CONTRIBUTE = """
mutation($i: ContributeToFundInput!) { contributeToFund(input: $i) {
  replayed transaction { id kind amount { amountMinor currency } reference
    entries { seq amount { amountMinor } balanceAfter { amountMinor } account { code kind } } }
  errors { code field message } } }"""
REVERSE = """
mutation($i: ReverseFundContributionInput!) { reverseFundContribution(input: $i) {
  transaction { id kind corrects { id } entries { amount { amountMinor } account { code } } }
  errors { code field } } }"""
APPROVE = """
mutation($i: ApproveFundPayoutInput!) { approveFundPayout(input: $i) {
  replayed payout { id state cause subjectType subjectId party ruleVersion
    amount { amountMinor currency } consumer { id } order { id } complaint { id }
    merchant { id } recovery { id state amount { amountMinor } } }
  errors { code field message } } }"""
RECOVER = """
mutation($i: RecordFundRecoveryInput!) { recordFundRecovery(input: $i) {
  recovery { id state method violationCase { id type state penalty
    deduction { amountMinor } appealDeadline } }
  errors { code field } } }"""
WAIVE = """
mutation($i: WaiveFundRecoveryInput!) { waiveFundRecovery(input: $i) {
  recovery { id state } errors { code field } } }"""
APPEAL = """
mutation($i: AppealViolationCaseInput!) { appealViolationCase(input: $i) {
  violationCase { id state } errors { code field } } }"""
DECIDE_APPEAL = """
mutation($i: DecideAppealInput!) { decideAppeal(input: $i) {
  violationCase { id state } errors { code field } } }"""
FUND = """
{ fund { cash { amountMinor currency } held { amountMinor } receivable { amountMinor }
    contributions { amountMinor } payouts { amountMinor } recoveries { amountMinor }
    borne { amountMinor } balanced accounts { code kind balance { amountMinor } } }
  verifyFundLedger { valid transactions entries problems } }"""
PAYOUTS = """
query($first: Int, $last: Int, $before: String, $after: String) {
  fundPayouts(first: $first, last: $last, before: $before, after: $after) {
    nodes { id amount { amountMinor } cause consumer { id name email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
RECOVERIES = """
{ fundRecoveries { nodes { id state party cause subjectId amount { amountMinor }
    merchant { id } payout { id } order { id } violationCase { id state } } } }"""
TRAIL = """
query($id: ID!) { auditTrail(entityId: $id) { action toState actorRole }
  verifyAuditTrail(entityId: $id) { valid } }"""


async def _ok(api, document: str, variables: dict[str, Any], token: str, name: str) -> dict:
    payload = (await api(document, variables, token=token)).data[name]
    assert payload["errors"] == [], payload
    return payload


async def _world(deposit: int = 100_000) -> tuple[f.World, f.Actor, f.Actor, Any]:
    """The world, an admin and a compliance officer, the shop's deposit, and a complaint
    about a delivered order (one item at 1000)."""
    w = await f.world()
    admin = await f.fund_admin()
    officer = await f.compliance_officer()
    if deposit:
        await f.with_deposit(officer, w.seller, deposit)
    placed, _ = await f.delivered_order(w)
    return w, admin, officer, await f.complaint(w.buyer, placed)


def _contribution(amount: int = 50_000, key: str = "api-fund-0001") -> dict:
    return {"i": {"amountMinor": amount, "reference": "BANK-API-1", "idempotencyKey": key}}


def _approval(complaint: Any, amount: int = 600, key: str = "api-payout-01", **kw: Any) -> dict:
    return {
        "i": {
            "subjectId": f.gid("Complaint", complaint.id),
            "cause": "PRODUCT_QUALITY",
            "amountMinor": amount,
            "note": "商品划痕 scratched",
            "idempotencyKey": key,
            **kw,
        }
    }


async def test_pay_first_recover_later_and_the_merchant_wins_its_appeal(api) -> None:
    """QS 9.7.6 end to end: the admin funds, customer service pays the consumer at once,
    compliance recovers from the deposit; the merchant sees the recovery against its shop
    (not the payout), appeals it with appealViolationCase, wins; the deduction goes back,
    the recovery is cancelled by a correction, and the ledger still verifies."""
    w, admin, officer, complaint = await _world()
    funded = await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    entries = funded["transaction"]["entries"]
    assert {(e["account"]["code"], e["amount"]["amountMinor"]) for e in entries} == {
        ("CASH", 50_000),
        ("CONTRIBUTIONS:PLATFORM", -50_000),
    }

    paid = await _ok(api, APPROVE, _approval(complaint), w.agent.token, "approveFundPayout")
    payout = paid["payout"]
    assert (payout["state"], payout["party"], payout["subjectType"]) == (
        "PAID",
        "MERCHANT",
        "COMPLAINT",
    )
    assert payout["consumer"]["id"] == w.buyer.gid
    assert payout["complaint"]["id"] == payout["subjectId"] == f.gid("Complaint", complaint.id)
    assert payout["recovery"]["state"] == "OPEN"
    recovery_id = payout["recovery"]["id"]

    mine = (await api(PAYOUTS, {}, token=w.buyer.token)).data["fundPayouts"]["nodes"]
    assert [(p["id"], p["amount"]["amountMinor"]) for p in mine] == [(payout["id"], 600)]
    assert (await api(PAYOUTS, {}, token=w.other_buyer.token)).data["fundPayouts"]["nodes"] == []

    recovered = await _ok(
        api,
        RECOVER,
        {"i": {"recoveryId": recovery_id, "method": "DEPOSIT", "note": "保证金追偿"}},
        officer.token,
        "recordFundRecovery",
    )
    case = recovered["recovery"]["violationCase"]
    assert recovered["recovery"]["state"] == "DEDUCTED"
    assert (case["type"], case["state"], case["penalty"], case["deduction"]) == (
        "FUND_RECOVERY",
        "DECIDED",
        "DEPOSIT_DEDUCTION",
        {"amountMinor": 600},
    )

    seen = (await api(RECOVERIES, token=w.seller.token)).data["fundRecoveries"]["nodes"]
    assert [(r["id"], r["state"], r["cause"], r["payout"]) for r in seen] == [
        (recovery_id, "DEDUCTED", "PRODUCT_QUALITY", None)
    ]
    assert seen[0]["subjectId"] == f.gid("Complaint", complaint.id)
    assert seen[0]["violationCase"]["id"] == case["id"]
    others = (await api(RECOVERIES, token=w.other_seller.token)).data["fundRecoveries"]
    assert others["nodes"] == []

    appeal = {"i": {"caseId": case["id"], "text": "物流途中损坏 damaged in transit"}}
    await _ok(api, APPEAL, appeal, w.seller.token, "appealViolationCase")
    decision = {"i": {"caseId": case["id"], "outcome": "OVERTURNED", "note": "改判"}}
    await _ok(api, DECIDE_APPEAL, decision, officer.token, "decideAppeal")

    assert (await FundRecovery.get(payout_id__isnull=False)).state == RecoveryState.CANCELLED
    assert (await Merchant.get(id=w.shop.id)).deposit_held_minor == 100_000
    fund = (await api(FUND, token=admin.token)).data
    summary = fund["fund"]
    assert summary["cash"] == {"amountMinor": 50_000 - 600, "currency": "CNY"}
    assert (summary["held"], summary["receivable"], summary["borne"]) == (
        {"amountMinor": 0},
        {"amountMinor": 0},
        {"amountMinor": 600},
    )
    assert summary["balanced"] is True
    assert fund["verifyFundLedger"]["valid"] is True and fund["verifyFundLedger"]["problems"] == []

    trail = (await api(TRAIL, {"id": recovery_id}, token=w.seller.token)).data
    assert [e["action"] for e in trail["auditTrail"]] == ["opened", "deducted", "cancelled"]
    assert trail["verifyAuditTrail"]["valid"] is True


async def test_a_retry_is_answered_with_the_first_payout_and_a_second_claim_refused(api) -> None:
    w, admin, _, complaint = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    first = await _ok(api, APPROVE, _approval(complaint), w.agent.token, "approveFundPayout")
    again = await _ok(api, APPROVE, _approval(complaint), w.agent.token, "approveFundPayout")
    assert (again["payout"]["id"], again["replayed"]) == (first["payout"]["id"], True)
    other_key = await api(APPROVE, _approval(complaint, key="api-payout-02"), token=w.agent.token)
    assert other_key.data["approveFundPayout"]["errors"][0]["code"] == "CLAIM_ALREADY_PAID"
    replay = await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    assert replay["replayed"] is True
    fund = (await api(FUND, token=admin.token)).data["fund"]
    assert fund["cash"]["amountMinor"] == 50_000 - 600


async def test_a_payout_about_an_after_sales_request_links_to_it(api) -> None:
    """QS 9.7.6 with QS 9.2.3: the subject of a payout may be an after-sales request."""
    w, admin, _, _ = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    placed, _ = await f.delivered_order(w)
    request = await f.after_sales_request(w.buyer, placed, AfterSalesKind.QUALITY_ISSUE, 1_000)
    variables = _approval(request, 300)
    variables["i"]["subjectId"] = f.gid("AfterSalesRequest", request.id)
    paid = await _ok(
        api,
        "mutation($i: ApproveFundPayoutInput!) { approveFundPayout(input: $i) { payout { "
        "subjectType subjectId afterSalesRequest { id } complaint { id } } errors { code } } }",
        variables,
        w.agent.token,
        "approveFundPayout",
    )
    assert paid["payout"] == {
        "subjectType": "AFTER_SALES",
        "subjectId": f.gid("AfterSalesRequest", request.id),
        "afterSalesRequest": {"id": f.gid("AfterSalesRequest", request.id)},
        "complaint": None,
    }


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amountMinor": 0}, "INVALID_INPUT", ["amountMinor"]),
        ({"amountMinor": 1_001}, "PAYOUT_LIMIT_EXCEEDED", ["amountMinor"]),
        ({"subjectId": "not-an-id"}, "NOT_FOUND", ["subjectId"]),
        ({"subjectId": f.gid("Order", 1)}, "NOT_FOUND", ["subjectId"]),
        ({"responsibleProviderId": f.gid("Merchant", 1)}, "NOT_FOUND", ["responsibleProviderId"]),
        ({"note": ""}, "INVALID_INPUT", ["note"]),
        ({"idempotencyKey": "x"}, "INVALID_INPUT", ["idempotencyKey"]),
    ],
)
async def test_bad_approvals_get_coded_errors_and_change_nothing(api, change, code, field) -> None:
    w, admin, _, complaint = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    before = (await api(FUND, token=admin.token)).data
    variables = _approval(complaint)
    variables["i"].update(change)
    payload = (await api(APPROVE, variables, token=w.agent.token)).data["approveFundPayout"]
    assert payload["payout"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert payload["errors"][0]["message"]
    assert (await api(FUND, token=admin.token)).data == before


async def test_refusals_speak_the_clients_language(api) -> None:
    w, _, _, complaint = await _world()
    response = await api.http.post(
        "/graphql",
        json={"query": APPROVE, "variables": _approval(complaint)},
        headers={"Authorization": f"Bearer {w.agent.token}", "Accept-Language": "en"},
    )
    [error] = response.json()["data"]["approveFundPayout"]["errors"]
    assert error["code"] == "FUND_INSUFFICIENT"
    assert error["message"].startswith("The advance-compensation fund does not hold enough")


async def test_waiving_and_reversing_are_corrections_on_the_ledger(api) -> None:
    w, admin, officer, complaint = await _world()
    funded = await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    extra = await _ok(
        api, CONTRIBUTE, _contribution(1_000, "api-fund-0002"), admin.token, "contributeToFund"
    )
    paid = await _ok(api, APPROVE, _approval(complaint), w.agent.token, "approveFundPayout")
    waived = await _ok(
        api,
        WAIVE,
        {"i": {"recoveryId": paid["payout"]["recovery"]["id"], "reason": "商家已关店 closed"}},
        officer.token,
        "waiveFundRecovery",
    )
    assert waived["recovery"]["state"] == "WAIVED"
    reversed_ = await _ok(
        api,
        REVERSE,
        {"i": {"transactionId": extra["transaction"]["id"], "reason": "重复录入 duplicate"}},
        admin.token,
        "reverseFundContribution",
    )
    correction = reversed_["transaction"]
    assert correction["kind"] == "CORRECTION"
    assert correction["corrects"]["id"] == extra["transaction"]["id"]
    again = await api(
        REVERSE,
        {"i": {"transactionId": extra["transaction"]["id"], "reason": "再来 again"}},
        token=admin.token,
    )
    assert again.data["reverseFundContribution"]["errors"] == [
        {"code": "ALREADY_CORRECTED", "field": ["transactionId"]}
    ]
    summary = (await api(FUND, token=admin.token)).data["fund"]
    assert summary["cash"]["amountMinor"] == 50_000 - 600
    assert summary["borne"]["amountMinor"] == 600 and summary["recoveries"]["amountMinor"] == 0
    assert funded["transaction"]["kind"] == "CONTRIBUTION"


async def test_who_may_read_the_fund(api) -> None:
    """Staff by duty and regulators read the ledger; consumers, merchants and providers are
    refused it; staff without a duty see nothing."""
    w, admin, officer, _ = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    for token in (admin.token, officer.token, w.agent.token, w.regulator.token):
        assert (await api(FUND, token=token)).data["fund"]["cash"]["amountMinor"] == 50_000
    for token in (w.buyer.token, w.seller.token, w.carrier_key, None):
        response = await api("{ fund { cash { amountMinor } } }", token=token)
        assert response.error_codes and response.error_codes[0] in {"FORBIDDEN", "UNAUTHENTICATED"}
    another_admin = await f.staff(StaffDuty.ADMIN)
    ledger = await api("{ fundTransactions { nodes { id } } }", token=another_admin.token)
    assert len(ledger.data["fundTransactions"]["nodes"]) == 1
    account = await accounts.create_account("noduty@test.pinzhi", f.PASSWORD, Role.STAFF)
    no_duty, _ = issue_access_token(account)
    refused = await api("{ fundTransactions { nodes { id } } }", token=no_duty)
    assert refused.error_codes == ["FORBIDDEN"]
    claims = await api(
        "{ fundPayouts { nodes { id } } fundRecoveries { nodes { id } } }", token=no_duty
    )
    assert claims.data == {"fundPayouts": {"nodes": []}, "fundRecoveries": {"nodes": []}}
    merchant_view = await api("{ fundRecoveries { nodes { id } } }", token=w.seller.token)
    assert merchant_view.data["fundRecoveries"]["nodes"] == []


async def test_regulators_read_everything_masked(api) -> None:
    """QS 9.4.1: a regulator reads payouts and the consumer paid, with the name and e-mail
    masked; node(id) reaches payouts, recoveries and transactions."""
    w, admin, _, complaint = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    paid = await _ok(api, APPROVE, _approval(complaint), w.agent.token, "approveFundPayout")
    [seen] = (await api(PAYOUTS, {}, token=w.regulator.token)).data["fundPayouts"]["nodes"]
    assert seen["consumer"]["name"] == "张*"
    assert seen["consumer"]["email"].startswith("c***@")
    node = await api(
        "query($id: ID!) { node(id: $id) { ... on FundRecovery { state } } }",
        {"id": paid["payout"]["recovery"]["id"]},
        token=w.regulator.token,
    )
    assert node.data["node"] == {"state": "OPEN"}
    foreign = await api(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": paid["payout"]["id"]},
        token=w.other_buyer.token,
    )
    assert foreign.data["node"] is None


async def test_a_list_of_payouts_pages_both_ways(api) -> None:
    w, admin, _, _ = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    ids = []
    for n in range(5):
        placed, _ = await f.paid_order(w)
        complaint = await f.complaint(w.buyer, placed)
        paid = await _ok(
            api,
            APPROVE,
            _approval(complaint, 100, f"api-page-{n:04d}"),
            w.agent.token,
            "approveFundPayout",
        )
        ids.append(paid["payout"]["id"])
    first = (await api(PAYOUTS, {"first": 2}, token=w.buyer.token)).data["fundPayouts"]
    assert [p["id"] for p in first["nodes"]] == ids[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await api(
        PAYOUTS, {"first": 5, "after": first["pageInfo"]["endCursor"]}, token=w.buyer.token
    )
    assert [p["id"] for p in rest.data["fundPayouts"]["nodes"]] == ids[::-1][2:]
    back = await api(
        PAYOUTS, {"last": 2, "before": first["pageInfo"]["endCursor"]}, token=w.buyer.token
    )
    assert [p["id"] for p in back.data["fundPayouts"]["nodes"]] == ids[::-1][:1]


NESTED = """
query($first: Int!) { fundPayouts(first: $first) { nodes { id amount { amountMinor }
  consumer { id } order { id } merchant { id } recovery { id state merchant { id } } } }
  fundTransactions(first: $first) { nodes { id kind entries { amount { amountMinor }
    account { code balance { amountMinor } } } } } }"""


async def test_nested_fund_lists_cost_the_same_statements_at_any_page_size(api) -> None:
    """No N+1 (architecture decision 7) for payouts with their relations and transactions
    with their entries and accounts."""
    w, admin, _, _ = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    for n in range(6):
        placed, _ = await f.paid_order(w)
        complaint = await f.complaint(w.buyer, placed)
        await _ok(
            api,
            APPROVE,
            _approval(complaint, 100, f"api-sql-{n:04d}"),
            w.agent.token,
            "approveFundPayout",
        )
    token = w.regulator.token
    await api.warm(token)
    counts = []
    for first in (2, 6):
        with count_sql() as sql:
            data = (await api(NESTED, {"first": first}, token=token)).data
        assert len(data["fundPayouts"]["nodes"]) == first
        counts.append(sql.count)
    assert counts[0] == counts[1], counts


# One approval over HTTP, the credential's check aside: the rule, the subject, its order,
# the cash row every fund write queues on, the accounts (found), their locks and balances,
# the claim's checks, the payout and its recovery with their first nodes, the transaction,
# its entries and its node.
PAYOUT_STATEMENTS = 18


async def test_a_payout_costs_a_fixed_number_of_statements(api) -> None:
    w, admin, _, complaint = await _world()
    await _ok(api, CONTRIBUTE, _contribution(), admin.token, "contributeToFund")
    placed, _ = await f.paid_order(w)
    warm = await f.complaint(w.buyer, placed)
    await _ok(
        api, APPROVE, _approval(warm, 100, "api-warm-0001"), w.agent.token, "approveFundPayout"
    )
    with count_sql() as sql:
        await _ok(
            api,
            "mutation($i: ApproveFundPayoutInput!) { approveFundPayout(input: $i) "
            "{ payout { id } errors { code } } }",
            _approval(complaint),
            w.agent.token,
            "approveFundPayout",
        )
    print(f"\none payout: {sql.count} statements", dict(sql.counts))
    assert sql.count == PAYOUT_STATEMENTS, sql.statements
