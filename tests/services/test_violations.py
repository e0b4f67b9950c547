"""Violation cases, penalties by the published ladder, appeals and key control, called on
the services directly (QS 6.4, QS 5.2, QS 9.1.2)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AuditEvent,
    Merchant,
    Penalty,
    StaffDuty,
    ViolationCase,
    ViolationState,
    ViolationType,
)
from pinzhi.services import audit, key_control, rules, state, violations
from tests import factories as f

Decision = violations.Decision
Outcome = violations.AppealOutcome


async def _refused(action, code: ErrorCode) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    return raised.value


async def _trail(case: ViolationCase) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.from_state, e.to_state) for e in await audit.trail("ViolationCase", case.id)
    ]


# --- Opening a case ---------------------------------------------------------------------------


async def test_compliance_opens_a_case_with_evidence(db) -> None:
    """QS 6.4: a case has a type and evidence; it starts OPEN and the opening is traced."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    evidence = [
        violations.Evidence(" 买家举报假货 buyer report ", None),
        violations.Evidence("鉴定报告 appraisal", "https://evidence.test/report.pdf"),
    ]
    case = await violations.open_case(officer.viewer, shop.id, ViolationType.COUNTERFEIT, evidence)

    stored = await ViolationCase.get(id=case.id)
    assert (stored.state, stored.type, stored.merchant_id) == ("OPEN", "COUNTERFEIT", shop.id)
    assert stored.opened_by_id == officer.account.id
    assert stored.evidence == [
        {"description": "买家举报假货 buyer report", "url": None},
        {"description": "鉴定报告 appraisal", "url": "https://evidence.test/report.pdf"},
    ]
    assert stored.penalty is None and stored.rule_version is None
    assert await _trail(case) == [("opened", "", "OPEN")]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        (0, ["evidence"]),
        (21, ["evidence"]),
        ("bad-url", ["evidence", "0", "url"]),
        ("javascript", ["evidence", "0", "url"]),
        ("blank", ["evidence", "0", "description"]),
    ],
)
async def test_evidence_is_one_to_twenty_described_items(db, items, field) -> None:
    """QS 6.4: a case needs 1–20 items of evidence, each described, URLs http(s) only."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    if isinstance(items, int):
        evidence = [violations.Evidence(f"证据 item {i}") for i in range(items)]
    else:
        evidence = [
            {
                "bad-url": violations.Evidence("证据 item", "not a url"),
                "javascript": violations.Evidence("证据 item", "javascript:alert(1)"),
                "blank": violations.Evidence("  ", None),
            }[items]
        ]
    error = await _refused(
        violations.open_case(officer.viewer, shop.id, ViolationType.OTHER, evidence),
        ErrorCode.INVALID_INPUT,
    )
    assert error.field == field
    assert await ViolationCase.all().count() == 0


async def test_only_compliance_staff_open_cases_and_only_against_real_merchants(db) -> None:
    """QS 6.4: customer-service staff and merchants are not eligible; an unknown merchant is
    NOT_FOUND. Nothing is created."""
    shop, seller = await f.merchant()
    agent = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    officer = await f.compliance_officer()
    evidence = [violations.Evidence("证据 evidence")]
    for who in (agent, seller):
        await _refused(
            violations.open_case(who.viewer, shop.id, ViolationType.OTHER, evidence),
            ErrorCode.NOT_ELIGIBLE,
        )
    error = await _refused(
        violations.open_case(officer.viewer, shop.id + 1000, ViolationType.OTHER, evidence),
        ErrorCode.NOT_FOUND,
    )
    assert error.field == ["merchantId"]
    assert await ViolationCase.all().count() == 0


# --- Deciding by the ladder -------------------------------------------------------------------


async def test_penalties_follow_the_ladder_by_repeat_count_and_the_last_step_repeats(db) -> None:
    """QS 6.4, QS 5.2: the n-th decided FAKE_ORDERS case gets the n-th step of the published
    ladder (WARNING, TRAFFIC_RESTRICTION, DEPOSIT_DEDUCTION, SUSPENSION), then SUSPENSION
    again; each decision stores its repeat count and the rule version it applied."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    rule = await rules.current("violation.penalties")
    got = []
    for _ in range(5):
        case = await f.decided_case(officer, shop, "FAKE_ORDERS")
        got.append((case.penalty, case.repeat_count, case.rule_version))
    assert got == [
        (Penalty.WARNING, 0, rule.version),
        (Penalty.TRAFFIC_RESTRICTION, 1, rule.version),
        (Penalty.DEPOSIT_DEDUCTION, 2, rule.version),
        (Penalty.SUSPENSION, 3, rule.version),
        (Penalty.SUSPENSION, 4, rule.version),
    ]


async def test_repeat_count_is_per_type_and_merchant_and_ignores_dismissed_cases(db) -> None:
    """QS 6.4: only earlier standing cases of the same type against the same merchant count;
    dismissed cases and other types or merchants do not."""
    shop, _ = await f.merchant()
    other_shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    dismissed = await f.violation_case(officer, shop, "FALSE_ADVERTISING")
    await violations.decide_case(officer.viewer, dismissed.id, Decision.DISMISSED, note="证据不足")
    await f.decided_case(officer, shop, "OTHER")
    await f.decided_case(officer, other_shop, "FALSE_ADVERTISING")

    case = await f.decided_case(officer, shop, "FALSE_ADVERTISING")
    assert (case.penalty, case.repeat_count) == (Penalty.WARNING, 0)
    second = await f.decided_case(officer, shop, "FALSE_ADVERTISING")
    assert (second.penalty, second.repeat_count) == (Penalty.TRAFFIC_RESTRICTION, 1)


async def test_decision_applies_the_rule_version_in_force(db) -> None:
    """QS 5.2: a newly published version of the penalty rule governs later decisions, and
    each case names the version it applied."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    first = await f.decided_case(officer, shop, "OTHER")
    old = await rules.current("violation.penalties")
    content = {**old.content, "ladder": {**old.content["ladder"], "OTHER": ["TRAFFIC_RESTRICTION"]}}
    new = await rules.publish(
        "violation.penalties", content, title_zh=old.title_zh, title_en=old.title_en
    )
    second = await f.decided_case(officer, shop, "OTHER")

    assert (first.penalty, first.rule_version) == (Penalty.WARNING, old.version)
    assert (second.penalty, second.rule_version) == (Penalty.TRAFFIC_RESTRICTION, new.version)


async def test_a_proposed_penalty_outside_the_ladder_step_is_refused(db) -> None:
    """QS 6.4, QS 5.2: staff cannot pick a harsher (or milder) penalty than the published
    ladder gives; the case stays OPEN, untouched, with no new trace."""
    shop, _ = await f.merchant()
    shop.deposit_held_minor = 1_000_000
    await shop.save()
    officer = await f.compliance_officer()
    case = await f.violation_case(officer, shop, "FAKE_ORDERS")

    error = await _refused(
        violations.decide_case(
            officer.viewer, case.id, Decision.DECIDED, penalty=Penalty.DEPOSIT_DEDUCTION
        ),
        ErrorCode.PENALTY_NOT_IN_LADDER,
    )
    assert error.field == ["penalty"]
    stored = await ViolationCase.get(id=case.id)
    assert (stored.state, stored.penalty, stored.rule_version) == ("OPEN", None, None)
    assert (await Merchant.get(id=shop.id)).deposit_held_minor == 1_000_000
    assert await _trail(case) == [("opened", "", "OPEN")]

    decided = await violations.decide_case(
        officer.viewer, case.id, Decision.DECIDED, penalty=Penalty.WARNING
    )
    assert decided.penalty == Penalty.WARNING


async def test_deciding_a_case_twice_is_an_illegal_transition(db) -> None:
    """QS 6.4, QS 9.1.1: OPEN → DECIDED | DISMISSED once; a second decision or a dismissal
    of a decided case is refused and changes nothing."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "OTHER")
    for decision in (Decision.DECIDED, Decision.DISMISSED):
        await _refused(
            violations.decide_case(officer.viewer, case.id, decision),
            ErrorCode.ILLEGAL_TRANSITION,
        )
    stored = await ViolationCase.get(id=case.id)
    assert (stored.state, stored.penalty) == ("DECIDED", Penalty.WARNING)
    assert await _trail(case) == [("opened", "", "OPEN"), ("decided", "OPEN", "DECIDED")]


async def test_dismissal_closes_the_case_without_penalty(db) -> None:
    """QS 6.4: a dismissed case has no penalty and cannot be appealed."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.violation_case(officer, shop, "COUNTERFEIT")
    await _refused(
        violations.decide_case(
            officer.viewer, case.id, Decision.DISMISSED, penalty=Penalty.WARNING
        ),
        ErrorCode.INVALID_INPUT,
    )
    dismissed = await violations.decide_case(
        officer.viewer, case.id, Decision.DISMISSED, note="鉴定为正品 genuine"
    )
    assert (dismissed.state, dismissed.penalty, dismissed.decision_note) == (
        "DISMISSED",
        None,
        "鉴定为正品 genuine",
    )
    assert dismissed.closed_at is not None
    assert (await Merchant.get(id=shop.id)).key_control_until is None
    await _refused(
        violations.appeal_case(seller.viewer, case.id, "请重新审查 please review"),
        ErrorCode.ILLEGAL_TRANSITION,
    )


# --- Deposit deduction --------------------------------------------------------------------------


@pytest.mark.parametrize(("held", "deducted"), [(800_000, 500_000), (200_000, 200_000), (0, 0)])
async def test_deposit_deduction_never_takes_the_deposit_below_zero(db, held, deducted) -> None:
    """QS 6.4: DEPOSIT_DEDUCTION takes the rule's amount from the deposit held, at most
    what is held; the case records what was actually deducted."""
    shop, _ = await f.merchant()
    await Merchant.filter(id=shop.id).update(deposit_held_minor=held)
    officer = await f.compliance_officer()
    await f.decided_case(officer, shop, "FALSE_ADVERTISING")
    await f.decided_case(officer, shop, "FALSE_ADVERTISING")
    case = await f.decided_case(officer, shop, "FALSE_ADVERTISING")

    assert (case.penalty, case.deduction_minor) == (Penalty.DEPOSIT_DEDUCTION, deducted)
    assert (await Merchant.get(id=shop.id)).deposit_held_minor == held - deducted


# --- Key control ------------------------------------------------------------------------------


async def test_a_serious_type_puts_the_merchant_under_key_control(db) -> None:
    """QS 6.4: a decided COUNTERFEIT case (a serious type) puts the merchant under key
    control until decided_at + key_control_days; a WARNING for OTHER does not."""
    shop, _ = await f.merchant()
    minor, _ = await f.merchant()
    officer = await f.compliance_officer()
    content = (await rules.current("violation.penalties")).content
    case = await f.decided_case(officer, shop, "COUNTERFEIT")
    await f.decided_case(officer, minor, "OTHER")

    stored = await Merchant.get(id=shop.id)
    assert stored.key_control_until == case.decided_at + timedelta(days=content["key_control_days"])
    assert key_control.is_under_key_control(stored, state.now())
    assert not key_control.is_under_key_control(stored, stored.key_control_until)
    assert not key_control.is_under_key_control(await Merchant.get(id=minor.id))


async def test_a_serious_penalty_puts_the_merchant_under_key_control(db) -> None:
    """QS 6.4: the fourth FAKE_ORDERS case (SUSPENSION, a serious penalty) brings key
    control although FAKE_ORDERS is not a serious type; the third (a deduction) does not."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    for _ in range(3):
        await f.decided_case(officer, shop, "FAKE_ORDERS")
    assert (await Merchant.get(id=shop.id)).key_control_until is None
    fourth = await f.decided_case(officer, shop, "FAKE_ORDERS")
    assert fourth.penalty == Penalty.SUSPENSION
    assert key_control.is_under_key_control(await Merchant.get(id=shop.id))


async def test_key_control_restrictions_name_what_the_merchant_may_not_do(db) -> None:
    """QS 6.4: under key control with a LISTING_FREEZE in force the merchant may list
    nothing new, nor anything in a key category, and is watched more closely."""
    shop, _ = await f.merchant()
    officer = await f.compliance_officer()
    await f.decided_case(officer, shop, "COUNTERFEIT")
    status = (await key_control.statuses([shop.id]))[shop.id]
    assert status.all_listings_blocked
    assert status.restrictions() == [
        "NO_NEW_LISTINGS",
        "NO_NEW_LISTINGS_IN_CATEGORY:mother_baby",
        "NO_NEW_LISTINGS_IN_CATEGORY:food",
        "NO_NEW_LISTINGS_IN_CATEGORY:cosmetics",
        "PENALTY_IN_FORCE:LISTING_FREEZE",
        "CLOSER_MONITORING",
        "KEY_CONTROL_COMMISSION",
    ]
    assert await key_control.statuses([shop.id + 1000]) == {}


# --- Appeals ----------------------------------------------------------------------------------


async def test_merchant_appeals_once_before_the_deadline(db) -> None:
    """QS 6.4: the deadline is decided_at + appeal_days; the merchant appeals with a text
    (DECIDED → APPEALED, traced); a second appeal is APPEAL_EXISTS."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "OTHER")
    content = (await rules.current("violation.penalties")).content
    assert case.appeal_deadline == case.decided_at + timedelta(days=content["appeal_days"])

    appealed = await violations.appeal_case(seller.viewer, case.id, "  订单均为真实交易 real  ")
    assert (appealed.state, appealed.appeal_text) == ("APPEALED", "订单均为真实交易 real")
    assert appealed.appealed_at is not None

    error = await _refused(
        violations.appeal_case(seller.viewer, case.id, "再次申诉 appeal again"),
        ErrorCode.APPEAL_EXISTS,
    )
    assert error.field == ["caseId"]
    assert [a for a, _, _ in await _trail(case)] == ["opened", "decided", "appealed"]


async def test_appeal_after_the_deadline_is_closed(db) -> None:
    """QS 6.4: once the deadline has passed the appeal is refused (APPEAL_CLOSED) and the
    case stays DECIDED."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "OTHER")
    await ViolationCase.filter(id=case.id).update(
        appeal_deadline=state.now() - timedelta(seconds=1)
    )
    await _refused(
        violations.appeal_case(seller.viewer, case.id, "我来晚了 too late"),
        ErrorCode.APPEAL_CLOSED,
    )
    assert (await ViolationCase.get(id=case.id)).state == ViolationState.DECIDED


async def test_appeals_are_for_the_merchant_of_the_case_only(db) -> None:
    """QS 6.4: another merchant's case does not exist for this one (NOT_FOUND); staff and
    consumers are not eligible to appeal; an OPEN case cannot be appealed yet."""
    shop, seller = await f.merchant()
    _, other_seller = await f.merchant()
    officer = await f.compliance_officer()
    buyer = await f.consumer()
    case = await f.decided_case(officer, shop, "OTHER")
    error = await _refused(
        violations.appeal_case(other_seller.viewer, case.id, "不是我的案件 not mine"),
        ErrorCode.NOT_FOUND,
    )
    assert error.field == ["caseId"]
    for who in (officer, buyer):
        await _refused(
            violations.appeal_case(who.viewer, case.id, "代为申诉 on behalf"),
            ErrorCode.NOT_ELIGIBLE,
        )
    open_case = await f.violation_case(officer, shop, "OTHER")
    await _refused(
        violations.appeal_case(seller.viewer, open_case.id, "尚未决定 not decided"),
        ErrorCode.ILLEGAL_TRANSITION,
    )
    assert (await ViolationCase.get(id=case.id)).state == ViolationState.DECIDED


async def test_upheld_appeal_keeps_the_penalty_and_key_control(db) -> None:
    """QS 6.4: APPEALED → UPHELD: the deduction and key control stand; the case closes."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "COUNTERFEIT")
    until = (await Merchant.get(id=shop.id)).key_control_until
    await violations.appeal_case(seller.viewer, case.id, "申诉理由 my reasons")
    upheld = await violations.decide_appeal(officer.viewer, case.id, Outcome.UPHELD, "维持原判")

    assert (upheld.state, upheld.outcome_note) == ("UPHELD", "维持原判")
    assert upheld.closed_at is not None
    assert (await Merchant.get(id=shop.id)).key_control_until == until
    await _refused(
        violations.decide_appeal(officer.viewer, case.id, Outcome.OVERTURNED),
        ErrorCode.ILLEGAL_TRANSITION,
    )


async def test_overturned_appeal_refunds_the_deduction_and_lifts_key_control(db) -> None:
    """QS 6.4: APPEALED → OVERTURNED lifts the penalty: the deducted deposit comes back and
    the key control this case caused ends. The whole trail verifies (QS 9.1.2)."""
    shop, seller = await f.merchant()
    await Merchant.filter(id=shop.id).update(deposit_held_minor=700_000)
    officer = await f.compliance_officer()
    for _ in range(2):
        await f.decided_case(officer, shop, "FAKE_ORDERS")
    deduction = await f.decided_case(officer, shop, "FAKE_ORDERS")
    serious = await f.decided_case(officer, shop, "COUNTERFEIT")
    assert (await Merchant.get(id=shop.id)).deposit_held_minor == 200_000

    await violations.appeal_case(seller.viewer, deduction.id, "扣款有误 wrong deduction")
    await violations.decide_appeal(officer.viewer, deduction.id, Outcome.OVERTURNED, "撤销")
    assert (await Merchant.get(id=shop.id)).deposit_held_minor == 700_000

    await violations.appeal_case(seller.viewer, serious.id, "非假货 not counterfeit")
    overturned = await violations.decide_appeal(officer.viewer, serious.id, Outcome.OVERTURNED)
    assert overturned.state == ViolationState.OVERTURNED
    stored = await Merchant.get(id=shop.id)
    assert stored.key_control_until is None
    assert not key_control.is_under_key_control(stored)

    assert [a for a, _, _ in await _trail(serious)] == [
        "opened",
        "decided",
        "appealed",
        "overturned",
    ]
    assert (await audit.verify("ViolationCase", serious.id)).valid
    # An overturned case no longer counts towards the ladder.
    again = await f.decided_case(officer, shop, "COUNTERFEIT")
    assert (again.penalty, again.repeat_count) == (Penalty.LISTING_FREEZE, 0)


async def test_overturning_one_case_keeps_key_control_that_another_case_causes(db) -> None:
    """QS 6.4: key control is lifted only as far as this case caused it: with an earlier
    serious case still standing, the end falls back to that case's end."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    content = (await rules.current("violation.penalties")).content
    earlier = await f.decided_case(officer, shop, "UNSAFE_PRODUCT")
    # Make the earlier decision older, so that the later one sets the end.
    decided_at = earlier.decided_at - timedelta(days=30)
    await ViolationCase.filter(id=earlier.id).update(decided_at=decided_at)
    await Merchant.filter(id=shop.id).update(
        key_control_until=decided_at + timedelta(days=content["key_control_days"])
    )
    later = await f.decided_case(officer, shop, "COUNTERFEIT")
    assert (await Merchant.get(id=shop.id)).key_control_until == later.decided_at + timedelta(
        days=content["key_control_days"]
    )

    await violations.appeal_case(seller.viewer, later.id, "申诉理由 my reasons")
    await violations.decide_appeal(officer.viewer, later.id, Outcome.OVERTURNED)
    stored = await Merchant.get(id=shop.id)
    assert stored.key_control_until == decided_at + timedelta(days=content["key_control_days"])
    assert key_control.is_under_key_control(stored)


async def test_only_compliance_staff_decide_cases_and_appeals(db) -> None:
    """QS 6.4: deciding is for compliance staff; others are not eligible and nothing moves."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    admin = await f.staff(StaffDuty.ADMIN)
    case = await f.violation_case(officer, shop, "OTHER")
    for who in (admin, seller):
        await _refused(
            violations.decide_case(who.viewer, case.id, Decision.DECIDED), ErrorCode.NOT_ELIGIBLE
        )
    await violations.decide_case(officer.viewer, case.id, Decision.DECIDED)
    await violations.appeal_case(seller.viewer, case.id, "申诉理由 my reasons")
    await _refused(
        violations.decide_appeal(admin.viewer, case.id, Outcome.OVERTURNED),
        ErrorCode.NOT_ELIGIBLE,
    )
    assert (await ViolationCase.get(id=case.id)).state == ViolationState.APPEALED
    assert await AuditEvent.filter(entity_type="ViolationCase", entity_id=case.id).count() == 3


# --- Concurrency ------------------------------------------------------------------------------


async def test_concurrent_decisions_on_one_merchant_climb_the_ladder(db) -> None:
    """QS 6.4: two officers deciding two cases of the same type at once do not both get the
    first step: decisions on one merchant run one at a time (its row lock)."""
    shop, _ = await f.merchant()
    officers = [await f.compliance_officer(), await f.compliance_officer()]
    cases = [await f.violation_case(officers[0], shop, "FAKE_ORDERS") for _ in range(2)]
    decided = await asyncio.gather(
        *(
            violations.decide_case(o.viewer, c.id, Decision.DECIDED)
            for o, c in zip(officers, cases, strict=True)
        )
    )
    assert sorted((d.repeat_count, d.penalty) for d in decided) == [
        (0, Penalty.WARNING),
        (1, Penalty.TRAFFIC_RESTRICTION),
    ]


async def test_racing_appeals_only_one_is_recorded(db) -> None:
    """QS 6.4: two appeals sent at once: one moves the case to APPEALED, the other is
    refused; the trail has one appeal."""
    shop, seller = await f.merchant()
    officer = await f.compliance_officer()
    case = await f.decided_case(officer, shop, "OTHER")
    results = await asyncio.gather(
        violations.appeal_case(seller.viewer, case.id, "第一次申诉 first"),
        violations.appeal_case(seller.viewer, case.id, "第二次申诉 second"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, ViolationCase)]
    lost = [r for r in results if isinstance(r, ServiceError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code in (ErrorCode.APPEAL_EXISTS, ErrorCode.ILLEGAL_TRANSITION)
    assert [a for a, _, _ in await _trail(case)].count("appealed") == 1
