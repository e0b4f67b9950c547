"""Customer-service chat sessions (QS 9.2.1, 9.2.2, 9.7.2).

A consumer (or a merchant's account, towards the platform) opens a session, optionally
about an order, after-sales request or complaint of theirs. The AI answers first
(``bot``); ``request_human`` hands over in one call at any time, and the AI hands over by
itself when it is unsure or keeps failing. A handed-over session waits in the agents'
queue by priority (rule ``customer_service.chat``), an agent takes it, answers, transfers
it and closes it.

Timing is stamped as it happens: the handover starts the first-response clock, each
customer message waits until an agent message answers it (``awaiting_since``), and the
answer records how long that took. Metrics are aggregates over those stamps
(``metrics``). Every change of a session's state is a traced key node; messages are
immutable rows. Events are published after the transaction commits (``services/events``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    Account,
    AfterSalesRequest,
    Complaint,
    HandoverReason,
    MessageAuthor,
    Order,
    OrderLine,
    PlatformRule,
    Post,
    Product,
    Role,
    ServiceMessage,
    ServiceSession,
    ServiceSessionState,
    StaffDuty,
)
from pinzhi.services import audit, events, rules, staff_posts, state, validation
from pinzhi.services.customer_service import bot, handover
from pinzhi.services.lookup import get_visible

S = ServiceSessionState
RULE = "customer_service.chat"
OPEN_STATES = frozenset({S.BOT, S.WAITING, S.ACTIVE})
HUMAN_STATES = frozenset({S.WAITING, S.ACTIVE})
CLIENT_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Sent:
    """What a send made: the message, what the AI or the platform answered, and whether
    the send was a retry of an earlier one (same client key)."""

    message: ServiceMessage
    replies: list[ServiceMessage]
    session: ServiceSession
    duplicate: bool = False


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


async def _rule_for(session: ServiceSession) -> dict[str, Any]:
    """The limits the session was opened under (its stored version)."""
    rule: PlatformRule = await rules.version(RULE, session.rule_version)
    return rule.content


async def _priority(
    order_id: int | None, accessibility: bool, content: dict[str, Any]
) -> tuple[int, list[str]]:
    """QS 9.2.1: quality-service products and accessibility profiles first."""
    weights = content["weights"]
    earned, reasons = 0, []
    if order_id is not None:
        product_ids = Subquery(OrderLine.filter(order_id=order_id).values("product_id"))
        levels = await Product.filter(id__in=product_ids).values_list("grade_level", flat=True)
        if levels and all(level in content["premium_levels"] for level in levels):
            earned += weights["premium"]
            reasons.append("PREMIUM")
    if accessibility:
        earned += weights["accessibility"]
        reasons.append("ACCESSIBILITY")
    return int(earned), reasons


async def _subjects(
    viewer: Viewer,
    order_id: int | None,
    after_sales_request_id: int | None,
    complaint_id: int | None,
    given: tuple[bool, bool, bool],
) -> dict[str, int | None]:
    """The session's subjects, each one the opener may read (else NOT_FOUND on its field).
    A request or complaint brings its order with it."""
    order_given, request_given, complaint_given = given
    found: dict[str, int | None] = {
        "order_id": None,
        "after_sales_request_id": None,
        "complaint_id": None,
    }
    if request_given:
        request = await get_visible(
            viewer, AfterSalesRequest, after_sales_request_id, "afterSalesRequestId"
        )
        found["after_sales_request_id"] = request.id
        found["order_id"] = request.order_id
    if complaint_given:
        complaint = await get_visible(viewer, Complaint, complaint_id, "complaintId")
        if None not in (found["order_id"], complaint.order_id) and (
            found["order_id"] != complaint.order_id
        ):
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("complaintId",), "not the order of the request"
            )
        found["complaint_id"] = complaint.id
        found["order_id"] = found["order_id"] or complaint.order_id
    if order_given:
        order = await get_visible(viewer, Order, order_id, "orderId")
        if found["order_id"] not in (None, order.id):
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("orderId",), "not the order of the request or complaint"
            )
        found["order_id"] = order.id
    return found


async def open_session(
    viewer: Viewer,
    *,
    order_id: int | None = None,
    after_sales_request_id: int | None = None,
    complaint_id: int | None = None,
    given: tuple[bool, bool, bool] | None = None,
    language: str = "zh",
) -> ServiceSession:
    """Open a session. ``given`` says which subject ids the client sent (an id that does not
    decode arrives as None and is NOT_FOUND, not "no subject"); by default, the non-None
    ones. An accessibility profile goes straight to a human (QS 9.4.3)."""
    require(viewer, Action.OPEN_SERVICE_SESSION)
    assert viewer.account_id is not None
    if given is None:
        given = (order_id is not None, after_sales_request_id is not None, complaint_id is not None)
    rule = await rules.current(RULE)
    content = rule.content
    subjects = await _subjects(viewer, order_id, after_sales_request_id, complaint_id, given)
    opener = await Account.get(id=viewer.account_id)
    accessibility = viewer.role == Role.CONSUMER and opener.accessibility_profile
    priority, reasons = await _priority(subjects["order_id"], accessibility, content)
    async with in_transaction():
        # The opener's row orders two opens at once, so the limit holds (PostgreSQL).
        await Account.filter(id=opener.id).select_for_update().first()
        open_count = await ServiceSession.filter(
            opener_id=opener.id, state__in=list(OPEN_STATES)
        ).count()
        if open_count >= content["max_open_per_customer"]:
            raise ServiceError(ErrorCode.TOO_MANY_OPEN_SESSIONS, (), str(open_count))
        session = await state.create(
            ServiceSession,
            actor=viewer,
            action="opened",
            data={**subjects, "priority": priority, "rule_version": rule.version},
            opener_id=opener.id,
            opener_role=viewer.role,
            merchant_id=viewer.merchant_id if viewer.role == Role.MERCHANT else None,
            language="en" if language == "en" else "zh",
            priority=priority,
            priority_reasons=",".join(reasons),
            rule_version=rule.version,
            **subjects,
        )
        if accessibility:
            await handover.hand_over(session, HandoverReason.ACCESSIBILITY, content, actor=viewer)
    if session.state == S.WAITING:
        await events.publish(events.QUEUE_TOPIC, {"session": session.id, "event": "QUEUED"})
    return session


def _is_opener(viewer: Viewer, session: ServiceSession) -> bool:
    if viewer.account_id == session.opener_id:
        return True
    # Every account of a shop works its shop's sessions.
    return (
        viewer.role == Role.MERCHANT
        and session.merchant_id is not None
        and viewer.merchant_id == session.merchant_id
    )


async def _locked(
    viewer: Viewer, session_id: int | None, field: str = "sessionId"
) -> ServiceSession:
    seen = await get_visible(viewer, ServiceSession, session_id, field)
    row = await ServiceSession.filter(id=seen.id).select_for_update().first()
    assert row is not None
    return row


def _client_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not CLIENT_KEY.fullmatch(value):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("clientKey",), "1–64 of A–Z, a–z, 0–9, _ . -")
    return value


async def send_message(
    viewer: Viewer, session_id: int | None, body: str, *, client_key: str | None = None
) -> Sent:
    """The opener writes as the customer, the session's agent as the agent. A retried send
    (same client key in the session) returns what the first made and changes nothing."""
    require(viewer, Action.SEND_SERVICE_MESSAGE)
    key = _client_key(client_key)
    async with in_transaction():
        session = await _locked(viewer, session_id)
        content = await _rule_for(session)
        text = validation.text(body, "body", max_len=content["max_message_length"], multiline=True)
        if key is not None:
            earlier = await ServiceMessage.filter(session_id=session.id, client_key=key).first()
            if earlier is not None:
                if earlier.author_id != viewer.account_id:
                    raise ServiceError(ErrorCode.IDEMPOTENCY_KEY_REUSED, ("clientKey",))
                replies = (
                    await ServiceMessage.filter(
                        session_id=session.id,
                        id__gt=earlier.id,
                        author_kind__in=[MessageAuthor.AI, MessageAuthor.SYSTEM],
                    )
                    .order_by("id")
                    .limit(2)
                )
                return Sent(earlier, replies, session, duplicate=True)
        if session.state == S.CLOSED:
            raise ServiceError(ErrorCode.SESSION_CLOSED, ("sessionId",))
        moment = state.now()
        if _is_opener(viewer, session):
            message, replies = await _customer_message(viewer, session, text, key, moment, content)
        elif viewer.role == Role.STAFF and viewer.account_id == session.agent_id:
            message = await _agent_message(viewer, session, text, key, moment, content)
            replies = []
        else:
            raise ServiceError(ErrorCode.NOT_SESSION_PARTY, ("sessionId",))
    await _announce(session, [message, *replies])
    return Sent(message, replies, session)


async def _customer_message(
    viewer: Viewer,
    session: ServiceSession,
    text: str,
    key: str | None,
    moment: datetime,
    content: dict[str, Any],
) -> tuple[ServiceMessage, list[ServiceMessage]]:
    message = await ServiceMessage.create(
        session_id=session.id,
        author_kind=MessageAuthor.CUSTOMER,
        author_id=viewer.account_id,
        body=text,
        client_key=key,
        created_at=moment,
    )
    if session.state == S.BOT:
        return message, await bot.answer(viewer, session, message, content)
    if session.awaiting_since is None:
        # The customer now waits for an agent's answer (QS 9.2.2).
        session.awaiting_since = moment
        await ServiceSession.filter(id=session.id).update(awaiting_since=moment, updated_at=moment)
    return message, []


async def _agent_message(
    viewer: Viewer,
    session: ServiceSession,
    text: str,
    key: str | None,
    moment: datetime,
    content: dict[str, Any],
) -> ServiceMessage:
    """QS 9.2.2: an agent's message answers whatever the customer waited for; the first
    one after the handover stamps the first response, and a late one the breach."""
    if session.state != S.ACTIVE:
        raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("sessionId",), f"session {session.state}")
    team = await staff_posts.team_of(viewer.account_id)
    waited = None if session.awaiting_since is None else _seconds(moment, session.awaiting_since)
    message = await ServiceMessage.create(
        session_id=session.id,
        author_kind=MessageAuthor.AGENT,
        author_id=viewer.account_id,
        body=text,
        client_key=key,
        response_seconds=waited,
        team=team,
        created_at=moment,
    )
    updates: dict[str, Any] = {"awaiting_since": None, "updated_at": moment}
    if session.first_response_at is None:
        assert session.handed_over_at is not None
        first = _seconds(moment, session.handed_over_at)
        updates.update(
            first_response_at=moment,
            first_response_seconds=first,
            first_responder_id=viewer.account_id,
            first_responder_team=team,
        )
        if first > content["first_response_seconds"] and session.breached_at is None:
            updates["breached_at"] = moment
    await ServiceSession.filter(id=session.id).update(**updates)
    for name, value in updates.items():
        setattr(session, name, value)
    return message


async def _announce(session: ServiceSession, messages: list[ServiceMessage]) -> None:
    topic = events.session_topic(session.id)
    for message in messages:
        await events.publish(topic, {"session": session.id, "message": message.id})


async def request_human(viewer: Viewer, session_id: int | None) -> ServiceSession:
    """QS 9.7.2: one call, at any time, puts the session in the agents' queue. Asking again
    while it waits or is worked changes nothing."""
    require(viewer, Action.REQUEST_HUMAN_AGENT)
    async with in_transaction():
        session = await _locked(viewer, session_id)
        if not _is_opener(viewer, session):
            raise ServiceError(ErrorCode.NOT_SESSION_PARTY, ("sessionId",))
        if session.state == S.CLOSED:
            raise ServiceError(ErrorCode.SESSION_CLOSED, ("sessionId",))
        if session.state != S.BOT:
            return session
        content = await _rule_for(session)
        notice = await handover.hand_over(session, HandoverReason.REQUESTED, content, actor=viewer)
    await _announce(session, [notice])
    await events.publish(events.QUEUE_TOPIC, {"session": session.id, "event": "QUEUED"})
    return session


def queue(viewer: Viewer) -> QuerySet[ServiceSession]:
    """QS 9.2.1: the sessions waiting for an agent, for ``resolvers/pagination.queue_page``
    (priority, deadline, age)."""
    return scope(viewer, ServiceSession).filter(state=S.WAITING)


async def _check_agent(agent_id: int, content: dict[str, Any], field: str) -> Account:
    """An agent who may take one more session: active customer-service staff holding the
    online-service post and on duty (QS 9.3.2: only staff trained for the post work it),
    under the rule's limit of sessions at once."""
    agent = await Account.get_or_none(id=agent_id, role=Role.STAFF, is_active=True)
    if (
        agent is None
        or str(StaffDuty.CUSTOMER_SERVICE) not in agent.duties.split(",")
        or not await staff_posts.is_on_duty(agent_id, Post.ONLINE_SERVICE)
    ):
        raise ServiceError(ErrorCode.AGENT_UNAVAILABLE, (field,))
    working = await ServiceSession.filter(agent_id=agent_id, state=S.ACTIVE).count()
    if working >= content["max_active_per_agent"]:
        raise ServiceError(ErrorCode.AGENT_AT_CAPACITY, (field,), str(working))
    return agent


async def take(
    viewer: Viewer, session_id: int | None = None, *, next_in_queue: bool = False
) -> ServiceSession:
    """An agent takes a waiting session: the one named, or the head of the queue. Two
    agents taking one session at once: one gets it, the other is refused."""
    require(viewer, Action.TAKE_SERVICE_SESSION)
    assert viewer.account_id is not None
    async with in_transaction():
        # The agent's row orders one agent's takes, so the limit of sessions at once holds.
        await Account.filter(id=viewer.account_id).select_for_update().first()
        if next_in_queue:
            head = (
                await queue(viewer)
                .order_by("-priority", "response_due_at", "id")
                .select_for_update(skip_locked=True)
                .first()
            )
            if head is None:
                raise ServiceError(ErrorCode.SERVICE_QUEUE_EMPTY)
            session = head
        else:
            session = await _locked(viewer, session_id)
        await _check_agent(viewer.account_id, await _rule_for(session), "sessionId")
        if session.state != S.WAITING:
            raise ServiceError(
                ErrorCode.ILLEGAL_TRANSITION, ("sessionId",), f"session {session.state}"
            )
        moment = state.now()
        await state.move(
            session,
            S.ACTIVE,
            actor=viewer,
            action="taken",
            field="sessionId",
            agent_id=viewer.account_id,
            taken_at=moment,
        )
        notice = await handover.system_message(session, "taken", moment)
    await _announce(session, [notice])
    await events.publish(events.QUEUE_TOPIC, {"session": session.id, "event": "TAKEN"})
    return session


async def transfer(
    viewer: Viewer,
    session_id: int | None,
    to_agent_id: int | None = None,
    *,
    to_queue: bool = False,
) -> ServiceSession:
    """The session's agent passes it to another agent, or back to the queue, where it keeps
    its place (priority and deadline). The customer's wait goes on: a transfer answers
    nothing."""
    require(viewer, Action.TRANSFER_SERVICE_SESSION)
    async with in_transaction():
        session = await _locked(viewer, session_id)
        if session.state != S.ACTIVE:
            raise ServiceError(
                ErrorCode.ILLEGAL_TRANSITION, ("sessionId",), f"session {session.state}"
            )
        if session.agent_id != viewer.account_id:
            raise ServiceError(ErrorCode.NOT_SESSION_PARTY, ("sessionId",))
        moment = state.now()
        if to_queue:
            await state.move(
                session,
                S.WAITING,
                actor=viewer,
                action="requeued",
                field="sessionId",
                data={"from_agent": viewer.account_id},
                agent_id=None,
                taken_at=None,
                handover_reason=HandoverReason.TRANSFERRED,
            )
            notice = await handover.system_message(session, "requeued", moment)
            event = "QUEUED"
        else:
            if to_agent_id is None or to_agent_id == viewer.account_id:
                raise ServiceError(ErrorCode.AGENT_UNAVAILABLE, ("toAgentId",))
            content = await _rule_for(session)
            target = await _check_agent(to_agent_id, content, "toAgentId")
            changed = await ServiceSession.filter(
                id=session.id, state=S.ACTIVE, agent_id=viewer.account_id
            ).update(agent_id=target.id, taken_at=moment, updated_at=moment)
            if changed != 1:
                raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("sessionId",), "concurrent")
            session.agent_id, session.taken_at = target.id, moment
            await audit.append(
                "ServiceSession",
                session.id,
                "transferred",
                actor=viewer,
                data={"from_agent": viewer.account_id, "to_agent": target.id},
            )
            notice = await handover.system_message(session, "transferred", moment)
            event = "TRANSFERRED"
    await _announce(session, [notice])
    await events.publish(events.QUEUE_TOPIC, {"session": session.id, "event": event})
    return session


async def close(viewer: Viewer, session_id: int | None) -> ServiceSession:
    """The opener or the session's agent closes it; closing again is refused."""
    require(viewer, Action.CLOSE_SERVICE_SESSION)
    async with in_transaction():
        session = await _locked(viewer, session_id)
        if not (_is_opener(viewer, session) or viewer.account_id == session.agent_id):
            raise ServiceError(ErrorCode.NOT_SESSION_PARTY, ("sessionId",))
        if session.state == S.CLOSED:
            raise ServiceError(ErrorCode.SESSION_CLOSED, ("sessionId",))
        moment = state.now()
        was_waiting = session.state == S.WAITING
        await state.move(
            session,
            S.CLOSED,
            actor=viewer,
            action="closed",
            field="sessionId",
            closed_at=moment,
            awaiting_since=None,
        )
        notice = await handover.system_message(session, "closed", moment)
    await _announce(session, [notice])
    if was_waiting:
        await events.publish(events.QUEUE_TOPIC, {"session": session.id, "event": "CLOSED"})
    return session
