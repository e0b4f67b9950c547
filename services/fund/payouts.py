"""Paying first (QS 9.7.6): customer-service staff approve a payout to a consumer about an
after-sales request or a complaint; the consumer is paid at once and a recovery claim
against the responsible party is opened in the same transaction.

The approval is held to the rule ``fund.payout`` in force (its version is stored): a cause
it lists, a positive amount no larger than its ``max_per_claim_minor``, and all the
payouts about one order together no more than ``max_order_share_bps`` of what was paid
for it. The responsible party is the order's merchant unless staff name a service
provider that carried, paid or refunded the order.

Never twice: one payout per (subject, cause), held by a unique constraint and by the
ledger key ``PAYOUT:<subject>:<id>:<cause>``; a second approval is ``CLAIM_ALREADY_PAID``.
The client's idempotency key makes retries safe: a replay with the same parameters answers
with the first payout, another request under the same key is ``IDEMPOTENCY_KEY_REUSED``.
Approvals lock the fund's accounts (cash first among them, in id order) before they check
the claim and the order's total, so a hundred at once pay exactly one and the cash can
never go below zero (``FUND_INSUFFICIENT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    Complaint,
    FundParty,
    FundPayout,
    FundRecovery,
    FundTransactionKind,
    Order,
    Payment,
    PayoutCause,
    PayoutSubject,
    Refund,
    ReturnShipment,
    ServiceProvider,
    Shipment,
)
from pinzhi.services import rules, state, validation
from pinzhi.services.fund import ledger
from pinzhi.services.fund.ledger import Line
from pinzhi.services.lookup import get_visible, ids_of
from pinzhi.services.transactions import retry_on_conflict

RULE_KEY = "fund.payout"


@dataclass(frozen=True)
class PayoutRequest:
    """What staff ask the fund to pay, as a retry must repeat it."""

    subject: PayoutSubject
    subject_id: int | None
    cause: PayoutCause
    amount_minor: int
    provider_id: int | None = None


def ledger_key(subject: PayoutSubject, subject_id: int, cause: PayoutCause) -> str:
    """The payout's ledger key: one per claim, whatever the client's key."""
    return f"PAYOUT:{subject}:{subject_id}:{cause}"


def lines_of(amount: int, party: ledger.AccountRef) -> list[Line]:
    """The consumer is paid from the cash, and the party owes it back."""
    return [
        Line(ledger.PAYOUTS, amount),
        Line(ledger.CASH, -amount),
        Line(party, amount),
        Line(ledger.RECOVERIES, -amount),
    ]


def _subject_of(payout: FundPayout) -> int | None:
    if payout.subject_type == PayoutSubject.AFTER_SALES:
        return payout.after_sales_request_id
    return payout.complaint_id


def _replay(earlier: FundPayout, asked: PayoutRequest) -> FundPayout:
    same = (
        earlier.subject_type == asked.subject
        and _subject_of(earlier) == asked.subject_id
        and earlier.cause == asked.cause
        and earlier.amount_minor == asked.amount_minor
        and earlier.provider_id == asked.provider_id
    )
    if not same:
        raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    return earlier


async def _provider_involved(provider_id: int, order_id: int) -> bool:
    """Whether the provider carried the order (or goods back), took its payment or paid a
    refund on it."""
    for query in (
        Shipment.filter(order_id=order_id, provider_id=provider_id),
        Payment.filter(order_id=order_id, provider_id=provider_id),
        Refund.filter(order_id=order_id, provider_id=provider_id),
        ReturnShipment.filter(request__order_id=order_id, provider_id=provider_id),
    ):
        if await query.exists():
            return True
    return False


async def _subject(viewer: Viewer, asked: PayoutRequest) -> AfterSalesRequest | Complaint:
    if asked.subject == PayoutSubject.AFTER_SALES:
        return await get_visible(viewer, AfterSalesRequest, asked.subject_id, "subjectId")
    return await get_visible(viewer, Complaint, asked.subject_id, "subjectId")


@retry_on_conflict
async def approve_payout(
    viewer: Viewer, asked: PayoutRequest, note: str, idempotency_key: str
) -> tuple[FundPayout, bool]:
    """Pay a consumer first for a loss due to the product's quality or a service failure,
    and open the recovery from the responsible party. Returns the payout and whether it was
    made now (False: a replay of ``idempotency_key``)."""
    require(viewer, Action.APPROVE_FUND_PAYOUT)
    key = validation.text(idempotency_key, "idempotencyKey", min_len=8, max_len=64)
    note = validation.text(note, "note", min_len=2, max_len=2000, multiline=True)
    asked = PayoutRequest(
        PayoutSubject(asked.subject),
        asked.subject_id,
        PayoutCause(asked.cause),
        asked.amount_minor,
        asked.provider_id,
    )
    earlier = await FundPayout.get_or_none(idempotency_key=key)
    if earlier is not None:
        return _replay(earlier, asked), False
    rule = await rules.current(RULE_KEY)
    content: dict[str, Any] = rule.content
    if str(asked.cause) not in content["causes"]:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("cause",), "not a cause the rule pays for")
    if asked.amount_minor <= 0:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("amountMinor",), "must be positive")
    if asked.amount_minor > content["max_per_claim_minor"]:
        raise ServiceError(
            ErrorCode.PAYOUT_LIMIT_EXCEEDED,
            ("amountMinor",),
            f"at most {content['max_per_claim_minor']} per payout",
        )
    subject = await _subject(viewer, asked)
    if subject.order_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "not about an order")
    order = await Order.get(id=subject.order_id)
    if order.paid_at is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "the order was never paid")
    if order.currency != ledger.CURRENCY:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("subjectId",), "the fund pays in CNY")
    party = FundParty.MERCHANT
    if asked.provider_id is not None:
        if not await ServiceProvider.filter(id=asked.provider_id).exists():
            raise ServiceError(ErrorCode.NOT_FOUND, ("responsibleProviderId",))
        if not await _provider_involved(asked.provider_id, order.id):
            raise ServiceError(
                ErrorCode.NOT_ELIGIBLE, ("responsibleProviderId",), "not involved in the order"
            )
        party = FundParty.PROVIDER
    owes = ledger.receivable(party, order.merchant_id, asked.provider_id)
    lines = lines_of(asked.amount_minor, owes)
    limit = order.total_minor * int(content["max_order_share_bps"]) // 10000
    try:
        async with in_transaction():
            await ledger.serialise()
            await ledger.ensure_accounts(line.account for line in lines)
            locked = await ledger.lock(line.account for line in lines)
            raced = await FundPayout.get_or_none(idempotency_key=key)
            if raced is not None:
                return _replay(raced, asked), False
            subject_filter = (
                {"after_sales_request_id": subject.id}
                if asked.subject == PayoutSubject.AFTER_SALES
                else {"complaint_id": subject.id}
            )
            if await FundPayout.filter(**subject_filter, cause=asked.cause).exists():
                raise ServiceError(ErrorCode.CLAIM_ALREADY_PAID, ("subjectId",))
            before = sum(await ids_of(FundPayout.filter(order_id=order.id), "amount_minor"))
            if before + asked.amount_minor > limit:
                raise ServiceError(
                    ErrorCode.PAYOUT_LIMIT_EXCEEDED,
                    ("amountMinor",),
                    f"the order's payouts may come to {limit}; {before} paid",
                )
            if locked.balance(ledger.CASH) < asked.amount_minor:
                raise ServiceError(
                    ErrorCode.FUND_INSUFFICIENT,
                    ("amountMinor",),
                    f"the fund holds {locked.balance(ledger.CASH)}",
                )
            payout = await state.create(
                FundPayout,
                actor=viewer,
                action="paid",
                data={
                    "subject": f"{asked.subject}:{subject.id}",
                    "cause": str(asked.cause),
                    "amount_minor": asked.amount_minor,
                    "consumer_id": subject.consumer_id,
                    "party": str(party),
                    "provider_id": asked.provider_id,
                    "rule_version": rule.version,
                },
                subject_type=asked.subject,
                **subject_filter,
                order_id=order.id,
                consumer_id=subject.consumer_id,
                merchant_id=order.merchant_id,
                cause=asked.cause,
                amount_minor=asked.amount_minor,
                currency=ledger.CURRENCY,
                party=party,
                provider_id=asked.provider_id,
                note=note,
                idempotency_key=key,
                rule_version=rule.version,
                approved_by_id=viewer.account_id,
            )
            recovery = await state.create(
                FundRecovery,
                actor=viewer,
                action="opened",
                data={
                    "payout_id": payout.id,
                    "party": str(party),
                    "amount_minor": payout.amount_minor,
                },
                payout_id=payout.id,
                party=party,
                merchant_id=order.merchant_id if party == FundParty.MERCHANT else None,
                provider_id=asked.provider_id,
                amount_minor=payout.amount_minor,
                currency=ledger.CURRENCY,
            )
            await ledger.post(
                locked,
                FundTransactionKind.PAYOUT,
                lines,
                key=ledger_key(asked.subject, subject.id, asked.cause),
                actor=viewer,
                memo=note,
                payout_id=payout.id,
                recovery_id=recovery.id,
            )
    except IntegrityError:
        # A racing approval of the same claim or key committed first.
        raced = await FundPayout.get_or_none(idempotency_key=key)
        if raced is not None:
            return _replay(raced, asked), False
        raise ServiceError(ErrorCode.CLAIM_ALREADY_PAID, ("subjectId",)) from None
    return payout, True
