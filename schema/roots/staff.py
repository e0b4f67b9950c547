"""Root fields of staff fit for their posts (QS 9.3.1-9.3.4): thin glue to
services/staff_posts and services/staff_performance."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info
from tortoise.expressions import Subquery

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import staff_performance_rule
from pinzhi.errors import ServiceError
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window, bad_input, page
from pinzhi.schema.base import Connection, attempt, pk_of
from pinzhi.schema.enums import Post
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.staff import (
    PostAssignment,
    PostAssignmentPayload,
    PostStaffing,
    SetStaffProfileInput,
    StaffingReport,
    StaffMember,
    StaffMemberPayload,
    StaffPerformance,
)
from pinzhi.services import staff_performance, staff_posts

# --- Queries ----------------------------------------------------------------------------------


async def staff_members(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    team: str | None = None,
    post: Post | None = None,
) -> Connection[StaffMember]:
    """Staff records, newest first: a staff member's own, or everyone's for admin and
    compliance staff and regulators; by team, or by a post held now."""
    try:
        team = staff_posts.team_filter(team)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    holders = (
        None
        if post is None
        else Subquery(
            models.PostAssignment.filter(post=models.Post(post), ended_at__isnull=True).values(
                "account_id"
            )
        )
    )
    found = await scoped_page(
        info.context.viewer,
        models.StaffProfile,
        Window(first, after, last, before),
        team=team,
        account_id__in=holders,
    )
    return Connection.of(found, [StaffMember.from_row(r) for r in found.rows])


async def staffing_report(info: Info) -> StaffingReport:
    report = await staff_posts.staffing_report()
    language = info.context.language
    return StaffingReport(
        rule_version=report.rule_version,
        per_items=report.per_items,
        as_of=report.as_of,
        posts=[PostStaffing.of(p, language) for p in report.posts],
    )


async def staff_performance_list(
    info: Info,
    period: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    team: str | None = None,
) -> Connection[StaffPerformance]:
    """Each staff member's performance over a month (default: the current one), newest
    record first: everyone's for admin staff and regulators, one's own for other staff."""
    query = models.StaffProfile.filter(staff_performance_rule(info.context.viewer))
    try:
        team = staff_posts.team_filter(team)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    if team is not None:
        query = query.filter(team=team)
    found = await page(query, Window(first, after, last, before))
    try:
        report = await staff_performance.performance([r.account_id for r in found.rows], period)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    nodes = [StaffPerformance.of(r, report.by_account[r.account_id], report) for r in found.rows]
    return Connection.of(found, nodes)


# --- Mutations --------------------------------------------------------------------------------


def _staff_member(row: models.StaffProfile | None) -> StaffMember | None:
    return StaffMember.from_row(row) if row else None


async def set_staff_profile(info: Info, input: SetStaffProfileInput) -> StaffMemberPayload:
    experience_since: date | None = input.experience_since
    row, errors = await attempt(
        info,
        staff_posts.set_profile(
            info.context.viewer, pk_of(input.staff_id, "Account"), input.team, experience_since
        ),
    )
    return StaffMemberPayload(staff_member=_staff_member(row), errors=errors)


async def assign_staff_post(
    info: Info, staff_id: strawberry.ID, post: Post
) -> PostAssignmentPayload:
    row, errors = await attempt(
        info,
        staff_posts.assign_post(info.context.viewer, pk_of(staff_id, "Account"), models.Post(post)),
    )
    return PostAssignmentPayload(
        assignment=PostAssignment.from_row(row) if row else None, errors=errors
    )


async def end_staff_post(
    info: Info, assignment_id: strawberry.ID, reason: str
) -> PostAssignmentPayload:
    row, errors = await attempt(
        info,
        staff_posts.end_post(info.context.viewer, pk_of(assignment_id, "PostAssignment"), reason),
    )
    return PostAssignmentPayload(
        assignment=PostAssignment.from_row(row) if row else None, errors=errors
    )


async def set_on_duty(info: Info, on_duty: bool) -> StaffMemberPayload:
    row, errors = await attempt(info, staff_posts.set_on_duty(info.context.viewer, on_duty))
    return StaffMemberPayload(staff_member=_staff_member(row), errors=errors)


@strawberry.type
class StaffQuery:
    staff_members = field(
        staff_members,
        policy.STAFF_RECORD_READERS,
        description="Staff records (QS 9.3.1): a staff member reads their own; admin and "
        "compliance staff and regulators everyone's (names masked for regulators). `team` and "
        "`post` (held now) filter.",
    )
    staffing_report = field(
        staffing_report,
        policy.STAFFING_READERS,
        description="Per post: staff assigned, on duty, the open work it answers for and the "
        "staff on duty per 100 open items (QS 9.3.1); one fixed set of statements.",
    )
    staff_performance = field(
        staff_performance_list,
        policy.PERFORMANCE_READERS,
        description="Staff performance over a month `period` (YYYY-MM, UTC; default the "
        "current one) by the customer_service.performance rule (QS 9.3.3): satisfaction, "
        "complaint closure and chat response compliance. Admin staff and regulators read "
        "everyone's (regulators by masked name and ids); other staff their own.",
    )


@strawberry.type
class StaffMutation:
    set_staff_profile = mutation(
        set_staff_profile,
        Action.SET_STAFF_PROFILE,
        description="QS 9.3.1, 9.3.4: record a staff member's team and since when their "
        "relevant experience counts (traced); never one's own (SELF_ASSIGNMENT).",
    )
    assign_staff_post = mutation(
        assign_staff_post,
        Action.ASSIGN_STAFF_POST,
        description="QS 9.3.1-9.3.4: put a staff member on a post. Refused, with the reason's "
        "code, for an account that is not staff (NOT_STAFF_MEMBER), inactive "
        "(ACCOUNT_INACTIVE), without the post's duty (STAFF_DUTY_MISSING) or profile "
        "(STAFF_PROFILE_MISSING), without the training passed (TRAINING_MISSING, naming the "
        "topics), for a key post without the law assessment (LAW_ASSESSMENT_MISSING) or with "
        "less experience than it needs (EXPERIENCE_SHORT, with the months held), a post held "
        "already (POST_ALREADY_HELD), and one's own (SELF_ASSIGNMENT).",
    )
    end_staff_post = mutation(
        end_staff_post,
        Action.END_STAFF_POST,
        description="QS 9.3.1: end an assignment, with a reason; it stays on record (traced). "
        "Someone left holding no post goes off duty.",
    )
    set_on_duty = mutation(
        set_on_duty,
        Action.SET_ON_DUTY,
        description="QS 9.3.1: the viewer goes on duty (only while holding a post: "
        "NOT_ON_POST) or off duty; the chat queue routes to staff on duty.",
    )
