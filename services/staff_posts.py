"""Staff fit for their posts (QS 9.3.1-9.3.4).

The posts, their duties and what each needs are the published rule ``customer_service.posts``:
the staff duty of its holder, the course topics whose assessment must be passed (QS 9.3.2:
etiquette and rights handling for every post), and for a key post (complaint handling,
advance compensation, senior support) at least 12 months of relevant experience and the
e-commerce law assessment (QS 9.3.4).

Admin staff record a staff member's profile (team; since when their relevant experience
counts), then assign posts; an assignment that the rule refuses says why, with a code of its
own (``qualification``'s gaps, in the order they are checked). A person may hold several
posts; an assignment ends by ``end_post`` and stays on record. Nobody assigns a post to, or
records the profile of, themselves. A staff member holding a post goes on and off duty.

Every write locks the staff member's account row first, so an assignment, its end and the
on-duty flag of one person never interleave (nobody stays on duty without a post).

Other services ask ``holds_post`` / ``require_post`` (one indexed statement) before work a
post is for; the chat queue routes to ``on_duty_holders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer, parse_duties
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Account,
    AfterSalesRequest,
    Complaint,
    Enrolment,
    FundRecovery,
    PlatformRule,
    Post,
    PostAssignment,
    Role,
    StaffDuty,
    StaffProfile,
)
from pinzhi.services import audit, events, rules, state, validation
from pinzhi.services.customer_service import handover
from pinzhi.services.lookup import get_visible

RULE_KEY = "customer_service.posts"
# The oldest relevant experience a profile records.
MAX_EXPERIENCE_YEARS = 60
# The models the staffing report's workloads count (rule customer_service.posts).
WORKLOAD_MODELS: dict[str, type[Model]] = {
    "AfterSalesRequest": AfterSalesRequest,
    "Complaint": Complaint,
    "FundRecovery": FundRecovery,
}


def months_between(since: date | None, today: date) -> int:
    """Whole months from ``since`` to ``today`` (a month is complete on the same day of a
    later month); 0 without a date."""
    if since is None:
        return 0
    months = (today.year - since.year) * 12 + today.month - since.month
    if today.day < since.day:
        months -= 1
    return max(0, months)


def post_rule(content: dict[str, Any], post: Post) -> dict[str, Any]:
    found: dict[str, Any] | None = content["posts"].get(str(post))
    if found is None:
        raise ServiceError(ErrorCode.RULE_MISSING, ("post",), f"{RULE_KEY}: {post}")
    return found


@dataclass(frozen=True)
class Qualification:
    """Whether a staff member may take a post under a version of the rule, and what is
    missing: ``gaps`` are the refusals in the order they are checked (the first one is
    what an assignment answers)."""

    post: Post
    key_post: bool
    staff_duty: str
    required_topics: list[str]
    missing_topics: list[str]
    law_topic: str
    law_passed: bool
    months_held: int
    months_needed: int
    # The enrolments passed that the post needs, by topic (law included).
    enrolments: dict[str, int]
    gaps: list[ServiceError] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.gaps

    def record(self) -> dict[str, Any]:
        """What an assignment was granted on, for its row and its trail."""
        return {
            "enrolments": self.enrolments,
            "months_held": self.months_held,
            "months_needed": self.months_needed,
        }


def assess(
    post: Post,
    content: dict[str, Any],
    *,
    account: Account,
    profile: StaffProfile | None,
    passed: dict[str, int],
    today: date,
) -> Qualification:
    """The qualification of ``account`` for ``post`` by the rule's ``content``, given its
    profile and the enrolments it passed (topic: enrolment id). No database access."""
    wanted = post_rule(content, post)
    staff_duty = str(wanted["staff_duty"])
    required = [str(t) for t in wanted["required_topics"]]
    law = str(wanted["law_topic"])
    needed = int(wanted["min_experience_months"])
    held = months_between(profile.experience_since if profile else None, today)
    missing = [t for t in required if t not in passed]
    law_passed = not law or law in passed
    gaps: list[ServiceError] = []
    if account.role != Role.STAFF:
        gaps.append(ServiceError(ErrorCode.NOT_STAFF_MEMBER, ("staffId",)))
    else:
        if not account.is_active:
            gaps.append(ServiceError(ErrorCode.ACCOUNT_INACTIVE, ("staffId",)))
        if StaffDuty(staff_duty) not in parse_duties(account.duties):
            gaps.append(ServiceError(ErrorCode.STAFF_DUTY_MISSING, ("staffId",), staff_duty))
        if profile is None:
            gaps.append(ServiceError(ErrorCode.STAFF_PROFILE_MISSING, ("staffId",)))
        if missing:
            gaps.append(ServiceError(ErrorCode.TRAINING_MISSING, ("post",), ", ".join(missing)))
        if not law_passed:
            gaps.append(ServiceError(ErrorCode.LAW_ASSESSMENT_MISSING, ("post",), law))
        if held < needed:
            gaps.append(
                ServiceError(
                    ErrorCode.EXPERIENCE_SHORT,
                    ("post",),
                    f"{held} of {needed} months",
                )
            )
    kept = {t: passed[t] for t in [*required, *([law] if law else [])] if t in passed}
    return Qualification(
        post=post,
        key_post=bool(wanted["key_post"]),
        staff_duty=staff_duty,
        required_topics=required,
        missing_topics=missing,
        law_topic=law,
        law_passed=law_passed,
        months_held=held,
        months_needed=needed,
        enrolments=kept,
        gaps=gaps,
    )


def passed_topics(enrolments: list[tuple[int, str]]) -> dict[str, int]:
    """Topic: the first enrolment passed in a course of it, from (id, topic) pairs."""
    found: dict[str, int] = {}
    for enrolment_id, topic in sorted(enrolments):
        found.setdefault(str(topic), enrolment_id)
    return found


async def _passed(account_id: int) -> dict[str, int]:
    rows = await Enrolment.filter(staff_id=account_id, passed=True).values_list(
        "id", "course__topic"
    )
    return passed_topics([(int(i), str(t)) for i, t in rows])


async def qualification(account_id: int, post: Post) -> Qualification:
    """The qualification of a staff member for a post under the rule in force."""
    rule = await rules.current(RULE_KEY)
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("staffId",))
    profile = await StaffProfile.get_or_none(account_id=account_id)
    return assess(
        Post(post),
        rule.content,
        account=account,
        profile=profile,
        passed=await _passed(account_id),
        today=state.now().date(),
    )


async def _lock_account(account_id: int | None) -> Account:
    """The staff member's account row, locked: every write of their posts takes it first."""
    account = (
        None if not account_id else await Account.filter(id=account_id).select_for_update().first()
    )
    if account is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("staffId",))
    return account


# --- Profiles --------------------------------------------------------------------------------


def _experience_since(value: date | None, today: date) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("experienceSince",), "a date")
    if value > today:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("experienceSince",), "not in the future")
    if today.year - value.year > MAX_EXPERIENCE_YEARS:
        raise ServiceError(
            ErrorCode.INVALID_INPUT, ("experienceSince",), f"within {MAX_EXPERIENCE_YEARS} years"
        )
    return value


MAX_TEAM = 50  # StaffProfile.team


def team_filter(team: str | None) -> str | None:
    """A ``team`` to list staff by: longer than any team can be is the caller's error."""
    if team is not None and len(team) > MAX_TEAM:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("team",), f"at most {MAX_TEAM} characters")
    return team


async def set_profile(
    viewer: Viewer, staff_id: int | None, team: str, experience_since: date | None
) -> StaffProfile:
    """Admin staff record a staff member's team and since when their relevant experience
    counts (QS 9.3.4); a change is traced with its old and new values."""
    require(viewer, Action.SET_STAFF_PROFILE)
    if staff_id is not None and staff_id == viewer.account_id:
        raise ServiceError(ErrorCode.SELF_ASSIGNMENT, ("staffId",))
    team = validation.text(team, "team", min_len=1, max_len=MAX_TEAM)
    since = _experience_since(experience_since, state.now().date())
    async with in_transaction():
        account = await _lock_account(staff_id)
        if account.role != Role.STAFF:
            raise ServiceError(ErrorCode.NOT_STAFF_MEMBER, ("staffId",))
        profile = await StaffProfile.filter(account_id=account.id).first()
        values = {"team": team, "experience_since": since}
        if profile is None:
            return await state.create(
                StaffProfile,
                actor=viewer,
                action="recorded",
                data={"account_id": account.id, "team": team, "experience_since": _iso(since)},
                account_id=account.id,
                **values,
            )
        changes = {
            name: [_iso(getattr(profile, name)), _iso(value)]
            for name, value in values.items()
            if getattr(profile, name) != value
        }
        if not changes:
            return profile
        for name, value in values.items():
            setattr(profile, name, value)
        await profile.save(update_fields=[*values, "updated_at"])
        await audit.append("StaffProfile", profile.id, "updated", actor=viewer, data=changes)
    return profile


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- Assignments ------------------------------------------------------------------------------


async def assign_post(viewer: Viewer, staff_id: int | None, post: Post) -> PostAssignment:
    """Admin staff put a staff member on a post (QS 9.3.1); refused, with the reason's own
    code, unless the rule in force's qualification holds (QS 9.3.2, 9.3.4). The assignment
    records the rule's version and what it was granted on."""
    require(viewer, Action.ASSIGN_STAFF_POST)
    post = Post(post)
    if staff_id is not None and staff_id == viewer.account_id:
        raise ServiceError(ErrorCode.SELF_ASSIGNMENT, ("staffId",))
    rule = await rules.current(RULE_KEY)
    async with in_transaction():
        account = await _lock_account(staff_id)
        if account.role == Role.STAFF and await _holds(account.id, post):
            raise ServiceError(ErrorCode.POST_ALREADY_HELD, ("post",), str(post))
        found = assess(
            post,
            rule.content,
            account=account,
            profile=await StaffProfile.filter(account_id=account.id).first(),
            passed=await _passed(account.id),
            today=state.now().date(),
        )
        if found.gaps:
            raise found.gaps[0]
        return await state.create(
            PostAssignment,
            actor=viewer,
            action="assigned",
            data={
                "account_id": account.id,
                "post": str(post),
                "rule_version": rule.version,
                **found.record(),
            },
            account_id=account.id,
            post=post,
            rule_version=rule.version,
            qualification=found.record(),
            assigned_by_id=viewer.account_id,
            assigned_at=state.now(),
        )


async def end_post(viewer: Viewer, assignment_id: int | None, reason: str) -> PostAssignment:
    """Admin staff end an assignment, with a reason; it stays on record. A staff member
    left holding no post goes off duty with it."""
    require(viewer, Action.END_STAFF_POST)
    reason = validation.text(reason, "reason", min_len=2, max_len=500, multiline=True)
    seen = await get_visible(viewer, PostAssignment, assignment_id, "assignmentId")
    requeued: list[int] = []
    async with in_transaction():
        await _lock_account(seen.account_id)
        row = await PostAssignment.filter(id=seen.id).select_for_update().first()
        if row is None or row.ended_at is not None:
            raise ServiceError(ErrorCode.POST_ENDED, ("assignmentId",))
        now = state.now()
        changed = await PostAssignment.filter(id=row.id, ended_at__isnull=True).update(
            ended_at=now, ended_by_id=viewer.account_id, end_reason=reason
        )
        if changed != 1:
            raise ServiceError(ErrorCode.POST_ENDED, ("assignmentId",))
        row.ended_at, row.ended_by_id, row.end_reason = now, viewer.account_id, reason
        await audit.append("PostAssignment", row.id, "ended", actor=viewer, data={"reason": reason})
        if row.post == Post.ONLINE_SERVICE:
            requeued = await handover.requeue_agents_sessions(
                row.account_id, actor=viewer, reason="post ended"
            )
        if not await _holds_any(row.account_id):
            profile = await StaffProfile.filter(account_id=row.account_id, on_duty=True).first()
            if profile is not None:
                await _set_duty(viewer, profile, False, because="no post held")
    for session_id in requeued:
        await events.publish(events.QUEUE_TOPIC, {"session": session_id, "event": "QUEUED"})
    return row


async def _holds_any(account_id: int) -> bool:
    return await PostAssignment.filter(account_id=account_id, ended_at__isnull=True).exists()


async def _holds(account_id: int, post: Post) -> bool:
    return await PostAssignment.filter(
        account_id=account_id, post=post, ended_at__isnull=True
    ).exists()


# --- On duty ---------------------------------------------------------------------------------


async def set_on_duty(viewer: Viewer, on_duty: bool) -> StaffProfile:
    """A staff member goes on duty (only while holding a post) or off duty. The same
    value again changes nothing and traces nothing."""
    require(viewer, Action.SET_ON_DUTY)
    async with in_transaction():
        account = await _lock_account(viewer.account_id)
        profile = await StaffProfile.filter(account_id=account.id).first()
        if on_duty and (profile is None or not await _holds_any(account.id)):
            raise ServiceError(ErrorCode.NOT_ON_POST, ("onDuty",), "holds no post")
        if profile is None:
            raise ServiceError(ErrorCode.STAFF_PROFILE_MISSING, ())
        if profile.on_duty != bool(on_duty):
            await _set_duty(viewer, profile, bool(on_duty))
    return profile


async def _set_duty(
    viewer: Viewer, profile: StaffProfile, on_duty: bool, because: str = ""
) -> None:
    since = state.now() if on_duty else None
    await StaffProfile.filter(id=profile.id).update(
        on_duty=on_duty, on_duty_since=since, updated_at=state.now()
    )
    profile.on_duty, profile.on_duty_since = on_duty, since
    await audit.append(
        "StaffProfile",
        profile.id,
        "on_duty" if on_duty else "off_duty",
        actor=viewer,
        data={"because": because} if because else {},
    )


# --- What other services ask -----------------------------------------------------------------


def _current(post: Post) -> Q:
    return Q(post=post, ended_at__isnull=True, account__is_active=True)


async def holds_post(account_id: int | None, post: Post) -> bool:
    """Whether an active account holds ``post`` now: one statement on the assignment index
    (its account joined for ``is_active``)."""
    if not account_id:
        return False
    return await PostAssignment.filter(_current(post), account_id=account_id).exists()


async def require_post(viewer: Viewer, post: Post) -> None:
    """The guard of work a post is for: NOT_ON_POST unless the viewer holds it."""
    if viewer.role != Role.STAFF or not await holds_post(viewer.account_id, post):
        raise ServiceError(ErrorCode.NOT_ON_POST, (), str(post))


def _on_duty_accounts() -> Subquery:
    return Subquery(StaffProfile.filter(on_duty=True).values("account_id"))


async def is_on_duty(account_id: int | None, post: Post) -> bool:
    """Whether an active account holds ``post`` and is on duty now (one statement)."""
    if not account_id:
        return False
    return await PostAssignment.filter(
        _current(post), account_id=account_id, account_id__in=_on_duty_accounts()
    ).exists()


async def on_duty_holders(post: Post) -> list[int]:
    """The account ids of the active staff holding ``post`` and on duty, in id order (one
    statement): whom a queue of the post's work may route to."""
    rows = await (
        PostAssignment.filter(_current(post), account_id__in=_on_duty_accounts())
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )
    return [int(r) for r in rows]  # type: ignore[call-overload]


async def team_of(account_id: int | None) -> str:
    """A staff member's team ("" without a profile), for metrics per team."""
    if not account_id:
        return ""
    rows = await StaffProfile.filter(account_id=account_id).values_list("team", flat=True)
    return str(rows[0]) if rows else ""


async def current_posts(account_id: int) -> list[Post]:
    rows = await PostAssignment.filter(account_id=account_id, ended_at__isnull=True).values_list(
        "post", flat=True
    )
    return sorted(Post(str(r)) for r in rows)


# --- The staffing ratio (QS 9.3.1) -----------------------------------------------------------


@dataclass(frozen=True)
class PostStaffing:
    post: Post
    duties_zh: str
    duties_en: str
    key_post: bool
    assigned: int
    on_duty: int
    workload: str
    workload_zh: str
    workload_en: str
    # None for a post without a workload.
    open_items: int | None
    # Staff on duty per ``per_items`` open items; None without a workload or open item.
    ratio: float | None


@dataclass(frozen=True)
class StaffingReport:
    rule_version: int
    per_items: int
    as_of: datetime
    posts: list[PostStaffing]


async def staffing_report() -> StaffingReport:
    """Per post of the rule: the active staff assigned, those on duty, the open work it
    answers for and the staff on duty per ``ratio_per_items`` open items. A fixed number
    of statements: the rule, the assignments grouped by post, and one count grouped by state
    per model the workloads read (at most three)."""
    rule = await rules.current(RULE_KEY)
    return await _report(rule)


async def _report(rule: PlatformRule) -> StaffingReport:
    content = rule.content
    rows = (
        await PostAssignment.filter(ended_at__isnull=True, account__is_active=True)
        .annotate(
            assigned=Count("id"),
            on_duty=Count("id", _filter=Q(account_id__in=_on_duty_accounts())),
        )
        .group_by("post")
        .values("post", "assigned", "on_duty")
    )
    staffed = {str(r["post"]): (int(r["assigned"]), int(r["on_duty"])) for r in rows}
    workloads: dict[str, dict[str, Any]] = content["workloads"]
    used = {str(p["workload"]) for p in content["posts"].values() if p["workload"]}
    by_model: dict[str, set[str]] = {}
    for name in sorted(used):
        counted = workloads[name]
        by_model.setdefault(str(counted["model"]), set()).update(map(str, counted["states"]))
    counts: dict[tuple[str, str], int] = {}
    for model_name, states in sorted(by_model.items()):
        model = WORKLOAD_MODELS[model_name]
        grouped = (
            await model.filter(state__in=sorted(states))
            .annotate(n=Count("id"))
            .group_by("state")
            .values("state", "n")
        )
        for row in grouped:
            counts[(model_name, str(row["state"]))] = int(row["n"])
    per = int(content["ratio_per_items"])
    posts: list[PostStaffing] = []
    for post in Post:
        if str(post) not in content["posts"]:
            continue
        wanted: dict[str, Any] = content["posts"][str(post)]
        assigned, on_duty = staffed.get(str(post), (0, 0))
        name = str(wanted["workload"])
        source = workloads.get(name) if name else None
        open_items = (
            None
            if source is None
            else sum(counts.get((str(source["model"]), str(s)), 0) for s in source["states"])
        )
        posts.append(
            PostStaffing(
                post=post,
                duties_zh=str(wanted["duties_zh"]),
                duties_en=str(wanted["duties_en"]),
                key_post=bool(wanted["key_post"]),
                assigned=assigned,
                on_duty=on_duty,
                workload=name,
                workload_zh=str(source["zh"]) if source else "",
                workload_en=str(source["en"]) if source else "",
                open_items=open_items,
                ratio=round(on_duty * per / open_items, 2) if open_items else None,
            )
        )
    return StaffingReport(rule_version=rule.version, per_items=per, as_of=state.now(), posts=posts)


__all__ = [
    "RULE_KEY",
    "PostStaffing",
    "Qualification",
    "StaffingReport",
    "assess",
    "assign_post",
    "current_posts",
    "end_post",
    "holds_post",
    "is_on_duty",
    "months_between",
    "on_duty_holders",
    "qualification",
    "require_post",
    "set_on_duty",
    "set_profile",
    "staffing_report",
    "team_filter",
    "team_of",
]
