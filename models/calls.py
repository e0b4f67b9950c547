"""The phone queue (QS 9.2.2): a contact centre's call events, and each call they add up to.

A contact centre (a service provider of kind CONTACT_CENTRE) pushes the events of its calls:
QUEUED, ANSWERED, ABANDONED, ENDED. Each event is kept as it came (``CallEvent``, unique
per provider and the provider's event id, so a replay is recognised), and the call's row
(``Call``, one per provider and the provider's call reference) holds what its events say,
whatever order they came in, so that the queue's figures are grouped aggregates over calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import CallEventKind

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account, ServiceProvider


class Call(Model):
    """One call of a contact centre, as its events so far describe it.

    ``call_ref`` is the provider's own reference for the call (``callId`` in the API). The
    times are those of its QUEUED, ANSWERED, ABANDONED and ENDED events (at most one of
    each; a call is answered or abandoned, not both). ``queued_hour`` is ``queued_at``
    truncated to the hour (UTC): the figures are grouped by it. ``wait_us`` is the time
    from queued to answered in microseconds, exact, so that the 20 s limit is compared in
    integers."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="calls", on_delete=fields.RESTRICT
    )
    provider_id: int
    call_ref = fields.CharField(max_length=100)
    queue = fields.CharField(max_length=32)
    queued_at = fields.DatetimeField(null=True)
    queued_hour = fields.DatetimeField(null=True)
    answered_at = fields.DatetimeField(null=True)
    abandoned_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    agent: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="answered_calls", null=True, on_delete=fields.RESTRICT
    )
    agent_id: int | None
    wait_us = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "phone_call"
        unique_together = (("provider_id", "call_ref"),)
        indexes = (("queued_hour", "queue"),)


class CallEvent(Model):
    """One event of a call, as the contact centre sent it. ``event_id`` is the provider's
    own id for it: the same id again is a replay. ``agent`` (on ANSWERED) is the staff
    account, with the customer-service duty, that answered."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="call_events", on_delete=fields.RESTRICT
    )
    provider_id: int
    event_id = fields.CharField(max_length=100)
    call: fields.ForeignKeyRelation[Call] = fields.ForeignKeyField(
        "models.Call", related_name="events", on_delete=fields.RESTRICT
    )
    call_id: int
    call_ref = fields.CharField(max_length=100)
    queue = fields.CharField(max_length=32)
    kind = fields.CharEnumField(CallEventKind, max_length=16)
    occurred_at = fields.DatetimeField()
    agent: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="call_events", null=True, on_delete=fields.RESTRICT
    )
    agent_id: int | None
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "phone_call_event"
        unique_together = (("provider_id", "event_id"),)
        indexes = (("call_id",),)
