"""Handing a session to a human, and what the platform says in a session (QS 9.2.2, 9.7.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    HandoverReason,
    MessageAuthor,
    ServiceMessage,
    ServiceSession,
    ServiceSessionState,
)
from pinzhi.services import state

# What the platform says in a session when it changes hands, in the session's language.
SYSTEM_TEXT = {
    "handover": (
        "正在为您转接人工客服，请稍候。",
        "Transferring you to an agent, one moment please.",
    ),
    "taken": ("人工客服已接入，很高兴为您服务。", "An agent has joined and is here to help."),
    "transferred": ("您的会话已转给另一位客服。", "Your session was passed to another agent."),
    "requeued": (
        "您的会话已转回排队，下一位客服会尽快接入。",
        "Your session is back in the queue; the next agent will join shortly.",
    ),
    "closed": ("会话已结束，感谢您的耐心。", "The session is closed. Thank you for your patience."),
}


def system_text(key: str, language: str) -> str:
    zh, en = SYSTEM_TEXT[key]
    return en if language == "en" else zh


async def hand_over(
    session: ServiceSession,
    reason: HandoverReason,
    content: dict[str, Any],
    *,
    actor: Viewer | None,
) -> ServiceMessage:
    """BOT → WAITING: the first-response clock starts now (QS 9.2.2, 9.7.2)."""
    moment = state.now()
    await state.move(
        session,
        ServiceSessionState.WAITING,
        actor=actor,
        action="handed_over",
        data={"reason": str(reason)},
        handover_reason=reason,
        handed_over_at=moment,
        response_due_at=moment + timedelta(seconds=content["first_response_seconds"]),
        awaiting_since=moment,
    )
    return await system_message(session, "handover", moment)


async def system_message(session: ServiceSession, key: str, moment: datetime) -> ServiceMessage:
    return await ServiceMessage.create(
        session_id=session.id,
        author_kind=MessageAuthor.SYSTEM,
        body=system_text(key, session.language),
        created_at=moment,
    )


async def requeue_agents_sessions(agent_id: int, *, actor: Viewer, reason: str) -> list[int]:
    """Put back in the queue, keeping their places, the sessions an agent works who may no
    longer work them (taken off the online-service post, QS 9.3.2): otherwise they would
    stay ACTIVE and the agent's, where nobody else may answer. Inside the caller's
    transaction; the caller announces the ids returned once it commits."""
    moment = state.now()
    held = (
        await ServiceSession.filter(agent_id=agent_id, state=ServiceSessionState.ACTIVE)
        .order_by("id")
        .select_for_update()
    )
    for session in held:
        await state.move(
            session,
            ServiceSessionState.WAITING,
            actor=actor,
            action="requeued",
            data={"from_agent": agent_id, "reason": reason},
            agent_id=None,
            taken_at=None,
            handover_reason=HandoverReason.TRANSFERRED,
        )
        await system_message(session, "requeued", moment)
    return [session.id for session in held]
