"""Violation cases (QS 6.4): open with evidence, decide by the published penalty ladder,
appeal once before the deadline, decide the appeal.

Every step goes through ``state.move`` (ViolationCase's transition table), so each is a
traced key node (QS 9.1.2), and each decision stores the version of ``violation.penalties``
it applied (QS 5.2). Penalties act on the merchant in the same transaction: a deposit
deduction lowers ``deposit_held_minor`` (never below 0), a serious case puts the merchant
under key control (services/key_control.py), and an overturned appeal undoes both.

Cases of type ``FUND_RECOVERY`` are opened and decided by the fund's recovery of an
advance compensation (services/fund/recoveries.py, QS 9.7.6), never by ``open_case``; the
merchant appeals them here like any other, and the decision on the appeal settles the
recovery in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Merchant,
    Penalty,
    ViolationCase,
    ViolationState,
    ViolationType,
)
from pinzhi.services import (
    key_control,
    penalties,
    qualifications,
    rules,
    state,
    validation,
)
from pinzhi.services.evidence import Evidence
from pinzhi.services.evidence import clean as evidence_items
from pinzhi.services.fund import recoveries as fund_recoveries
from pinzhi.services.lookup import get_visible, lock_visible

RULE_KEY = key_control.RULE_KEY


class Decision(StrEnum):
    """A compliance officer's decision on an open case."""

    DECIDED = "DECIDED"
    DISMISSED = "DISMISSED"


class AppealOutcome(StrEnum):
    """The decision on an appeal: the penalty stands, or it is lifted."""

    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


def ladder_step(content: dict[str, Any], type_: str, repeat_count: int) -> Penalty:
    """The n-th decided case of a type gets the n-th step of its ladder; the last repeats."""
    ladder = content["ladder"][str(type_)]
    return Penalty(ladder[min(repeat_count, len(ladder) - 1)])


async def repeat_count(merchant_id: int, type_: str, exclude_id: int | None = None) -> int:
    """Earlier cases of the same type against the merchant whose decision stands."""
    query = ViolationCase.filter(
        merchant_id=merchant_id, type=type_, state__in=key_control.STANDING
    )
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return await query.count()


async def open_case(
    viewer: Viewer, merchant_id: int | None, type_: ViolationType, evidence: Sequence[Evidence]
) -> ViolationCase:
    """A compliance officer opens a case against a merchant, with 1–20 items of evidence."""
    require(viewer, Action.OPEN_VIOLATION_CASE)
    if type_ == ViolationType.FUND_RECOVERY:
        # QS 9.7.6: such a case is opened, decided, by the fund's recovery of a payout.
        raise ServiceError(ErrorCode.INVALID_INPUT, ("type",), "opened by a fund recovery")
    items = evidence_items(evidence)
    if merchant_id is None or not await Merchant.filter(id=merchant_id).exists():
        raise ServiceError(ErrorCode.NOT_FOUND, ("merchantId",))
    async with in_transaction():
        case = await state.create(
            ViolationCase,
            actor=viewer,
            action="opened",
            data={"merchant_id": merchant_id, "type": str(type_), "evidence_items": len(items)},
            merchant_id=merchant_id,
            type=ViolationType(type_),
            evidence=items,
            opened_by_id=viewer.account_id,
        )
    return case


async def _lock_case_and_merchant(
    viewer: Viewer, case_id: int | None
) -> tuple[ViolationCase, Merchant]:
    """Lock the merchant, then the case (always in this order), inside the caller's
    transaction: decisions on one merchant's cases run one at a time, so repeat counts,
    deposit and key control stay consistent."""
    found = await get_visible(viewer, ViolationCase, case_id, "caseId")
    merchant = await Merchant.filter(id=found.merchant_id).select_for_update().get()
    case = await lock_visible(viewer, ViolationCase, found.id, "caseId")
    return case, merchant


async def decide_case(
    viewer: Viewer,
    case_id: int | None,
    decision: Decision,
    *,
    penalty: Penalty | None = None,
    note: str = "",
) -> ViolationCase:
    """Dismiss the case, or decide it with the penalty of the ladder step its repeat count
    gives (a proposed penalty must be that step). Applies the penalty to the merchant and
    stores the rule version; the appeal deadline is ``decided_at + appeal_days``."""
    require(viewer, Action.DECIDE_VIOLATION_CASE)
    note = validation.text(note, "note", min_len=0, max_len=2000, multiline=True)
    decision = Decision(decision)
    if decision == Decision.DISMISSED and penalty is not None:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("penalty",), "a dismissed case has none")
    rule = await rules.current(RULE_KEY)
    content = rule.content
    async with in_transaction():
        case, merchant = await _lock_case_and_merchant(viewer, case_id)
        target = ViolationState(decision)
        state.check(ViolationCase, case.state, target, "caseId")
        now = state.now()
        common = {
            "decided_by_id": viewer.account_id,
            "decision_note": note,
            "decided_at": now,
            "rule_version": rule.version,
        }
        if decision == Decision.DISMISSED:
            await state.move(
                case,
                ViolationState.DISMISSED,
                actor=viewer,
                action="dismissed",
                field="caseId",
                data={"note": note, "rule_version": rule.version},
                closed_at=now,
                **common,
            )
            return case
        repeats = await repeat_count(case.merchant_id, case.type, exclude_id=case.id)
        step = ladder_step(content, case.type, repeats)
        if penalty is not None and Penalty(penalty) != step:
            raise ServiceError(
                ErrorCode.PENALTY_NOT_IN_LADDER, ("penalty",), f"step {repeats + 1} is {step}"
            )
        deduction = 0
        if step == Penalty.DEPOSIT_DEDUCTION:
            deduction = max(0, min(int(content["deduction_minor"]), merchant.deposit_held_minor))
            if deduction:
                await qualifications.deposit_moved(
                    viewer, merchant, -deduction, "deposit_deducted", case.id
                )
        deadline = now + timedelta(days=content["appeal_days"])
        control_until = None
        if key_control.is_serious(content, case.type, step):
            control_until = now + timedelta(days=content["key_control_days"])
            await key_control.extend(viewer, merchant, case, control_until)
        case.penalty = step
        case.decided_at = now
        effects = await penalties.apply(viewer, merchant, case, content)
        await state.move(
            case,
            ViolationState.DECIDED,
            actor=viewer,
            action="decided",
            field="caseId",
            data={
                "penalty": str(step),
                "repeat_count": repeats,
                "deduction_minor": deduction,
                "appeal_deadline": deadline.isoformat(),
                "key_control_until": control_until.isoformat() if control_until else None,
                "delisted_products": len(effects.get("delisted_product_ids", [])),
                "rule_version": rule.version,
            },
            penalty=step,
            repeat_count=repeats,
            deduction_minor=deduction,
            appeal_deadline=deadline,
            effects=effects,
            **common,
        )
        if effects:
            await penalties.rerank([merchant.id])
    return case


async def appeal_case(viewer: Viewer, case_id: int | None, text: str) -> ViolationCase:
    """The merchant appeals a decision on its own case, once, before the deadline."""
    require(viewer, Action.APPEAL_VIOLATION_CASE)
    text = validation.text(text, "text", min_len=5, max_len=2000, multiline=True)
    async with in_transaction():
        case = await lock_visible(viewer, ViolationCase, case_id or 0, "caseId")
        if case.appealed_at is not None or case.state in (
            ViolationState.APPEALED,
            ViolationState.UPHELD,
            ViolationState.OVERTURNED,
        ):
            raise ServiceError(ErrorCode.APPEAL_EXISTS, ("caseId",))
        state.check(ViolationCase, case.state, ViolationState.APPEALED, "caseId")
        now = state.now()
        if case.appeal_deadline is None or now > case.appeal_deadline:
            deadline = case.appeal_deadline.isoformat() if case.appeal_deadline else ""
            raise ServiceError(ErrorCode.APPEAL_CLOSED, ("caseId",), deadline)
        await state.move(
            case,
            ViolationState.APPEALED,
            actor=viewer,
            action="appealed",
            field="caseId",
            data={"text": text},
            appeal_text=text,
            appealed_at=now,
        )
    return case


async def decide_appeal(
    viewer: Viewer, case_id: int | None, outcome: AppealOutcome, note: str = ""
) -> ViolationCase:
    """Uphold the decision, or overturn it: the deposit deduction is refunded and the key
    control this case caused is lifted."""
    require(viewer, Action.DECIDE_APPEAL)
    note = validation.text(note, "note", min_len=0, max_len=2000, multiline=True)
    outcome = AppealOutcome(outcome)
    async with in_transaction():
        case, merchant = await _lock_case_and_merchant(viewer, case_id)
        target = ViolationState(outcome)
        state.check(ViolationCase, case.state, target, "caseId")
        now = state.now()
        data: dict[str, Any] = {"note": note}
        if outcome == AppealOutcome.OVERTURNED:
            if case.deduction_minor:
                await qualifications.deposit_moved(
                    viewer, merchant, case.deduction_minor, "deposit_refunded", case.id
                )
            contents = await key_control.rule_contents([case.rule_version])
            content = contents.get(case.rule_version or 0)
            lifted = content is not None and await key_control.lift(viewer, merchant, case, content)
            await penalties.lift(viewer, merchant, case, "appeal overturned")
            until = merchant.key_control_until
            data.update(
                refunded_minor=case.deduction_minor,
                key_control_lifted=lifted,
                key_control_until=until.isoformat() if until else None,
            )
        await state.move(
            case,
            target,
            actor=viewer,
            action="upheld" if outcome == AppealOutcome.UPHELD else "overturned",
            field="caseId",
            data=data,
            outcome_note=note,
            closed_at=now,
        )
        # QS 9.7.6: a recovery of the fund appealed through its case is settled with it.
        await fund_recoveries.appeal_decided(
            viewer, merchant, case, outcome == AppealOutcome.OVERTURNED
        )
    return case
