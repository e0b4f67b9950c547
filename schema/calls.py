"""The phone queue (QS 9.2.2): contact centres' calls, and the queue's figures."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pinzhi import models
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.services.call_metrics import Figures, Grain, Report
from pinzhi.services.calls import Outcome

CallEventKind = models.CallEventKind
strawberry.enum(
    CallEventKind,
    description="A call's event (QS 9.2.2): QUEUED (it joined a queue), ANSWERED (by an "
    "agent), ABANDONED (the caller hung up before an answer), ENDED.",
)
strawberry.enum(
    Outcome,
    name="CallEventOutcome",
    description="What became of one event of a batch: ACCEPTED (recorded), DUPLICATE (its "
    "event id was recorded already with the same details: nothing changed), REFUSED (see "
    "its error; nothing of it was recorded).",
)
strawberry.enum(
    Grain,
    name="PhoneQueueGrain",
    description="The periods the phone queue's figures are given for: DAY or HOUR (UTC).",
)


@strawberry.type(
    description="A call a contact centre reported (QS 9.2.2), as its events so far say: "
    "the times of its QUEUED, ANSWERED, ABANDONED and ENDED events, whatever order they "
    "came in."
)
class Call(Node):
    call_id: str = strawberry.field(description="The contact centre's own call reference.")
    provider_id: strawberry.ID = strawberry.field(description="The contact centre.")
    queue: str
    queued_at: datetime | None
    answered_at: datetime | None
    abandoned_at: datetime | None
    ended_at: datetime | None
    agent_id: strawberry.ID | None = strawberry.field(
        description="The account of the agent who answered."
    )
    wait_seconds: float | None = strawberry.field(
        description="From queued to answered, to the microsecond; null until both are known."
    )

    @classmethod
    def from_row(cls, row: models.Call) -> Call:
        return cls(
            id=to_global_id("Call", row.id),
            call_id=row.call_ref,
            provider_id=to_global_id("ServiceProvider", row.provider_id),
            queue=row.queue,
            queued_at=row.queued_at,
            answered_at=row.answered_at,
            abandoned_at=row.abandoned_at,
            ended_at=row.ended_at,
            agent_id=to_global_id("Account", row.agent_id) if row.agent_id else None,
            wait_seconds=None if row.wait_us is None else row.wait_us / 1_000_000,
        )


@strawberry.input(description="One event of a call, as the contact centre's system has it.")
class CallEventInput:
    event_id: str = strawberry.field(
        description="The contact centre's own id for the event, 1-100 characters: the same "
        "id again is a replay (DUPLICATE), or refused if its details differ."
    )
    call_id: str = strawberry.field(
        description="The contact centre's own call reference, 1-100 characters."
    )
    queue: str = strawberry.field(
        description="The queue's code: lowercase letters, digits and inner hyphens, at most "
        "32 (after-sales, orders)."
    )
    kind: CallEventKind
    occurred_at: datetime = strawberry.field(
        description="When it happened, with a timezone: at most 5 minutes ahead of the "
        "platform's clock, at most 30 days ago."
    )
    agent_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="ANSWERED only, and required there: the account id of the agent who "
        "answered, a staff member with the customer-service duty.",
    )


@strawberry.type
class CallEventResult:
    index: int = strawberry.field(description="The event's position in the batch, from 0.")
    event_id: str
    outcome: Outcome
    call: Call | None = strawberry.field(
        default=None, description="The call, as the batch left it (accepted or duplicate)."
    )
    error: UserError | None = strawberry.field(
        default=None, description="Why it was refused; its field path starts events.<index>."
    )


@strawberry.type
class RecordCallEventsPayload:
    results: list[CallEventResult] = strawberry.field(
        default_factory=list, description="One per event, in the batch's order."
    )
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Refusals of the whole batch (its size, the caller): nothing recorded.",
    )


@strawberry.type(
    description="A queue's figures over a day or an hour (or the whole span, in totals), "
    "over the calls queued in it (UTC)."
)
class PhoneQueueFigures:
    queue: str
    start: datetime = strawberry.field(description="The day's or hour's first instant.")
    offered: int = strawberry.field(description="Calls queued.")
    answered: int
    abandoned: int = strawberry.field(description="The caller hung up before an answer.")
    waiting: int = strawberry.field(
        description="Neither answered nor abandoned yet (or not reported yet)."
    )
    answered_within: int = strawberry.field(
        description="Answered within the rule's threshold (answeredWithinSeconds), inclusive."
    )
    average_answer_seconds: float | None = strawberry.field(
        description="The average speed of answer: queued to answered, over the calls "
        "answered (to the millisecond); null without one."
    )
    answered_within_share: float | None = strawberry.field(
        description="answeredWithin / (answered + abandoned); null without either."
    )
    abandonment_rate: float | None = strawberry.field(
        description="abandoned / (answered + abandoned); null without either."
    )
    breached: bool = strawberry.field(
        description="QS 9.2.2: the average speed of answer is over the rule's limit "
        "(exactly at it is within)."
    )

    @classmethod
    def of(cls, figures: Figures) -> PhoneQueueFigures:
        return cls(
            queue=figures.queue,
            start=figures.start,
            offered=figures.offered,
            answered=figures.answered,
            abandoned=figures.abandoned,
            waiting=figures.waiting,
            answered_within=figures.answered_within,
            average_answer_seconds=figures.average_answer_seconds,
            answered_within_share=figures.answered_within_share,
            abandonment_rate=figures.abandonment_rate,
            breached=figures.breached,
        )


@strawberry.type(
    description="The human phone service's queue (QS 9.2.2: average queue time ≤ 20 s), per "
    "queue and per day or hour, held to a version of the rule customer_service.phone."
)
class PhoneQueueMetrics:
    first_day: str = strawberry.field(description="YYYY-MM-DD (UTC).")
    last_day: str = strawberry.field(description="YYYY-MM-DD (UTC), inclusive.")
    grain: Grain
    queue: str | None = strawberry.field(description="The queue asked for; null: every one.")
    rule_key: str
    rule_version: int = strawberry.field(description="The rule's version the figures used.")
    average_answer_limit_seconds: float
    answered_within_seconds: float
    rows: list[PhoneQueueFigures] = strawberry.field(
        description="Per queue and period, by time then queue; periods without a call are left out."
    )
    totals: list[PhoneQueueFigures] = strawberry.field(
        description="Per queue over the whole span, by queue."
    )

    @classmethod
    def of(cls, report: Report, rule_key: str) -> PhoneQueueMetrics:
        return cls(
            first_day=report.first_day.isoformat(),
            last_day=report.last_day.isoformat(),
            grain=report.grain,
            queue=report.queue,
            rule_key=rule_key,
            rule_version=report.limits.version,
            average_answer_limit_seconds=report.limits.average_answer_seconds,
            answered_within_seconds=report.limits.answered_within_seconds,
            rows=[PhoneQueueFigures.of(f) for f in report.rows],
            totals=[PhoneQueueFigures.of(f) for f in report.totals],
        )
