"""The advance-compensation fund (QS 9.7.6), called on the services directly: contributions,
payouts paid first, recoveries from the responsible party tracked to settlement (appealable
through the merchant's violation case, QS 6.4), corrections, the ledger's invariants and
its immutability; every step traced (QS 9.1.2), every limit a published rule (QS 5.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AuditEvent,
    ContributionSource,
    FundAccount,
    FundEntry,
    FundParty,
    FundPayout,
    FundRecovery,
    FundTransaction,
    FundTransactionKind,
    LedgerImmutable,
    Merchant,
    Order,
    PayoutCause,
    PayoutSubject,
    Penalty,
    ProviderKind,
    RecoveryMethod,
    RecoveryState,
    StaffDuty,
    ViolationCase,
    ViolationState,
    ViolationType,
)
from pinzhi.services import audit, jobs, rules, state, violations
from pinzhi.services.fund import RULE_KEY, contributions, ledger, payouts, recoveries
from pinzhi.services.fund.payouts import PayoutRequest
from tests import factories as f

Outcome = violations.AppealOutcome
CASH, HELD = ledger.CASH.code, ledger.HELD.code
PAYOUTS, RECOVERIES = ledger.PAYOUTS.code, ledger.RECOVERIES.code


@dataclass
class Scene:
    w: f.World
    admin: f.Actor
    officer: f.Actor
    order: Order
    complaint: Any


async def _scene(cash: int = 100_000, deposit: int | None = 100_000) -> Scene:
    w = await f.world()
    admin = await f.fund_admin()
    officer = await f.compliance_officer()
    if cash:
        await f.fund_cash(admin, cash)
    if deposit:
        await f.with_deposit(officer, w.seller, deposit)
    placed, _ = await f.delivered_order(w)  # one item at 1000
    return Scene(w, admin, officer, placed, await f.complaint(w.buyer, placed))


async def _refused(action: Any, code: ErrorCode) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    return raised.value


async def _counts() -> tuple[int, ...]:
    return (
        await FundTransaction.all().count(),
        await FundEntry.all().count(),
        await FundPayout.all().count(),
        await FundRecovery.all().count(),
        await AuditEvent.all().count(),
        sum(await Merchant.all().values_list("deposit_held_minor", flat=True)),
    )


async def _unchanged(action: Any, code: ErrorCode) -> ServiceError:
    """The action is refused with ``code`` and nothing at all changes."""
    before = await _counts()
    error = await _refused(action, code)
    assert await _counts() == before
    return error


async def _consistent() -> dict[str, int]:
    """The ledger's invariants, checked two ways: the service's recomputation, and here
    from the raw entries. Returns the balances by account code."""
    result = await ledger.check()
    assert result.valid, result.problems
    codes = dict(await FundAccount.all().values_list("id", "code"))
    sums: dict[str, int] = {}
    by_transaction: dict[int, int] = {}
    for transaction_id, account_id, amount in await FundEntry.all().values_list(
        "transaction_id", "account_id", "amount_minor"
    ):
        sums[codes[account_id]] = sums.get(codes[account_id], 0) + amount
        by_transaction[transaction_id] = by_transaction.get(transaction_id, 0) + amount
    assert all(total == 0 for total in by_transaction.values()), by_transaction
    balances = await ledger.balances()
    assert {code: balances[code] for code in sums} == sums
    assert balances.get(CASH, 0) >= 0
    return balances


def _request(scene: Scene, amount: int = 500, cause: str = "PRODUCT_QUALITY", **kw: Any):
    return PayoutRequest(
        PayoutSubject.COMPLAINT, scene.complaint.id, PayoutCause(cause), amount, **kw
    )


async def _pay(scene: Scene, amount: int = 500, key: str = "payout-key-0001", **kw: Any):
    payout, created = await payouts.approve_payout(
        scene.w.agent.viewer, _request(scene, amount, **kw), "划痕 scratched", key
    )
    assert created
    return payout, await FundRecovery.get(payout_id=payout.id)


def _receivable(shop: Merchant) -> str:
    return f"RECEIVABLE:MERCHANT:{shop.id}"


async def _actions(entity_type: str, entity_id: int) -> list[str]:
    return [e.action for e in await audit.trail(entity_type, entity_id)]


# --- Contributions ---------------------------------------------------------------------------


async def test_a_contribution_puts_cash_in_the_fund_and_is_traced(db) -> None:
    """QS 9.7.6: the admin's contribution debits the cash and credits the contributor; the
    transaction is a traced key node with its entries (QS 9.1.2)."""
    admin = await f.fund_admin()
    transaction, created = await contributions.contribute(
        admin.viewer, 250_000, ContributionSource.PLATFORM, None, "BANK-0001", "首期", "key-0001"
    )
    assert created and transaction.kind == FundTransactionKind.CONTRIBUTION
    balances = await _consistent()
    assert balances[CASH] == 250_000
    assert balances["CONTRIBUTIONS:PLATFORM"] == -250_000
    [event] = await audit.trail("FundTransaction", transaction.id)
    assert event.action == "posted" and event.data["kind"] == "CONTRIBUTION"
    assert (await audit.verify("FundTransaction", transaction.id)).valid


async def test_a_merchants_contribution_is_booked_to_its_own_account(db) -> None:
    shop, _ = await f.merchant()
    admin = await f.fund_admin()
    await contributions.contribute(
        admin.viewer, 9_000, ContributionSource.MERCHANT, shop.id, "SHOP-0001", "", "key-shop-1"
    )
    account = await FundAccount.get(code=f"CONTRIBUTIONS:MERCHANT:{shop.id}")
    assert account.merchant_id == shop.id
    assert (await _consistent())[account.code] == -9_000


async def test_a_contribution_is_idempotent_by_its_key(db) -> None:
    """A retry answers with the first transaction; the key with another amount is refused."""
    admin = await f.fund_admin()
    args = (admin.viewer, 1_000, ContributionSource.PLATFORM, None, "BANK-0002", "")
    first, _ = await contributions.contribute(*args, "key-0002")
    again, created = await contributions.contribute(*args, "key-0002")
    assert (again.id, created) == (first.id, False)
    await _unchanged(
        contributions.contribute(
            admin.viewer, 2_000, ContributionSource.PLATFORM, None, "BANK-0002", "", "key-0002"
        ),
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
    )
    assert (await _consistent())[CASH] == 1_000


@pytest.mark.parametrize(
    ("amount", "source", "merchant", "reference", "code", "field"),
    [
        (0, "PLATFORM", False, "BANK-1", ErrorCode.INVALID_INPUT, "amountMinor"),
        (-5, "PLATFORM", False, "BANK-1", ErrorCode.INVALID_INPUT, "amountMinor"),
        (10**9, "PLATFORM", False, "BANK-1", ErrorCode.INVALID_INPUT, "amountMinor"),
        (100, "PLATFORM", True, "BANK-1", ErrorCode.INVALID_INPUT, "merchantId"),
        (100, "MERCHANT", False, "BANK-1", ErrorCode.NOT_FOUND, "merchantId"),
        (100, "PLATFORM", False, "x", ErrorCode.INVALID_INPUT, "reference"),
        (100, "PLATFORM", False, "BANK\x00", ErrorCode.INVALID_INPUT, "reference"),
    ],
)
async def test_a_bad_contribution_is_refused_and_changes_nothing(
    db, amount, source, merchant, reference, code, field
) -> None:
    shop, _ = await f.merchant()
    admin = await f.fund_admin()
    error = await _unchanged(
        contributions.contribute(
            admin.viewer,
            amount,
            ContributionSource(source),
            shop.id if merchant else None,
            reference,
            "",
            "key-bad-0001",
        ),
        code,
    )
    assert error.field == [field]


@pytest.mark.parametrize("duty", [StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE])
async def test_only_admins_record_contributions(db, duty) -> None:
    other = await f.staff(duty)
    await _unchanged(
        contributions.contribute(
            other.viewer, 100, ContributionSource.PLATFORM, None, "BANK-9", "", "key-not-admin"
        ),
        ErrorCode.NOT_ELIGIBLE,
    )


async def test_a_contribution_is_reversed_by_a_correction_once(db) -> None:
    """Nothing is changed in place: the reversal is a new CORRECTION negating the entries;
    a second one is ALREADY_CORRECTED."""
    admin = await f.fund_admin()
    original = await f.fund_cash(admin, 7_000)
    rows_before = await FundEntry.filter(transaction_id=original.id).values_list(
        "id", "account_id", "seq", "amount_minor", "balance_after_minor"
    )
    correction = await contributions.reverse_contribution(admin.viewer, original.id, "录入错误")
    assert (correction.kind, correction.corrects_id) == (
        FundTransactionKind.CORRECTION,
        original.id,
    )
    balances = await _consistent()
    assert balances[CASH] == 0 and balances["CONTRIBUTIONS:PLATFORM"] == 0
    assert (
        await FundEntry.filter(transaction_id=original.id).values_list(
            "id", "account_id", "seq", "amount_minor", "balance_after_minor"
        )
        == rows_before
    )
    await _unchanged(
        contributions.reverse_contribution(admin.viewer, original.id, "再次"),
        ErrorCode.ALREADY_CORRECTED,
    )


async def test_a_contribution_already_paid_out_cannot_be_reversed(db) -> None:
    scene = await _scene(cash=1_000)
    contribution = await FundTransaction.get(kind=FundTransactionKind.CONTRIBUTION)
    await _pay(scene, 600)
    await _unchanged(
        contributions.reverse_contribution(scene.admin.viewer, contribution.id, "录入错误"),
        ErrorCode.FUND_INSUFFICIENT,
    )


async def test_only_a_contribution_is_reversed(db) -> None:
    scene = await _scene()
    payout, _ = await _pay(scene)
    booked = await FundTransaction.get(payout_id=payout.id, kind=FundTransactionKind.PAYOUT)
    await _unchanged(
        contributions.reverse_contribution(scene.admin.viewer, booked.id, "不行"),
        ErrorCode.NOT_ELIGIBLE,
    )


# --- Payouts -----------------------------------------------------------------------------------


async def test_a_payout_pays_the_consumer_at_once_and_opens_the_recovery(db) -> None:
    """QS 9.7.6, pay first: customer service approve; the consumer is paid from the cash in
    the same transaction that opens the recovery against the order's merchant."""
    scene = await _scene()
    payout, recovery = await _pay(scene, 600)

    assert (payout.state, payout.consumer_id, payout.merchant_id) == (
        "PAID",
        scene.w.buyer.account.id,
        scene.w.shop.id,
    )
    assert payout.party == FundParty.MERCHANT and payout.order_id == scene.order.id
    assert payout.rule_version == (await rules.current(RULE_KEY)).version
    assert (recovery.state, recovery.amount_minor, recovery.merchant_id) == (
        RecoveryState.OPEN,
        600,
        scene.w.shop.id,
    )
    balances = await _consistent()
    assert balances[CASH] == 100_000 - 600
    assert balances[PAYOUTS] == 600
    assert balances[_receivable(scene.w.shop)] == 600
    assert balances[RECOVERIES] == -600
    booked = await FundTransaction.get(payout_id=payout.id)
    assert booked.idempotency_key == f"PAYOUT:COMPLAINT:{scene.complaint.id}:PRODUCT_QUALITY"
    assert await _actions("FundPayout", payout.id) == ["paid"]
    assert await _actions("FundRecovery", recovery.id) == ["opened"]
    assert await _actions("FundTransaction", booked.id) == ["posted"]


async def test_a_payout_about_an_after_sales_request(db) -> None:
    scene = await _scene()
    request = await f.after_sales_request(
        scene.w.buyer, scene.order, AfterSalesKind.QUALITY_ISSUE, 1_000
    )
    asked = PayoutRequest(PayoutSubject.AFTER_SALES, request.id, PayoutCause.SERVICE_FAILURE, 300)
    payout, _ = await payouts.approve_payout(
        scene.w.agent.viewer, asked, "售后超时 late after-sales", "payout-as-0001"
    )
    assert payout.after_sales_request_id == request.id and payout.complaint_id is None
    assert (await _consistent())[CASH] == 100_000 - 300


async def test_the_fund_never_pays_the_same_claim_twice(db) -> None:
    """One payout per (subject, cause), whatever the client's key; another cause of the same
    subject is another claim."""
    scene = await _scene()
    await _pay(scene, 300)
    await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, 300), "再付 again", "payout-key-0002"
        ),
        ErrorCode.CLAIM_ALREADY_PAID,
    )
    other = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    await _unchanged(
        payouts.approve_payout(
            other.viewer, _request(scene, 100), "同事 a colleague", "payout-key-0003"
        ),
        ErrorCode.CLAIM_ALREADY_PAID,
    )
    await payouts.approve_payout(
        scene.w.agent.viewer,
        _request(scene, 200, cause="SERVICE_FAILURE"),
        "客服失误 service failure",
        "payout-key-0004",
    )
    assert await FundPayout.all().count() == 2


async def test_a_retried_approval_answers_with_the_first_payout(db) -> None:
    scene = await _scene()
    payout, _ = await _pay(scene, 300)
    again, created = await payouts.approve_payout(
        scene.w.agent.viewer, _request(scene, 300), "重试 retry", "payout-key-0001"
    )
    assert (again.id, created) == (payout.id, False)
    await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, 301), "改了 changed", "payout-key-0001"
        ),
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
    )


async def test_payouts_are_held_to_the_rule_and_to_the_orders_paid_amount(db) -> None:
    """QS 9.7.6 with QS 5.2: at most the rule's maximum per payout, and all the order's
    payouts at most what was paid for it (1000 here)."""
    scene = await _scene()
    most = (await rules.current(RULE_KEY)).content["max_per_claim_minor"]
    await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, most + 1), "太多 too much", "payout-key-1"
        ),
        ErrorCode.PAYOUT_LIMIT_EXCEEDED,
    )
    await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, 1_001), "超过订单", "payout-key-2"
        ),
        ErrorCode.PAYOUT_LIMIT_EXCEEDED,
    )
    await _pay(scene, 700, key="payout-key-3")
    request = await f.after_sales_request(
        scene.w.buyer, scene.order, AfterSalesKind.QUALITY_ISSUE, 1_000
    )
    over = PayoutRequest(PayoutSubject.AFTER_SALES, request.id, PayoutCause.PRODUCT_QUALITY, 301)
    error = await _unchanged(
        payouts.approve_payout(scene.w.agent.viewer, over, "合计超过", "payout-key-4"),
        ErrorCode.PAYOUT_LIMIT_EXCEEDED,
    )
    assert "700" in error.detail
    exact = PayoutRequest(PayoutSubject.AFTER_SALES, request.id, PayoutCause.PRODUCT_QUALITY, 300)
    await payouts.approve_payout(scene.w.agent.viewer, exact, "正好 exactly", "payout-key-5")


async def test_a_newly_published_limit_applies_and_its_version_is_stored(db) -> None:
    scene = await _scene()
    content = {**(await rules.current(RULE_KEY)).content, "max_per_claim_minor": 200}
    published = await rules.publish(RULE_KEY, content, title_zh="赔付", title_en="Payouts")
    await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, 201), "超过 over", "payout-key-6"
        ),
        ErrorCode.PAYOUT_LIMIT_EXCEEDED,
    )
    payout, _ = await _pay(scene, 200, key="payout-key-7")
    assert payout.rule_version == published.version


async def test_a_cause_the_rule_no_longer_lists_is_not_paid(db) -> None:
    scene = await _scene()
    content = {**(await rules.current(RULE_KEY)).content, "causes": ["PRODUCT_QUALITY"]}
    await rules.publish(RULE_KEY, content, title_zh="赔付", title_en="Payouts")
    error = await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer, _request(scene, cause="SERVICE_FAILURE"), "服务", "pk-cause-1"
        ),
        ErrorCode.NOT_ELIGIBLE,
    )
    assert error.field == ["cause"]


async def test_the_cash_never_goes_below_zero(db) -> None:
    scene = await _scene(cash=400)
    await _unchanged(
        payouts.approve_payout(scene.w.agent.viewer, _request(scene, 401), "不够", "payout-key-8"),
        ErrorCode.FUND_INSUFFICIENT,
    )
    await _pay(scene, 400, key="payout-key-9")
    assert (await _consistent())[CASH] == 0


async def test_an_empty_fund_pays_nothing(db) -> None:
    scene = await _scene(cash=0)
    await _unchanged(
        payouts.approve_payout(scene.w.agent.viewer, _request(scene), "空 empty", "payout-key-e"),
        ErrorCode.FUND_INSUFFICIENT,
    )


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount": 0}, ErrorCode.INVALID_INPUT, "amountMinor"),
        ({"amount": -1}, ErrorCode.INVALID_INPUT, "amountMinor"),
        ({"subject_id": 999_999}, ErrorCode.NOT_FOUND, "subjectId"),
        ({"subject_id": None}, ErrorCode.NOT_FOUND, "subjectId"),
        ({"note": " "}, ErrorCode.INVALID_INPUT, "note"),
        ({"key": "short"}, ErrorCode.INVALID_INPUT, "idempotencyKey"),
        ({"provider": 999_999}, ErrorCode.NOT_FOUND, "responsibleProviderId"),
    ],
)
async def test_a_bad_approval_is_refused_and_changes_nothing(db, change, code, field) -> None:
    scene = await _scene()
    asked = PayoutRequest(
        PayoutSubject.COMPLAINT,
        change.get("subject_id", scene.complaint.id),
        PayoutCause.PRODUCT_QUALITY,
        change.get("amount", 500),
        change.get("provider"),
    )
    error = await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer,
            asked,
            change.get("note", "理由 a reason"),
            change.get("key", "payout-key-bad"),
        ),
        code,
    )
    assert error.field == [field]


async def test_no_payout_for_an_unpaid_order_or_a_complaint_without_one(db) -> None:
    scene = await _scene()
    unpaid = await f.order(scene.w.buyer, scene.w.item)
    about_unpaid = await f.complaint(scene.w.buyer, unpaid)
    from pinzhi.services import complaints

    about_shop = await complaints.file_complaint(
        scene.w.buyer.viewer, None, scene.w.shop.id, "店铺服务差 poor service"
    )
    for complaint_id in (about_unpaid.id, about_shop.id):
        asked = PayoutRequest(
            PayoutSubject.COMPLAINT, complaint_id, PayoutCause.SERVICE_FAILURE, 10
        )
        await _unchanged(
            payouts.approve_payout(
                scene.w.agent.viewer, asked, "不行", f"payout-np-{complaint_id}"
            ),
            ErrorCode.NOT_ELIGIBLE,
        )


async def test_a_provider_that_carried_the_order_may_answer_for_it(db) -> None:
    """QS 9.7.6: a service failure of the carrier is recovered from the carrier; a provider
    that had nothing to do with the order cannot be named."""
    scene = await _scene()
    payout, recovery = await _pay(
        scene, 400, cause="SERVICE_FAILURE", provider_id=scene.w.carrier.id
    )
    assert payout.party == FundParty.PROVIDER and payout.provider_id == scene.w.carrier.id
    assert (recovery.party, recovery.merchant_id, recovery.provider_id) == (
        FundParty.PROVIDER,
        None,
        scene.w.carrier.id,
    )
    assert (await _consistent())[f"RECEIVABLE:PROVIDER:{scene.w.carrier.id}"] == 400
    stranger, _, _ = await f.provider(ProviderKind.LOGISTICS)
    error = await _unchanged(
        payouts.approve_payout(
            scene.w.agent.viewer,
            _request(scene, 100, provider_id=stranger.id),
            "无关 unrelated",
            "payout-key-st",
        ),
        ErrorCode.NOT_ELIGIBLE,
    )
    assert error.field == ["responsibleProviderId"]


@pytest.mark.parametrize("who", ["buyer", "seller", "officer", "admin", "regulator"])
async def test_only_customer_service_approves_payouts(db, who) -> None:
    scene = await _scene()
    actor = {
        "buyer": scene.w.buyer,
        "seller": scene.w.seller,
        "officer": scene.officer,
        "admin": scene.admin,
        "regulator": scene.w.regulator,
    }[who]
    await _unchanged(
        payouts.approve_payout(actor.viewer, _request(scene), "自己批 self", "payout-key-who"),
        ErrorCode.NOT_ELIGIBLE,
    )


# --- Recoveries --------------------------------------------------------------------------------


async def test_a_recovery_from_the_deposit_is_held_while_the_merchant_may_appeal(db) -> None:
    """QS 9.7.6 with QS 6.4: the deduction is traced on the merchant's trail as deposits
    are, becomes a decided FUND_RECOVERY case with penalty DEPOSIT_DEDUCTION, and its money
    is held (not spendable) until the appeal days of violation.penalties pass."""
    scene = await _scene(deposit=50_000)
    _, recovery = await _pay(scene, 800)

    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "保证金追偿"
    )

    assert (done.state, done.method) == (RecoveryState.DEDUCTED, RecoveryMethod.DEPOSIT)
    shop = await Merchant.get(id=scene.w.shop.id)
    assert shop.deposit_held_minor == 50_000 - 800
    case = await ViolationCase.get(id=done.violation_case_id)
    content = (await rules.current("violation.penalties")).content
    assert (case.type, case.state, case.penalty, case.deduction_minor) == (
        ViolationType.FUND_RECOVERY,
        ViolationState.DECIDED,
        Penalty.DEPOSIT_DEDUCTION,
        800,
    )
    assert case.appeal_deadline is not None and case.decided_at is not None
    assert case.appeal_deadline - case.decided_at == timedelta(days=content["appeal_days"])
    assert (await _actions("Merchant", shop.id))[-1] == "deposit_deducted"
    assert await _actions("ViolationCase", case.id) == ["opened", "decided"]
    assert await _actions("FundRecovery", recovery.id) == ["opened", "deducted"]
    balances = await _consistent()
    assert balances[HELD] == 800 and balances[_receivable(scene.w.shop)] == 0
    assert balances[CASH] == 100_000 - 800


async def test_a_deposit_that_does_not_cover_the_recovery_is_refused(db) -> None:
    scene = await _scene(deposit=500)
    _, recovery = await _pay(scene, 800)
    await _unchanged(
        recoveries.record_recovery(
            scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "保证金不足"
        ),
        ErrorCode.DEPOSIT_INSUFFICIENT,
    )


async def test_an_upheld_appeal_releases_the_recovery_into_the_cash(db) -> None:
    scene = await _scene()
    _, recovery = await _pay(scene, 800)
    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"
    )
    case_id = done.violation_case_id
    await violations.appeal_case(scene.w.seller.viewer, case_id, "非我方责任 not our fault")
    await violations.decide_appeal(scene.officer.viewer, case_id, Outcome.UPHELD, "维持")

    settled = await FundRecovery.get(id=recovery.id)
    assert settled.state == RecoveryState.RECOVERED and settled.closed_at is not None
    balances = await _consistent()
    assert (balances[CASH], balances[HELD]) == (100_000, 0)
    assert await _actions("FundRecovery", recovery.id) == ["opened", "deducted", "released"]
    assert (await Merchant.get(id=scene.w.shop.id)).deposit_held_minor == 100_000 - 800


async def test_an_overturned_appeal_gives_the_deposit_back_and_cancels_by_a_correction(
    db,
) -> None:
    """The merchant wins: its deposit is refunded (traced), the held money leaves the fund,
    the recovery is CANCELLED by a correcting entry, and the fund bears the payout."""
    scene = await _scene()
    payout, recovery = await _pay(scene, 800)
    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"
    )
    taken = await FundTransaction.get(recovery_id=recovery.id, kind=FundTransactionKind.RECOVERY)
    await violations.appeal_case(scene.w.seller.viewer, done.violation_case_id, "物流损坏所致")
    await violations.decide_appeal(
        scene.officer.viewer, done.violation_case_id, Outcome.OVERTURNED, "改判"
    )

    assert (await FundRecovery.get(id=recovery.id)).state == RecoveryState.CANCELLED
    assert (await Merchant.get(id=scene.w.shop.id)).deposit_held_minor == 100_000
    assert (await _actions("Merchant", scene.w.shop.id))[-2:] == [
        "deposit_deducted",
        "deposit_refunded",
    ]
    correction = await FundTransaction.get(corrects_id=taken.id)
    assert correction.kind == FundTransactionKind.CORRECTION
    balances = await _consistent()
    assert (balances[CASH], balances[HELD], balances[RECOVERIES]) == (100_000 - 800, 0, 0)
    assert balances[PAYOUTS] == payout.amount_minor


async def test_a_settlement_deduction_is_recorded_and_refunded_on_an_overturned_appeal(
    db,
) -> None:
    scene = await _scene(deposit=None)
    _, recovery = await _pay(scene, 800)
    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.SETTLEMENT, "从结算款扣除"
    )
    case = await ViolationCase.get(id=done.violation_case_id)
    assert (case.penalty, case.deduction_minor) == (None, 0)
    assert (await _actions("Merchant", scene.w.shop.id))[-1] == "settlement_deducted"
    await violations.appeal_case(scene.w.seller.viewer, case.id, "已线下赔付 paid already")
    await violations.decide_appeal(scene.officer.viewer, case.id, Outcome.OVERTURNED)
    assert (await _actions("Merchant", scene.w.shop.id))[-1] == "settlement_refunded"
    assert (await FundRecovery.get(id=recovery.id)).state == RecoveryState.CANCELLED
    await _consistent()


async def test_the_fund_job_releases_held_recoveries_nobody_appealed(db) -> None:
    """QS 9.7.6: once the appeal deadline has passed without an appeal the held money
    becomes cash (RELEASE); an appealed one waits for its decision; a second run does
    nothing more."""
    scene = await _scene()
    _, first = await _pay(scene, 300)
    request = await f.after_sales_request(
        scene.w.buyer, scene.order, AfterSalesKind.QUALITY_ISSUE, 1_000
    )
    asked = PayoutRequest(PayoutSubject.AFTER_SALES, request.id, PayoutCause.PRODUCT_QUALITY, 200)
    second, _ = await payouts.approve_payout(scene.w.agent.viewer, asked, "另一笔", "payout-k-2")
    other = await FundRecovery.get(payout_id=second.id)
    for recovery in (first, other):
        await recoveries.record_recovery(
            scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"
        )
    appealed = await FundRecovery.get(id=other.id)
    await violations.appeal_case(
        scene.w.seller.viewer, appealed.violation_case_id, "申诉理由 appeal"
    )

    assert await recoveries.release_due() == 0  # still within the deadline
    later = state.now() + timedelta(days=30)
    summary = await jobs.run("fund", progress=lambda _: None, now=later)
    assert summary == {"released": 1}
    assert (await FundRecovery.get(id=first.id)).state == RecoveryState.RECOVERED
    assert (await FundRecovery.get(id=other.id)).state == RecoveryState.DEDUCTED
    assert await recoveries.release_due(later) == 0
    balances = await _consistent()
    assert (balances[HELD], balances[CASH]) == (200, 100_000 - 200)
    [released] = await FundTransaction.filter(kind=FundTransactionKind.RELEASE)
    assert released.actor_role == "SYSTEM"


async def test_no_appeal_after_the_deadline(db, monkeypatch) -> None:
    """QS 6.4: the recovery's case follows the appeal rules of every case."""
    scene = await _scene()
    _, recovery = await _pay(scene, 300)
    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"
    )
    later = state.now() + timedelta(days=30)
    monkeypatch.setattr(state, "now", lambda: later)
    await _refused(
        violations.appeal_case(scene.w.seller.viewer, done.violation_case_id, "太晚的申诉"),
        ErrorCode.APPEAL_CLOSED,
    )


async def test_a_providers_recovery_is_deducted_from_its_settlement_at_once(db) -> None:
    scene = await _scene()
    _, recovery = await _pay(scene, 400, cause="SERVICE_FAILURE", provider_id=scene.w.carrier.id)
    await _unchanged(
        recoveries.record_recovery(
            scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "保证金"
        ),
        ErrorCode.NOT_ELIGIBLE,
    )
    done = await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.SETTLEMENT, "结算扣除"
    )
    assert (done.state, done.violation_case_id) == (RecoveryState.RECOVERED, None)
    balances = await _consistent()
    assert balances[CASH] == 100_000 and balances.get(HELD, 0) == 0


async def test_an_open_recovery_may_be_waived_and_the_fund_bears_it(db) -> None:
    scene = await _scene()
    payout, recovery = await _pay(scene, 300)
    booked = await FundTransaction.get(payout_id=payout.id, kind=FundTransactionKind.PAYOUT)
    waived = await recoveries.waive_recovery(scene.officer.viewer, recovery.id, "金额小，免追")
    assert waived.state == RecoveryState.WAIVED
    correction = await FundTransaction.get(corrects_id=booked.id)
    assert correction.kind == FundTransactionKind.CORRECTION
    balances = await _consistent()
    assert (balances[_receivable(scene.w.shop)], balances[RECOVERIES]) == (0, 0)
    assert balances[PAYOUTS] == 300
    assert await _actions("FundRecovery", recovery.id) == ["opened", "waived"]


async def test_a_settled_recovery_cannot_be_waived_or_recovered_again(db) -> None:
    scene = await _scene()
    _, recovery = await _pay(scene, 300)
    await recoveries.record_recovery(
        scene.officer.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"
    )
    await _unchanged(
        recoveries.waive_recovery(scene.officer.viewer, recovery.id, "免追"),
        ErrorCode.ILLEGAL_TRANSITION,
    )
    await _unchanged(
        recoveries.record_recovery(
            scene.officer.viewer, recovery.id, RecoveryMethod.SETTLEMENT, "再扣"
        ),
        ErrorCode.ILLEGAL_TRANSITION,
    )


@pytest.mark.parametrize("duty", [StaffDuty.CUSTOMER_SERVICE, StaffDuty.ADMIN])
async def test_only_compliance_recovers_or_waives(db, duty) -> None:
    scene = await _scene()
    _, recovery = await _pay(scene, 300)
    other = await f.staff(duty)
    await _unchanged(
        recoveries.record_recovery(other.viewer, recovery.id, RecoveryMethod.DEPOSIT, "追偿"),
        ErrorCode.NOT_ELIGIBLE,
    )
    await _unchanged(
        recoveries.waive_recovery(other.viewer, recovery.id, "免追"), ErrorCode.NOT_ELIGIBLE
    )


async def test_a_recovery_case_is_not_opened_by_hand(db) -> None:
    """QS 6.4: FUND_RECOVERY cases come from the fund only (their ladder is the payout)."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    evidence = [violations.Evidence("证据 evidence")]
    await _refused(
        violations.open_case(officer.viewer, shop.id, ViolationType.FUND_RECOVERY, evidence),
        ErrorCode.INVALID_INPUT,
    )


# --- The ledger itself -------------------------------------------------------------------------


async def test_ledger_rows_are_never_updated_or_deleted(db) -> None:
    """QS 9.7.6: every way to change or remove a stored row of the ledger raises, and the
    rows stay as they were."""
    scene = await _scene()
    payout, _ = await _pay(scene, 300)
    entry = await FundEntry.first()
    transaction = await FundTransaction.first()
    account = await FundAccount.first()
    assert entry and transaction and account
    snapshot = await FundEntry.all().values_list("id", "amount_minor", "balance_after_minor")

    entry.amount_minor = 1
    for attempt in (
        entry.save(),
        entry.save(update_fields=["amount_minor"]),
        entry.delete(),
        transaction.delete(),
        account.delete(),
        payout.delete(),
    ):
        with pytest.raises(LedgerImmutable):
            await attempt
    for make in (
        lambda: FundEntry.filter(id=entry.id).update(amount_minor=1),
        lambda: FundEntry.all().delete(),
        lambda: FundTransaction.filter(id=transaction.id).update(memo="x"),
        lambda: FundTransaction.all().delete(),
        lambda: FundAccount.all().update(code="X"),
        lambda: FundPayout.all().update(amount_minor=1),
        lambda: FundEntry.bulk_update([entry], ["amount_minor"]),
    ):
        with pytest.raises(LedgerImmutable):
            await make()
    assert await FundEntry.all().values_list("id", "amount_minor", "balance_after_minor") == (
        snapshot
    )
    await _consistent()


async def test_two_postings_cannot_both_follow_one_entry(db) -> None:
    """(account, seq) is unique: even a writer that skipped the lock could not fork an
    account's history."""
    from tortoise.exceptions import IntegrityError

    admin = await f.fund_admin()
    booked = await f.fund_cash(admin, 100)
    entry = await FundEntry.get(transaction_id=booked.id, amount_minor=100)
    with pytest.raises(IntegrityError):
        await FundEntry.create(
            transaction_id=booked.id,
            account_id=entry.account_id,
            seq=entry.seq,
            amount_minor=5,
            balance_after_minor=105,
        )


async def test_the_check_finds_a_ledger_changed_behind_its_back(db) -> None:
    """The recomputation is not a tautology: an entry altered in the database (bypassing
    the models) is found."""
    from tortoise import connections

    admin = await f.fund_admin()
    await f.fund_cash(admin, 100)
    assert (await ledger.check()).valid
    await connections.get("default").execute_script(
        'UPDATE "fund_entry" SET "amount_minor" = 90 WHERE "amount_minor" = 100'
    )
    found = await ledger.check()
    assert not found.valid
    assert any("sums to" in p for p in found.problems)
    assert any("!=" in p for p in found.problems)


async def test_the_demo_seed_books_a_contribution_a_payout_and_its_recovery(db) -> None:
    from pinzhi.services import demo_fund

    scene = await _scene(cash=0)
    seeded = await demo_fund.seed_demo(
        admin=scene.admin.viewer,
        agent=scene.w.agent.viewer,
        compliance=scene.officer.viewer,
        complaint_id=scene.complaint.id,
        contributor_merchant_id=scene.w.other_shop.id,
        progress=lambda _: None,
    )
    assert seeded.held_minor == 1_000  # the whole order, below the demo's 2000
    recovery = await FundRecovery.get(id=seeded.recovery_id)
    assert recovery.state == RecoveryState.DEDUCTED
    balances = await _consistent()
    assert balances[CASH] == seeded.cash_minor == 5_500_000 - 1_000
