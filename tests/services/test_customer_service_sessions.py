"""Customer-service chat sessions (QS 9.2.1, 9.2.2, 9.7.2): opening, the one-call handover,
the agents' queue, answers timed to the second, transfers and closing."""

from __future__ import annotations

import asyncio

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesKind,
    AuditEvent,
    HandoverReason,
    MessageAuthor,
    Product,
    ServiceMessage,
    ServiceSession,
    ServiceSessionState,
    StaffDuty,
)
from pinzhi.services import accounts, events
from pinzhi.services.customer_service import sessions
from tests import factories as f
from tests.conftest import DATABASE_URL
from tests.databases import is_postgres

S = ServiceSessionState
pytestmark = pytest.mark.usefixtures("db")


async def _waiting(buyer: f.Actor, **subjects: int) -> ServiceSession:
    session = await sessions.open_session(buyer.viewer, **subjects)
    return await sessions.request_human(buyer.viewer, session.id)


async def test_a_session_opens_with_the_ai_and_one_call_reaches_a_human() -> None:
    """QS 9.7.2: requestHumanAgent hands over in one call, at any time, and says so."""
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    assert session.state == S.BOT
    assert session.handed_over_at is None

    waiting = await sessions.request_human(buyer.viewer, session.id)
    assert waiting.state == S.WAITING
    assert waiting.handover_reason == HandoverReason.REQUESTED
    assert waiting.handed_over_at is not None
    assert waiting.awaiting_since == waiting.handed_over_at
    said = await ServiceMessage.filter(session_id=session.id).values_list("author_kind", "body")
    assert said == [(MessageAuthor.SYSTEM, "正在为您转接人工客服，请稍候。")]
    # Asking again while waiting changes nothing.
    again = await sessions.request_human(buyer.viewer, session.id)
    assert again.handed_over_at == waiting.handed_over_at
    assert await ServiceMessage.filter(session_id=session.id).count() == 1
    trail = await AuditEvent.filter(entity_type="ServiceSession", entity_id=session.id)
    assert [e.action for e in trail] == ["opened", "handed_over"]


async def test_a_session_about_someone_elses_order_is_refused_as_missing() -> None:
    w = await f.world()
    placed = await f.order(w.buyer, w.item)
    with pytest.raises(ServiceError) as refused:
        await sessions.open_session(w.other_buyer.viewer, order_id=placed.id)
    assert refused.value.code == ErrorCode.NOT_FOUND
    assert refused.value.field == ["orderId"]
    assert await ServiceSession.all().count() == 0
    mine = await sessions.open_session(w.buyer.viewer, order_id=placed.id)
    assert mine.order_id == placed.id


async def test_a_request_and_a_complaint_about_different_orders_are_refused() -> None:
    """QS 9.7.2: a session is about one order: a request and a complaint of two different
    orders is INVALID_INPUT on the complaint, as an order not the request's is on orderId."""
    w = await f.world()
    first, _ = await f.paid_order(w)
    second, _ = await f.paid_order(w)
    request = await f.after_sales_request(w.buyer, first, AfterSalesKind.REFUND_BEFORE_SHIPMENT, 1)
    filed = await f.complaint(w.buyer, second)
    with pytest.raises(ServiceError) as refused:
        await sessions.open_session(
            w.buyer.viewer, after_sales_request_id=request.id, complaint_id=filed.id
        )
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, ["complaintId"])
    assert await ServiceSession.all().count() == 0
    same = await f.complaint(w.buyer, first)
    both = await sessions.open_session(
        w.buyer.viewer, after_sales_request_id=request.id, complaint_id=same.id
    )
    assert (both.order_id, both.complaint_id) == (first.id, same.id)


async def test_an_id_that_does_not_decode_is_not_no_subject() -> None:
    buyer = await f.consumer()
    with pytest.raises(ServiceError) as refused:
        await sessions.open_session(buyer.viewer, order_id=None, given=(True, False, False))
    assert refused.value.code == ErrorCode.NOT_FOUND


async def test_an_accessibility_profile_goes_straight_to_a_human_first_in_line() -> None:
    """QS 9.2.1, 9.4.3: priority human service for an accessibility profile."""
    plain, helped = await f.consumer(), await f.consumer("王五", "13700000000")
    await accounts.set_accessibility_profile(helped.viewer, True)
    first = await _waiting(plain)
    second = await sessions.open_session(helped.viewer)
    assert second.state == S.WAITING
    assert second.handover_reason == HandoverReason.ACCESSIBILITY
    assert second.priority > first.priority
    agent = await f.online_agent()
    taken = await sessions.take(agent.viewer, next_in_queue=True)
    assert taken.id == second.id


async def test_a_session_about_a_quality_product_order_is_served_first() -> None:
    """QS 9.2.1: sessions about quality-service (A+/A) products come first in the queue."""
    w = await f.world()
    await Product.filter(id=w.item.id).update(grade_level="A")
    premium_order = await f.order(w.buyer, w.item)
    plain_item = await f.product(w.shop)
    plain_order = await f.order(w.other_buyer, plain_item)
    plain = await _waiting(w.other_buyer, order_id=plain_order.id)
    premium = await _waiting(w.buyer, order_id=premium_order.id)
    assert premium.priority_reasons == "PREMIUM"
    assert plain.priority == 0
    ordered = await sessions.queue(w.agent.viewer).order_by("-priority", "response_due_at", "id")
    assert [s.id for s in ordered] == [premium.id, plain.id]


async def test_first_response_exactly_at_30_seconds_is_within_the_limit(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: the first human response within 30 s; exactly 30 s is within."""
    buyer, agent = await f.consumer(), await f.online_agent()
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=30)
    sent = await sessions.send_message(agent.viewer, session.id, "您好，请问有什么可以帮您？")
    row = await ServiceSession.get(id=session.id)
    assert row.first_response_seconds == 30.0
    assert row.first_responder_id == agent.account.id
    assert row.breached_at is None
    assert sent.message.response_seconds == 30.0


async def test_first_response_past_30_seconds_is_a_breach(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: 30.5 s after the handover is over the limit: flagged on the session."""
    buyer, agent = await f.consumer(), await f.online_agent()
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=30.5)
    await sessions.send_message(agent.viewer, session.id, "Sorry for the wait")
    row = await ServiceSession.get(id=session.id)
    assert row.first_response_seconds == 30.5
    assert row.breached_at == clock.at


async def test_each_answer_is_timed_from_the_oldest_unanswered_customer_message(clock) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: response times run from when the customer started waiting."""
    buyer, agent = await f.consumer(), await f.online_agent()
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=10)
    await sessions.send_message(agent.viewer, session.id, "在的")
    clock.advance(seconds=5)
    await sessions.send_message(buyer.viewer, session.id, "我的快递三天没动了")
    clock.advance(seconds=20)
    await sessions.send_message(buyer.viewer, session.id, "在吗？")
    clock.advance(seconds=25)
    answer = await sessions.send_message(agent.viewer, session.id, "帮您查一下")
    # From the first of the two unanswered messages: 20 + 25 s.
    assert answer.message.response_seconds == 45.0
    follow_up = await sessions.send_message(agent.viewer, session.id, "已经催促快递")
    # Nothing waited for it: a follow-up is no response.
    assert follow_up.message.response_seconds is None


async def test_only_the_opener_and_the_sessions_agent_write() -> None:
    buyer, agent = await f.consumer(), await f.online_agent()
    other_agent = await f.online_agent()
    session = await _waiting(buyer)
    with pytest.raises(ServiceError) as early:
        await sessions.send_message(agent.viewer, session.id, "hi")
    assert early.value.code == ErrorCode.NOT_SESSION_PARTY
    await sessions.take(agent.viewer, session.id)
    with pytest.raises(ServiceError) as other:
        await sessions.send_message(other_agent.viewer, session.id, "hi")
    assert other.value.code == ErrorCode.NOT_SESSION_PARTY
    stranger = await f.consumer("赵六", "13600000000")
    with pytest.raises(ServiceError) as hidden:
        await sessions.send_message(stranger.viewer, session.id, "hi")
    assert hidden.value.code == ErrorCode.NOT_FOUND
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    with pytest.raises(ServiceError) as refused:
        await sessions.send_message(compliance.viewer, session.id, "hi")
    assert refused.value.code == ErrorCode.NOT_ELIGIBLE


async def test_a_merchants_session_is_its_shops() -> None:
    """A merchant writes to the platform's customer service; its shop's accounts share it."""
    shop, seller = await f.merchant()
    colleague = await f._actor(seller.account.role, merchant_id=shop.id)
    session = await sessions.open_session(seller.viewer)
    assert session.merchant_id == shop.id
    sent = await sessions.send_message(colleague.viewer, session.id, "结算单有疑问")
    assert sent.message.author_id == colleague.account.id
    _, other_seller = await f.merchant()
    with pytest.raises(ServiceError) as hidden:
        await sessions.send_message(other_seller.viewer, session.id, "hi")
    assert hidden.value.code == ErrorCode.NOT_FOUND


async def test_a_retried_send_returns_the_first_message() -> None:
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    first = await sessions.send_message(buyer.viewer, session.id, "你好", client_key="m-1")
    again = await sessions.send_message(buyer.viewer, session.id, "你好", client_key="m-1")
    assert again.duplicate and again.message.id == first.message.id
    assert await ServiceMessage.filter(author_kind=MessageAuthor.CUSTOMER).count() == 1
    with pytest.raises(ServiceError) as bad:
        await sessions.send_message(buyer.viewer, session.id, "x", client_key="no:colons")
    assert bad.value.code == ErrorCode.INVALID_INPUT


@pytest.mark.parametrize("body", ["", "   ", "a\x00b", "x" * 2001])
async def test_bad_message_bodies_are_refused_and_nothing_is_written(body: str) -> None:
    buyer = await f.consumer()
    session = await sessions.open_session(buyer.viewer)
    with pytest.raises(ServiceError) as refused:
        await sessions.send_message(buyer.viewer, session.id, body)
    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert refused.value.field == ["body"]
    assert await ServiceMessage.all().count() == 0


async def test_a_customer_keeps_at_most_three_sessions_open() -> None:
    buyer = await f.consumer()
    opened = [await sessions.open_session(buyer.viewer) for _ in range(3)]
    with pytest.raises(ServiceError) as refused:
        await sessions.open_session(buyer.viewer)
    assert refused.value.code == ErrorCode.TOO_MANY_OPEN_SESSIONS
    await sessions.close(buyer.viewer, opened[0].id)
    await sessions.open_session(buyer.viewer)


async def test_an_agent_works_at_most_the_rules_sessions_at_once() -> None:
    agent = await f.online_agent()
    for n in range(5):
        buyer = await f.consumer(f"顾客{n}", f"1370000000{n}")
        await _waiting(buyer)
    buyer = await f.consumer("顾客9", "13700000009")
    sixth = await _waiting(buyer)
    for _ in range(5):
        await sessions.take(agent.viewer, next_in_queue=True)
    with pytest.raises(ServiceError) as refused:
        await sessions.take(agent.viewer, sixth.id)
    assert refused.value.code == ErrorCode.AGENT_AT_CAPACITY
    assert (await ServiceSession.get(id=sixth.id)).state == S.WAITING


async def test_only_agents_on_the_online_post_and_on_duty_take_sessions() -> None:
    """QS 9.3.2: only staff trained and assigned to online service work its queue, and only
    while on duty; the session stays in the queue."""
    buyer = await f.consumer()
    session = await _waiting(buyer)
    untrained = await f.staff(StaffDuty.CUSTOMER_SERVICE)
    off_duty = await f.online_agent(on_duty=False)
    for agent in (untrained, off_duty):
        with pytest.raises(ServiceError) as refused:
            await sessions.take(agent.viewer, session.id)
        assert refused.value.code == ErrorCode.AGENT_UNAVAILABLE
    assert (await ServiceSession.get(id=session.id)).state == S.WAITING
    on_duty = await f.online_agent()
    assert (await sessions.take(on_duty.viewer, session.id)).agent_id == on_duty.account.id


async def test_an_empty_queue_says_so() -> None:
    agent = await f.online_agent()
    with pytest.raises(ServiceError) as refused:
        await sessions.take(agent.viewer, next_in_queue=True)
    assert refused.value.code == ErrorCode.SERVICE_QUEUE_EMPTY


async def test_two_agents_taking_one_session_one_gets_it() -> None:
    buyer = await f.consumer()
    first, second = (
        await f.online_agent(),
        await f.online_agent(),
    )
    session = await _waiting(buyer)
    results = await asyncio.gather(
        sessions.take(first.viewer, session.id),
        sessions.take(second.viewer, session.id),
        return_exceptions=True,
    )
    taken = [r for r in results if isinstance(r, ServiceSession)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(taken) == 1 and len(refused) == 1, results
    assert refused[0].code == ErrorCode.ILLEGAL_TRANSITION
    row = await ServiceSession.get(id=session.id)
    assert row.agent_id == taken[0].agent_id


@pytest.mark.skipif(not is_postgres(DATABASE_URL), reason="SKIP LOCKED needs PostgreSQL")
async def test_two_agents_taking_the_next_get_different_sessions() -> None:
    first, second = (
        await f.online_agent(),
        await f.online_agent(),
    )
    for n in range(2):
        await _waiting(await f.consumer(f"顾客{n}", f"1370000000{n}"))
    taken = await asyncio.gather(
        sessions.take(first.viewer, next_in_queue=True),
        sessions.take(second.viewer, next_in_queue=True),
    )
    assert len({s.id for s in taken}) == 2


async def test_a_transfer_passes_the_session_and_keeps_the_customer_waiting(clock) -> None:  # type: ignore[no-untyped-def]
    buyer = await f.consumer()
    agent, colleague = (
        await f.online_agent(),
        await f.online_agent(),
    )
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    clock.advance(seconds=12)
    moved = await sessions.transfer(agent.viewer, session.id, colleague.account.id)
    assert moved.agent_id == colleague.account.id
    clock.advance(seconds=8)
    answer = await sessions.send_message(colleague.viewer, session.id, "我来处理")
    assert answer.message.response_seconds == 20.0
    assert (await ServiceSession.get(id=session.id)).first_responder_id == colleague.account.id
    back = await sessions.transfer(colleague.viewer, session.id, to_queue=True)
    assert back.state == S.WAITING and back.agent_id is None
    assert back.handover_reason == HandoverReason.TRANSFERRED
    with pytest.raises(ServiceError) as refused:
        await sessions.transfer(agent.viewer, session.id, colleague.account.id)
    assert refused.value.code == ErrorCode.ILLEGAL_TRANSITION


async def test_a_transfer_to_someone_who_is_no_agent_is_refused() -> None:
    buyer, agent = await f.consumer(), await f.online_agent()
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    for target in (compliance.account.id, buyer.account.id, agent.account.id, 999_999):
        with pytest.raises(ServiceError) as refused:
            await sessions.transfer(agent.viewer, session.id, target)
        assert refused.value.code == ErrorCode.AGENT_UNAVAILABLE
    assert (await ServiceSession.get(id=session.id)).agent_id == agent.account.id


async def test_closing_ends_the_session_for_good() -> None:
    buyer, agent = await f.consumer(), await f.online_agent()
    session = await _waiting(buyer)
    await sessions.take(agent.viewer, session.id)
    closed = await sessions.close(agent.viewer, session.id)
    assert closed.state == S.CLOSED and closed.closed_at is not None
    for attempt in (
        sessions.send_message(buyer.viewer, session.id, "还在吗"),
        sessions.request_human(buyer.viewer, session.id),
        sessions.close(buyer.viewer, session.id),
    ):
        with pytest.raises(ServiceError) as refused:
            await attempt
        assert refused.value.code == ErrorCode.SESSION_CLOSED


async def test_events_name_the_rows_they_are_about() -> None:
    """Subscribers get ids, and read the rows through their own scope."""
    buyer, agent = await f.consumer(), await f.online_agent()
    session = await sessions.open_session(buyer.viewer)
    bus = events.MemoryBus()
    with events.using(bus):
        async with bus.subscribe(events.session_topic(session.id), events.QUEUE_TOPIC) as feed:
            await sessions.request_human(buyer.viewer, session.id)
            await sessions.take(agent.viewer, session.id)
            got = [await asyncio.wait_for(anext(feed), 1) for _ in range(4)]
    notices = await ServiceMessage.filter(session_id=session.id).order_by("id")
    topic = events.session_topic(session.id)
    assert got == [
        {"session": session.id, "message": notices[0].id, "topic": topic},
        {"session": session.id, "event": "QUEUED", "topic": events.QUEUE_TOPIC},
        {"session": session.id, "message": notices[1].id, "topic": topic},
        {"session": session.id, "event": "TAKEN", "topic": events.QUEUE_TOPIC},
    ]


async def test_qs_9_2_2_ending_an_agents_post_puts_their_sessions_back_in_the_queue() -> None:
    """QS 9.2.2, 9.3.2: an agent taken off the online-service post may no longer work
    chats; a session they held must not stay ACTIVE and theirs, where nobody else may
    answer it and it is in nobody's queue: it goes back to the queue, keeping its place."""
    from pinzhi.services import staff_posts

    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin)
    post = await f.on_post(admin, agent, "ONLINE_SERVICE", on_duty=True)
    buyer = await f.consumer()
    waiting = await _waiting(buyer)
    await sessions.take(agent.viewer, waiting.id)

    await staff_posts.end_post(admin.viewer, post.id, "调岗 moved")

    left = await ServiceSession.get(id=waiting.id)
    assert (left.state, left.agent_id) == (S.WAITING, None)
    supervisor = await f.staff()
    assert [s.id for s in await sessions.queue(supervisor.viewer)] == [waiting.id]
