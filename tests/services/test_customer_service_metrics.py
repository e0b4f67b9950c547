"""Human response metrics of online customer service (QS 9.2.2): first response within
30 s, average response within 60 s, per agent, team and period, breaches flagged live."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinzhi.models import ServiceSession
from pinzhi.services.customer_service import metrics, sessions
from pinzhi.services.customer_service.metrics import GroupBy
from tests import factories as f
from tests.helpers import count_sql

pytestmark = pytest.mark.usefixtures("db")


def _day(clock) -> str:  # type: ignore[no-untyped-def]
    return clock.at.strftime("%Y-%m-%d")


async def _answered(agent: f.Actor, first_after: float, then: list[float], clock) -> ServiceSession:  # type: ignore[no-untyped-def]
    """A session handed over, taken, first answered after ``first_after`` seconds, then
    a customer message answered after each of ``then``."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    await sessions.request_human(buyer.viewer, session.id)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=first_after)
    await sessions.send_message(agent.viewer, session.id, "您好")
    for wait in then:
        await sessions.send_message(buyer.viewer, session.id, "还有个问题")
        clock.advance(seconds=wait)
        await sessions.send_message(agent.viewer, session.id, "好的")
    return await sessions.close(agent.viewer, session.id)


async def test_an_average_of_exactly_60_seconds_is_within_the_limit(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: average response at most 60 s; exactly 60 is within, and first
    responses at 30 s are within theirs."""
    agent = await f.online_agent()
    await _answered(agent, 30, [90], clock)  # responses 30 and 90: average 60
    version, [platform] = await metrics.response_metrics(_day(clock))
    assert version == 1
    assert platform.first_responses == 1 and platform.first_within_limit == 1
    assert platform.responses == 2
    assert platform.response_seconds_avg == 60.0
    assert platform.responses_within_limit == 1  # the 90 s one is over 60
    assert not platform.average_breached
    assert not platform.breached


async def test_an_average_over_60_seconds_is_a_breach(clock) -> None:  # type: ignore[no-untyped-def]
    agent = await f.online_agent()
    await _answered(agent, 30, [91], clock)
    _, [platform] = await metrics.response_metrics(_day(clock))
    assert platform.response_seconds_avg == 60.5
    assert platform.average_breached and platform.breached


async def test_a_first_response_over_30_seconds_counts_as_a_breach(clock) -> None:  # type: ignore[no-untyped-def]
    agent = await f.online_agent()
    await _answered(agent, 30, [], clock)
    await _answered(agent, 31, [], clock)
    _, [platform] = await metrics.response_metrics(_day(clock))
    assert (platform.first_responses, platform.first_within_limit) == (2, 1)
    assert platform.first_within_share == 0.5
    assert platform.first_response_breaches == 1
    assert platform.first_response_seconds_avg == 30.5
    assert platform.first_response_seconds_max == 31.0


async def test_an_unanswered_session_past_its_limit_is_flagged_before_anyone_answers(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: breaches are flagged live, not only once answered."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    await sessions.request_human(buyer.viewer, session.id)
    day = _day(clock)
    _, [waiting] = await metrics.response_metrics(day, now=clock.at + timedelta(seconds=30))
    assert waiting.unanswered_overdue == 0 and not waiting.breached
    _, [late] = await metrics.response_metrics(day, now=clock.at + timedelta(seconds=30.5))
    assert late.unanswered_overdue == 1 and late.breached
    assert late.first_within_share == 0.0


async def test_metrics_per_agent_credit_each_answer_to_its_author(clock) -> None:  # type: ignore[no-untyped-def]
    quick, slow = (
        await f.online_agent(),
        await f.online_agent(),
    )
    await _answered(quick, 5, [10], clock)
    await _answered(slow, 40, [70], clock)
    _, rows = await metrics.response_metrics(_day(clock), GroupBy.AGENT)
    by_agent = {row.key: row for row in rows}
    assert by_agent[quick.account.id].response_seconds_avg == 7.5
    assert not by_agent[quick.account.id].breached
    assert by_agent[slow.account.id].response_seconds_avg == 55.0
    assert by_agent[slow.account.id].first_response_breaches == 1
    assert by_agent[slow.account.id].breached


async def test_metrics_per_team_follow_the_agents_team(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: per team, from the team on the agent's staff profile when answering."""
    first, second = await f.online_agent("一组"), await f.online_agent("二组")
    await _answered(first, 10, [20], clock)
    await _answered(second, 50, [], clock)
    _, rows = await metrics.response_metrics(_day(clock), GroupBy.TEAM)
    by_team = {row.key: row for row in rows}
    assert by_team["一组"].response_seconds_avg == 15.0 and not by_team["一组"].breached
    assert by_team["二组"].first_response_breaches == 1


async def test_periods_are_months_or_days(clock) -> None:  # type: ignore[no-untyped-def]
    agent = await f.online_agent()
    await _answered(agent, 3, [], clock)
    month = clock.at.strftime("%Y-%m")
    _, [row] = await metrics.response_metrics(month)
    assert row.sessions == 1
    _, none = await metrics.response_metrics("2020-01-01")
    assert none == []
    for bad in ("2026-13", "2026-02-30", "yesterday", "2026-1-1"):
        with pytest.raises(metrics.ServiceError):
            await metrics.response_metrics(bad)


async def test_the_metrics_take_two_statements_whatever_the_number_of_sessions(clock) -> None:  # type: ignore[no-untyped-def]
    """Grouped aggregates: the statement count does not grow with sessions or agents."""
    counted = []
    for sessions_wanted in (1, 12):
        agent = await f.online_agent()
        for _ in range(sessions_wanted):
            await _answered(agent, 4, [6], clock)
        for group in GroupBy:
            with count_sql() as sql:
                await metrics.response_metrics(_day(clock), group)
            counted.append(sql.count)
    # One rule read and two aggregates, each time.
    assert set(counted) == {3}, counted


async def test_the_sweep_stamps_an_overdue_session_once_and_announces_it(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: a breach becomes part of the record, traced, and reaches supervisors."""
    import asyncio

    from pinzhi.models import AuditEvent
    from pinzhi.services import events, jobs
    from pinzhi.services.customer_service import sweep

    buyer = await f.consumer()
    agent = await f.online_agent()
    late = await sessions.request_human(
        buyer.viewer, (await sessions.open_session(buyer.viewer)).id
    )
    answered = await _answered(agent, 3, [], clock)
    due = late.response_due_at
    assert due is not None
    assert await sweep.sweep(due) == 0
    bus = events.MemoryBus()
    with events.using(bus):
        async with bus.subscribe(events.QUEUE_TOPIC) as feed:
            summary = await jobs.run(
                "service-breach-sweep",
                progress=lambda _: None,
                now=due + timedelta(seconds=1),
            )
            got = await asyncio.wait_for(anext(feed), 1)
    assert summary == {"breached": 1}
    assert got["session"] == late.id and got["event"] == "BREACHED"
    row = await ServiceSession.get(id=late.id)
    assert row.breached_at == due + timedelta(seconds=1)
    assert (await ServiceSession.get(id=answered.id)).breached_at is None
    assert await sweep.sweep(due + timedelta(minutes=5)) == 0
    trail = await AuditEvent.filter(entity_type="ServiceSession", entity_id=late.id)
    assert [e.action for e in trail][-1] == "breached"
