"""Violation cases and key control (QS 6.4)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals

# The module, not its names: it imports this one back (see schema/catalog.py).
from pinzhi.schema import catalog
from pinzhi.schema.base import Money, Node, UserError, to_global_id
from pinzhi.schema.enums import Penalty, ViolationState, ViolationType
from pinzhi.schema.evidence import Evidence, EvidenceInput
from pinzhi.services import violations as violation_service
from pinzhi.services.key_control import KeyControl as KeyControlStatus

if TYPE_CHECKING:
    from pinzhi.schema.catalog import Merchant

ViolationDecision = violation_service.Decision
strawberry.enum(ViolationDecision, name="ViolationDecision", description="Decide or dismiss.")
AppealOutcome = violation_service.AppealOutcome
strawberry.enum(
    AppealOutcome,
    name="AppealOutcome",
    description="UPHELD: the penalty stands. OVERTURNED: it is lifted.",
)

# --- Types ------------------------------------------------------------------------------------


@strawberry.type(description="A case against a merchant for a violation (QS 6.4).")
class ViolationCase(Node):
    type: ViolationType
    state: ViolationState
    evidence: list[Evidence]
    decision_note: str
    penalty: Penalty | None
    deduction: Money | None = strawberry.field(
        description="The deposit actually deducted (DEPOSIT_DEDUCTION); refunded if overturned."
    )
    repeat_count: int = strawberry.field(
        description="Earlier standing cases of the same type: the ladder step is this + 1."
    )
    appeal_deadline: datetime | None
    appeal_text: str
    appealed_at: datetime | None
    outcome_note: str
    rule_version: int | None = strawberry.field(
        description="The version of rule violation.penalties the decision applied (QS 5.2)."
    )
    created_at: datetime
    decided_at: datetime | None
    closed_at: datetime | None
    merchant_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ViolationCase) -> ViolationCase:
        return cls(
            id=to_global_id("ViolationCase", row.id),
            merchant_pk=row.merchant_id,
            type=row.type,
            state=row.state,
            evidence=Evidence.many(row.evidence),
            decision_note=row.decision_note,
            penalty=row.penalty,
            deduction=Money(amount_minor=row.deduction_minor, currency="CNY")
            if row.penalty == models.Penalty.DEPOSIT_DEDUCTION
            else None,
            repeat_count=row.repeat_count,
            appeal_deadline=row.appeal_deadline,
            appeal_text=row.appeal_text,
            appealed_at=row.appealed_at,
            outcome_note=row.outcome_note,
            rule_version=row.rule_version,
            created_at=row.created_at,
            decided_at=row.decided_at,
            closed_at=row.closed_at,
        )

    @strawberry.field
    async def merchant(
        self, info: Info
    ) -> Annotated[Merchant, strawberry.lazy("pinzhi.schema.catalog")] | None:
        return await catalog.merchant_of(info, self.merchant_pk)


@strawberry.type(description="A merchant's key control (QS 6.4): until when, and what it bars.")
class KeyControl:
    until: datetime
    restrictions: list[str] = strawberry.field(
        description="Stable codes: NO_NEW_LISTINGS, NO_NEW_LISTINGS_IN_CATEGORY:<category>, "
        "PENALTY_IN_FORCE:<penalty>, CLOSER_MONITORING, KEY_CONTROL_COMMISSION."
    )
    rule_version: int

    @classmethod
    def of(cls, status: KeyControlStatus) -> KeyControl:
        return cls(
            until=status.until, restrictions=status.restrictions(), rule_version=status.rule_version
        )


async def merchant_key_control(info: Info, merchant_pk: int) -> KeyControl | None:
    """For the merchant itself, staff and regulators; null for others and when the
    merchant is not under key control."""
    if not sees_merchant_internals(info.context.viewer, merchant_pk):
        return None
    status = await info.context.loaders.key_control_by_merchant_id.load(merchant_pk)
    return KeyControl.of(status) if status else None


# --- Inputs and payloads ----------------------------------------------------------------------


@strawberry.input
class OpenViolationCaseInput:
    merchant_id: strawberry.ID
    type: ViolationType
    evidence: list[EvidenceInput] = strawberry.field(description="1–20 items.")


@strawberry.input
class DecideViolationCaseInput:
    case_id: strawberry.ID
    decision: ViolationDecision
    penalty: Penalty | None = strawberry.field(
        default=None,
        description="Optional check: must be the ladder's step for this case, or the "
        "decision is refused (PENALTY_NOT_IN_LADDER). Omit to apply the step.",
    )
    note: str = ""


@strawberry.input
class AppealViolationCaseInput:
    case_id: strawberry.ID
    text: str = strawberry.field(description="Why the decision is wrong; 5–2000 characters.")


@strawberry.input
class DecideAppealInput:
    case_id: strawberry.ID
    outcome: AppealOutcome
    note: str = ""


@strawberry.type
class ViolationCasePayload:
    violation_case: ViolationCase | None
    errors: list[UserError]
