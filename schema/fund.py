"""The advance-compensation fund (QS 9.7.6): its ledger (accounts, transactions, entries),
payouts paid first to consumers and the recoveries they open, with their inputs and
payloads. Who sees which row is auth/scopes.py's; personal data is reached only through the
consumer's Account and the Order, masked there (auth/masking.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.accounts import Account
from pinzhi.schema.after_sales import AfterSalesRequest
from pinzhi.schema.base import Money, Node, UserError, to_global_id
from pinzhi.schema.catalog import Merchant, ServiceProvider, merchant_of
from pinzhi.schema.orders import Order
from pinzhi.schema.service import Complaint
from pinzhi.schema.violations import ViolationCase
from pinzhi.services.fund import ledger

FundAccountKind = models.FundAccountKind
strawberry.enum(
    FundAccountKind,
    description="Debit accounts (positive balances): CASH (spendable), HELD (recovered from a "
    "merchant, undone if its appeal wins), RECEIVABLE (owed by a responsible party), PAYOUTS "
    "(paid to consumers). Credit accounts (negative): CONTRIBUTIONS, RECOVERIES (accrued).",
)
FundTransactionKind = models.FundTransactionKind
strawberry.enum(
    FundTransactionKind,
    description="CONTRIBUTION, PAYOUT, RECOVERY, RELEASE (a held recovery becomes cash), "
    "CORRECTION (a waiver, a cancellation on appeal, a reversed contribution).",
)
PayoutCause = models.PayoutCause
strawberry.enum(PayoutCause, description="Why the fund pays first (QS 9.7.6).")
PayoutSubject = models.PayoutSubject
strawberry.enum(PayoutSubject, description="What a payout is about.")
PayoutState = models.PayoutState
strawberry.enum(PayoutState, description="A payout is paid when approved, and never changes.")
FundParty = models.FundParty
strawberry.enum(FundParty, description="Who answers for the loss.")
ContributionSource = models.ContributionSource
strawberry.enum(ContributionSource, description="Whose money a contribution is.")
RecoveryState = models.RecoveryState
strawberry.enum(
    RecoveryState,
    description="OPEN: owed. DEDUCTED: taken from the merchant, held while it may appeal its "
    "case. RECOVERED: final. WAIVED: the fund bears it. CANCELLED: an appeal overturned it.",
)
RecoveryMethod = models.RecoveryMethod
strawberry.enum(
    RecoveryMethod,
    description="DEPOSIT: from the merchant's security deposit. SETTLEMENT: deducted from the "
    "party's settlement, recorded by staff.",
)

SIGNED = "Signed: debits positive, credits negative."


def _money(amount_minor: int, currency: str = ledger.CURRENCY) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


# --- The ledger ---------------------------------------------------------------------------------


@strawberry.type(description="An account of the fund's ledger (QS 9.7.6).")
class FundAccount(Node):
    code: str = strawberry.field(description="e.g. CASH, RECEIVABLE:MERCHANT:12.")
    kind: FundAccountKind
    created_at: datetime
    pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int | None]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.FundAccount) -> FundAccount:
        return cls(
            id=to_global_id("FundAccount", row.id),
            pk=row.id,
            code=row.code,
            kind=row.kind,
            created_at=row.created_at,
            merchant_pk=row.merchant_id,
            provider_pk=row.provider_id,
        )

    @strawberry.field(description=f"The balance after its last entry. {SIGNED}")
    async def balance(self, info: Info) -> Money:
        return _money(await info.context.loaders.fund_balance_by_account_id.load(self.pk))

    @strawberry.field(description="The merchant of a per-merchant account.")
    async def merchant(self, info: Info) -> Merchant | None:
        return None if self.merchant_pk is None else await merchant_of(info, self.merchant_pk)

    @strawberry.field(description="The provider of a per-provider account.")
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)


async def _provider(info: Info, pk: int | None) -> ServiceProvider | None:
    if pk is None:
        return None
    row = await info.context.loaders.provider_by_id.load(pk)
    return ServiceProvider.from_row(row) if row else None


@strawberry.type(description="One line of a fund transaction.")
class FundEntry:
    seq: int = strawberry.field(description="The account's running number of the entry.")
    amount: Money = strawberry.field(description=SIGNED)
    balance_after: Money = strawberry.field(description=f"The account's balance. {SIGNED}")
    account_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.FundEntry) -> FundEntry:
        return cls(
            seq=row.seq,
            amount=_money(row.amount_minor, row.currency),
            balance_after=_money(row.balance_after_minor, row.currency),
            account_pk=row.account_id,
        )

    @strawberry.field
    async def account(self, info: Info) -> FundAccount | None:
        row = await info.context.loaders.fund_account_by_id.load(self.account_pk)
        return FundAccount.from_row(row) if row else None


@strawberry.type(
    description="A transaction of the fund's ledger: its entries sum to zero, and it is never "
    "changed (a correction is a new transaction)."
)
class FundTransaction(Node):
    kind: FundTransactionKind
    amount: Money = strawberry.field(description="The gross amount (the sum of its debits).")
    memo: str
    reference: str = strawberry.field(description="A contribution's transfer reference.")
    actor_role: str = strawberry.field(description="Who booked it; SYSTEM for a job.")
    created_at: datetime
    pk: strawberry.Private[int]
    payout_pk: strawberry.Private[int | None]
    recovery_pk: strawberry.Private[int | None]
    corrects_pk: strawberry.Private[int | None]
    merchant_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.FundTransaction) -> FundTransaction:
        return cls(
            id=to_global_id("FundTransaction", row.id),
            pk=row.id,
            kind=row.kind,
            amount=_money(row.amount_minor, row.currency),
            memo=row.memo,
            reference=row.reference,
            actor_role=row.actor_role,
            created_at=row.created_at,
            payout_pk=row.payout_id,
            recovery_pk=row.recovery_id,
            corrects_pk=row.corrects_id,
            merchant_pk=row.merchant_id,
        )

    @strawberry.field
    async def entries(self, info: Info) -> list[FundEntry]:
        rows = await info.context.loaders.fund_entries_by_transaction_id.load(self.pk)
        return [FundEntry.from_row(r) for r in rows]

    @strawberry.field(description="The transaction a CORRECTION corrects.")
    async def corrects(self, info: Info) -> FundTransaction | None:
        if self.corrects_pk is None:
            return None
        row = await info.context.loaders.fund_transaction_by_id.load(self.corrects_pk)
        return FundTransaction.from_row(row) if row else None

    @strawberry.field
    async def payout(self, info: Info) -> FundPayout | None:
        return await _payout(info, self.payout_pk)

    @strawberry.field
    async def recovery(self, info: Info) -> FundRecovery | None:
        return await _recovery(info, self.recovery_pk)

    @strawberry.field(description="The contributing merchant of a merchant's contribution.")
    async def merchant(self, info: Info) -> Merchant | None:
        return None if self.merchant_pk is None else await merchant_of(info, self.merchant_pk)


@strawberry.type(
    description="Where the fund stands (QS 9.7.6), from the last entry of each account; every "
    "amount positive."
)
class FundSummary:
    cash: Money = strawberry.field(description="What the fund can pay out now.")
    held: Money = strawberry.field(description="Recovered from merchants, still appealable.")
    receivable: Money = strawberry.field(description="Owed by responsible parties.")
    contributions: Money
    payouts: Money = strawberry.field(description="Paid to consumers in all.")
    recoveries: Money = strawberry.field(description="Accrued, less waived and cancelled.")
    borne: Money = strawberry.field(description="What the fund bore: payouts less recoveries.")
    balanced: bool = strawberry.field(description="All the accounts' balances sum to zero.")
    accounts: list[FundAccount]


@strawberry.type(description="The fund's ledger recomputed from its entries (QS 9.7.6).")
class FundLedgerCheck:
    valid: bool
    transactions: int
    entries: int
    problems: list[str] = strawberry.field(
        description="Unbalanced transactions, gaps in an account's entries, balances that are "
        "not the sum of their entries, accounts on the wrong side; empty when valid."
    )


# --- Claims -------------------------------------------------------------------------------------


def _subject_id(row: models.FundPayout) -> strawberry.ID:
    if row.subject_type == models.PayoutSubject.AFTER_SALES:
        return to_global_id("AfterSalesRequest", row.after_sales_request_id or 0)
    return to_global_id("Complaint", row.complaint_id or 0)


@strawberry.type(
    description="Compensation the fund paid a consumer first (QS 9.7.6), approved by customer "
    "service; the recovery from the responsible party follows."
)
class FundPayout(Node):
    state: PayoutState
    cause: PayoutCause
    amount: Money
    subject_type: PayoutSubject
    subject_id: strawberry.ID = strawberry.field(
        description="The after-sales request (AfterSalesRequest) or complaint it is about."
    )
    party: FundParty = strawberry.field(description="Who the fund recovers it from.")
    note: str
    rule_version: int = strawberry.field(description="The version of rule fund.payout applied.")
    paid_at: datetime
    pk: strawberry.Private[int]
    consumer_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    request_pk: strawberry.Private[int | None]
    complaint_pk: strawberry.Private[int | None]
    merchant_pk: strawberry.Private[int]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.FundPayout) -> FundPayout:
        return cls(
            id=to_global_id("FundPayout", row.id),
            pk=row.id,
            state=row.state,
            cause=row.cause,
            amount=_money(row.amount_minor, row.currency),
            subject_type=row.subject_type,
            subject_id=_subject_id(row),
            party=row.party,
            note=row.note,
            rule_version=row.rule_version,
            paid_at=row.created_at,
            consumer_pk=row.consumer_id,
            order_pk=row.order_id,
            request_pk=row.after_sales_request_id,
            complaint_pk=row.complaint_id,
            merchant_pk=row.merchant_id,
            provider_pk=row.provider_id,
        )

    @strawberry.field(description="The consumer paid (masked as accounts are).")
    async def consumer(self, info: Info) -> Account | None:
        row = await info.context.loaders.account_by_id.load(self.consumer_pk)
        return Account.from_row(row) if row else None

    @strawberry.field
    async def order(self, info: Info) -> Order | None:
        row = await info.context.loaders.order_by_id.load(self.order_pk)
        return Order.from_row(row) if row else None

    @strawberry.field(description="The after-sales request it is about, if it is one.")
    async def after_sales_request(self, info: Info) -> AfterSalesRequest | None:
        if self.request_pk is None:
            return None
        row = await info.context.loaders.after_sales_request_by_id.load(self.request_pk)
        return AfterSalesRequest.from_row(row) if row else None

    @strawberry.field(description="The complaint it is about, if it is one.")
    async def complaint(self, info: Info) -> Complaint | None:
        if self.complaint_pk is None:
            return None
        row = await info.context.loaders.complaint_by_id.load(self.complaint_pk)
        return Complaint.from_row(row) if row else None

    @strawberry.field(description="The merchant of the order.")
    async def merchant(self, info: Info) -> Merchant | None:
        return await merchant_of(info, self.merchant_pk)

    @strawberry.field(description="The responsible provider, when the party is PROVIDER.")
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)

    @strawberry.field
    async def recovery(self, info: Info) -> FundRecovery | None:
        row = await info.context.loaders.fund_recovery_by_payout_id.load(self.pk)
        return FundRecovery.from_row(row) if row else None


async def _payout(info: Info, pk: int | None) -> FundPayout | None:
    if pk is None:
        return None
    row = await info.context.loaders.fund_payout_by_id.load(pk)
    return FundPayout.from_row(row) if row else None


async def _recovery(info: Info, pk: int | None) -> FundRecovery | None:
    if pk is None:
        return None
    row = await info.context.loaders.fund_recovery_by_id.load(pk)
    return FundRecovery.from_row(row) if row else None


@strawberry.type(
    description="What the fund claims back from the party responsible for a payout "
    "(QS 9.7.6). A merchant appeals it through its violationCase."
)
class FundRecovery(Node):
    state: RecoveryState
    party: FundParty
    amount: Money
    method: RecoveryMethod | None
    note: str
    created_at: datetime
    deducted_at: datetime | None
    closed_at: datetime | None
    pk: strawberry.Private[int]
    payout_pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int | None]
    provider_pk: strawberry.Private[int | None]
    case_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.FundRecovery) -> FundRecovery:
        return cls(
            id=to_global_id("FundRecovery", row.id),
            pk=row.id,
            state=row.state,
            party=row.party,
            amount=_money(row.amount_minor, row.currency),
            method=row.method,
            note=row.note,
            created_at=row.created_at,
            deducted_at=row.deducted_at,
            closed_at=row.closed_at,
            payout_pk=row.payout_id,
            merchant_pk=row.merchant_id,
            provider_pk=row.provider_id,
            case_pk=row.violation_case_id,
        )

    @strawberry.field(description="The payout; null for those who may not see it.")
    async def payout(self, info: Info) -> FundPayout | None:
        return await _payout(info, self.payout_pk)

    async def _basis(self, info: Info) -> models.FundPayout:
        return await info.context.loaders.fund_payout_row_for_recovery.load(self.payout_pk)

    @strawberry.field(description="Why the fund paid (the payout's cause).")
    async def cause(self, info: Info) -> PayoutCause:
        return (await self._basis(info)).cause

    @strawberry.field(description="The after-sales request or complaint the payout was about.")
    async def subject_id(self, info: Info) -> strawberry.ID:
        return _subject_id(await self._basis(info))

    @strawberry.field(description="The order of the payout, for those who may see it.")
    async def order(self, info: Info) -> Order | None:
        basis = await self._basis(info)
        row = await info.context.loaders.order_by_id.load(basis.order_id)
        return Order.from_row(row) if row else None

    @strawberry.field(description="The responsible merchant.")
    async def merchant(self, info: Info) -> Merchant | None:
        return None if self.merchant_pk is None else await merchant_of(info, self.merchant_pk)

    @strawberry.field(description="The responsible provider.")
    async def provider(self, info: Info) -> ServiceProvider | None:
        return await _provider(info, self.provider_pk)

    @strawberry.field(
        description="The merchant's case for the recovery, which it appeals with "
        "appealViolationCase; null until deducted, and for providers."
    )
    async def violation_case(self, info: Info) -> ViolationCase | None:
        if self.case_pk is None:
            return None
        row = await info.context.loaders.violation_case_by_id.load(self.case_pk)
        return ViolationCase.from_row(row) if row else None


# --- Inputs and payloads --------------------------------------------------------------------------


@strawberry.input
class ContributeToFundInput:
    amount_minor: int = strawberry.field(description="Positive, at most the rule's maximum.")
    reference: str = strawberry.field(description="The transfer's reference, 4–100 characters.")
    idempotency_key: str = strawberry.field(description="8–64 characters; a retry repeats it.")
    source: ContributionSource = ContributionSource.PLATFORM
    merchant_id: strawberry.ID | None = strawberry.field(
        default=None, description="The contributing merchant, for a MERCHANT contribution."
    )
    memo: str = ""


@strawberry.input
class ReverseFundContributionInput:
    transaction_id: strawberry.ID
    reason: str = strawberry.field(description="Why, 2–500 characters.")


@strawberry.input
class ApproveFundPayoutInput:
    subject_id: strawberry.ID = strawberry.field(
        description="The after-sales request (AfterSalesRequest) or the complaint."
    )
    cause: PayoutCause
    amount_minor: int = strawberry.field(
        description="Positive; at most the rule's maximum, and with the order's other payouts "
        "at most what was paid for it."
    )
    note: str = strawberry.field(description="The loss and the decision, 2–2000 characters.")
    idempotency_key: str = strawberry.field(description="8–64 characters; a retry repeats it.")
    responsible_provider_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A service provider that carried, paid or refunded the order, when it "
        "answers for the loss; omitted, the order's merchant does.",
    )


@strawberry.input
class RecordFundRecoveryInput:
    recovery_id: strawberry.ID
    method: RecoveryMethod
    note: str = strawberry.field(description="2–2000 characters.")


@strawberry.input
class WaiveFundRecoveryInput:
    recovery_id: strawberry.ID
    reason: str = strawberry.field(description="2–2000 characters.")


@strawberry.type
class FundTransactionPayload:
    transaction: FundTransaction | None = None
    replayed: bool = strawberry.field(
        default=False, description="A retry of an earlier request with the same key."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FundPayoutPayload:
    payout: FundPayout | None = None
    replayed: bool = strawberry.field(
        default=False, description="A retry of an earlier request with the same key."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FundRecoveryPayload:
    recovery: FundRecovery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
