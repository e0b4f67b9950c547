"""Staff fit for their posts (QS 9.3.1-9.3.4): staff records, post assignments, what a post
needs, and the staffing report."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.enums import CourseTopic, Post, StaffDuty
from pinzhi.schema.training import Enrolment
from pinzhi.services import staff_performance, staff_posts, state


async def _account(info: Info, account_pk: int) -> models.Account | None:
    row: models.Account | None = await info.context.loaders.staff_account_by_id.load(account_pk)
    return row


@strawberry.type(
    description="A post a staff member holds or held (QS 9.3.1), kept on record after it ends."
)
class PostAssignment(Node):
    post: Post
    staff_id: strawberry.ID = strawberry.field(description="The staff member's Account id.")
    assigned_by_id: strawberry.ID = strawberry.field(description="The admin's Account id.")
    assigned_at: datetime
    ended_at: datetime | None
    end_reason: str
    rule_version: int = strawberry.field(
        description="The version of customer_service.posts the assignment was checked against."
    )
    months_held: int = strawberry.field(
        description="The months of relevant experience held when assigned."
    )
    enrolment_ids: list[strawberry.ID] = strawberry.field(
        description="The passed enrolments the assignment was granted on."
    )

    @classmethod
    def from_row(cls, row: models.PostAssignment) -> PostAssignment:
        granted = row.qualification or {}
        return cls(
            id=to_global_id("PostAssignment", row.id),
            post=row.post,
            staff_id=to_global_id("Account", row.account_id),
            assigned_by_id=to_global_id("Account", row.assigned_by_id),
            assigned_at=row.assigned_at,
            ended_at=row.ended_at,
            end_reason=row.end_reason,
            rule_version=row.rule_version,
            months_held=int(granted.get("months_held", 0)),
            enrolment_ids=[
                to_global_id("Enrolment", int(pk))
                for pk in sorted(dict(granted.get("enrolments", {})).values())
            ],
        )


@strawberry.type(
    description="Whether a staff member may take a post now (QS 9.3.2, 9.3.4), and what is "
    "missing: `refusals` are what assignStaffPost would answer, in the order it checks them."
)
class PostQualification:
    post: Post
    key_post: bool
    eligible: bool
    staff_duty: StaffDuty
    missing_topics: list[CourseTopic] = strawberry.field(
        description="Course topics whose assessment is not passed yet."
    )
    law_topic: CourseTopic | None = strawberry.field(
        description="The law assessment a key post needs; null for other posts."
    )
    law_passed: bool
    months_held: int
    months_needed: int
    refusals: list[UserError]


@strawberry.type(
    description="A staff member's record (QS 9.3.1): team, relevant experience, duty status, "
    "posts and training. Read by the person, admin and compliance staff, and regulators."
)
class StaffMember(Node):
    staff_id: strawberry.ID = strawberry.field(description="The staff member's Account id.")
    team: str
    experience_since: date | None = strawberry.field(
        description="Since when the person's relevant experience counts (QS 9.3.4)."
    )
    on_duty: bool
    on_duty_since: datetime | None
    row: strawberry.Private[models.StaffProfile]

    @classmethod
    def from_row(cls, row: models.StaffProfile) -> StaffMember:
        return cls(
            id=to_global_id("StaffProfile", row.id),
            staff_id=to_global_id("Account", row.account_id),
            team=row.team,
            experience_since=row.experience_since,
            on_duty=row.on_duty,
            on_duty_since=row.on_duty_since,
            row=row,
        )

    @strawberry.field(
        description="Whole for the person and for admin staff (logged); masked for others, "
        "regulators included (QS 9.4.1)."
    )
    async def name(self, info: Info) -> str:
        account = await _account(info, self.row.account_id)
        if account is None:
            return ""
        return info.context.disclosure.staff_name(account.id, account.name_enc)

    @strawberry.field
    async def duties(self, info: Info) -> list[StaffDuty]:
        account = await _account(info, self.row.account_id)
        return (
            [] if account is None else [models.StaffDuty(d) for d in account.duties.split(",") if d]
        )

    @strawberry.field(
        description="Whether the account is active (a deactivated one holds no post)."
    )
    async def active(self, info: Info) -> bool:
        account = await _account(info, self.row.account_id)
        return bool(account and account.is_active)

    @strawberry.field(description="Whole months of relevant experience today.")
    def experience_months(self) -> int:
        return staff_posts.months_between(self.row.experience_since, state.now().date())

    @strawberry.field(description="Current posts, or every post held with includeEnded.")
    async def posts(self, info: Info, include_ended: bool = False) -> list[PostAssignment]:
        rows = await info.context.loaders.post_assignments_by_account_id.load(self.row.account_id)
        return [PostAssignment.from_row(r) for r in rows if include_ended or r.ended_at is None]

    @strawberry.field(description="The staff member's enrolments and assessments (QS 9.3.2).")
    async def training(self, info: Info) -> list[Enrolment]:
        rows = await info.context.loaders.enrolments_by_staff_id.load(self.row.account_id)
        return [Enrolment.from_row(r) for r in rows]

    @strawberry.field(
        description="What each post of the rule in force needs of this person, and whether "
        "they meet it now."
    )
    async def qualifications(self, info: Info) -> list[PostQualification]:
        loaders = info.context.loaders
        account = await _account(info, self.row.account_id)
        rule = await loaders.current_rule_by_key.load(staff_posts.RULE_KEY)
        if account is None or rule is None:
            return []
        enrolments = await loaders.enrolments_by_staff_id.load(self.row.account_id)
        passed = [e for e in enrolments if e.passed]
        courses = await loaders.course_by_id.load_many([e.course_id for e in passed])
        topics = staff_posts.passed_topics(
            [(e.id, str(c.topic)) for e, c in zip(passed, courses, strict=True) if c]
        )
        today = state.now().date()
        language = info.context.language
        found = []
        for post in models.Post:
            if str(post) not in rule.content["posts"]:
                continue
            q = staff_posts.assess(
                post, rule.content, account=account, profile=self.row, passed=topics, today=today
            )
            found.append(_qualification(q, language))
        return found


def _qualification(q: staff_posts.Qualification, language: str) -> PostQualification:
    return PostQualification(
        post=q.post,
        key_post=q.key_post,
        eligible=q.eligible,
        staff_duty=models.StaffDuty(q.staff_duty),
        missing_topics=[models.CourseTopic(t) for t in q.missing_topics],
        law_topic=models.CourseTopic(q.law_topic) if q.law_topic else None,
        law_passed=q.law_passed,
        months_held=q.months_held,
        months_needed=q.months_needed,
        refusals=[UserError.of(e, language) for e in q.gaps],
    )


@strawberry.input
class SetStaffProfileInput:
    staff_id: strawberry.ID = strawberry.field(description="The staff member's Account id.")
    team: str = strawberry.field(description="1-50 characters; metrics are kept per team.")
    experience_since: date | None = strawberry.field(
        default=None,
        description="Since when relevant experience counts; earlier jobs backdate it. Not in "
        "the future; null: none.",
    )


@strawberry.type
class StaffMemberPayload:
    staff_member: StaffMember | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PostAssignmentPayload:
    assignment: PostAssignment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One post in the staffing report (QS 9.3.1).")
class PostStaffing:
    post: Post
    duties: str = strawberry.field(description="What the post does, in the request's language.")
    key_post: bool
    assigned: int = strawberry.field(description="Active staff holding the post.")
    on_duty: int = strawberry.field(description="Of them, those on duty now.")
    workload: str = strawberry.field(
        description="The open work the post answers for, in the request's language; empty "
        "for a post without one."
    )
    open_items: int | None = strawberry.field(description="Null for a post without workload.")
    ratio: float | None = strawberry.field(
        description="Staff on duty per perItems open items; null without open items."
    )

    @classmethod
    def of(cls, row: staff_posts.PostStaffing, language: str) -> PostStaffing:
        english = language == "en"
        return cls(
            post=row.post,
            duties=row.duties_en if english else row.duties_zh,
            key_post=row.key_post,
            assigned=row.assigned,
            on_duty=row.on_duty,
            workload=row.workload_en if english else row.workload_zh,
            open_items=row.open_items,
            ratio=row.ratio,
        )


@strawberry.type(
    description="The staffing ratio of the quality-service posts (QS 9.3.1), as of now, by "
    "the customer_service.posts rule."
)
class StaffingReport:
    rule_version: int
    per_items: int = strawberry.field(description="The ratio is staff on duty per this many.")
    as_of: datetime
    posts: list[PostStaffing]


# --- Performance (QS 9.3.3) --------------------------------------------------------------------


@strawberry.type(
    description="Satisfaction: the consumers' feedback (1-5) on the staff member's "
    "complaints, given in the month."
)
class SatisfactionPart:
    feedback_count: int
    average: float | None
    score: float | None = strawberry.field(description="0-100 by the rule; null without data.")


@strawberry.type(
    description="Closure: of the complaints assigned to the staff member and open at some "
    "time in the month, those resolved in it."
)
class ClosurePart:
    assigned: int
    resolved: int
    rate: float | None
    score: float | None = strawberry.field(description="0-100 by the rule; null without data.")


@strawberry.type(
    description="Response: of the staff member's chat answers sent in the month, those "
    "within the customer_service.chat response limit."
)
class ResponsePart:
    responses: int
    within_limit: int
    share: float | None
    score: float | None = strawberry.field(description="0-100 by the rule; null without data.")


@strawberry.type(description="A weight the score applied, renormalised over the parts with data.")
class AppliedWeight:
    part: str
    weight: float


@strawberry.type(
    description="A staff member's performance over a month (QS 9.3.3) by the "
    "customer_service.performance rule: score = the weighted mean of the parts with data "
    "(a part without data is left out and the weights renormalised); null with none."
)
class StaffPerformance:
    staff_id: strawberry.ID = strawberry.field(description="The staff member's Account id.")
    staff_member_id: strawberry.ID = strawberry.field(description="Their StaffMember id.")
    team: str
    period: str
    rule_version: int
    chat_rule_version: int
    score: float | None
    satisfaction: SatisfactionPart
    closure: ClosurePart
    response: ResponsePart
    weights: list[AppliedWeight]
    row: strawberry.Private[models.StaffProfile]

    @classmethod
    def of(
        cls,
        row: models.StaffProfile,
        found: staff_performance.Performance,
        report: staff_performance.PerformanceReport,
    ) -> StaffPerformance:
        s, c, r = found.satisfaction, found.closure, found.response
        return cls(
            staff_id=to_global_id("Account", row.account_id),
            staff_member_id=to_global_id("StaffProfile", row.id),
            team=row.team,
            period=report.period,
            rule_version=report.rule_version,
            chat_rule_version=report.chat_rule_version,
            score=found.score,
            satisfaction=SatisfactionPart(feedback_count=s.count, average=s.value, score=s.score),
            closure=ClosurePart(
                assigned=c.count, resolved=c.hits or 0, rate=c.value, score=c.score
            ),
            response=ResponsePart(
                responses=r.count, within_limit=r.hits or 0, share=r.value, score=r.score
            ),
            weights=[AppliedWeight(part=k, weight=w) for k, w in found.weights.items()],
            row=row,
        )

    @strawberry.field(
        description="Whole for the person and for admin staff (logged); masked for "
        "regulators, who tell staff apart by their ids (QS 9.4.1)."
    )
    async def name(self, info: Info) -> str:
        account = await _account(info, self.row.account_id)
        if account is None:
            return ""
        return info.context.disclosure.staff_name(account.id, account.name_enc)
