"""Staff performance (QS 9.3.3): satisfaction, complaint closure and chat response
compliance per staff member and month, weighted by the published rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Complaint, StaffDuty
from pinzhi.services import complaints, rules, staff_performance
from pinzhi.services.customer_service import sessions
from pinzhi.services.scoring import current_period
from tests import factories as f
from tests.helpers import count_sql


async def _case(w: f.World, agent: f.Actor, *, resolve: bool, rating: int | None = None):  # type: ignore[no-untyped-def]
    """A complaint of the world's buyer taken by ``agent``; resolved (not upheld) and rated
    ``rating`` by the buyer when asked."""
    placed, _ = await f.paid_order(w)
    filed = await f.complaint(w.buyer, placed)
    await complaints.take_complaint(agent.viewer, filed.id)
    if resolve:
        await complaints.handle_complaint(
            agent.viewer, filed.id, resolution="已处理 handled", upheld=False
        )
    if rating is not None:
        await f.feedback(w.buyer, "SERVICE_CASE", filed.id, rating)
    return filed


async def _chat(agent: f.Actor, clock, first_after: float, then: list[float]) -> None:  # type: ignore[no-untyped-def]
    """A session answered first after ``first_after`` seconds, then a customer message
    answered after each of ``then``."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    await sessions.request_human(buyer.viewer, session.id)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=first_after)
    await sessions.send_message(agent.viewer, session.id, "您好 hello")
    for wait in then:
        await sessions.send_message(buyer.viewer, session.id, "还有个问题 one more")
        clock.advance(seconds=wait)
        await sessions.send_message(agent.viewer, session.id, "好的 sure")
    await sessions.close(agent.viewer, session.id)


async def test_a_score_by_the_rule_checked_by_hand(db, clock) -> None:
    """QS 9.3.3, by the default weights (satisfaction 0.4, closure 0.4, response 0.2):

    - satisfaction: feedback 5, 4 and 2 on the agent's cases, mean 3.67 on the 1-5 scale:
      (3.67 - 1) / (5 - 1) = 66.75;
    - closure: 4 complaints open in the month, 3 resolved in it: 75.0 (a fifth, resolved
      the month before, does not count);
    - response: chat answers after 30, 90 and 20 seconds, 2 of 3 within 60 s: 0.6667, 66.67;
    - score: 0.4 x 66.75 + 0.4 x 75 + 0.2 x 66.67 = 70.03.
    """
    w = await f.world()
    agent = w.agent = await f.online_agent()
    for rating in (5, 4, 2):
        await _case(w, agent, resolve=True, rating=rating)
    await _case(w, agent, resolve=False)
    earlier = await _case(w, agent, resolve=True, rating=1)
    last_month = clock.at.replace(day=1) - timedelta(days=2)
    await Complaint.filter(id=earlier.id).update(created_at=last_month, resolved_at=last_month)
    from pinzhi.models import Feedback

    await Feedback.filter(subject_id=earlier.id).update(created_at=last_month)
    await _chat(agent, clock, 30, [90, 20])

    report = await staff_performance.performance([agent.account.id])
    assert report.period == current_period(clock.at)
    assert report.rule_version == (await rules.current(staff_performance.RULE_KEY)).version
    found = report.by_account[agent.account.id]
    assert (found.satisfaction.count, found.satisfaction.value) == (3, 3.67)
    assert found.satisfaction.score == 66.75
    assert (found.closure.count, found.closure.hits, found.closure.value) == (4, 3, 0.75)
    assert found.closure.score == 75.0
    assert (found.response.count, found.response.hits, found.response.value) == (3, 2, 0.6667)
    assert found.response.score == 66.67
    assert found.weights == {"satisfaction": 0.4, "closure": 0.4, "response": 0.2}
    assert found.score == 70.03

    # The month before: only the case resolved then, rated 1: satisfaction 0, closure 100.
    before = await staff_performance.performance([agent.account.id], last_month.strftime("%Y-%m"))
    earlier_month = before.by_account[agent.account.id]
    assert (earlier_month.satisfaction.score, earlier_month.closure.score) == (0.0, 100.0)
    assert earlier_month.response.score is None
    assert earlier_month.weights == {"satisfaction": 0.5, "closure": 0.5}
    assert earlier_month.score == 50.0


async def test_a_part_without_data_is_left_out_and_the_weights_renormalised(db, clock) -> None:
    """QS 9.3.3: an agent with cases but no chat answers is scored on satisfaction and
    closure alone (weights 0.5 and 0.5); one with nothing has no score."""
    w = await f.world()
    second = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    idle = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    await _case(w, second, resolve=True, rating=5)
    await _case(w, second, resolve=False)
    report = await staff_performance.performance([second.account.id, idle.account.id])
    found = report.by_account[second.account.id]
    assert (found.satisfaction.score, found.closure.score, found.response.score) == (
        100.0,
        50.0,
        None,
    )
    assert found.weights == {"satisfaction": 0.5, "closure": 0.5}
    assert found.score == 75.0
    nothing = report.by_account[idle.account.id]
    assert (nothing.score, nothing.weights) == (None, {})


async def test_the_weights_are_the_rule_in_force(db, clock) -> None:
    """QS 9.3.3, 5.2: a new version of the rule changes the weighting; the result names it."""
    w = await f.world()
    await _case(w, w.agent, resolve=True, rating=5)  # satisfaction 100, closure 100
    await _case(w, w.agent, resolve=False)  # closure 50
    admin = await f.staff(StaffDuty.ADMIN)
    content = dict((await rules.current(staff_performance.RULE_KEY)).content)
    content["weights"] = {"satisfaction": 0.1, "closure": 0.9, "response": 0.0}
    published = await rules.publish_checked(admin.viewer, staff_performance.RULE_KEY, content, None)
    report = await staff_performance.performance([w.agent.account.id])
    found = report.by_account[w.agent.account.id]
    assert report.rule_version == published.version
    assert found.score == 55.0  # 0.1 x 100 + 0.9 x 50


async def test_performance_is_a_fixed_number_of_statements(db, clock) -> None:
    """QS 9.3.3: seven statements, for one staff member or many: the rule, the complaints
    grouped by assignee, the feedback grouped by case and its cases' assignees, and the chat
    metrics' rule and two grouped counts."""
    w = await f.world()
    others = [await f.online_agent() for _ in range(3)]
    await _case(w, w.agent, resolve=True, rating=4)
    with count_sql() as one:
        await staff_performance.performance([w.agent.account.id])
    for other in others:
        await _case(w, other, resolve=True, rating=3)
        await _chat(other, clock, 10, [])
    with count_sql() as many:
        report = await staff_performance.performance(
            [w.agent.account.id, *(o.account.id for o in others)]
        )
    assert one.count == many.count == 7, many.statements
    assert all(report.by_account[o.account.id].response.value == 1.0 for o in others)


async def test_a_month_is_written_yyyy_mm(db) -> None:
    with pytest.raises(ServiceError) as refused:
        await staff_performance.performance([1], "2026-13")
    assert refused.value.code == ErrorCode.INVALID_MONTH


def test_combine_renormalises_over_the_parts_with_data() -> None:
    """QS 9.3.3: the weights of the parts present, scaled to sum to 1."""
    weights = {"satisfaction": 0.4, "closure": 0.4, "response": 0.2}
    assert staff_performance.combine(
        {"satisfaction": None, "closure": 80.0, "response": 50.0}, weights
    ) == ({"closure": 0.6667, "response": 0.3333}, 70.0)
    assert staff_performance.combine({"satisfaction": None}, weights) == ({}, None)


async def test_no_staff_no_rows(db) -> None:
    report = await staff_performance.performance([])
    assert report.by_account == {}
