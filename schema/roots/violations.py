"""Root fields of violation cases (QS 6.4): thin glue to the services."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.base import Connection, UserError, attempt, pk_of, pk_or_missing
from pinzhi.schema.enums import ViolationState
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.violations import (
    AppealViolationCaseInput,
    DecideAppealInput,
    DecideViolationCaseInput,
    OpenViolationCaseInput,
    ViolationCase,
    ViolationCasePayload,
)
from pinzhi.services import violations
from pinzhi.services.evidence import Evidence

# --- Queries ----------------------------------------------------------------------------------


async def violation_cases(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: ViolationState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[ViolationCase]:
    """A merchant sees its own cases, staff and regulators all, others none (scoping)."""
    found = await scoped_page(
        info.context.viewer,
        models.ViolationCase,
        Window(first, after, last, before),
        state=state,
        merchant_id=id_filter(merchant_id, "Merchant"),
    )
    return Connection.of(found, [ViolationCase.from_row(r) for r in found.rows])


# --- Violation cases --------------------------------------------------------------------------


def _case_payload(
    row: models.ViolationCase | None, errors: list[UserError]
) -> ViolationCasePayload:
    return ViolationCasePayload(
        violation_case=ViolationCase.from_row(row) if row else None, errors=errors
    )


def _case_pk(case_id: strawberry.ID) -> int:
    return pk_or_missing(case_id, "ViolationCase")


async def open_violation_case(info: Info, input: OpenViolationCaseInput) -> ViolationCasePayload:
    evidence = [Evidence(e.description, e.url) for e in input.evidence]
    row, errors = await attempt(
        info,
        violations.open_case(
            info.context.viewer,
            pk_of(input.merchant_id, "Merchant"),
            models.ViolationType(input.type),
            evidence,
        ),
    )
    return _case_payload(row, errors)


async def decide_violation_case(
    info: Info, input: DecideViolationCaseInput
) -> ViolationCasePayload:
    row, errors = await attempt(
        info,
        violations.decide_case(
            info.context.viewer,
            _case_pk(input.case_id),
            violations.Decision(input.decision),
            penalty=models.Penalty(input.penalty) if input.penalty is not None else None,
            note=input.note,
        ),
    )
    return _case_payload(row, errors)


async def appeal_violation_case(
    info: Info, input: AppealViolationCaseInput
) -> ViolationCasePayload:
    row, errors = await attempt(
        info, violations.appeal_case(info.context.viewer, _case_pk(input.case_id), input.text)
    )
    return _case_payload(row, errors)


async def decide_appeal(info: Info, input: DecideAppealInput) -> ViolationCasePayload:
    row, errors = await attempt(
        info,
        violations.decide_appeal(
            info.context.viewer,
            _case_pk(input.case_id),
            violations.AppealOutcome(input.outcome),
            input.note,
        ),
    )
    return _case_payload(row, errors)


@strawberry.type
class ViolationQuery:
    violation_cases = field(
        violation_cases, policy.READERS, description="QS 6.4: a merchant's own, or all for staff."
    )


@strawberry.type
class ViolationMutation:
    open_violation_case = mutation(
        open_violation_case, Action.OPEN_VIOLATION_CASE, description="QS 6.4."
    )
    decide_violation_case = mutation(
        decide_violation_case, Action.DECIDE_VIOLATION_CASE, description="QS 6.4."
    )
    appeal_violation_case = mutation(
        appeal_violation_case, Action.APPEAL_VIOLATION_CASE, description="QS 6.4."
    )
    decide_appeal = mutation(decide_appeal, Action.DECIDE_APPEAL, description="QS 6.4.")
