"""Customer-service chat (QS 9.2.1, 9.2.2, 9.7.2): sessions, the agents' queue, response
metrics and breaches, and how to reach a human."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from enum import Enum
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.expressions import Q

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import scope
from pinzhi.errors import ServiceError
from pinzhi.resolvers.context import Context
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window, bad_input, page, queue_page
from pinzhi.schema.accounts import Account
from pinzhi.schema.base import (
    Connection,
    UserError,
    attempt,
    pk_of,
    pk_or_missing,
    to_global_id,
    top_level,
)
from pinzhi.schema.customer_service import (
    CustomerServiceContact,
    Hotline,
    ServiceMessage,
    ServiceMessagePayload,
    ServiceQueueEvent,
    ServiceQueueEventKind,
    ServiceResponseMetrics,
    ServiceSession,
    ServiceSessionPayload,
)
from pinzhi.schema.enums import ServiceSessionState
from pinzhi.schema.fields import field, mutation, subscription
from pinzhi.services import rules, state
from pinzhi.services.customer_service import live, metrics, sessions

R = TypeVar("R")
T = TypeVar("T")


@strawberry.enum(description="How response metrics are grouped.")
class ServiceMetricsGroup(Enum):
    PLATFORM = "PLATFORM"
    AGENT = "AGENT"
    TEAM = "TEAM"


@strawberry.input(description="What a session is about; all optional, each the opener's own.")
class OpenServiceSessionInput:
    order_id: strawberry.ID | None = None
    after_sales_request_id: strawberry.ID | None = None
    complaint_id: strawberry.ID | None = None


@strawberry.input
class SendServiceMessageInput:
    session_id: strawberry.ID
    body: str = strawberry.field(description="1-2,000 characters; line breaks allowed.")
    client_key: str | None = strawberry.field(
        default=None,
        description="1-64 of A-Z, a-z, 0-9, _ . -: a resend with the same key returns the "
        "first message and changes nothing.",
    )


@strawberry.input
class TransferServiceSessionInput:
    session_id: strawberry.ID
    to_agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Another on-duty agent; omit to send it back to the queue."
    )


def _session_payload(
    row: models.ServiceSession | None, errors: list[UserError]
) -> ServiceSessionPayload:
    return ServiceSessionPayload(
        session=ServiceSession.from_row(row) if row else None, errors=errors
    )


async def open_service_session(
    info: Info, input: OpenServiceSessionInput | None = None
) -> ServiceSessionPayload:
    given = input or OpenServiceSessionInput()
    row, errors = await attempt(
        info,
        sessions.open_session(
            info.context.viewer,
            order_id=_optional(given.order_id, "Order"),
            after_sales_request_id=_optional(given.after_sales_request_id, "AfterSalesRequest"),
            complaint_id=_optional(given.complaint_id, "Complaint"),
            given=(
                given.order_id is not None,
                given.after_sales_request_id is not None,
                given.complaint_id is not None,
            ),
            language=info.context.language,
        ),
    )
    return _session_payload(row, errors)


def _optional(global_id: strawberry.ID | None, type_name: str) -> int | None:
    return None if global_id is None else pk_of(global_id, type_name)


async def send_service_message(info: Info, input: SendServiceMessageInput) -> ServiceMessagePayload:
    sent, errors = await attempt(
        info,
        sessions.send_message(
            info.context.viewer,
            pk_or_missing(input.session_id, "ServiceSession"),
            input.body,
            client_key=input.client_key,
        ),
    )
    if sent is None:
        return ServiceMessagePayload(errors=errors)
    return ServiceMessagePayload(
        message=ServiceMessage.from_row(sent.message),
        replies=[ServiceMessage.from_row(r) for r in sent.replies],
        session=ServiceSession.from_row(sent.session),
        replayed=sent.duplicate,
    )


async def request_human_agent(info: Info, session_id: strawberry.ID) -> ServiceSessionPayload:
    row, errors = await attempt(
        info,
        sessions.request_human(info.context.viewer, pk_or_missing(session_id, "ServiceSession")),
    )
    return _session_payload(row, errors)


async def take_service_session(
    info: Info, session_id: strawberry.ID | None = None
) -> ServiceSessionPayload:
    """Without a session id, the head of the queue."""
    row, errors = await attempt(
        info,
        sessions.take(
            info.context.viewer,
            None if session_id is None else pk_or_missing(session_id, "ServiceSession"),
            next_in_queue=session_id is None,
        ),
    )
    return _session_payload(row, errors)


async def transfer_service_session(
    info: Info, input: TransferServiceSessionInput
) -> ServiceSessionPayload:
    row, errors = await attempt(
        info,
        sessions.transfer(
            info.context.viewer,
            pk_or_missing(input.session_id, "ServiceSession"),
            None if input.to_agent_id is None else pk_or_missing(input.to_agent_id, "Account"),
            to_queue=input.to_agent_id is None,
        ),
    )
    return _session_payload(row, errors)


async def close_service_session(info: Info, session_id: strawberry.ID) -> ServiceSessionPayload:
    row, errors = await attempt(
        info, sessions.close(info.context.viewer, pk_or_missing(session_id, "ServiceSession"))
    )
    return _session_payload(row, errors)


async def service_session_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: ServiceSessionState | None = None,
) -> Connection[ServiceSession]:
    found = await scoped_page(
        info.context.viewer,
        models.ServiceSession,
        Window(first, after, last, before),
        state=state,
    )
    return Connection.of(found, [ServiceSession.from_row(r) for r in found.rows])


async def service_queue(
    info: Info, first: int | None = None, after: str | None = None
) -> Connection[ServiceSession]:
    """QS 9.2.1: waiting sessions by the rule's order: priority, deadline, age."""
    found = await queue_page(sessions.queue(info.context.viewer), first, after)
    return Connection.of(found, [ServiceSession.from_row(r) for r in found.rows])


async def service_breaches(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ServiceSession]:
    """QS 9.2.2: sessions whose first response came late, and those overdue right now
    (handed over, unanswered, past the limit), newest first."""
    overdue = Q(
        first_response_at__isnull=True,
        response_due_at__lt=state.now(),
        state__in=[models.ServiceSessionState.WAITING, models.ServiceSessionState.ACTIVE],
    )
    query = scope(info.context.viewer, models.ServiceSession).filter(
        Q(breached_at__isnull=False) | overdue
    )
    found = await page(query, Window(first, after, last, before))
    return Connection.of(found, [ServiceSession.from_row(r) for r in found.rows])


async def service_response_metrics(
    info: Info, period: str, group_by: ServiceMetricsGroup = ServiceMetricsGroup.PLATFORM
) -> list[ServiceResponseMetrics]:
    """One entry per agent, team or the platform, for the sessions and answers of a month
    (2026-11) or a day (2026-11-30), UTC."""
    try:
        version, found = await metrics.response_metrics(period, metrics.GroupBy(group_by.value))
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    agents: dict[int, Account | None] = {}
    if group_by == ServiceMetricsGroup.AGENT:
        ids = [m.key for m in found if isinstance(m.key, int)]
        rows = await info.context.loaders.account_by_id.load_many(ids)
        agents = {pk: Account.from_row(r) if r else None for pk, r in zip(ids, rows, strict=True)}
    return [
        ServiceResponseMetrics(
            period=period,
            rule_version=version,
            agent=agents.get(m.key) if isinstance(m.key, int) else None,
            agent_id=to_global_id("Account", m.key) if isinstance(m.key, int) else None,
            team=m.key if group_by == ServiceMetricsGroup.TEAM and isinstance(m.key, str) else None,
            sessions=m.sessions,
            first_responses=m.first_responses,
            first_within_limit=m.first_within_limit,
            first_within_share=m.first_within_share,
            first_response_seconds_avg=m.first_response_seconds_avg,
            first_response_seconds_max=m.first_response_seconds_max,
            unanswered_overdue=m.unanswered_overdue,
            first_response_breaches=m.first_response_breaches,
            responses=m.responses,
            responses_within_limit=m.responses_within_limit,
            responses_within_share=m.responses_within_share,
            response_seconds_avg=m.response_seconds_avg,
            response_seconds_max=m.response_seconds_max,
            average_breached=m.average_breached,
            breached=m.breached,
            first_response_limit_seconds=m.limits["first_response_seconds"],
            average_response_limit_seconds=m.limits["average_response_seconds"],
        )
        for m in found
    ]


async def customer_service_contact(info: Info) -> CustomerServiceContact:
    """QS 9.7.2: the direct hotlines to a human and the online hours (public rule data)."""
    rule = await rules.current("customer_service.contact")
    english = info.context.language == "en"
    return CustomerServiceContact(
        hotlines=[
            Hotline(
                number=line["number"],
                label=line["label_en"] if english else line["label_zh"],
                hours=line["hours"],
            )
            for line in rule.content["hotlines"]
        ],
        online_hours=rule.content["online_hours"],
        rule_version=rule.version,
    )


@strawberry.type
class CustomerServiceQuery:
    service_sessions = field(
        service_session_list,
        policy.READERS,
        description="Customer-service sessions in the viewer's scope, newest first: a "
        "customer's own, a shop's, every one for agents and regulators.",
    )
    service_queue = field(
        service_queue, policy.CUSTOMER_SERVICE, description="The agents' queue (QS 9.2.1)."
    )
    service_breaches = field(
        service_breaches,
        policy.SERVICE_SUPERVISORS,
        description="Sessions with a late or overdue first response (QS 9.2.2).",
    )
    service_response_metrics = field(
        service_response_metrics,
        policy.SERVICE_SUPERVISORS,
        description="Human response times per agent, team or for the platform (QS 9.2.2).",
    )
    customer_service_contact = field(
        customer_service_contact, description="Hotlines and hours to reach a human (QS 9.7.2)."
    )


@strawberry.type
class CustomerServiceMutation:
    open_service_session = mutation(
        open_service_session,
        Action.OPEN_SERVICE_SESSION,
        description="Open a customer-service session, answered by the AI first; an "
        "accessibility profile goes straight to a human (QS 9.4.3).",
    )
    send_service_message = mutation(
        send_service_message,
        Action.SEND_SERVICE_MESSAGE,
        description="Write in a session: its opener as the customer, its agent as the agent.",
    )
    request_human_agent = mutation(
        request_human_agent,
        Action.REQUEST_HUMAN_AGENT,
        description="Transfer to a human, in one call, at any time (QS 9.7.2).",
    )
    take_service_session = mutation(
        take_service_session,
        Action.TAKE_SERVICE_SESSION,
        description="Take a waiting session, or the head of the queue without an id.",
    )
    transfer_service_session = mutation(
        transfer_service_session,
        Action.TRANSFER_SERVICE_SESSION,
        description="Pass your session to another agent, or back to the queue.",
    )
    close_service_session = mutation(
        close_service_session,
        Action.CLOSE_SERVICE_SESSION,
        description="Close a session (its opener or its agent).",
    )


# --- live (QS 9.2.2, 9.7.2) ------------------------------------------------------------------


def _standing(context: Context) -> live.Check:
    """Ends a stream whose viewer's account was deactivated since it began."""

    async def check() -> None:
        if not await context.still_standing():
            raise GraphQLError(
                "账户已停用 / The account was deactivated",
                extensions={"code": "UNAUTHENTICATED", "reason": "account inactive"},
            )

    return check


async def _each(
    context: Context, rows: AsyncGenerator[R, None], build: Callable[[R], T]
) -> AsyncIterator[T]:
    """Each row built into its type, with loaders fresh for the event it is (the nested
    fields of one event read the rows as they are then)."""
    async with aclosing(rows):
        async for row in rows:
            context.renew()
            yield build(row)


async def service_session_messages(
    info: Info, session_id: strawberry.ID, after: strawberry.ID | None = None
) -> AsyncIterator[ServiceMessage]:
    context: Context = info.context
    try:
        rows = await live.session_messages(
            context.viewer,
            pk_or_missing(session_id, "ServiceSession"),
            check=_standing(context),
            after=None if after is None else pk_or_missing(after, "ServiceMessage"),
            after_given=after is not None,
        )
    except ServiceError as error:
        raise top_level(error, context.language) from None
    return _each(context, rows, ServiceMessage.from_row)


def _queue_event(event: live.QueueEvent) -> ServiceQueueEvent:
    return ServiceQueueEvent(
        kind=ServiceQueueEventKind(event.kind),
        session=None if event.session is None else ServiceSession.from_row(event.session),
    )


async def service_queue_events(info: Info) -> AsyncIterator[ServiceQueueEvent]:
    context: Context = info.context
    rows = await live.queue_events(context.viewer, check=_standing(context))
    return _each(context, rows, _queue_event)


@strawberry.type
class CustomerServiceSubscription:
    service_session_messages = subscription(
        service_session_messages,
        policy.SERVICE_MESSAGE_READERS,
        description="Each new message of a session, as it is written: the customer's, the "
        "AI's, the agent's and the platform's (QS 9.2.2, 9.7.2). A session the viewer "
        "cannot read is NOT_FOUND. With `after` (a message of the session the client has), "
        "what was written since comes first, so that nothing is missed between a query of "
        "the history and the subscription. Ends after the session's closing message.",
    )
    service_queue_events = subscription(
        service_queue_events,
        policy.CUSTOMER_SERVICE,
        description="Each change of the agents' queue, with the session as it is now "
        "(QS 9.2.1, 9.2.2).",
    )
