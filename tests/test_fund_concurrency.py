"""A hundred payout approvals at once (QS 9.7.6), on PostgreSQL where row locks really
contend: for one claim exactly one pays; for a hundred claims against a fund that holds
fifty payouts, exactly fifty pay and the cash ends at zero, never below; the same client
key a hundred times is one payout and ninety-nine replays. No internal error, no deadlock,
and the ledger verifies after each burst."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from pinzhi.models import FundPayout, FundRecovery, FundTransaction, FundTransactionKind
from pinzhi.services.fund import ledger
from tests import factories as f
from tests.conftest import DATABASE_URL
from tests.test_concurrency import ON_POSTGRES

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="row locks contend on PostgreSQL; CI's second pass"
)

APPROVALS = 100
APPROVE = """
mutation($i: ApproveFundPayoutInput!) { approveFundPayout(input: $i) {
  replayed payout { id } errors { code } } }"""


def _approval(complaint_id: int, key: str, amount: int = 100) -> dict[str, Any]:
    return {
        "i": {
            "subjectId": f.gid("Complaint", complaint_id),
            "cause": "PRODUCT_QUALITY",
            "amountMinor": amount,
            "note": "并发 at once",
            "idempotencyKey": key,
        }
    }


async def _burst(api, calls: list[tuple[dict[str, Any], str]]) -> tuple[list[dict], float]:
    started = time.perf_counter()
    results = await asyncio.gather(*(api(APPROVE, v, token=token) for v, token in calls))
    elapsed = time.perf_counter() - started
    assert all(r.status == 200 for r in results)
    assert not [r for r in results if "Internal error" in str(r.body) or r.errors]
    return [r.body["data"]["approveFundPayout"] for r in results], elapsed


async def _agents(n: int = 10) -> list[f.Actor]:
    from pinzhi.models import StaffDuty

    return [await f.staff(StaffDuty.CUSTOMER_SERVICE) for _ in range(n)]


async def _consistent() -> dict[str, int]:
    result = await ledger.check()
    assert result.valid, result.problems
    return await ledger.balances()


async def test_a_hundred_approvals_of_one_claim_pay_it_once(api) -> None:
    w = await f.world()
    await f.fund_cash(await f.fund_admin(), 100_000)
    placed, _ = await f.paid_order(w)
    complaint = await f.complaint(w.buyer, placed)
    agents = await _agents()
    calls = [
        (_approval(complaint.id, f"burst-one-{n:04d}"), agents[n % len(agents)].token)
        for n in range(APPROVALS)
    ]

    payloads, elapsed = await _burst(api, calls)

    paid = [p for p in payloads if p["payout"]]
    refused = [p["errors"][0]["code"] for p in payloads if p["errors"]]
    print(
        f"\n{APPROVALS} approvals of one claim ({DATABASE_URL.split(':', 1)[0]}): "
        f"{len(paid)} paid, {len(refused)} refused, {elapsed:.2f} s"
    )
    assert len(paid) == 1
    assert refused == ["CLAIM_ALREADY_PAID"] * (APPROVALS - 1)
    assert await FundPayout.all().count() == 1 and await FundRecovery.all().count() == 1
    assert await FundTransaction.filter(kind=FundTransactionKind.PAYOUT).count() == 1
    balances = await _consistent()
    assert balances["CASH"] == 100_000 - 100 and balances["PAYOUTS"] == 100


async def test_a_hundred_claims_at_once_are_all_paid(api) -> None:
    """Payouts run one at a time under the cash's lock: what that costs, at a hundred."""
    w = await f.world()
    await f.fund_cash(await f.fund_admin(), 100_000)
    complaints = []
    for _ in range(APPROVALS):
        placed, _ = await f.paid_order(w)
        complaints.append(await f.complaint(w.buyer, placed))
    agents = await _agents()
    calls = [
        (_approval(c.id, f"burst-all-{n:04d}"), agents[n % len(agents)].token)
        for n, c in enumerate(complaints)
    ]

    payloads, elapsed = await _burst(api, calls)

    paid = [p for p in payloads if p["payout"]]
    print(
        f"\n{APPROVALS} claims at once: {len(paid)} paid, {elapsed:.2f} s "
        f"({elapsed / APPROVALS * 1000:.1f} ms a payout)"
    )
    assert len(paid) == APPROVALS
    balances = await _consistent()
    assert balances["CASH"] == 100_000 - APPROVALS * 100
    assert len(await FundPayout.all().values_list("id", flat=True)) == APPROVALS


async def test_a_hundred_claims_against_a_fund_for_fifty_pay_fifty(api) -> None:
    """The cash is checked under its lock: it ends at exactly zero, never below."""
    w = await f.world()
    await f.fund_cash(await f.fund_admin(), 50 * 100)
    complaints = []
    for _ in range(APPROVALS // 2):
        placed, _ = await f.paid_order(w)
        complaints.append(await f.complaint(w.buyer, placed, "质量问题 quality"))
        complaints.append(await f.complaint(w.buyer, placed, "服务问题 service"))
    agents = await _agents()
    calls = [
        (_approval(c.id, f"burst-many-{n:04d}"), agents[n % len(agents)].token)
        for n, c in enumerate(complaints)
    ]

    payloads, elapsed = await _burst(api, calls)

    paid = [p for p in payloads if p["payout"]]
    refused = [p["errors"][0]["code"] for p in payloads if p["errors"]]
    print(
        f"\n{APPROVALS} claims, cash for 50: {len(paid)} paid, {len(refused)} refused "
        f"({set(refused)}), {elapsed:.2f} s"
    )
    assert len(paid) == 50
    assert refused == ["FUND_INSUFFICIENT"] * 50
    balances = await _consistent()
    assert balances["CASH"] == 0 and balances["PAYOUTS"] == 50 * 100


async def test_one_key_sent_a_hundred_times_is_one_payout(api) -> None:
    w = await f.world()
    await f.fund_cash(await f.fund_admin(), 100_000)
    placed, _ = await f.paid_order(w)
    complaint = await f.complaint(w.buyer, placed)
    calls = [(_approval(complaint.id, "burst-same-key"), w.agent.token)] * APPROVALS

    payloads, _ = await _burst(api, calls)

    assert len({p["payout"]["id"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False] + [True] * (APPROVALS - 1)
    assert await FundPayout.all().count() == 1
    await _consistent()


async def test_payouts_contributions_and_recoveries_at_once_do_not_deadlock(api) -> None:
    """Every writer of the fund at once: approvals, contributions, recoveries from the
    deposit (merchant, recovery, accounts) and waivers (recovery, accounts)."""
    from pinzhi.models import ContributionSource, RecoveryMethod
    from pinzhi.services.fund import contributions, recoveries

    w = await f.world()
    admin = await f.fund_admin()
    officer = await f.compliance_officer()
    await f.with_deposit(officer, w.seller, 1_000_000)
    await f.fund_cash(admin, 100_000)
    open_recoveries = []
    for _ in range(20):
        placed, _ = await f.paid_order(w)
        payout = await f.fund_payout(w.agent, (await f.complaint(w.buyer, placed)).id, 100)
        open_recoveries.append(await FundRecovery.get(payout_id=payout.id))
    fresh = []
    for _ in range(40):
        placed, _ = await f.paid_order(w)
        fresh.append(await f.complaint(w.buyer, placed))
    agents = await _agents()

    async def approve(n: int) -> Any:
        return await api(
            APPROVE, _approval(fresh[n].id, f"mixed-{n:04d}"), token=agents[n % 10].token
        )

    async def contribute(n: int) -> Any:
        return await contributions.contribute(
            admin.viewer, 50, ContributionSource.PLATFORM, None, "BANK-MIX", "", f"mix-c-{n:04d}"
        )

    async def settle(n: int) -> Any:
        recovery = open_recoveries[n]
        if n % 2:
            return await recoveries.waive_recovery(officer.viewer, recovery.id, "免追 waived")
        return await recoveries.record_recovery(
            officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿 recovered"
        )

    started = time.perf_counter()
    results = await asyncio.gather(
        *(approve(n) for n in range(40)),
        *(contribute(n) for n in range(20)),
        *(settle(n) for n in range(20)),
    )
    elapsed = time.perf_counter() - started
    approvals = [r.body["data"]["approveFundPayout"] for r in results[:40]]
    assert all(p["errors"] == [] for p in approvals), approvals
    print(f"\n80 mixed fund writes at once: {elapsed:.2f} s")
    balances = await _consistent()
    assert balances["CASH"] == 100_000 - 20 * 100 - 40 * 100 + 20 * 50
    assert balances["HELD"] == 10 * 100
