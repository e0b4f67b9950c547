"""Customer-service chat: sessions, messages and response metrics (QS 9.2.2, 9.7.2)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.accounts import Account
from pinzhi.schema.base import Connection, Node, UserError, to_global_id
from pinzhi.schema.enums import HandoverReason, MessageAuthor, ServiceSessionState
from pinzhi.schema.orders import Order
from pinzhi.services import state


@strawberry.type(description="A message in a customer-service session.")
class ServiceMessage(Node):
    author_kind: MessageAuthor
    body: str
    intent: str | None = strawberry.field(
        description="What the AI recognised in a customer message, or answered (QS 9.7.1)."
    )
    confidence: float | None = strawberry.field(description="The AI's confidence, 0-1.")
    response_seconds: float | None = strawberry.field(
        description="On an agent message that answered a waiting customer: how long the "
        "customer waited, from their oldest unanswered message or the handover (QS 9.2.2)."
    )
    created_at: datetime
    session_id: strawberry.ID
    author_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.ServiceMessage) -> ServiceMessage:
        return cls(
            id=to_global_id("ServiceMessage", row.id),
            session_id=to_global_id("ServiceSession", row.session_id),
            author_kind=row.author_kind,
            body=row.body,
            intent=row.intent,
            confidence=row.confidence,
            response_seconds=row.response_seconds,
            created_at=row.created_at,
            author_pk=row.author_id,
        )

    @strawberry.field(description="The customer or agent who wrote it; null for the AI.")
    async def author(self, info: Info) -> Account | None:
        if self.author_pk is None:
            return None
        row = await info.context.loaders.account_by_id.load(self.author_pk)
        return Account.from_row(row) if row else None


@strawberry.type(
    description="A customer-service session (QS 9.2.2, 9.7.2): the AI answers first; a "
    "handover puts it in the agents' queue, where the first-response clock runs."
)
class ServiceSession(Node):
    state: ServiceSessionState
    language: str
    priority: int = strawberry.field(
        description="Its place in the agents' queue, higher first (QS 9.2.1)."
    )
    priority_reasons: list[str] = strawberry.field(
        description="What earned the priority: PREMIUM (quality-service products), ACCESSIBILITY."
    )
    handover_reason: HandoverReason | None
    handed_over_at: datetime | None
    response_due_at: datetime | None = strawberry.field(
        description="The handover plus the first-response limit (30 s by the rule)."
    )
    taken_at: datetime | None
    first_response_at: datetime | None
    first_response_seconds: float | None
    breached_at: datetime | None = strawberry.field(
        description="When the first response was found late: answered late, or the sweep "
        "found it overdue."
    )
    rule_version: int = strawberry.field(
        description="The version of customer_service.chat the session is held to."
    )
    created_at: datetime
    closed_at: datetime | None
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]
    agent_pk: strawberry.Private[int | None]
    awaiting_since: strawberry.Private[datetime | None]

    @classmethod
    def from_row(cls, row: models.ServiceSession) -> ServiceSession:
        return cls(
            id=to_global_id("ServiceSession", row.id),
            pk=row.id,
            order_pk=row.order_id,
            agent_pk=row.agent_id,
            awaiting_since=row.awaiting_since,
            state=row.state,
            language=row.language,
            priority=row.priority,
            priority_reasons=[r for r in row.priority_reasons.split(",") if r],
            handover_reason=row.handover_reason,
            handed_over_at=row.handed_over_at,
            response_due_at=row.response_due_at,
            taken_at=row.taken_at,
            first_response_at=row.first_response_at,
            first_response_seconds=row.first_response_seconds,
            breached_at=row.breached_at,
            rule_version=row.rule_version,
            created_at=row.created_at,
            closed_at=row.closed_at,
        )

    @strawberry.field(
        description="Live: handed over, unanswered, and past its first-response limit now."
    )
    def first_response_overdue(self) -> bool:
        return (
            self.first_response_at is None
            and self.response_due_at is not None
            and self.state
            in (models.ServiceSessionState.WAITING, models.ServiceSessionState.ACTIVE)
            and state.now() > self.response_due_at
        )

    @strawberry.field(
        description="Live: how long the customer has waited for an agent's answer, in "
        "seconds; null when nobody waits."
    )
    def waiting_seconds(self) -> float | None:
        if self.awaiting_since is None or self.state == models.ServiceSessionState.CLOSED:
            return None
        return round((state.now() - self.awaiting_since).total_seconds(), 3)

    @strawberry.field(description="The order it is about, if any.")
    async def order(self, info: Info) -> Order | None:
        if self.order_pk is None:
            return None
        row = await info.context.loaders.order_by_id.load(self.order_pk)
        return Order.from_row(row) if row else None

    @strawberry.field(description="The agent working it (masked as accounts are).")
    async def agent(self, info: Info) -> Account | None:
        if self.agent_pk is None:
            return None
        row = await info.context.loaders.account_by_id.load(self.agent_pk)
        return Account.from_row(row) if row else None

    @strawberry.field(
        description="Its messages, newest first. Regulators read a session's timing, not "
        "its conversation: for them the list is empty."
    )
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ServiceMessage]:
        found = await scoped_page(
            info.context.viewer,
            models.ServiceMessage,
            Window(first, after, last, before),
            session_id=self.pk,
        )
        return Connection.of(found, [ServiceMessage.from_row(r) for r in found.rows])


@strawberry.enum(description="What happened in the agents' queue.")
class ServiceQueueEventKind(Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Handed over, or sent back to the queue.")
    TAKEN = strawberry.enum_value("TAKEN", description="An agent took it.")
    TRANSFERRED = strawberry.enum_value(
        "TRANSFERRED", description="Its agent passed it to another agent."
    )
    CLOSED = strawberry.enum_value("CLOSED", description="Closed while it waited.")
    BREACHED = strawberry.enum_value(
        "BREACHED", description="Found past its first-response limit by the sweep (QS 9.2.2)."
    )
    RESYNC = strawberry.enum_value(
        "RESYNC",
        description="Events may have been lost (the server's link to its event bus dropped, "
        "or this client fell far behind): read serviceQueue again. No session.",
    )


@strawberry.type(description="A change of the agents' queue (QS 9.2.1, 9.2.2).")
class ServiceQueueEvent:
    kind: ServiceQueueEventKind
    session: ServiceSession | None = strawberry.field(
        description="The session as it is now; null only for RESYNC."
    )


@strawberry.type
class ServiceSessionPayload:
    session: ServiceSession | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ServiceMessagePayload:
    message: ServiceMessage | None = None
    replies: list[ServiceMessage] = strawberry.field(
        default_factory=list,
        description="What the AI or the platform answered at once (an answer, a handover).",
    )
    session: ServiceSession | None = None
    replayed: bool = strawberry.field(
        default=False, description="True when this client key was sent before: nothing changed."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="Human response times over a period (QS 9.2.2), for an agent, a team or "
    "the platform. First responses are held to firstResponseLimitSeconds (30 s), the "
    "average response to averageResponseLimitSeconds (60 s); at the limit is within it."
)
class ServiceResponseMetrics:
    period: str
    rule_version: int
    agent: Account | None = strawberry.field(
        description="Grouped by agent: the agent (masked as accounts are; null to a viewer "
        "who may not read the account)."
    )
    agent_id: strawberry.ID | None = strawberry.field(
        description="Grouped by agent: the agent's Account id, for every reader; null for "
        "the sessions no agent answered."
    )
    team: str | None = strawberry.field(description="Grouped by team: the team ('' none).")
    sessions: int = strawberry.field(description="Sessions handed over in the period.")
    first_responses: int
    first_within_limit: int
    first_within_share: float | None
    first_response_seconds_avg: float | None
    first_response_seconds_max: float | None
    unanswered_overdue: int = strawberry.field(
        description="Handed over, still unanswered, and past the first-response limit now."
    )
    first_response_breaches: int
    responses: int = strawberry.field(description="Agent answers to a waiting customer.")
    responses_within_limit: int
    responses_within_share: float | None
    response_seconds_avg: float | None
    response_seconds_max: float | None
    average_breached: bool
    breached: bool
    first_response_limit_seconds: float
    average_response_limit_seconds: float


@strawberry.type(description="A direct line to a human agent (QS 9.7.2).")
class Hotline:
    number: str
    label: str
    hours: str = strawberry.field(description="Staffed hours, local time (UTC+8).")


@strawberry.type(description="How to reach a human: hotlines and online hours (public rule).")
class CustomerServiceContact:
    hotlines: list[Hotline]
    online_hours: str
    rule_version: int
