"""The fund's double-entry ledger (QS 9.7.6): its chart of accounts, posting, balances and
the check that proves them.

Chart of accounts (``FundAccount.code``). Debit accounts, whose balances are positive:

- ``CASH``: what the fund can pay out; never below zero.
- ``HELD``: recoveries taken from a merchant that an appeal may still undo; not spendable.
- ``RECEIVABLE:MERCHANT:<id>``, ``RECEIVABLE:PROVIDER:<id>``: what a responsible party
  owes the fund for the payouts it answers for.
- ``PAYOUTS``: compensation paid to consumers (an expense).

Credit accounts, whose balances are negative:

- ``CONTRIBUTIONS:PLATFORM``, ``CONTRIBUTIONS:MERCHANT:<id>``: what each contributed.
- ``RECOVERIES``: recoveries accrued against responsible parties, less those waived or
  cancelled. ``PAYOUTS + RECOVERIES`` is what the fund itself has borne.

The transactions, each of whose entries sum to zero:

- CONTRIBUTION: CASH +x, CONTRIBUTIONS:<source> −x.
- PAYOUT (the consumer is paid, and the recovery opened, at once): PAYOUTS +x, CASH −x,
  RECEIVABLE:<party> +x, RECOVERIES −x.
- RECOVERY from a merchant (deposit or settlement deduction, appealable): HELD +x,
  RECEIVABLE −x; from a provider (settlement deduction, final): CASH +x, RECEIVABLE −x.
- RELEASE of a held recovery once it can no longer be appealed: CASH +x, HELD −x.
- CORRECTION: a waived recovery (RECOVERIES +x, RECEIVABLE −x), a recovery an appeal
  overturned (RECOVERIES +x, HELD −x: the money goes back to the merchant), a reversed
  contribution (its entries negated). Each corrects one transaction, once.

``CASH`` going below zero is refused as ``FUND_INSUFFICIENT``; any other account leaving its
side is a bug, and raises. Every transaction's idempotency key is unique and, for the
fund's own events, derived from what it books (``PAYOUT:<subject>:<id>:<cause>``,
``RELEASE:<recovery>``, …), so the same event cannot be booked twice even by two racing
requests. Each posting is a traced key node of its transaction (QS 9.1.2), its entries
and balances in the hashed data.

Concurrency: a posting locks its accounts' rows (``select_for_update``, in id order, so
postings never deadlock on each other), reads each account's last entry and appends the
next (``seq`` + 1, balance + amount). ``(account, seq)`` is unique, so even a posting
that skipped the lock could not fork an account's history. Every posting touches ``CASH``
or a claim's own accounts, so payouts run one at a time: the price of a cash balance that
is checked, not hoped for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    ContributionSource,
    FundAccount,
    FundAccountKind,
    FundEntry,
    FundParty,
    FundTransaction,
    FundTransactionKind,
)
from pinzhi.services import audit
from pinzhi.services.lookup import ids_of

CURRENCY = "CNY"
DEBIT_KINDS = frozenset(
    {
        FundAccountKind.CASH,
        FundAccountKind.HELD,
        FundAccountKind.RECEIVABLE,
        FundAccountKind.PAYOUTS,
    }
)


@dataclass(frozen=True)
class AccountRef:
    """An account of the chart, by code, with what it needs to be opened."""

    code: str
    kind: FundAccountKind
    merchant_id: int | None = None
    provider_id: int | None = None


CASH = AccountRef("CASH", FundAccountKind.CASH)
HELD = AccountRef("HELD", FundAccountKind.HELD)
PAYOUTS = AccountRef("PAYOUTS", FundAccountKind.PAYOUTS)
RECOVERIES = AccountRef("RECOVERIES", FundAccountKind.RECOVERIES)


def contributions(source: ContributionSource, merchant_id: int | None = None) -> AccountRef:
    if source == ContributionSource.PLATFORM:
        return AccountRef("CONTRIBUTIONS:PLATFORM", FundAccountKind.CONTRIBUTIONS)
    return AccountRef(
        f"CONTRIBUTIONS:MERCHANT:{merchant_id}", FundAccountKind.CONTRIBUTIONS, merchant_id
    )


def receivable(party: FundParty, merchant_id: int | None, provider_id: int | None) -> AccountRef:
    if party == FundParty.MERCHANT:
        return AccountRef(
            f"RECEIVABLE:MERCHANT:{merchant_id}", FundAccountKind.RECEIVABLE, merchant_id
        )
    return AccountRef(
        f"RECEIVABLE:PROVIDER:{provider_id}", FundAccountKind.RECEIVABLE, None, provider_id
    )


@dataclass(frozen=True)
class Line:
    """One entry to post: a signed amount (debit positive) on an account."""

    account: AccountRef
    amount_minor: int


def balanced(lines: Sequence[Line]) -> bool:
    return sum(line.amount_minor for line in lines) == 0


def is_debit(kind: FundAccountKind | str) -> bool:
    return FundAccountKind(kind) in DEBIT_KINDS


async def serialise() -> None:
    """Take the fund's cash row first in every write of the fund, inside its transaction.
    An account opened inside a transaction holds its unique code until that commits, so a
    second writer opening the same account waits on it, while perhaps holding accounts the
    first then locks: a deadlock (seen on PostgreSQL with eighty mixed writes at once).
    Behind the cash row, one writer at a time opens and locks accounts; payouts queue on it
    anyway. (Before the fund's first write there is no cash row to queue on: the first
    writers open it, and a deadlock between them is retried, services/transactions.py.)"""
    await FundAccount.filter(code=CASH.code).select_for_update().first()


async def ensure_accounts(refs: Iterable[AccountRef]) -> None:
    """Open the accounts that do not exist yet, inside the caller's transaction and before
    it takes any lock (so a refusal opens nothing). Each opening is a savepoint of its own:
    an account a racing request opened first is as good as one opened here."""
    wanted = {ref.code: ref for ref in refs}
    codes: list[Any] = await FundAccount.filter(code__in=list(wanted)).values_list(
        "code", flat=True
    )
    found = set(codes)
    for code, ref in wanted.items():
        if code in found:
            continue
        try:
            async with in_transaction():
                await FundAccount.create(
                    code=code,
                    kind=ref.kind,
                    merchant_id=ref.merchant_id,
                    provider_id=ref.provider_id,
                    currency=CURRENCY,
                )
        except IntegrityError:
            if not await FundAccount.filter(code=code).exists():
                raise


@dataclass
class Locked:
    """Accounts locked in the caller's transaction, with the last seq and the balance of
    each (by code)."""

    accounts: dict[str, FundAccount]
    seqs: dict[str, int] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)

    def balance(self, ref: AccountRef) -> int:
        return self.balances.get(ref.code, 0)


async def lock(refs: Iterable[AccountRef]) -> Locked:
    """Lock the accounts of ``refs`` (in id order) inside the caller's transaction and read
    where each stands: two statements, whatever their number."""
    codes = sorted({ref.code for ref in refs})
    rows = await FundAccount.filter(code__in=codes).order_by("id").select_for_update()
    accounts = {row.code: row for row in rows}
    missing = set(codes) - set(accounts)
    if missing:
        raise LookupError(f"fund accounts not opened: {sorted(missing)}")
    by_id = {row.id: row.code for row in rows}
    last_ids = (
        FundEntry.filter(account_id__in=list(by_id))
        .annotate(last_id=Max("id"))
        .group_by("account_id")
        .values("last_id")
    )
    latest = await FundEntry.filter(id__in=Subquery(last_ids)).only(
        "id", "account_id", "seq", "balance_after_minor"
    )
    locked = Locked(accounts)
    for entry in latest:
        code = by_id[entry.account_id]
        locked.seqs[code] = entry.seq
        locked.balances[code] = entry.balance_after_minor
    return locked


async def post(
    locked: Locked,
    kind: FundTransactionKind,
    lines: Sequence[Line],
    *,
    key: str,
    actor: Viewer | None,
    memo: str = "",
    cash_field: str = "amountMinor",
    **links: Any,
) -> FundTransaction:
    """Book one transaction on accounts the caller locked (``lock``) in its transaction:
    refused if its entries do not balance or would take the cash below zero. ``links``
    are the transaction's other columns (payout_id, recovery_id, corrects_id, merchant_id,
    reference)."""
    if not lines or not balanced(lines) or any(line.amount_minor == 0 for line in lines):
        raise ValueError(f"an unbalanced or empty transaction: {lines}")
    if len({line.account.code for line in lines}) != len(lines):
        raise ValueError("one entry per account")
    after: dict[str, int] = {}
    for line in lines:
        code = line.account.code
        if code not in locked.accounts:
            raise LookupError(f"account {code} is not locked")
        value = locked.balance(line.account) + line.amount_minor
        if (value < 0) if is_debit(line.account.kind) else (value > 0):
            if line.account == CASH:
                raise ServiceError(
                    ErrorCode.FUND_INSUFFICIENT,
                    (cash_field,),
                    f"the fund holds {locked.balance(CASH)}",
                )
            raise RuntimeError(f"fund account {code} would leave its side: {value}")
        after[code] = value
    gross = sum(line.amount_minor for line in lines if line.amount_minor > 0)
    transaction = await FundTransaction.create(
        kind=kind,
        idempotency_key=key,
        amount_minor=gross,
        currency=CURRENCY,
        memo=memo,
        actor_id=actor.account_id if actor else None,
        actor_role=str(actor.role) if actor and actor.role else "SYSTEM",
        **links,
    )
    entries = []
    for line in lines:
        code = line.account.code
        seq = locked.seqs.get(code, 0) + 1
        entries.append(
            FundEntry(
                transaction_id=transaction.id,
                account_id=locked.accounts[code].id,
                seq=seq,
                amount_minor=line.amount_minor,
                balance_after_minor=after[code],
                currency=CURRENCY,
            )
        )
        locked.seqs[code] = seq
        locked.balances[code] = after[code]
    await FundEntry.bulk_create(entries)
    await audit.append(
        "FundTransaction",
        transaction.id,
        "posted",
        actor=actor,
        new=True,
        data={
            "kind": str(kind),
            "key": key,
            "amount_minor": gross,
            "entries": [
                [e.account_id, e.seq, e.amount_minor, e.balance_after_minor] for e in entries
            ],
            **{name: value for name, value in links.items() if value is not None},
        },
    )
    return transaction


async def balances(codes: Iterable[str] | None = None) -> dict[str, int]:
    """The balance of each account (by code), from its last entry; 0 for one without any."""
    query = FundAccount.all() if codes is None else FundAccount.filter(code__in=list(codes))
    accounts = await query.only("id", "code")
    return await balances_of(accounts)


async def balances_of(accounts: Sequence[FundAccount]) -> dict[str, int]:
    by_id = await balances_by_id([a.id for a in accounts])
    return {a.code: by_id[a.id] for a in accounts}


async def balances_by_id(account_ids: Sequence[int]) -> dict[int, int]:
    """The balance of each account by id, from its last entry (one statement)."""
    found = dict.fromkeys(account_ids, 0)
    if not found:
        return found
    last_ids = (
        FundEntry.filter(account_id__in=list(found))
        .annotate(last_id=Max("id"))
        .group_by("account_id")
        .values("last_id")
    )
    for account_id, balance in await FundEntry.filter(id__in=Subquery(last_ids)).values_list(
        "account_id", "balance_after_minor"
    ):
        found[account_id] = balance
    return found


@dataclass(frozen=True)
class Position:
    """Where the fund stands: each account with its balance, and the totals by kind (each
    positive on its own side)."""

    accounts: list[FundAccount]
    balances: dict[int, int]

    def total(self, kind: FundAccountKind) -> int:
        signed = sum(self.balances[a.id] for a in self.accounts if a.kind == kind)
        return signed if is_debit(kind) else -signed

    @property
    def balanced(self) -> bool:
        return sum(self.balances.values()) == 0


async def position(viewer: Viewer) -> Position:
    """Every account the viewer may read (auth/scopes.py) and its balance: two statements."""
    accounts = list(await scope(viewer, FundAccount).order_by("id"))
    return Position(accounts, await balances_by_id([a.id for a in accounts]))


@dataclass(frozen=True)
class LedgerCheck:
    """What recomputing the ledger from its entries found (``check``)."""

    transactions: int
    entries: int
    problems: list[str]

    @property
    def valid(self) -> bool:
        return not self.problems


async def check() -> LedgerCheck:
    """Recompute the whole ledger from its entries: every transaction balances; every
    account's entries are numbered 1, 2, 3 … and each balance is the running sum of its
    entries; no account is on the wrong side; all balances together are zero."""
    problems: list[str] = []
    accounts = {a.id: a for a in await FundAccount.all()}
    rows = (
        await FundEntry.all()
        .order_by("account_id", "seq")
        .values_list("transaction_id", "account_id", "seq", "amount_minor", "balance_after_minor")
    )
    sums: dict[int, int] = {}
    running: dict[int, tuple[int, int]] = {}
    for transaction_id, account_id, seq, amount, balance_after in rows:
        sums[transaction_id] = sums.get(transaction_id, 0) + amount
        last_seq, total = running.get(account_id, (0, 0))
        total += amount
        if seq != last_seq + 1:
            problems.append(f"account {account_id}: entry {seq} follows {last_seq}")
        if balance_after != total:
            problems.append(f"account {account_id} entry {seq}: {balance_after} != {total}")
        if amount == 0:
            problems.append(f"account {account_id} entry {seq}: zero")
        running[account_id] = (seq, total)
    transactions = await ids_of(FundTransaction.all())
    for transaction_id in transactions:
        if transaction_id not in sums:
            problems.append(f"transaction {transaction_id} has no entries")
        elif sums[transaction_id] != 0:
            problems.append(f"transaction {transaction_id} sums to {sums[transaction_id]}")
    for account_id, (_, total) in running.items():
        kind = accounts[account_id].kind
        if (total < 0) if is_debit(kind) else (total > 0):
            problems.append(f"account {accounts[account_id].code} is on the wrong side: {total}")
    if sum(total for _, total in running.values()) != 0:
        problems.append("the balances do not sum to zero")
    return LedgerCheck(len(transactions), len(rows), problems)
