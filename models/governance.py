"""Public platform rules, the hash-chained audit trail, its anchors and the PII access log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account


class PlatformRule(Model):
    """One version of a published rule (QS 5.2). Versions are never rewritten."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100)
    version = fields.IntField()
    title_zh = fields.CharField(max_length=200)
    title_en = fields.CharField(max_length=200)
    content: fields.JSONField[dict[str, Any]] = fields.JSONField()
    effective_from = fields.DatetimeField()
    published_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="rules", null=True
    )
    published_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "platform_rule"
        unique_together = (("key", "version"),)


class AuditEvent(Model):
    """A traced key node (QS 9.1.2): one link of the hash chain of an entity."""

    id = fields.IntField(primary_key=True)
    entity_type = fields.CharField(max_length=30)
    entity_id = fields.IntField()
    seq = fields.IntField()
    action = fields.CharField(max_length=50)
    from_state = fields.CharField(max_length=30, default="")
    to_state = fields.CharField(max_length=30, default="")
    actor_id = fields.IntField(null=True)
    actor_role = fields.CharField(max_length=20, default="")
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField()
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_event"
        unique_together = (("entity_type", "entity_id", "seq"),)
        # Anchoring and the period check read one hour of events at a time.
        indexes = (("occurred_at",),)


class AuditAnchor(Model):
    """The checkpoint of one hour of the audit trail (QS 9.1.2), itself a link of a chain:
    ``hash = sha256(prev_hash ‖ canonical anchor)``. Stored apart from the events, written
    once and never rewritten; ``seq`` numbers the anchors 1, 2, 3 … without holes."""

    id = fields.IntField(primary_key=True)
    seq = fields.IntField(unique=True)
    period = fields.CharField(max_length=13, unique=True)
    event_count = fields.IntField()
    events_digest = fields.CharField(max_length=64)
    head_count = fields.IntField()
    heads_digest = fields.CharField(max_length=64)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_anchor"


class AuditAnchorHead(Model):
    """The head (seq, hash) of one chain that moved in an anchor's hour. A row per chain
    and hour, not per event; an anchor's ``heads_digest`` covers all of its rows."""

    id = fields.IntField(primary_key=True)
    anchor: fields.ForeignKeyRelation[AuditAnchor] = fields.ForeignKeyField(
        "models.AuditAnchor", related_name="heads", on_delete=fields.RESTRICT
    )
    anchor_id: int
    entity_type = fields.CharField(max_length=30)
    entity_id = fields.IntField()
    seq = fields.IntField()
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_anchor_head"
        unique_together = (("anchor_id", "entity_type", "entity_id"),)
        # verifyAuditTrail reads the anchored heads of one entity.
        indexes = (("entity_type", "entity_id"),)


class RegulatorRead(Model):
    """What a regulator looked at (QS 9.4.1, 10.2): who, when, which operation and fields,
    and which entities the answer held, so the platform can show it."""

    id = fields.IntField(primary_key=True)
    regulator: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="regulator_reads"
    )
    regulator_id: int
    operation_name = fields.CharField(max_length=100, default="")
    # The root fields asked for, e.g. ["orders", "node"].
    fields_read: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The global ids in the answer (the first MAX_RECORDED_IDS) and how many there were.
    entity_ids: fields.JSONField[list[str]] = fields.JSONField(default=list)
    entity_count = fields.IntField(default=0)
    document_hash = fields.CharField(max_length=64)
    read_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "regulator_read"
        indexes = (("regulator_id", "id"),)


class PiiAccessLog(Model):
    """Every unmasked read of personal information by someone other than its owner."""

    id = fields.IntField(primary_key=True)
    viewer_id = fields.IntField()
    viewer_role = fields.CharField(max_length=20)
    subject_account_id = fields.IntField()
    entity_type = fields.CharField(max_length=30)
    entity_id = fields.IntField()
    fields_read = fields.CharField(max_length=200)
    accessed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pii_access_log"
        indexes = (("subject_account_id", "id"),)
