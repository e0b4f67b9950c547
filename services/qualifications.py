"""What a merchant proves for its grade (QS 6.1.1): licences and permits (qualification),
brand registrations and authorisations (brand influence), deposit payments (credit).

A merchant submits each with evidence (and, for licences and brands, an expiry); staff
with the compliance duty verify or reject it. Only a verified record counts, a licence or
brand only until it expires, and a deposit is held only once verified. Every step is a
traced key node of the record (QS 9.1.2), and a verified deposit also of the merchant,
whose standing it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    BrandRegistration,
    BrandRelation,
    DepositPayment,
    LicenceKind,
    Merchant,
    MerchantLicence,
    SubmissionState,
)
from pinzhi.services import audit, state, validation
from pinzhi.services.evidence import Evidence
from pinzhi.services.evidence import clean as evidence_items
from pinzhi.services.lookup import get_visible, lock_visible
from pinzhi.services.transactions import retry_on_conflict

MAX_DEPOSIT_MINOR = 10**11
# Records still in play: a second identical one is a duplicate.
LIVE_STATES = (SubmissionState.SUBMITTED, SubmissionState.VERIFIED)

Submission = MerchantLicence | BrandRegistration | DepositPayment
S = TypeVar("S", MerchantLicence, BrandRegistration, DepositPayment)


class Review(StrEnum):
    """A compliance officer's decision on a submission."""

    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


def is_valid(record: MerchantLicence | BrandRegistration, now: datetime) -> bool:
    """Whether a licence or brand counts now: verified and not expired."""
    return record.state == SubmissionState.VERIFIED and record.valid_until > now


def _merchant_of(viewer: Viewer, action: Action) -> int:
    require(viewer, action)
    if viewer.merchant_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    return viewer.merchant_id


def _expiry(valid_until: datetime | None) -> datetime:
    valid_until = validation.moment(valid_until, "validUntil", ErrorCode.INVALID_VALIDITY)
    if valid_until <= state.now():
        raise ServiceError(ErrorCode.INVALID_VALIDITY, ("validUntil",), "already expired")
    return valid_until


def _number(value: str | None, field: str) -> str:
    return validation.text(value, field, min_len=2, max_len=64)


async def _create(
    model: type[S], viewer: Viewer, data: dict[str, Any], traced: dict[str, Any]
) -> S:
    async with in_transaction():
        return await state.create(
            model,
            actor=viewer,
            action="submitted",
            data={"merchant_id": data["merchant_id"], **traced},
            **data,
            submitted_by_id=viewer.account_id,
        )


async def submit_licence(
    viewer: Viewer,
    kind: LicenceKind,
    number: str,
    valid_until: datetime | None,
    evidence: Sequence[Evidence],
) -> MerchantLicence:
    """The viewer's merchant submits a licence or permit it holds, with its expiry."""
    merchant_id = _merchant_of(viewer, Action.SUBMIT_MERCHANT_LICENCE)
    kind = LicenceKind(kind)
    number = _number(number, "number")
    until = _expiry(valid_until)
    items = evidence_items(evidence)
    if await MerchantLicence.filter(
        merchant_id=merchant_id, kind=kind, number=number, valid_until=until, state__in=LIVE_STATES
    ).exists():
        raise ServiceError(ErrorCode.INVALID_INPUT, ("number",), "already submitted")
    return await _create(
        MerchantLicence,
        viewer,
        {
            "merchant_id": merchant_id,
            "kind": kind,
            "number": number,
            "valid_until": until,
            "evidence": items,
        },
        {"kind": str(kind), "number": number, "valid_until": until.isoformat()},
    )


async def submit_brand(
    viewer: Viewer,
    brand: str,
    relation: BrandRelation,
    registration_number: str,
    valid_until: datetime | None,
    evidence: Sequence[Evidence],
) -> BrandRegistration:
    """The viewer's merchant submits a trademark it registered or is authorised to sell."""
    merchant_id = _merchant_of(viewer, Action.SUBMIT_BRAND_REGISTRATION)
    name = validation.text(brand, "brand", max_len=100)
    relation = BrandRelation(relation)
    number = _number(registration_number, "registrationNumber")
    until = _expiry(valid_until)
    items = evidence_items(evidence)
    if await BrandRegistration.filter(
        merchant_id=merchant_id,
        brand=name,
        relation=relation,
        valid_until=until,
        state__in=LIVE_STATES,
    ).exists():
        raise ServiceError(ErrorCode.INVALID_INPUT, ("brand",), "already submitted")
    return await _create(
        BrandRegistration,
        viewer,
        {
            "merchant_id": merchant_id,
            "brand": name,
            "relation": relation,
            "registration_number": number,
            "valid_until": until,
            "evidence": items,
        },
        {"brand": name, "relation": str(relation), "registration_number": number},
    )


async def submit_deposit(
    viewer: Viewer, amount_minor: int, reference: str, evidence: Sequence[Evidence]
) -> DepositPayment:
    """The viewer's merchant reports a payment into its security deposit (CNY), with the
    bank transfer's reference; it is held once compliance staff verify it."""
    merchant_id = _merchant_of(viewer, Action.SUBMIT_DEPOSIT_PAYMENT)
    if not 0 < amount_minor <= MAX_DEPOSIT_MINOR:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("amountMinor",), "must be positive")
    ref = validation.text(reference, "reference", min_len=4, max_len=100)
    items = evidence_items(evidence)
    if await DepositPayment.filter(merchant_id=merchant_id, reference=ref).exists():
        raise ServiceError(ErrorCode.INVALID_INPUT, ("reference",), "already submitted")
    try:
        return await _create(
            DepositPayment,
            viewer,
            {
                "merchant_id": merchant_id,
                "amount_minor": amount_minor,
                "reference": ref,
                "evidence": items,
            },
            {"amount_minor": amount_minor, "reference": ref},
        )
    except IntegrityError as exc:  # the same reference submitted twice at once
        raise ServiceError(ErrorCode.INVALID_INPUT, ("reference",), "already submitted") from exc


@retry_on_conflict
async def review(
    viewer: Viewer, model: type[S], submission_id: int | None, decision: Review, note: str = ""
) -> S:
    """Compliance staff verify or reject a submitted record. A licence or brand that
    expired meanwhile cannot be verified; a verified deposit is added to the merchant's
    held deposit in the same transaction."""
    require(viewer, Action.REVIEW_SUBMISSION)
    decision = Review(decision)
    note = validation.text(note, "note", min_len=0, max_len=2000, multiline=True)
    async with in_transaction():
        found = await get_visible(viewer, model, submission_id, "submissionId")
        # The merchant before its record, as every writer of a merchant's standing does.
        merchant = await Merchant.filter(id=found.merchant_id).select_for_update().get()
        row = await lock_visible(viewer, model, found.id, "submissionId")
        target = SubmissionState(decision)
        state.check(model, row.state, target, "submissionId")
        if (
            target == SubmissionState.VERIFIED
            and not isinstance(row, DepositPayment)
            and row.valid_until <= state.now()
        ):
            raise ServiceError(ErrorCode.INVALID_VALIDITY, ("submissionId",), "expired")
        await state.move(
            row,
            target,
            actor=viewer,
            action="verified" if target == SubmissionState.VERIFIED else "rejected",
            field="submissionId",
            data={"note": note},
            reviewed_by_id=viewer.account_id,
            reviewed_at=state.now(),
            review_note=note,
        )
        if isinstance(row, DepositPayment) and target == SubmissionState.VERIFIED:
            await deposit_moved(viewer, merchant, row.amount_minor, "deposit_received", row.id)
    return row


async def deposit_moved(
    viewer: Viewer | None, merchant: Merchant, delta_minor: int, action: str, source_id: int
) -> None:
    """Change the merchant's held deposit by ``delta_minor`` (never below 0) and trace it on
    the merchant's chain. The caller holds the merchant's row lock in its transaction."""
    before = merchant.deposit_held_minor
    merchant.deposit_held_minor = max(0, before + delta_minor)
    await Merchant.filter(id=merchant.id).update(deposit_held_minor=merchant.deposit_held_minor)
    await audit.append(
        "Merchant",
        merchant.id,
        action,
        actor=viewer,
        data={
            "source_id": source_id,
            "held_before_minor": before,
            "held_after_minor": merchant.deposit_held_minor,
            "required_minor": merchant.deposit_required_minor,
        },
    )
