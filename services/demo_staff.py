"""The demo world's customer-service staff on their posts (QS 9.3.1-9.3.4): agents trained
in etiquette and rights handling, assessed by the admin, with their teams and experience
recorded; the platform's senior agent, two years in and assessed in e-commerce law, on
complaint handling; and one key-post assignment refused for want of experience, tried
through the service as the API would, its refusal printed as a fact of the demo.

Everything goes through the services the API uses, so profiles, enrolments, assignments
and duty changes carry their trails. ``seed_staff_posts`` returns the agents it put on posts
(the chat demo hands its sessions to those on ONLINE_SERVICE).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ServiceError
from pinzhi.models import Course, CourseTopic, Post, StaffDuty
from pinzhi.services import staff_posts, state, training

COURSES = [
    ("CS-101", "服务礼仪 Service etiquette", CourseTopic.ETIQUETTE, 70),
    ("CS-102", "消费者权益处理 Handling consumers' rights", CourseTopic.RIGHTS_HANDLING, 70),
    ("CS-201", "电子商务法 E-commerce law", CourseTopic.ECOMMERCE_LAW, 80),
]

# The demo's agents: e-mail, name, team, months of relevant experience, the posts they take,
# whether they go on duty, and the law course they pass.
AGENTS = [
    # Passed the law course already, but eight months in: not yet for a key post.
    ("agent1@demo.pinzhi", "李娜", "在线一组 Online 1", 8, [Post.ONLINE_SERVICE], True, True),
    (
        "agent2@demo.pinzhi",
        "陈静",
        "在线一组 Online 1",
        15,
        [Post.ONLINE_SERVICE, Post.PHONE_SERVICE],
        True,
        False,
    ),
    ("agent3@demo.pinzhi", "张伟", "热线组 Hotline", 5, [Post.PHONE_SERVICE], False, False),
]
# The platform's existing agent (service@demo.pinzhi, who works the demo's complaints).
SENIOR = ("投诉组 Complaints", 24, [Post.COMPLAINT_HANDLING, Post.ONLINE_SERVICE], True, True)
DUTIES = str(StaffDuty.CUSTOMER_SERVICE)


@dataclass
class StaffCast:
    """Who is on which post after the seed."""

    online: list[Viewer] = field(default_factory=list)
    phone: list[Viewer] = field(default_factory=list)
    complaint_handling: list[Viewer] = field(default_factory=list)
    on_duty: list[Viewer] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def _months_before(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, min(today.day, 28))


async def _courses(admin: Viewer) -> dict[CourseTopic, Course]:
    found: dict[CourseTopic, Course] = {}
    for code, title, topic, mark in COURSES:
        course = await Course.get_or_none(code=code)
        found[topic] = course or await training.create_course(admin, code, title, topic, mark)
    return found


async def _train(admin: Viewer, agent: Viewer, courses: list[Course], score: int) -> None:
    for course in courses:
        enrolment = await training.enrol_staff(agent, course.id)
        await training.record_assessment(admin, enrolment.id, score)


async def seed_staff_posts(
    admin: Viewer,
    agents: list[Viewer],
    senior: Viewer,
    progress: Callable[[str], None] = print,
) -> StaffCast:
    """Train, profile and post ``agents`` (in the order of ``AGENTS``) and ``senior``, the
    platform's experienced agent, as ``admin``; try a key post for the newest agent."""
    cast = StaffCast()
    courses = await _courses(admin)
    basic = [courses[CourseTopic.ETIQUETTE], courses[CourseTopic.RIGHTS_HANDLING]]
    today = state.now().date()
    plan = [(viewer, *row[2:]) for viewer, row in zip(agents, AGENTS, strict=True)]
    plan.append((senior, *SENIOR))
    assigned = 0
    for viewer, team, months, posts, on_duty, law in plan:
        await _train(
            admin, viewer, basic + ([courses[CourseTopic.ECOMMERCE_LAW]] if law else []), 88
        )
        await staff_posts.set_profile(admin, viewer.account_id, team, _months_before(today, months))
        for post in posts:
            await staff_posts.assign_post(admin, viewer.account_id, post)
            assigned += 1
            {
                Post.ONLINE_SERVICE: cast.online,
                Post.PHONE_SERVICE: cast.phone,
                Post.COMPLAINT_HANDLING: cast.complaint_handling,
            }[post].append(viewer)
        if on_duty:
            await staff_posts.set_on_duty(viewer, True)
            cast.on_duty.append(viewer)
    progress(f"  staff posts: {len(plan)} agents on {assigned} posts, {len(cast.on_duty)} on duty")
    # QS 9.3.4: the newest agent (8 months, law passed) asked for complaint handling, a key
    # post: refused for want of experience.
    newest = agents[0]
    try:
        await staff_posts.assign_post(admin, newest.account_id, Post.COMPLAINT_HANDLING)
    except ServiceError as refused:
        fact = f"{AGENTS[0][0]} on COMPLAINT_HANDLING: {refused.code}, {refused.message('en')}"
        cast.refusals.append(fact)
        progress(f"  refused (QS 9.3.4): {fact}")
    return cast
