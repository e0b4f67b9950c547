"""The advance-compensation fund (QS 9.7.6): a double-entry ledger, and the claims it pays
and recovers.

The ledger is three tables that are only ever appended to:

- ``FundAccount``: one row per account of the chart (services/fund/ledger.py names them):
  the fund's cash, the recoveries it holds while an appeal can still undo them, the
  contributions of each contributor, the compensation paid out, what each responsible
  party owes, and the recoveries accrued.
- ``FundTransaction``: one business event (a contribution, a payout, a recovery, the
  release of a held recovery, a correction), with an idempotency key that is unique, so the
  same event cannot be booked twice.
- ``FundEntry``: the transaction's lines, one per account it touches, with a signed amount
  in minor units (debits positive, credits negative; a transaction's entries sum to zero),
  the account's running number ``seq`` and its balance after the entry. ``(account, seq)``
  is unique: two postings to one account can never both follow the same entry.

Nothing of the ledger is updated or deleted: a mistake is put right by a new, correcting
transaction. The models enforce it (``AppendOnly``): saving a stored row, deleting one,
and a query set's update, delete and bulk update all raise ``LedgerImmutable``.

``FundPayout`` is a payout staff approved (paid at once, never changed, so append-only as
well); ``FundRecovery`` is the claim against the responsible party that the payout opened,
a state machine (services/state.py) tracked to its settlement.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider
    from pinzhi.models.aftersales import AfterSalesRequest
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order
    from pinzhi.models.service import Complaint
    from pinzhi.models.violations import ViolationCase


class FundAccountKind(StrEnum):
    """The chart of accounts. Debit accounts (their balance is positive): CASH, HELD,
    RECEIVABLE, PAYOUTS. Credit accounts (negative): CONTRIBUTIONS, RECOVERIES."""

    CASH = "CASH"
    HELD = "HELD"
    CONTRIBUTIONS = "CONTRIBUTIONS"
    PAYOUTS = "PAYOUTS"
    RECEIVABLE = "RECEIVABLE"
    RECOVERIES = "RECOVERIES"


class FundTransactionKind(StrEnum):
    CONTRIBUTION = "CONTRIBUTION"
    PAYOUT = "PAYOUT"
    RECOVERY = "RECOVERY"
    RELEASE = "RELEASE"
    CORRECTION = "CORRECTION"


class PayoutCause(StrEnum):
    """Why the fund pays first (QS 9.7.6): the product's quality, or a service failure."""

    PRODUCT_QUALITY = "PRODUCT_QUALITY"
    SERVICE_FAILURE = "SERVICE_FAILURE"


class PayoutSubject(StrEnum):
    """What a payout is about: an after-sales request or a complaint."""

    AFTER_SALES = "AFTER_SALES"
    COMPLAINT = "COMPLAINT"


class PayoutState(StrEnum):
    """A payout is paid when it is approved, and never changes; its recovery goes on."""

    PAID = "PAID"


class FundParty(StrEnum):
    """Who answers for a loss: the merchant of the order, or a service provider."""

    MERCHANT = "MERCHANT"
    PROVIDER = "PROVIDER"


class ContributionSource(StrEnum):
    PLATFORM = "PLATFORM"
    MERCHANT = "MERCHANT"


class RecoveryState(StrEnum):
    """OPEN: owed. DEDUCTED: taken from the merchant (deposit or settlement) and held
    while the merchant may appeal. RECOVERED: final, in the fund's cash. WAIVED: staff
    let it go (the fund bears the loss). CANCELLED: an appeal overturned it (the money went
    back to the merchant; the fund bears the loss)."""

    OPEN = "OPEN"
    DEDUCTED = "DEDUCTED"
    RECOVERED = "RECOVERED"
    WAIVED = "WAIVED"
    CANCELLED = "CANCELLED"


class RecoveryMethod(StrEnum):
    DEPOSIT = "DEPOSIT"
    SETTLEMENT = "SETTLEMENT"


class LedgerImmutable(RuntimeError):
    """Raised on any attempt to change or remove a stored row of the ledger."""


class AppendOnlyQuerySet(QuerySet[Any]):
    """A query set that reads and locks, and refuses to update or delete."""

    def _refuse(self) -> NoReturn:
        raise LedgerImmutable(f"{self.model.__name__} rows are never updated or deleted")

    def update(self, **kwargs: Any) -> NoReturn:
        self._refuse()

    def delete(self) -> NoReturn:
        self._refuse()

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()


class AppendOnlyManager(Manager):
    def get_queryset(self) -> QuerySet[Any]:
        return AppendOnlyQuerySet(self._model)


class AppendOnly(Model):
    """A row that is inserted once and then only read (the ledger, QS 9.7.6)."""

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        if self._saved_in_db or force_update or update_fields:
            raise LedgerImmutable(f"{type(self).__name__} {self.pk} is never updated")
        await super().save(using_db, update_fields, force_create, force_update)

    async def delete(self, using_db: BaseDBAsyncClient | None = None) -> NoReturn:
        raise LedgerImmutable(f"{type(self).__name__} {self.pk} is never deleted")

    class Meta:
        abstract = True


class FundAccount(AppendOnly):
    id = fields.IntField(primary_key=True)
    # e.g. "CASH", "RECEIVABLE:MERCHANT:12", "CONTRIBUTIONS:PLATFORM".
    code = fields.CharField(max_length=60, unique=True)
    kind = fields.CharEnumField(FundAccountKind, max_length=16)
    # The party of a per-party account (receivables, contributions), if any.
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="fund_accounts", null=True, on_delete=fields.RESTRICT
    )
    merchant_id: int | None
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider",
        related_name="fund_accounts",
        null=True,
        on_delete=fields.RESTRICT,
    )
    provider_id: int | None
    currency = fields.CharField(max_length=3, default="CNY")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_account"
        manager = AppendOnlyManager()


class FundPayout(AppendOnly):
    """A payout to a consumer, approved by customer-service staff and paid at once."""

    id = fields.IntField(primary_key=True)
    subject_type = fields.CharEnumField(PayoutSubject, max_length=12)
    after_sales_request: fields.ForeignKeyNullableRelation[AfterSalesRequest] = (
        fields.ForeignKeyField(
            "models.AfterSalesRequest",
            related_name="fund_payouts",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    after_sales_request_id: int | None
    complaint: fields.ForeignKeyNullableRelation[Complaint] = fields.ForeignKeyField(
        "models.Complaint", related_name="fund_payouts", null=True, on_delete=fields.RESTRICT
    )
    complaint_id: int | None
    # Denormalised owners, so that row scoping is one indexed filter.
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="fund_payouts", on_delete=fields.RESTRICT
    )
    order_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="fund_payouts", on_delete=fields.RESTRICT
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="fund_payouts", on_delete=fields.RESTRICT
    )
    merchant_id: int
    state = fields.CharEnumField(PayoutState, max_length=8, default=PayoutState.PAID)
    cause = fields.CharEnumField(PayoutCause, max_length=16)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    party = fields.CharEnumField(FundParty, max_length=8)
    # The responsible provider when the party is PROVIDER.
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider",
        related_name="fund_payouts",
        null=True,
        on_delete=fields.RESTRICT,
    )
    provider_id: int | None
    note = fields.TextField(default="")
    # The client's key: a retry with it answers with this payout.
    idempotency_key = fields.CharField(max_length=64, unique=True)
    # The version of rule fund.payout whose limits the approval was held to (QS 5.2).
    rule_version = fields.IntField()
    approved_by: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="fund_payouts_approved", on_delete=fields.RESTRICT
    )
    approved_by_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_payout"
        manager = AppendOnlyManager()
        # The fund never pays the same claim twice: one payout per subject and cause.
        unique_together = (("after_sales_request_id", "cause"), ("complaint_id", "cause"))
        indexes = (("consumer_id", "id"), ("order_id",), ("merchant_id", "id"))


class FundRecovery(Model):
    """The claim against the party responsible for a payout, opened with it (QS 9.7.6)."""

    id = fields.IntField(primary_key=True)
    payout: fields.OneToOneRelation[FundPayout] = fields.OneToOneField(
        "models.FundPayout", related_name="recovery", on_delete=fields.RESTRICT
    )
    payout_id: int
    party = fields.CharEnumField(FundParty, max_length=8)
    # Set for a merchant's recovery only, so that a merchant sees those against its shop.
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="fund_recoveries", null=True, on_delete=fields.RESTRICT
    )
    merchant_id: int | None
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider",
        related_name="fund_recoveries",
        null=True,
        on_delete=fields.RESTRICT,
    )
    provider_id: int | None
    state = fields.CharEnumField(RecoveryState, max_length=10, default=RecoveryState.OPEN)
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    method = fields.CharEnumField(RecoveryMethod, max_length=10, null=True)
    # The case a merchant appeals a recovery through (services/violations.py).
    violation_case: fields.OneToOneNullableRelation[ViolationCase] = fields.OneToOneField(
        "models.ViolationCase", related_name="fund_recovery", null=True, on_delete=fields.RESTRICT
    )
    violation_case_id: int | None
    note = fields.TextField(default="")
    decided_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="fund_recoveries_decided",
        null=True,
        on_delete=fields.RESTRICT,
    )
    decided_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deducted_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fund_recovery"
        indexes = (("merchant_id", "id"), ("provider_id", "id"), ("state", "id"))


class FundTransaction(AppendOnly):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(FundTransactionKind, max_length=12)
    # Unique: the same event cannot be booked twice (services/fund/ledger.py names them).
    idempotency_key = fields.CharField(max_length=100, unique=True)
    # The gross amount of the event, positive; the entries carry the signs.
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    memo = fields.TextField(default="")
    # A contribution's bank or settlement reference.
    reference = fields.CharField(max_length=100, default="")
    actor: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="fund_transactions", null=True, on_delete=fields.RESTRICT
    )
    actor_id: int | None
    # "SYSTEM" for what a job books.
    actor_role = fields.CharField(max_length=20, default="")
    # The contributing merchant, for a merchant's contribution.
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="fund_transactions", null=True, on_delete=fields.RESTRICT
    )
    merchant_id: int | None
    payout: fields.ForeignKeyNullableRelation[FundPayout] = fields.ForeignKeyField(
        "models.FundPayout", related_name="transactions", null=True, on_delete=fields.RESTRICT
    )
    payout_id: int | None
    recovery: fields.ForeignKeyNullableRelation[FundRecovery] = fields.ForeignKeyField(
        "models.FundRecovery", related_name="transactions", null=True, on_delete=fields.RESTRICT
    )
    recovery_id: int | None
    # The transaction this one corrects; each is corrected at most once.
    corrects: fields.OneToOneNullableRelation[FundTransaction] = fields.OneToOneField(
        "models.FundTransaction", related_name="corrected_by", null=True, on_delete=fields.RESTRICT
    )
    corrects_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    entries: fields.ReverseRelation[FundEntry]

    class Meta:
        table = "fund_transaction"
        manager = AppendOnlyManager()
        indexes = (("kind", "id"), ("payout_id",), ("recovery_id",))


class FundEntry(AppendOnly):
    id = fields.IntField(primary_key=True)
    transaction: fields.ForeignKeyRelation[FundTransaction] = fields.ForeignKeyField(
        "models.FundTransaction", related_name="entries", on_delete=fields.RESTRICT
    )
    transaction_id: int
    account: fields.ForeignKeyRelation[FundAccount] = fields.ForeignKeyField(
        "models.FundAccount", related_name="entries", on_delete=fields.RESTRICT
    )
    account_id: int
    # The account's running number: 1, 2, 3 … without holes.
    seq = fields.IntField()
    # Signed, never zero: debits positive, credits negative.
    amount_minor = fields.BigIntField()
    balance_after_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_entry"
        manager = AppendOnlyManager()
        unique_together = (("account_id", "seq"),)
        indexes = (("transaction_id",), ("account_id", "id"))
