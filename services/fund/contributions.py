"""Money into the fund (QS 9.7.6): staff with the admin duty record contributions, the
platform's own or a merchant's, with the reference of the transfer; and reverse one
recorded in error by a correcting transaction (never by changing it).

A contribution is idempotent by the client's key: a replay with the same amount, source
and reference answers with the first transaction; anything else under that key is
``IDEMPOTENCY_KEY_REUSED``. A reversal negates the contribution's entries, once
(``ALREADY_CORRECTED`` after that), and only while the cash still holds the amount
(``FUND_INSUFFICIENT``: what was paid out cannot be un-contributed).
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    ContributionSource,
    FundAccount,
    FundEntry,
    FundTransaction,
    FundTransactionKind,
    Merchant,
)
from pinzhi.services import rules, validation
from pinzhi.services.fund import ledger
from pinzhi.services.fund.ledger import Line
from pinzhi.services.fund.payouts import RULE_KEY
from pinzhi.services.lookup import get_visible
from pinzhi.services.transactions import retry_on_conflict


def ledger_key(idempotency_key: str) -> str:
    return f"CONTRIBUTION:{idempotency_key}"


def _replay(
    earlier: FundTransaction, amount_minor: int, merchant_id: int | None, reference: str
) -> FundTransaction:
    same = (
        earlier.kind == FundTransactionKind.CONTRIBUTION
        and earlier.amount_minor == amount_minor
        and earlier.merchant_id == merchant_id
        and earlier.reference == reference
    )
    if not same:
        raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    return earlier


@retry_on_conflict
async def contribute(
    viewer: Viewer,
    amount_minor: int,
    source: ContributionSource,
    merchant_id: int | None,
    reference: str,
    memo: str,
    idempotency_key: str,
) -> tuple[FundTransaction, bool]:
    """Record money paid into the fund. Returns the transaction and whether it was booked
    now (False: a replay of ``idempotency_key``)."""
    require(viewer, Action.CONTRIBUTE_TO_FUND)
    key = ledger_key(validation.text(idempotency_key, "idempotencyKey", min_len=8, max_len=64))
    reference = validation.text(reference, "reference", min_len=4, max_len=100)
    memo = validation.text(memo, "memo", min_len=0, max_len=2000, multiline=True)
    source = ContributionSource(source)
    if source == ContributionSource.PLATFORM and merchant_id is not None:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("merchantId",), "the platform's own")
    if source == ContributionSource.MERCHANT and (
        merchant_id is None or not await Merchant.filter(id=merchant_id).exists()
    ):
        raise ServiceError(ErrorCode.NOT_FOUND, ("merchantId",))
    earlier = await FundTransaction.get_or_none(idempotency_key=key)
    if earlier is not None:
        return _replay(earlier, amount_minor, merchant_id, reference), False
    most = int((await rules.current(RULE_KEY)).content["max_contribution_minor"])
    if not 0 < amount_minor <= most:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("amountMinor",), f"1–{most}")
    lines = [
        Line(ledger.CASH, amount_minor),
        Line(ledger.contributions(source, merchant_id), -amount_minor),
    ]
    try:
        async with in_transaction():
            await ledger.serialise()
            await ledger.ensure_accounts(line.account for line in lines)
            locked = await ledger.lock(line.account for line in lines)
            raced = await FundTransaction.get_or_none(idempotency_key=key)
            if raced is not None:
                return _replay(raced, amount_minor, merchant_id, reference), False
            transaction = await ledger.post(
                locked,
                FundTransactionKind.CONTRIBUTION,
                lines,
                key=key,
                actor=viewer,
                memo=memo,
                reference=reference,
                merchant_id=merchant_id,
            )
    except IntegrityError:
        raced = await FundTransaction.get_or_none(idempotency_key=key)
        if raced is None:
            raise
        return _replay(raced, amount_minor, merchant_id, reference), False
    return transaction, True


@retry_on_conflict
async def reverse_contribution(
    viewer: Viewer, transaction_id: int | None, reason: str
) -> FundTransaction:
    """Correct a contribution recorded in error with the opposite entries; the original
    stays as it was. Returns the correcting transaction."""
    require(viewer, Action.REVERSE_FUND_CONTRIBUTION)
    reason = validation.text(reason, "reason", min_len=2, max_len=500, multiline=True)
    original = await get_visible(viewer, FundTransaction, transaction_id, "transactionId")
    if original.kind != FundTransactionKind.CONTRIBUTION:
        raise ServiceError(
            ErrorCode.NOT_ELIGIBLE, ("transactionId",), "only a contribution is reversed"
        )
    entries = await FundEntry.filter(transaction_id=original.id)
    accounts = {a.id: a for a in await FundAccount.filter(id__in=[e.account_id for e in entries])}
    lines = [
        Line(
            ledger.AccountRef(accounts[e.account_id].code, accounts[e.account_id].kind),
            -e.amount_minor,
        )
        for e in entries
    ]
    async with in_transaction():
        locked = await ledger.lock(line.account for line in lines)
        if await FundTransaction.filter(corrects_id=original.id).exists():
            raise ServiceError(ErrorCode.ALREADY_CORRECTED, ("transactionId",))
        return await ledger.post(
            locked,
            FundTransactionKind.CORRECTION,
            lines,
            key=f"REVERSAL:{original.id}",
            actor=viewer,
            memo=reason,
            cash_field="transactionId",
            corrects_id=original.id,
            reference=original.reference,
            merchant_id=original.merchant_id,
        )
