"""The fund's ledger under random sequences of contributions, payouts, recoveries, appeals,
waivers, releases, reversals and retries (QS 9.7.6): after every step, whether it was
booked or refused with a code, every transaction balances, every balance is the sum of its
entries, the claims agree with the ledger, no claim is paid twice, and no row written
before the step was changed or removed.

The sequences are drawn by hypothesis (derandomised: the same ones every run) and then
played one by one by the async test, as tests/test_fuzz.py does: pytest-asyncio cannot run
an async test under @given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from pinzhi.errors import ServiceError
from pinzhi.models import (
    AfterSalesKind,
    ContributionSource,
    FundAccount,
    FundAccountKind,
    FundEntry,
    FundPayout,
    FundRecovery,
    FundTransaction,
    FundTransactionKind,
    Merchant,
    PayoutCause,
    PayoutSubject,
    RecoveryMethod,
    RecoveryState,
    ViolationCase,
    ViolationState,
)
from pinzhi.services import state, violations
from pinzhi.services.fund import contributions, ledger, payouts, recoveries
from pinzhi.services.fund.payouts import PayoutRequest
from pinzhi.services.lookup import ids_of
from tests import factories as f

SEQUENCES = 60
DEPOSIT = 2_500
# Each sequence starts from a fund holding this much (its first contribution).
OPENING_CASH = 4_000

Op = tuple[Any, ...]
PAY = st.tuples(
    st.just("pay"), st.integers(0, 3), st.sampled_from(list(PayoutCause)), st.integers(-5, 1_500)
)
RECOVER = st.tuples(st.just("recover"), st.integers(0, 7), st.sampled_from(list(RecoveryMethod)))
# Paying and recovering weigh double: they are what the other steps act on.
OPERATIONS = st.one_of(
    st.tuples(st.just("contribute"), st.integers(1, 3_000)),
    PAY,
    PAY,
    RECOVER,
    RECOVER,
    st.tuples(st.just("waive"), st.integers(0, 7)),
    st.tuples(st.just("appeal"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("release")),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("replay"), st.integers(0, 7)),
)


def _sequences() -> list[list[Op]]:
    drawn: list[list[Op]] = []

    @settings(
        max_examples=SEQUENCES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    # A payout or two first, so that the steps after it have claims to act on.
    @given(st.lists(PAY, min_size=1, max_size=3), st.lists(OPERATIONS, min_size=2, max_size=14))
    def draw(first: list[Op], then: list[Op]) -> None:
        drawn.append(first + then)

    draw()
    return drawn


@dataclass
class Play:
    """One sequence's cast and what it booked so far."""

    w: f.World
    admin: f.Actor
    officer: f.Actor
    subjects: list[tuple[PayoutSubject, int]]
    payouts: list[tuple[int, str, PayoutRequest]] = field(default_factory=list)
    contributions: list[int] = field(default_factory=list)
    n: int = 0

    def key(self) -> str:
        self.n += 1
        return f"prop-{self.w.shop.id}-{self.n:04d}"


async def _play_one(play: Play, op: Op) -> bool:
    """Play one step; False when there was nothing for it to act on."""
    name = op[0]
    if name == "contribute":
        transaction, _ = await contributions.contribute(
            play.admin.viewer, op[1], ContributionSource.PLATFORM, None, "BANK-PROP", "", play.key()
        )
        play.contributions.append(transaction.id)
    elif name == "pay":
        subject, subject_id = play.subjects[op[1]]
        asked = PayoutRequest(subject, subject_id, op[2], op[3])
        key = play.key()
        payout, _ = await payouts.approve_payout(play.w.agent.viewer, asked, "随机 random", key)
        play.payouts.append((payout.id, key, asked))
    elif name == "release":
        return await recoveries.release_due(state.now() + timedelta(days=30)) > 0
    elif name == "reverse":
        if not play.contributions:
            return False
        original = play.contributions[op[1] % len(play.contributions)]
        await contributions.reverse_contribution(play.admin.viewer, original, "随机冲正")
    elif not play.payouts:
        return False
    elif name == "replay":
        payout_id, key, asked = play.payouts[op[1] % len(play.payouts)]
        again, created = await payouts.approve_payout(play.w.agent.viewer, asked, "重试", key)
        assert (again.id, created) == (payout_id, False)
    elif name in ("recover", "waive"):
        payout_id = play.payouts[op[1] % len(play.payouts)][0]
        recovery = await FundRecovery.get(payout_id=payout_id)
        if name == "recover":
            await recoveries.record_recovery(play.officer.viewer, recovery.id, op[2], "追偿")
        else:
            await recoveries.waive_recovery(play.officer.viewer, recovery.id, "免追")
    else:  # an appeal of one of the recoveries that went to a case
        cases = await ids_of(
            FundRecovery.filter(
                payout_id__in=[p for p, _, _ in play.payouts], violation_case_id__isnull=False
            ).order_by("id"),
            "violation_case_id",
        )
        if not cases:
            return False
        case = await ViolationCase.get(id=cases[op[1] % len(cases)])
        if case.state == ViolationState.DECIDED:
            await violations.appeal_case(play.w.seller.viewer, case.id, "随机申诉 appeal")
        won = violations.AppealOutcome.OVERTURNED if op[2] else violations.AppealOutcome.UPHELD
        await violations.decide_appeal(play.officer.viewer, case.id, won)
    return True


async def _rows() -> dict[tuple[str, int], tuple[Any, ...]]:
    """Every stored row of the ledger, whole and as the database holds it, by table and id
    (read raw: converting every column of every row on every step would be the test's
    whole cost)."""
    found: dict[tuple[str, int], tuple[Any, ...]] = {}
    connection = connections.get("default")
    for model in (FundTransaction, FundEntry, FundAccount, FundPayout):
        table = model._meta.db_table
        _, rows = await connection.execute_query(f'SELECT * FROM "{table}"')
        for row in rows:
            values = tuple(row.values()) if hasattr(row, "values") else tuple(row)
            found[(table, row["id"])] = values
    return found


async def _invariants(
    play: Play, before: dict[tuple[str, int], tuple[Any, ...]], refused: bool, step: Any
) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Check every invariant after a step; returns the rows as they now are."""
    result = await ledger.check()
    assert result.valid, (step, result.problems)
    # Balances from the raw entries, and their last entries.
    entries = await FundEntry.all().values_list("transaction_id", "account_id", "amount_minor")
    per_transaction: Counter[int] = Counter()
    per_account: Counter[int] = Counter()
    for transaction_id, account_id, amount in entries:
        per_transaction[transaction_id] += amount
        per_account[account_id] += amount
    assert not [t for t, total in per_transaction.items() if total], step
    accounts = await FundAccount.all()
    balances = await ledger.balances_by_id([a.id for a in accounts])
    assert balances == {a.id: per_account[a.id] for a in accounts}, step
    by_kind: Counter[FundAccountKind] = Counter()
    for account in accounts:
        by_kind[FundAccountKind(account.kind)] += balances[account.id]
    assert by_kind[FundAccountKind.CASH] >= 0 and by_kind[FundAccountKind.HELD] >= 0, step
    # Never twice: one payout per (subject, cause), each booked by one PAYOUT transaction.
    claims = Counter(
        await FundPayout.all().values_list(
            "subject_type", "after_sales_request_id", "complaint_id", "cause"
        )
    )
    assert max(claims.values(), default=1) == 1, step
    booked = Counter(
        await FundTransaction.filter(kind=FundTransactionKind.PAYOUT).values_list(
            "payout_id", flat=True
        )
    )
    assert set(booked.values()) <= {1} and len(booked) == len(claims), step
    # The claims agree with the ledger.
    recovered = await FundRecovery.all().values_list("state", "amount_minor")
    owed = sum(a for s, a in recovered if s == RecoveryState.OPEN)
    held = sum(a for s, a in recovered if s == RecoveryState.DEDUCTED)
    kept = sum(a for s, a in recovered if s not in (RecoveryState.WAIVED, RecoveryState.CANCELLED))
    paid = sum(await FundPayout.all().values_list("amount_minor", flat=True))
    assert by_kind[FundAccountKind.RECEIVABLE] == owed, step
    assert by_kind[FundAccountKind.HELD] == held, step
    assert by_kind[FundAccountKind.PAYOUTS] == paid, step
    assert by_kind[FundAccountKind.RECOVERIES] == -kept, step
    # This sequence's shop: its deposit is what recoveries from it took and kept.
    taken = sum(
        r.amount_minor
        for r in await FundRecovery.filter(
            merchant_id=play.w.shop.id,
            method=RecoveryMethod.DEPOSIT,
            state__in=[RecoveryState.DEDUCTED, RecoveryState.RECOVERED],
        )
    )
    assert (await Merchant.get(id=play.w.shop.id)).deposit_held_minor == DEPOSIT - taken, step
    # Nothing written before the step changed or went away.
    after = await _rows()
    assert {k: after.get(k) for k in before} == before, step
    if refused:
        assert after == before, step  # a refusal books nothing at all
    return after


async def _play(sequence: list[Op], outcomes: Counter[tuple[str, str]]) -> None:
    w = await f.world()
    admin = await f.fund_admin()
    officer = await f.compliance_officer()
    await f.with_deposit(officer, w.seller, DEPOSIT)
    subjects: list[tuple[PayoutSubject, int]] = []
    for _ in range(2):
        placed, _ = await f.delivered_order(w)
        subjects.append((PayoutSubject.COMPLAINT, (await f.complaint(w.buyer, placed)).id))
        request = await f.after_sales_request(w.buyer, placed, AfterSalesKind.QUALITY_ISSUE, 1_000)
        subjects.append((PayoutSubject.AFTER_SALES, request.id))
    play = Play(w, admin, officer, subjects)
    await f.fund_cash(admin, OPENING_CASH)
    before = await _rows()
    for index, op in enumerate(sequence):
        recoveries_before = await FundRecovery.all().values_list("id", "state")
        refused = False
        try:
            acted = await _play_one(play, op)
        except ServiceError as error:
            refused = True
            outcomes[(op[0], str(error.code))] += 1
        else:
            outcomes[(op[0], "done" if acted else "nothing to do")] += 1
        if refused:
            assert await FundRecovery.all().values_list("id", "state") == recoveries_before
        before = await _invariants(play, before, refused, (sequence, index))


async def test_random_sequences_keep_every_ledger_invariant(db) -> None:
    """QS 9.7.6: the ledger's invariants hold after every step of every sequence."""
    sequences = _sequences()
    assert len(sequences) == SEQUENCES
    kinds = Counter(op[0] for sequence in sequences for op in sequence)
    assert set(kinds) == {
        "contribute",
        "pay",
        "recover",
        "waive",
        "appeal",
        "release",
        "reverse",
        "replay",
    }
    outcomes: Counter[tuple[str, str]] = Counter()
    for sequence in sequences:
        await _play(sequence, outcomes)
    print("\nfund ledger steps:", dict(sorted(outcomes.items())))
    # The sequences did reach every kind of transaction, not only refusals.
    booked = set(await FundTransaction.all().distinct().values_list("kind", flat=True))
    assert booked == set(FundTransactionKind), booked
    assert await FundRecovery.filter(state=RecoveryState.CANCELLED).exists()
