"""Staff fit for their posts (QS 9.3.1-9.3.4): profiles, training, assignments, on duty,
and the staffing ratio."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditEvent, Enrolment, Post, PostAssignment, StaffDuty, StaffProfile
from pinzhi.services import complaints, rules, staff_posts, training
from tests import factories as f
from tests.helpers import count_sql


async def _refused(action, code: ErrorCode) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        await action
    assert raised.value.code == code, raised.value
    return raised.value


async def _admin() -> f.Actor:
    return await f.staff(StaffDuty.ADMIN)


# --- Training (QS 9.3.2) -----------------------------------------------------------------------


async def test_staff_enrol_themselves_and_another_assesses_them(db) -> None:
    """QS 9.3.2: a staff member enrols in a course once (ENROLMENT_EXISTS the second
    time); admin or compliance staff record the score, never their own (SELF_ASSESSMENT);
    the staff enrolment names the staff member, not a merchant."""
    admin = await _admin()
    course = await f.staff_course(admin, "ETIQUETTE")
    assessor = await f.staff(StaffDuty.COMPLIANCE, StaffDuty.CUSTOMER_SERVICE)
    own = await training.enrol_staff(assessor.viewer, course.id)
    assert (own.staff_id, own.merchant_id) == (assessor.account.id, None)
    await _refused(training.enrol_staff(assessor.viewer, course.id), ErrorCode.ENROLMENT_EXISTS)
    error = await _refused(
        training.record_assessment(assessor.viewer, own.id, 95), ErrorCode.SELF_ASSESSMENT
    )
    assert error.field == ["enrolmentId"]
    assert "own training" in error.message("en")
    assert (await Enrolment.get(id=own.id)).score is None
    assessed = await training.record_assessment(admin.viewer, own.id, 95)
    assert (assessed.passed, assessed.assessed_by_id) == (True, admin.account.id)
    actions = [e.action for e in await AuditEvent.filter(entity_type="Enrolment", entity_id=own.id)]
    assert actions == ["enrolled", "assessed"]


async def test_merchants_cannot_use_the_staff_enrolment(db) -> None:
    """QS 9.3.2: enrolStaffCourse is for staff; a merchant's own enrolment is unchanged."""
    admin = await _admin()
    course = await f.staff_course(admin, "ETIQUETTE")
    shop, seller = await f.merchant()
    await _refused(training.enrol_staff(seller.viewer, course.id), ErrorCode.NOT_ELIGIBLE)
    mine = await training.enrol(seller.viewer, course.id)
    assert (mine.merchant_id, mine.staff_id) == (shop.id, None)


async def test_a_post_is_refused_without_its_training_passed(db) -> None:
    """QS 9.3.2 (only certified staff work): without the etiquette and rights-handling
    assessments passed, assignment is TRAINING_MISSING naming what is missing; a failed
    assessment does not count; once passed, the post is given."""
    admin = await _admin()
    agent = await f.qualified_staff(admin, topics=())
    error = await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, Post.ONLINE_SERVICE),
        ErrorCode.TRAINING_MISSING,
    )
    assert error.field == ["post"]
    assert error.message("en") == (
        "The staff member has not passed the training assessments this post needs "
        "(ETIQUETTE, RIGHTS_HANDLING)"
    )
    (etiquette,) = await f.staff_trained(admin, agent, "ETIQUETTE")
    await f.staff_trained(admin, agent, "RIGHTS_HANDLING", score=59)  # below the pass mark
    error = await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, Post.ONLINE_SERVICE),
        ErrorCode.TRAINING_MISSING,
    )
    assert error.detail == "RIGHTS_HANDLING"
    failed = await Enrolment.get(staff_id=agent.account.id, passed=False)
    await training.record_assessment(admin.viewer, failed.id, 75)  # retaken
    given = await staff_posts.assign_post(admin.viewer, agent.account.id, Post.ONLINE_SERVICE)
    assert given.qualification["enrolments"] == {
        "ETIQUETTE": etiquette.id,
        "RIGHTS_HANDLING": failed.id,
    }
    assert await staff_posts.holds_post(agent.account.id, Post.ONLINE_SERVICE)
    assert not await PostAssignment.filter(post=Post.PHONE_SERVICE).exists()


# --- Key posts (QS 9.3.4) ----------------------------------------------------------------------


async def test_a_key_post_is_refused_at_11_months_and_given_at_12(db, clock) -> None:
    """QS 9.3.4: a key post needs at least one year of relevant experience. With the law
    assessment passed, 11 months is EXPERIENCE_SHORT with the months held in the message;
    12 months (the same day a year later) is enough; the assignment records it."""
    admin = await _admin()
    agent = await f.qualified_staff(admin, topics=(*f.STAFF_TOPICS, "ECOMMERCE_LAW"), months=11)
    error = await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, Post.COMPLAINT_HANDLING),
        ErrorCode.EXPERIENCE_SHORT,
    )
    assert error.message("en") == (
        "A key post needs at least one year of relevant experience (11 of 12 months)"
    )
    assert error.message("zh").startswith("关键岗位须具备至少 1 年相关工作经验")
    # The day before twelve months are complete, still short; on the day, enough.
    twelve = f.months_ago(clock.at.date(), 12)
    await staff_posts.set_profile(
        admin.viewer, agent.account.id, "投诉组 Complaints", twelve + timedelta(days=1)
    )
    await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, Post.COMPLAINT_HANDLING),
        ErrorCode.EXPERIENCE_SHORT,
    )
    await staff_posts.set_profile(admin.viewer, agent.account.id, "投诉组 Complaints", twelve)
    given = await staff_posts.assign_post(admin.viewer, agent.account.id, Post.COMPLAINT_HANDLING)
    assert given.qualification["months_held"] == 12
    assert given.qualification["months_needed"] == 12
    assert given.rule_version == (await rules.current(staff_posts.RULE_KEY)).version


@pytest.mark.parametrize(
    "post", [Post.COMPLAINT_HANDLING, Post.ADVANCE_COMPENSATION, Post.SENIOR_SUPPORT]
)
async def test_a_key_post_is_refused_without_the_law_assessment(db, post) -> None:
    """QS 9.3.4: two years of experience and the service training are not enough for a key
    post without the e-commerce law assessment (LAW_ASSESSMENT_MISSING); a non-key post
    needs none of it."""
    admin = await _admin()
    agent = await f.qualified_staff(admin, months=24)
    error = await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, post),
        ErrorCode.LAW_ASSESSMENT_MISSING,
    )
    assert error.message("en") == (
        "A key post needs the e-commerce law assessment passed (ECOMMERCE_LAW)"
    )
    await staff_posts.assign_post(admin.viewer, agent.account.id, Post.PHONE_SERVICE)
    await f.staff_trained(admin, agent, "ECOMMERCE_LAW")
    await staff_posts.assign_post(admin.viewer, agent.account.id, post)
    assert await staff_posts.current_posts(agent.account.id) == sorted([post, Post.PHONE_SERVICE])


async def test_the_qualification_lists_every_gap_in_order(db) -> None:
    """QS 9.3.2, 9.3.4: what a key post still needs, all of it: training, law, experience."""
    admin = await _admin()
    agent = await f.qualified_staff(admin, topics=("ETIQUETTE",), months=3)
    found = await staff_posts.qualification(agent.account.id, Post.SENIOR_SUPPORT)
    assert [(e.code, e.detail) for e in found.gaps] == [
        (ErrorCode.TRAINING_MISSING, "RIGHTS_HANDLING"),
        (ErrorCode.LAW_ASSESSMENT_MISSING, "ECOMMERCE_LAW"),
        (ErrorCode.EXPERIENCE_SHORT, "3 of 12 months"),
    ]
    assert not found.eligible and found.key_post


# --- Who may hold a post (QS 9.3.1) ------------------------------------------------------------


async def test_assignment_is_refused_for_whom_cannot_hold_the_post(db, cache) -> None:
    """QS 9.3.1: a consumer's account (NOT_STAFF_MEMBER), staff without the post's duty
    (STAFF_DUTY_MISSING), without a profile (STAFF_PROFILE_MISSING), deactivated
    (ACCOUNT_INACTIVE), a missing account (NOT_FOUND); nothing is assigned."""
    from pinzhi.services import credentials

    admin = await _admin()
    buyer = await f.consumer()
    await _refused(
        staff_posts.assign_post(admin.viewer, buyer.account.id, Post.ONLINE_SERVICE),
        ErrorCode.NOT_STAFF_MEMBER,
    )
    officer = await f.qualified_staff(admin, duties=(StaffDuty.COMPLIANCE,))
    error = await _refused(
        staff_posts.assign_post(admin.viewer, officer.account.id, Post.ONLINE_SERVICE),
        ErrorCode.STAFF_DUTY_MISSING,
    )
    assert error.detail == "CUSTOMER_SERVICE"
    await staff_posts.assign_post(admin.viewer, officer.account.id, Post.QUALITY_SUPERVISION)
    newcomer = await f.qualified_staff(admin, months=None)
    await _refused(
        staff_posts.assign_post(admin.viewer, newcomer.account.id, Post.ONLINE_SERVICE),
        ErrorCode.STAFF_PROFILE_MISSING,
    )
    leaver = await f.qualified_staff(admin)
    await credentials.set_active(admin.viewer, leaver.account.id, False, "离职 left", cache)
    await _refused(
        staff_posts.assign_post(admin.viewer, leaver.account.id, Post.ONLINE_SERVICE),
        ErrorCode.ACCOUNT_INACTIVE,
    )
    await _refused(
        staff_posts.assign_post(admin.viewer, 999_999, Post.ONLINE_SERVICE), ErrorCode.NOT_FOUND
    )
    assert await PostAssignment.all().count() == 1


async def test_only_admins_assign_and_never_to_themselves(db) -> None:
    """QS 9.3.1, 9.3.4: customer-service and compliance staff cannot assign posts or
    record profiles (NOT_ELIGIBLE); an admin cannot do either for themselves
    (SELF_ASSIGNMENT)."""
    admin = await _admin()
    agent = await f.qualified_staff(admin)
    officer = await f.staff(StaffDuty.COMPLIANCE)
    for who in (agent, officer):
        await _refused(
            staff_posts.assign_post(who.viewer, agent.account.id, Post.ONLINE_SERVICE),
            ErrorCode.NOT_ELIGIBLE,
        )
        await _refused(
            staff_posts.set_profile(who.viewer, agent.account.id, "T", None),
            ErrorCode.NOT_ELIGIBLE,
        )
    both = await f.qualified_staff(admin, duties=(StaffDuty.ADMIN, StaffDuty.CUSTOMER_SERVICE))
    await _refused(
        staff_posts.assign_post(both.viewer, both.account.id, Post.ONLINE_SERVICE),
        ErrorCode.SELF_ASSIGNMENT,
    )
    await _refused(
        staff_posts.set_profile(both.viewer, both.account.id, "T", None), ErrorCode.SELF_ASSIGNMENT
    )
    assert not await PostAssignment.exists()


async def test_several_posts_and_an_ended_one_stays_on_record(db) -> None:
    """QS 9.3.1: a person holds several posts, each once (POST_ALREADY_HELD); an ended
    assignment keeps its row, reason and trail and no longer counts; ending it again is
    POST_ENDED; with the last post ended the person goes off duty."""
    admin = await _admin()
    agent = await f.qualified_staff(admin)
    online = await f.on_post(admin, agent, "ONLINE_SERVICE", on_duty=True)
    phone = await f.on_post(admin, agent, "PHONE_SERVICE")
    await _refused(
        staff_posts.assign_post(admin.viewer, agent.account.id, Post.ONLINE_SERVICE),
        ErrorCode.POST_ALREADY_HELD,
    )
    ended = await staff_posts.end_post(admin.viewer, online.id, "调岗 moved to the hotline")
    assert ended.ended_at is not None and ended.ended_by_id == admin.account.id
    assert not await staff_posts.holds_post(agent.account.id, Post.ONLINE_SERVICE)
    assert (await StaffProfile.get(account_id=agent.account.id)).on_duty  # still on the phone
    await _refused(staff_posts.end_post(admin.viewer, online.id, "again"), ErrorCode.POST_ENDED)
    await staff_posts.end_post(admin.viewer, phone.id, "离岗 leaves the posts")
    profile = await StaffProfile.get(account_id=agent.account.id)
    assert (profile.on_duty, profile.on_duty_since) == (False, None)
    assert await PostAssignment.filter(account_id=agent.account.id).count() == 2
    trail = await AuditEvent.filter(entity_type="PostAssignment", entity_id=online.id)
    assert [(e.action, e.data.get("reason")) for e in trail] == [
        ("assigned", None),
        ("ended", "调岗 moved to the hotline"),
    ]
    duty = await AuditEvent.filter(entity_type="StaffProfile", entity_id=profile.id)
    assert [e.action for e in duty] == ["recorded", "on_duty", "off_duty"]
    # Assigned again later: a new row, the old ones kept.
    await f.on_post(admin, agent, "ONLINE_SERVICE")
    assert await PostAssignment.filter(account_id=agent.account.id).count() == 3


async def test_only_a_post_holder_goes_on_duty(db) -> None:
    """QS 9.3.1: going on duty needs a post held (NOT_ON_POST); off duty is always open;
    the same value twice traces nothing new."""
    admin = await _admin()
    agent = await f.qualified_staff(admin)
    await _refused(staff_posts.set_on_duty(agent.viewer, True), ErrorCode.NOT_ON_POST)
    await f.on_post(admin, agent, "ONLINE_SERVICE")
    profile = await staff_posts.set_on_duty(agent.viewer, True)
    assert profile.on_duty and profile.on_duty_since is not None
    await staff_posts.set_on_duty(agent.viewer, True)
    assert await staff_posts.is_on_duty(agent.account.id, Post.ONLINE_SERVICE)
    assert not await staff_posts.is_on_duty(agent.account.id, Post.PHONE_SERVICE)
    assert await staff_posts.on_duty_holders(Post.ONLINE_SERVICE) == [agent.account.id]
    await staff_posts.set_on_duty(agent.viewer, False)
    assert await staff_posts.on_duty_holders(Post.ONLINE_SERVICE) == []
    events = await AuditEvent.filter(entity_type="StaffProfile", entity_id=profile.id)
    assert [e.action for e in events] == ["recorded", "on_duty", "off_duty"]
    consumer = await f.consumer()
    await _refused(staff_posts.set_on_duty(consumer.viewer, False), ErrorCode.NOT_ELIGIBLE)


async def test_holds_post_is_one_indexed_statement_and_require_post_says_which(db, cache) -> None:
    """QS 9.3.1: the check other services make is one statement; a deactivated account
    holds nothing; require_post refuses with NOT_ON_POST naming the post."""
    from pinzhi.services import credentials

    admin = await _admin()
    agent = await f.qualified_staff(admin)
    await f.on_post(admin, agent, "ONLINE_SERVICE")
    with count_sql() as sql:
        assert await staff_posts.holds_post(agent.account.id, Post.ONLINE_SERVICE)
    assert sql.count == 1, sql.statements
    await staff_posts.require_post(agent.viewer, Post.ONLINE_SERVICE)
    error = await _refused(
        staff_posts.require_post(agent.viewer, Post.COMPLAINT_HANDLING), ErrorCode.NOT_ON_POST
    )
    assert error.detail == "COMPLAINT_HANDLING"
    await credentials.set_active(admin.viewer, agent.account.id, False, "停用 suspended", cache)
    assert not await staff_posts.holds_post(agent.account.id, Post.ONLINE_SERVICE)
    assert await staff_posts.team_of(agent.account.id) == "一组 Team 1"
    assert await staff_posts.team_of(admin.account.id) == ""


# --- Profiles ----------------------------------------------------------------------------------


async def test_a_profile_is_recorded_by_admins_and_its_changes_traced(db, clock) -> None:
    """QS 9.3.1, 9.3.4: the team and the experience date, the change from the old values
    on the trail; a date in the future or a non-staff account is refused."""
    admin = await _admin()
    agent = await f.staff()
    since = f.months_ago(clock.at.date(), 30)
    profile = await staff_posts.set_profile(admin.viewer, agent.account.id, " 一组 ", since)
    assert (profile.team, profile.experience_since) == ("一组", since)
    await staff_posts.set_profile(admin.viewer, agent.account.id, "二组", since)
    await staff_posts.set_profile(admin.viewer, agent.account.id, "二组", since)  # no change
    trail = await AuditEvent.filter(entity_type="StaffProfile", entity_id=profile.id)
    assert [(e.action, e.data.get("team")) for e in trail] == [
        ("recorded", "一组"),
        ("updated", ["一组", "二组"]),
    ]
    error = await _refused(
        staff_posts.set_profile(
            admin.viewer, agent.account.id, "二组", clock.at.date() + timedelta(days=1)
        ),
        ErrorCode.INVALID_INPUT,
    )
    assert error.field == ["experienceSince"]
    buyer = await f.consumer()
    await _refused(
        staff_posts.set_profile(admin.viewer, buyer.account.id, "T", None),
        ErrorCode.NOT_STAFF_MEMBER,
    )


# --- The staffing ratio (QS 9.3.1) -------------------------------------------------------------


async def test_the_staffing_report_counts_staff_and_open_work_in_five_statements(db, cache) -> None:
    """QS 9.3.1: per post, the active staff assigned and on duty, its open work by the
    rule's mapping (unresolved complaints for complaint handling, after-sales requests
    neither closed nor withdrawn for online and phone service, escalated ones for senior
    support, open recoveries for advance compensation) and the staff on duty per 100 open
    items; the same five statements whatever the number of rows."""
    w = await f.world()
    admin = await _admin()
    first = await f.qualified_staff(admin)
    second = await f.qualified_staff(admin)
    senior = await f.qualified_staff(admin, topics=(*f.STAFF_TOPICS, "ECOMMERCE_LAW"), months=24)
    await f.on_post(admin, first, "ONLINE_SERVICE", on_duty=True)
    await f.on_post(admin, second, "ONLINE_SERVICE")
    await f.on_post(admin, senior, "COMPLAINT_HANDLING", on_duty=True)
    await f.on_post(admin, senior, "ONLINE_SERVICE")
    # Three complaints, one of them resolved; two after-sales requests, one withdrawn.
    filed = []
    for _ in range(3):
        placed, _ = await f.paid_order(w)
        filed.append(await f.complaint(w.buyer, placed))
    await complaints.take_complaint(w.agent.viewer, filed[0].id)
    await complaints.handle_complaint(
        w.agent.viewer, filed[0].id, resolution="已解决 solved", upheld=False
    )
    for _ in range(2):
        placed, _ = await f.delivered_order(w)
        await f.after_sales_row(placed)
    withdrawn = await f.after_sales_row((await f.delivered_order(w))[0])
    await f.after_sales_walk(withdrawn, "WITHDRAWN")

    with count_sql() as sql:
        report = await staff_posts.staffing_report()
    assert sql.count == 5, sql.statements
    rows = {p.post: p for p in report.posts}
    assert list(rows) == list(Post)
    online = rows[Post.ONLINE_SERVICE]
    assert (online.assigned, online.on_duty, online.open_items, online.ratio) == (3, 2, 2, 100.0)
    handling = rows[Post.COMPLAINT_HANDLING]
    assert (handling.assigned, handling.on_duty, handling.open_items) == (1, 1, 2)
    assert handling.ratio == 50.0 and handling.key_post
    assert (rows[Post.PHONE_SERVICE].assigned, rows[Post.PHONE_SERVICE].ratio) == (0, 0.0)
    assert rows[Post.SENIOR_SUPPORT].open_items == 0 and rows[Post.SENIOR_SUPPORT].ratio is None
    assert rows[Post.ADVANCE_COMPENSATION].open_items == 0
    supervision = rows[Post.QUALITY_SUPERVISION]
    assert (supervision.workload, supervision.open_items, supervision.ratio) == ("", None, None)

    # More of everything, the same statements; a deactivated holder no longer counts.
    from pinzhi.services import credentials

    for _ in range(3):
        await f.complaint(w.buyer, (await f.paid_order(w))[0])
    await credentials.set_active(admin.viewer, first.account.id, False, "离职 left", cache)
    with count_sql() as sql:
        report = await staff_posts.staffing_report()
    assert sql.count == 5
    rows = {p.post: p for p in report.posts}
    assert (rows[Post.ONLINE_SERVICE].assigned, rows[Post.ONLINE_SERVICE].on_duty) == (2, 1)
    assert rows[Post.COMPLAINT_HANDLING].open_items == 5
    assert rows[Post.COMPLAINT_HANDLING].ratio == 20.0


async def test_open_recoveries_are_the_advance_compensation_workload(db) -> None:
    """QS 9.3.1, 9.7.6: a payout is paid at once; its recovery stays open work of the
    advance-compensation post until final."""
    w = await f.world()
    admin = await f.fund_admin()
    await f.fund_cash(admin)
    placed, _ = await f.delivered_order(w)
    filed = await f.complaint(w.buyer, placed)
    await f.fund_payout(w.agent, filed.id)
    report = await staff_posts.staffing_report()
    rows = {p.post: p for p in report.posts}
    assert rows[Post.ADVANCE_COMPENSATION].open_items == 1
