"""What merchants prove for their grade, verified by compliance staff (QS 6.1.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Account,
    AuditEvent,
    BrandRegistration,
    BrandRelation,
    DepositPayment,
    LicenceKind,
    Merchant,
    MerchantLicence,
    StaffDuty,
    SubmissionState,
)
from pinzhi.services import audit, merchant_grading, merchants, qualifications
from pinzhi.services.evidence import Evidence
from pinzhi.services.qualifications import Review
from tests import factories as f

SCAN = [Evidence("营业执照扫描件 scan", "https://docs.test/licence.pdf")]


def _later(days: int = 365) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


async def _qualification_inputs(merchant_id: int) -> dict:
    grade = await merchant_grading.live_grade(merchant_id, datetime.now(UTC))
    assert grade is not None
    return grade.dimensions["qualification"]["inputs"]


async def test_a_submitted_licence_counts_only_once_verified(db) -> None:
    """QS 6.1.1: the merchant submits, compliance verifies, only then the grade sees it;
    each step is traced on the licence's chain (QS 9.1.2)."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    licence = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", _later(), SCAN
    )
    assert licence.state == SubmissionState.SUBMITTED
    assert "BUSINESS_LICENCE" in (await _qualification_inputs(shop.id))["missing"]

    verified = await qualifications.review(
        officer.viewer, MerchantLicence, licence.id, Review.VERIFIED, "与原件一致"
    )

    assert verified.state == SubmissionState.VERIFIED
    assert verified.reviewed_by_id == officer.account.id
    assert "BUSINESS_LICENCE" in (await _qualification_inputs(shop.id))["valid"]
    trail = await audit.trail("MerchantLicence", licence.id)
    assert [(e.action, e.to_state) for e in trail] == [
        ("submitted", "SUBMITTED"),
        ("verified", "VERIFIED"),
    ]
    assert (await audit.verify("MerchantLicence", licence.id)).valid


async def test_rejected_and_expired_licences_do_not_count(db) -> None:
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    rejected = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "FAKE-001", _later(), SCAN
    )
    await qualifications.review(officer.viewer, MerchantLicence, rejected.id, Review.REJECTED)
    expiring = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "REAL-001", _later(1), SCAN
    )
    await qualifications.review(officer.viewer, MerchantLicence, expiring.id, Review.VERIFIED)
    assert "BUSINESS_LICENCE" in (await _qualification_inputs(shop.id))["valid"]

    later = datetime.now(UTC) + timedelta(days=2)
    grade = await merchant_grading.live_grade(shop.id, later)
    assert grade is not None
    assert grade.dimensions["qualification"]["inputs"]["missing"] == ["BUSINESS_LICENCE"]


async def test_only_compliance_staff_review_and_only_once(db) -> None:
    _, seller = await f.merchant()
    licence = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", _later(), SCAN
    )
    for actor in (seller, await f.staff(StaffDuty.CUSTOMER_SERVICE), await f.regulator()):
        with pytest.raises(ServiceError) as raised:
            await qualifications.review(actor.viewer, MerchantLicence, licence.id, Review.VERIFIED)
        assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    officer = await f.compliance_officer()
    await qualifications.review(officer.viewer, MerchantLicence, licence.id, Review.VERIFIED)
    with pytest.raises(ServiceError) as raised:
        await qualifications.review(officer.viewer, MerchantLicence, licence.id, Review.REJECTED)
    assert raised.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert (await MerchantLicence.get(id=licence.id)).state == SubmissionState.VERIFIED


async def test_a_merchant_submits_for_its_own_shop_only(db) -> None:
    """Records are submitted for the viewer's own shop; a consumer may not submit at all."""
    _, seller = await f.merchant()
    buyer = await f.consumer()
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_licence(
            buyer.viewer, LicenceKind.BUSINESS_LICENCE, "X-0001", _later(), SCAN
        )
    assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    licence = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "X-0001", _later(), SCAN
    )
    assert licence.merchant_id == seller.viewer.merchant_id


@pytest.mark.parametrize(
    ("valid_until", "code", "field"),
    [
        (datetime.now(UTC) - timedelta(days=1), ErrorCode.INVALID_VALIDITY, "validUntil"),
        (datetime(2030, 1, 1), ErrorCode.INVALID_VALIDITY, "validUntil"),  # no timezone
    ],
)
async def test_a_licence_needs_a_future_expiry(db, valid_until, code, field) -> None:
    _, seller = await f.merchant()
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_licence(
            seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", valid_until, SCAN
        )
    assert (raised.value.code, raised.value.field) == (code, [field])
    assert await MerchantLicence.all().count() == 0


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        ([], ["evidence"]),
        ([Evidence("x")], ["evidence", "0", "description"]),
        ([Evidence("扫描件", "ftp://docs.test/a")], ["evidence", "0", "url"]),
        ([Evidence("扫描件", "javascript:alert(1)")], ["evidence", "0", "url"]),
    ],
)
async def test_evidence_is_required_and_checked(db, evidence, field) -> None:
    _, seller = await f.merchant()
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_licence(
            seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", _later(), evidence
        )
    assert raised.value.field == field
    assert await AuditEvent.filter(entity_type="MerchantLicence").count() == 0


async def test_the_same_licence_twice_is_refused(db) -> None:
    _, seller = await f.merchant()
    until = _later()
    await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", until, SCAN
    )
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_licence(
            seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", until, SCAN
        )
    assert raised.value.field == ["number"]


async def test_a_licence_that_expired_while_waiting_cannot_be_verified(db) -> None:
    _, seller = await f.merchant()
    officer = await f.compliance_officer()
    licence = await qualifications.submit_licence(
        seller.viewer, LicenceKind.BUSINESS_LICENCE, "91330100MA2", _later(1), SCAN
    )
    await MerchantLicence.filter(id=licence.id).update(
        valid_until=datetime.now(UTC) - timedelta(minutes=1)
    )
    with pytest.raises(ServiceError) as raised:
        await qualifications.review(officer.viewer, MerchantLicence, licence.id, Review.VERIFIED)
    assert raised.value.code == ErrorCode.INVALID_VALIDITY
    assert (await MerchantLicence.get(id=licence.id)).state == SubmissionState.SUBMITTED


async def test_verified_brands_raise_the_brand_dimension(db) -> None:
    """QS 6.1.1 brand influence: registered and authorised brands, once verified."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    for brand, relation in (("青禾", BrandRelation.REGISTERED), ("雅致", BrandRelation.AUTHORISED)):
        row = await qualifications.submit_brand(
            seller.viewer, brand, relation, f"TM-{brand}", _later(), SCAN
        )
        await qualifications.review(officer.viewer, BrandRegistration, row.id, Review.VERIFIED)
    await qualifications.submit_brand(
        seller.viewer, "未审", BrandRelation.REGISTERED, "TM-PENDING", _later(), SCAN
    )
    grade = await merchant_grading.live_grade(shop.id, datetime.now(UTC))
    assert grade is not None
    inputs = grade.dimensions["brand"]["inputs"]
    assert (inputs["registered_brands"], inputs["authorised_brands"]) == (1, 1)


async def test_a_verified_deposit_is_held_and_traced_on_the_merchant(db) -> None:
    """QS 6.1.1 credit: a deposit payment is held once verified; the merchant's chain shows
    the movement (QS 9.1.2); a rejected one is not held."""
    shop, seller = await f.merchant()
    await Merchant.filter(id=shop.id).update(deposit_required_minor=500000)
    officer = await f.compliance_officer()
    slip = [Evidence("银行回单 bank slip")]
    paid = await qualifications.submit_deposit(seller.viewer, 500000, "BANK-0001", slip)
    bogus = await qualifications.submit_deposit(seller.viewer, 900000, "BANK-0002", slip)
    grade = await merchant_grading.live_grade(shop.id, datetime.now(UTC))
    assert grade is not None and grade.dimensions["credit"]["score"] == 80.0  # shortfall

    await qualifications.review(officer.viewer, DepositPayment, paid.id, Review.VERIFIED)
    await qualifications.review(officer.viewer, DepositPayment, bogus.id, Review.REJECTED)

    assert (await Merchant.get(id=shop.id)).deposit_held_minor == 500000
    grade = await merchant_grading.live_grade(shop.id, datetime.now(UTC))
    assert grade is not None and grade.dimensions["credit"]["score"] == 100.0
    moves = await audit.trail("Merchant", shop.id)
    assert [(e.action, e.data["held_after_minor"]) for e in moves] == [("deposit_received", 500000)]


@pytest.mark.parametrize(
    ("amount", "reference"), [(0, "BANK-0003"), (-5, "BANK-0004"), (10**12, "B-5")]
)
async def test_a_deposit_needs_a_positive_amount_and_reference(db, amount, reference) -> None:
    _, seller = await f.merchant()
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_deposit(seller.viewer, amount, reference, SCAN)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert await DepositPayment.all().count() == 0


async def test_a_bank_reference_counts_once(db) -> None:
    _, seller = await f.merchant()
    await qualifications.submit_deposit(seller.viewer, 1000, "BANK-0001", SCAN)
    with pytest.raises(ServiceError) as raised:
        await qualifications.submit_deposit(seller.viewer, 1000, "BANK-0001", SCAN)
    assert raised.value.field == ["reference"]


# --- onboarding ------------------------------------------------------------------------------


def _shop(**changes: object) -> dict:
    return {
        "name": "青禾母婴旗舰店",
        "description": "",
        "deposit_required_minor": 1000000,
        "email": "owner@qinghe.test",
        "password": "a long enough password",
        "contact_name": "王店长",
        "contact_phone": "13800001111",
        **changes,
    }


async def test_admin_staff_onboard_a_merchant_with_its_first_account(db) -> None:
    admin = await f.staff(StaffDuty.ADMIN)
    done = await merchants.onboard_merchant(admin.viewer, **_shop())
    assert done.merchant.deposit_required_minor == 1000000
    assert (done.account.role, done.account.merchant_id) == ("MERCHANT", done.merchant.id)
    assert [e.action for e in await audit.trail("Merchant", done.merchant.id)] == ["onboarded"]
    assert [e.action for e in await audit.trail("Account", done.account.id)] == ["created"]


async def test_only_admin_staff_onboard(db) -> None:
    for actor in (await f.compliance_officer(), await f.consumer(), await f.regulator()):
        with pytest.raises(ServiceError) as raised:
            await merchants.onboard_merchant(actor.viewer, **_shop())
        assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    assert not await Merchant.filter(name="青禾母婴旗舰店").exists()


async def test_a_taken_email_leaves_no_shop_behind(db) -> None:
    admin = await f.staff(StaffDuty.ADMIN)
    existing = await f.consumer()
    with pytest.raises(ServiceError) as raised:
        await merchants.onboard_merchant(admin.viewer, **_shop(email=existing.email))
    assert raised.value.code == ErrorCode.EMAIL_TAKEN
    assert not await Merchant.filter(name="青禾母婴旗舰店").exists()
    assert await Account.filter(role="MERCHANT").count() == 0


async def test_a_taken_shop_name_is_refused(db) -> None:
    admin = await f.staff(StaffDuty.ADMIN)
    await merchants.onboard_merchant(admin.viewer, **_shop())
    with pytest.raises(ServiceError) as raised:
        await merchants.onboard_merchant(admin.viewer, **_shop(email="second@qinghe.test"))
    assert (raised.value.code, raised.value.field) == (ErrorCode.NAME_TAKEN, ["name"])
