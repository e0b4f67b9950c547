"""Customer-service chat: sessions and their messages (QS 9.2.2, 9.7.1, 9.7.2).

A session belongs to whoever opened it (a consumer, or a merchant's account towards the
platform) and may be about one order, after-sales request or complaint of theirs. Timing
is stored on the rows as it happens, so the response metrics are grouped aggregates over
these two tables (services/service_metrics.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import HandoverReason, MessageAuthor, Role, ServiceSessionState

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.aftersales import AfterSalesRequest
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order
    from pinzhi.models.service import Complaint


class ServiceSession(Model):
    id = fields.IntField(primary_key=True)
    opener: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="service_sessions", on_delete=fields.RESTRICT
    )
    opener_id: int
    opener_role = fields.CharEnumField(Role, max_length=20)
    # Set when a merchant's account opened it: every account of the shop reads it.
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="service_sessions", null=True, on_delete=fields.RESTRICT
    )
    merchant_id: int | None
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="service_sessions", null=True, on_delete=fields.RESTRICT
    )
    order_id: int | None
    after_sales_request: fields.ForeignKeyNullableRelation[AfterSalesRequest] = (
        fields.ForeignKeyField(
            "models.AfterSalesRequest",
            related_name="service_sessions",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    after_sales_request_id: int | None
    complaint: fields.ForeignKeyNullableRelation[Complaint] = fields.ForeignKeyField(
        "models.Complaint", related_name="service_sessions", null=True, on_delete=fields.RESTRICT
    )
    complaint_id: int | None
    state = fields.CharEnumField(ServiceSessionState, max_length=10)
    language = fields.CharField(max_length=5, default="zh")
    # QS 9.2.1: premium products and accessibility profiles first (rule customer_service.chat).
    priority = fields.SmallIntField(default=0)
    priority_reasons = fields.CharField(max_length=100, default="")
    # The AI's misses in a row; at the rule's limit the session hands over by itself.
    ai_failures = fields.SmallIntField(default=0)
    handover_reason = fields.CharEnumField(HandoverReason, max_length=20, null=True)
    handed_over_at = fields.DatetimeField(null=True)
    # handed_over_at + the first-response limit: the queue's order and the breach line.
    response_due_at = fields.DatetimeField(null=True)
    agent: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="served_sessions", null=True, on_delete=fields.RESTRICT
    )
    agent_id: int | None
    taken_at = fields.DatetimeField(null=True)
    # QS 9.2.2: from handover to the first agent message, and who sent it.
    first_response_at = fields.DatetimeField(null=True)
    first_response_seconds = fields.FloatField(null=True)
    first_responder: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="first_responses", null=True, on_delete=fields.RESTRICT
    )
    first_responder_id: int | None
    first_responder_team = fields.CharField(max_length=50, default="")
    # The oldest customer message (or the handover) no agent message has answered yet.
    awaiting_since = fields.DatetimeField(null=True)
    # Set once, when the first response came late or the sweep found it overdue.
    breached_at = fields.DatetimeField(null=True)
    # The version of customer_service.chat the session's limits were held to.
    rule_version = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_session"
        indexes = (
            ("opener_id", "id"),
            ("merchant_id", "id"),
            # The agents' queue: waiting sessions by priority, deadline, age.
            ("state", "priority", "response_due_at", "id"),
            ("agent_id", "state"),
            ("handed_over_at",),
        )


class ServiceMessage(Model):
    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[ServiceSession] = fields.ForeignKeyField(
        "models.ServiceSession", related_name="messages", on_delete=fields.RESTRICT
    )
    session_id: int
    author_kind = fields.CharEnumField(MessageAuthor, max_length=10)
    author: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="service_messages", null=True, on_delete=fields.RESTRICT
    )
    author_id: int | None
    body = fields.TextField()
    # The customer's idempotency key: a retried send returns the message it made.
    client_key = fields.CharField(max_length=64, null=True)
    # What the AI recognised in a customer message (QS 9.7.1).
    intent = fields.CharField(max_length=30, null=True)
    confidence = fields.FloatField(null=True)
    # On an agent message that answered a waiting customer: how long they waited, and the
    # agent's team then (for metrics per team).
    response_seconds = fields.FloatField(null=True)
    team = fields.CharField(max_length=50, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "service_message"
        unique_together = (("session_id", "client_key"),)
        indexes = (("session_id", "id"), ("author_id", "created_at"), ("created_at",))
