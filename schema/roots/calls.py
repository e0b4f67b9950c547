"""The phone queue (QS 9.2.2): contact centres push call events; supervisors and
regulators read the queue's figures."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.errors import ServiceError
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window, bad_input
from pinzhi.schema.base import Connection, UserError, attempt, pk_or_missing
from pinzhi.schema.calls import (
    Call,
    CallEventInput,
    CallEventResult,
    PhoneQueueMetrics,
    RecordCallEventsPayload,
)
from pinzhi.schema.fields import field, mutation
from pinzhi.services import call_metrics, calls
from pinzhi.services.call_metrics import Grain
from pinzhi.services.calls import Outcome


async def call_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    queue: str | None = None,
) -> Connection[Call]:
    """A contact centre's own calls; every centre's for supervisors and regulators."""
    try:
        queue = calls.queue_filter(queue)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    found = await scoped_page(
        info.context.viewer, models.Call, Window(first, after, last, before), queue=queue
    )
    return Connection.of(found, [Call.from_row(r) for r in found.rows])


async def phone_queue_metrics(
    info: Info,
    period: Annotated[
        str | None,
        strawberry.argument(description="A day (2026-11-05) or a month (2026-11), in UTC."),
    ] = None,
    from_: Annotated[
        str | None, strawberry.argument(name="from", description="First day, YYYY-MM-DD.")
    ] = None,
    to: Annotated[
        str | None, strawberry.argument(description="Last day, YYYY-MM-DD, inclusive.")
    ] = None,
    queue: Annotated[str | None, strawberry.argument(description="One queue only.")] = None,
    grain: Grain = Grain.DAY,
) -> PhoneQueueMetrics:
    try:
        report = await call_metrics.report(
            info.context.viewer, period, from_, to, queue, Grain(grain)
        )
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    return PhoneQueueMetrics.of(report, call_metrics.RULE_KEY)


def _agent_pk(agent_id: strawberry.ID | None) -> int | None:
    return None if agent_id is None else pk_or_missing(agent_id, "Account")


async def record_call_events(info: Info, events: list[CallEventInput]) -> RecordCallEventsPayload:
    batch = [
        calls.EventInput(
            event_id=e.event_id,
            call_id=e.call_id,
            queue=e.queue,
            kind=models.CallEventKind(e.kind),
            occurred_at=e.occurred_at,
            agent_id=_agent_pk(e.agent_id),
        )
        for e in events
    ]
    result, errors = await attempt(info, calls.record_call_events(info.context.viewer, batch))
    if result is None:
        return RecordCallEventsPayload(errors=errors)
    language = info.context.language
    return RecordCallEventsPayload(
        results=[
            CallEventResult(
                index=item.index,
                event_id=item.event_id,
                outcome=item.outcome,
                call=Call.from_row(item.call) if item.call is not None else None,
                error=UserError.of(item.error, language) if item.error else None,
            )
            for item in result.items
        ],
        accepted=result.count(Outcome.ACCEPTED),
        duplicates=result.count(Outcome.DUPLICATE),
        refused=result.count(Outcome.REFUSED),
    )


@strawberry.type
class CallQuery:
    calls = field(
        call_list,
        policy.READERS,
        description="Phone calls (QS 9.2.2): a contact centre's own; every centre's for "
        "customer-service and admin staff and regulators; none for others.",
    )
    phone_queue_metrics = field(
        phone_queue_metrics,
        policy.PHONE_QUEUE_READERS,
        description="The human phone service's queue (QS 9.2.2): calls offered, answered "
        "and abandoned, average speed of answer, share answered within the threshold, "
        "abandonment rate and breaches, per queue and day (or hour), under the rule "
        "customer_service.phone. Give period, or from and to; by default today (UTC).",
    )


@strawberry.type
class CallMutation:
    record_call_events = mutation(
        record_call_events,
        Action.RECORD_CALL_EVENTS,
        description="A contact centre reports 1 to 100 call events (QS 9.2.2); each is "
        "answered on its own (accepted, duplicate, or refused with its code), the accepted "
        "ones recorded together and traced on their calls.",
    )
