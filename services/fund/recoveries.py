"""Recovering later (QS 9.7.6): the claim a payout opened against the responsible party,
tracked by compliance staff to its settlement.

- A merchant's recovery is taken from its security deposit (``DEPOSIT``: the deposit
  falls, traced on the merchant's trail as ``deposit_deducted``, as a violation's deduction
  is) or from its next settlement (``SETTLEMENT``: staff record the deduction, traced as
  ``settlement_deducted``). Either way it becomes a violation case of type
  ``FUND_RECOVERY``, decided at once (with the penalty ``DEPOSIT_DEDUCTION`` and the amount
  when from the deposit), which the merchant appeals with ``appealViolationCase`` within
  the appeal days of ``violation.penalties``. Until then the money is HELD, not spendable.
  ``decideAppeal`` settles it: UPHELD releases it into the fund's cash (RECOVERED);
  OVERTURNED gives it back (the deposit through the case's own refund, a settlement
  deduction traced as ``settlement_refunded``) and cancels the recovery with a correcting
  entry (CANCELLED). Held recoveries nobody appealed are released by the ``fund`` job once
  their appeal deadline has passed (``release_due``).
- A service provider's recovery is deducted from its settlement and final at once
  (RECOVERED): providers have no violation cases to appeal through.
- Staff may waive an open recovery (WAIVED): the fund bears the loss, by a correcting
  entry on the payout's accrual.

Locks are taken in one order: the merchant, then the case, then the recovery, then the
fund's accounts, as the violation service and deposit reviews lock a merchant first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    FundParty,
    FundRecovery,
    FundTransaction,
    FundTransactionKind,
    Merchant,
    Penalty,
    RecoveryMethod,
    RecoveryState,
    ViolationCase,
    ViolationState,
    ViolationType,
)
from pinzhi.services import audit, key_control, qualifications, rules, state, validation
from pinzhi.services.fund import ledger
from pinzhi.services.fund.ledger import Line
from pinzhi.services.lookup import get_visible, lock_visible
from pinzhi.services.transactions import retry_on_conflict


def _owed(recovery: FundRecovery) -> ledger.AccountRef:
    return ledger.receivable(recovery.party, recovery.merchant_id, recovery.provider_id)


async def _lock_recovery(recovery_id: int) -> FundRecovery:
    return await FundRecovery.filter(id=recovery_id).select_for_update().get()


async def _decided_case(
    viewer: Viewer,
    merchant: Merchant,
    recovery: FundRecovery,
    method: RecoveryMethod,
    note: str,
) -> ViolationCase:
    """The merchant's case for the recovery, opened and decided at once, so that the
    merchant can appeal it like any decision (QS 6.4)."""
    rule = await rules.current(key_control.RULE_KEY)
    now = state.now()
    deduction = recovery.amount_minor if method == RecoveryMethod.DEPOSIT else 0
    description = (
        f"先行赔付追偿 / Recovery of advance compensation: payout {recovery.payout_id}, "
        f"{recovery.amount_minor} {recovery.currency} by {method.lower()} deduction"
    )
    case = await state.create(
        ViolationCase,
        actor=viewer,
        action="opened",
        data={
            "merchant_id": merchant.id,
            "type": str(ViolationType.FUND_RECOVERY),
            "evidence_items": 1,
            "fund_recovery_id": recovery.id,
        },
        merchant_id=merchant.id,
        type=ViolationType.FUND_RECOVERY,
        evidence=[{"description": description, "url": None}],
        opened_by_id=viewer.account_id,
    )
    deadline = now + timedelta(days=int(rule.content["appeal_days"]))
    penalty = Penalty.DEPOSIT_DEDUCTION if method == RecoveryMethod.DEPOSIT else None
    await state.move(
        case,
        ViolationState.DECIDED,
        actor=viewer,
        action="decided",
        field="recoveryId",
        data={
            "penalty": str(penalty) if penalty else None,
            "deduction_minor": deduction,
            "fund_recovery_id": recovery.id,
            "method": str(method),
            "appeal_deadline": deadline.isoformat(),
            "rule_version": rule.version,
        },
        decided_by_id=viewer.account_id,
        decision_note=note,
        decided_at=now,
        rule_version=rule.version,
        penalty=penalty,
        deduction_minor=deduction,
        appeal_deadline=deadline,
    )
    return case


@retry_on_conflict
async def record_recovery(
    viewer: Viewer, recovery_id: int | None, method: RecoveryMethod, note: str
) -> FundRecovery:
    """Compliance staff recover an open claim: from a merchant's deposit or settlement
    (held while the merchant may appeal), or from a provider's settlement (final)."""
    require(viewer, Action.RECORD_FUND_RECOVERY)
    method = RecoveryMethod(method)
    note = validation.text(note, "note", min_len=2, max_len=2000, multiline=True)
    found = await get_visible(viewer, FundRecovery, recovery_id, "recoveryId")
    merchant_party = found.party == FundParty.MERCHANT
    if not merchant_party and method == RecoveryMethod.DEPOSIT:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("method",), "a provider holds no deposit")
    into = ledger.HELD if merchant_party else ledger.CASH
    lines = [Line(into, found.amount_minor), Line(_owed(found), -found.amount_minor)]
    async with in_transaction():
        await ledger.serialise()
        await ledger.ensure_accounts(line.account for line in lines)
        merchant = None
        if merchant_party:
            merchant = await Merchant.filter(id=found.merchant_id).select_for_update().get()
        recovery = await _lock_recovery(found.id)
        target = RecoveryState.DEDUCTED if merchant_party else RecoveryState.RECOVERED
        state.check(FundRecovery, recovery.state, target, "recoveryId")
        if (
            merchant is not None
            and method == RecoveryMethod.DEPOSIT
            and merchant.deposit_held_minor < recovery.amount_minor
        ):
            raise ServiceError(
                ErrorCode.DEPOSIT_INSUFFICIENT,
                ("method",),
                f"the deposit holds {merchant.deposit_held_minor}",
            )
        locked = await ledger.lock(line.account for line in lines)
        case = None
        if merchant is not None:
            case = await _decided_case(viewer, merchant, recovery, method, note)
            if method == RecoveryMethod.DEPOSIT:
                await qualifications.deposit_moved(
                    viewer, merchant, -recovery.amount_minor, "deposit_deducted", case.id
                )
            else:
                await audit.append(
                    "Merchant",
                    merchant.id,
                    "settlement_deducted",
                    actor=viewer,
                    data={
                        "source_id": case.id,
                        "fund_recovery_id": recovery.id,
                        "amount_minor": recovery.amount_minor,
                    },
                )
        transaction = await ledger.post(
            locked,
            FundTransactionKind.RECOVERY,
            lines,
            key=f"RECOVERY:{recovery.id}",
            actor=viewer,
            memo=note,
            payout_id=recovery.payout_id,
            recovery_id=recovery.id,
        )
        now = state.now()
        await state.move(
            recovery,
            target,
            actor=viewer,
            action="deducted" if merchant_party else "recovered",
            field="recoveryId",
            data={
                "method": str(method),
                "violation_case_id": case.id if case else None,
                "transaction_id": transaction.id,
            },
            method=method,
            violation_case_id=case.id if case else None,
            decided_by_id=viewer.account_id,
            note=note,
            deducted_at=now,
            closed_at=None if merchant_party else now,
        )
    return recovery


@retry_on_conflict
async def waive_recovery(viewer: Viewer, recovery_id: int | None, reason: str) -> FundRecovery:
    """Compliance staff let an open recovery go: the fund bears the payout, by a correcting
    entry on its accrual."""
    require(viewer, Action.WAIVE_FUND_RECOVERY)
    reason = validation.text(reason, "reason", min_len=2, max_len=2000, multiline=True)
    found = await get_visible(viewer, FundRecovery, recovery_id, "recoveryId")
    lines = [Line(ledger.RECOVERIES, found.amount_minor), Line(_owed(found), -found.amount_minor)]
    async with in_transaction():
        recovery = await lock_visible(viewer, FundRecovery, found.id, "recoveryId")
        state.check(FundRecovery, recovery.state, RecoveryState.WAIVED, "recoveryId")
        locked = await ledger.lock(line.account for line in lines)
        payout_transaction = await FundTransaction.get(
            payout_id=recovery.payout_id, kind=FundTransactionKind.PAYOUT
        )
        transaction = await ledger.post(
            locked,
            FundTransactionKind.CORRECTION,
            lines,
            key=f"WAIVE:{recovery.id}",
            actor=viewer,
            memo=reason,
            payout_id=recovery.payout_id,
            recovery_id=recovery.id,
            corrects_id=payout_transaction.id,
        )
        await state.move(
            recovery,
            RecoveryState.WAIVED,
            actor=viewer,
            action="waived",
            field="recoveryId",
            data={"reason": reason, "transaction_id": transaction.id},
            decided_by_id=viewer.account_id,
            note=reason,
            closed_at=state.now(),
        )
    return recovery


async def _release(actor: Viewer | None, recovery: FundRecovery, why: str) -> None:
    """A held recovery becomes the fund's cash (RECOVERED), in the caller's transaction,
    which holds the recovery's lock."""
    lines = [Line(ledger.CASH, recovery.amount_minor), Line(ledger.HELD, -recovery.amount_minor)]
    locked = await ledger.lock(line.account for line in lines)
    transaction = await ledger.post(
        locked,
        FundTransactionKind.RELEASE,
        lines,
        key=f"RELEASE:{recovery.id}",
        actor=actor,
        memo=why,
        payout_id=recovery.payout_id,
        recovery_id=recovery.id,
    )
    await state.move(
        recovery,
        RecoveryState.RECOVERED,
        actor=actor,
        action="released",
        data={"why": why, "transaction_id": transaction.id},
        closed_at=state.now(),
    )


async def _cancel(actor: Viewer, merchant: Merchant, recovery: FundRecovery) -> None:
    """An overturned appeal: the held money goes back to the merchant and the recovery is
    cancelled by a correcting entry (CANCELLED); the fund bears the payout."""
    amount = recovery.amount_minor
    lines = [Line(ledger.RECOVERIES, amount), Line(ledger.HELD, -amount)]
    locked = await ledger.lock(line.account for line in lines)
    taken = await FundTransaction.get(recovery_id=recovery.id, kind=FundTransactionKind.RECOVERY)
    transaction = await ledger.post(
        locked,
        FundTransactionKind.CORRECTION,
        lines,
        key=f"CANCEL:{recovery.id}",
        actor=actor,
        memo="appeal overturned",
        payout_id=recovery.payout_id,
        recovery_id=recovery.id,
        corrects_id=taken.id,
    )
    if recovery.method == RecoveryMethod.SETTLEMENT:
        # A deposit deduction is refunded by the case itself (services/violations.py).
        await audit.append(
            "Merchant",
            merchant.id,
            "settlement_refunded",
            actor=actor,
            data={
                "source_id": recovery.violation_case_id,
                "fund_recovery_id": recovery.id,
                "amount_minor": recovery.amount_minor,
            },
        )
    await state.move(
        recovery,
        RecoveryState.CANCELLED,
        actor=actor,
        action="cancelled",
        data={"why": "appeal overturned", "transaction_id": transaction.id},
        closed_at=state.now(),
    )


async def appeal_decided(
    actor: Viewer, merchant: Merchant, case: ViolationCase, overturned: bool
) -> None:
    """Called by ``violations.decide_appeal`` in its transaction (holding the merchant's
    and the case's locks): settle the recovery the case stands for, if it is one."""
    if case.type != ViolationType.FUND_RECOVERY:
        return
    recovery = await FundRecovery.filter(violation_case_id=case.id).select_for_update().first()
    if recovery is None or recovery.state != RecoveryState.DEDUCTED:
        return
    if overturned:
        await _cancel(actor, merchant, recovery)
    else:
        await _release(actor, recovery, "appeal upheld")


async def release_due(now: datetime | None = None) -> int:
    """Release every held recovery whose appeal deadline has passed without an appeal (the
    ``fund`` job). Returns how many; running it again releases nothing more."""
    now = now or state.now()
    due = await FundRecovery.filter(
        state=RecoveryState.DEDUCTED,
        violation_case__state=ViolationState.DECIDED,
        violation_case__appeal_deadline__lt=now,
    ).values_list("id", "violation_case_id")
    released = 0
    for recovery_id, case_id in due:
        async with in_transaction():
            case = await ViolationCase.filter(id=case_id).select_for_update().get()
            if case.state != ViolationState.DECIDED or not (
                case.appeal_deadline and case.appeal_deadline < now
            ):
                continue  # appealed meanwhile: its decision settles it
            recovery = await _lock_recovery(recovery_id)
            if recovery.state != RecoveryState.DEDUCTED:
                continue
            await _release(None, recovery, "appeal deadline passed")
            released += 1
    return released
