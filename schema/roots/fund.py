"""Root fields of the advance-compensation fund (QS 9.7.6): thin glue to services/fund."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.base import Connection, Money, attempt, from_global_id, pk_or_missing
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.fund import (
    ApproveFundPayoutInput,
    ContributeToFundInput,
    FundAccount,
    FundLedgerCheck,
    FundPayout,
    FundPayoutPayload,
    FundRecovery,
    FundRecoveryPayload,
    FundSummary,
    FundTransaction,
    FundTransactionKind,
    FundTransactionPayload,
    PayoutCause,
    PayoutState,
    RecordFundRecoveryInput,
    RecoveryState,
    ReverseFundContributionInput,
    WaiveFundRecoveryInput,
)
from pinzhi.services.fund import contributions, ledger, payouts, recoveries

# --- Queries ----------------------------------------------------------------------------------


async def fund(info: Info) -> FundSummary:
    found = await ledger.position(info.context.viewer)

    def money(kind: models.FundAccountKind) -> Money:
        return Money(amount_minor=found.total(kind), currency=ledger.CURRENCY)

    kinds = models.FundAccountKind
    borne = found.total(kinds.PAYOUTS) - found.total(kinds.RECOVERIES)
    return FundSummary(
        cash=money(kinds.CASH),
        held=money(kinds.HELD),
        receivable=money(kinds.RECEIVABLE),
        contributions=money(kinds.CONTRIBUTIONS),
        payouts=money(kinds.PAYOUTS),
        recoveries=money(kinds.RECOVERIES),
        borne=Money(amount_minor=borne, currency=ledger.CURRENCY),
        balanced=found.balanced,
        accounts=[FundAccount.from_row(a) for a in found.accounts],
    )


async def verify_fund_ledger(info: Info) -> FundLedgerCheck:
    result = await ledger.check()
    return FundLedgerCheck(
        valid=result.valid,
        transactions=result.transactions,
        entries=result.entries,
        problems=result.problems,
    )


async def fund_transactions(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    kind: FundTransactionKind | None = None,
) -> Connection[FundTransaction]:
    found = await scoped_page(
        info.context.viewer, models.FundTransaction, Window(first, after, last, before), kind=kind
    )
    return Connection.of(found, [FundTransaction.from_row(r) for r in found.rows])


async def fund_payouts(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    cause: PayoutCause | None = None,
    state: PayoutState | None = None,
    order_id: strawberry.ID | None = None,
) -> Connection[FundPayout]:
    """A consumer's own payouts; all for customer service, compliance and regulators."""
    found = await scoped_page(
        info.context.viewer,
        models.FundPayout,
        Window(first, after, last, before),
        cause=cause,
        state=state,
        order_id=id_filter(order_id, "Order"),
    )
    return Connection.of(found, [FundPayout.from_row(r) for r in found.rows])


async def fund_recoveries(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: RecoveryState | None = None,
    merchant_id: strawberry.ID | None = None,
) -> Connection[FundRecovery]:
    """A merchant's (or provider's) recoveries against it; all for customer service,
    compliance and regulators."""
    found = await scoped_page(
        info.context.viewer,
        models.FundRecovery,
        Window(first, after, last, before),
        state=state,
        merchant_id=id_filter(merchant_id, "Merchant"),
    )
    return Connection.of(found, [FundRecovery.from_row(r) for r in found.rows])


# --- Mutations --------------------------------------------------------------------------------


def _transaction_payload(
    result: tuple[models.FundTransaction, bool] | None, errors: list
) -> FundTransactionPayload:
    if result is None:
        return FundTransactionPayload(errors=errors)
    row, created = result
    return FundTransactionPayload(transaction=FundTransaction.from_row(row), replayed=not created)


async def contribute_to_fund(info: Info, input: ContributeToFundInput) -> FundTransactionPayload:
    merchant_id = input.merchant_id
    merchant_pk = None if merchant_id is None else pk_or_missing(merchant_id, "Merchant")
    result, errors = await attempt(
        info,
        contributions.contribute(
            info.context.viewer,
            input.amount_minor,
            models.ContributionSource(input.source),
            merchant_pk,
            input.reference,
            input.memo,
            input.idempotency_key,
        ),
    )
    return _transaction_payload(result, errors)


async def reverse_fund_contribution(
    info: Info, input: ReverseFundContributionInput
) -> FundTransactionPayload:
    row, errors = await attempt(
        info,
        contributions.reverse_contribution(
            info.context.viewer,
            pk_or_missing(input.transaction_id, "FundTransaction"),
            input.reason,
        ),
    )
    return _transaction_payload((row, True) if row else None, errors)


SUBJECTS = {
    "AfterSalesRequest": models.PayoutSubject.AFTER_SALES,
    "Complaint": models.PayoutSubject.COMPLAINT,
}


def _subject(global_id: str) -> tuple[models.PayoutSubject, int]:
    """The subject a global id names; a foreign one is a complaint no row has (NOT_FOUND)."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in SUBJECTS:
        return models.PayoutSubject.COMPLAINT, 0
    return SUBJECTS[decoded[0]], decoded[1]


async def approve_fund_payout(info: Info, input: ApproveFundPayoutInput) -> FundPayoutPayload:
    subject, subject_pk = _subject(input.subject_id)
    provider_pk = (
        None
        if input.responsible_provider_id is None
        else pk_or_missing(input.responsible_provider_id, "ServiceProvider")
    )
    asked = payouts.PayoutRequest(
        subject, subject_pk, models.PayoutCause(input.cause), input.amount_minor, provider_pk
    )
    result, errors = await attempt(
        info,
        payouts.approve_payout(info.context.viewer, asked, input.note, input.idempotency_key),
    )
    if result is None:
        return FundPayoutPayload(errors=errors)
    row, created = result
    return FundPayoutPayload(payout=FundPayout.from_row(row), replayed=not created)


def _recovery_payload(row: models.FundRecovery | None, errors: list) -> FundRecoveryPayload:
    return FundRecoveryPayload(recovery=FundRecovery.from_row(row) if row else None, errors=errors)


async def record_fund_recovery(info: Info, input: RecordFundRecoveryInput) -> FundRecoveryPayload:
    row, errors = await attempt(
        info,
        recoveries.record_recovery(
            info.context.viewer,
            pk_or_missing(input.recovery_id, "FundRecovery"),
            models.RecoveryMethod(input.method),
            input.note,
        ),
    )
    return _recovery_payload(row, errors)


async def waive_fund_recovery(info: Info, input: WaiveFundRecoveryInput) -> FundRecoveryPayload:
    row, errors = await attempt(
        info,
        recoveries.waive_recovery(
            info.context.viewer, pk_or_missing(input.recovery_id, "FundRecovery"), input.reason
        ),
    )
    return _recovery_payload(row, errors)


@strawberry.type
class FundQuery:
    fund = field(
        fund, policy.FUND_READERS, description="QS 9.7.6: the fund's balances and accounts."
    )
    verify_fund_ledger = field(
        verify_fund_ledger,
        policy.FUND_READERS,
        description="QS 9.7.6: recompute the ledger from its entries and report what is wrong.",
    )
    fund_transactions = field(
        fund_transactions, policy.FUND_READERS, description="QS 9.7.6: the ledger, newest first."
    )
    fund_payouts = field(
        fund_payouts, policy.READERS, description="QS 9.7.6: payouts in the viewer's scope."
    )
    fund_recoveries = field(
        fund_recoveries, policy.READERS, description="QS 9.7.6: recoveries in the viewer's scope."
    )


@strawberry.type
class FundMutation:
    contribute_to_fund = mutation(
        contribute_to_fund, Action.CONTRIBUTE_TO_FUND, description="QS 9.7.6."
    )
    reverse_fund_contribution = mutation(
        reverse_fund_contribution, Action.REVERSE_FUND_CONTRIBUTION, description="QS 9.7.6."
    )
    approve_fund_payout = mutation(
        approve_fund_payout,
        Action.APPROVE_FUND_PAYOUT,
        description="QS 9.7.6: pay the consumer first and open the recovery.",
    )
    record_fund_recovery = mutation(
        record_fund_recovery, Action.RECORD_FUND_RECOVERY, description="QS 9.7.6."
    )
    waive_fund_recovery = mutation(
        waive_fund_recovery, Action.WAIVE_FUND_RECOVERY, description="QS 9.7.6."
    )
