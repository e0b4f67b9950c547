"""Public rules, the audit trail and the PII access log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from pinzhi import models
from pinzhi.schema.base import Node, to_global_id


@strawberry.type(description="One version of a published platform rule (QS 5.2).")
class PlatformRule:
    key: str
    version: int
    title: str
    title_zh: str
    title_en: str
    content: JSON
    effective_from: datetime

    @classmethod
    def from_row(cls, row: models.PlatformRule, language: str) -> PlatformRule:
        return cls(
            key=row.key,
            version=row.version,
            title=row.title_en if language == "en" else row.title_zh,
            title_zh=row.title_zh,
            title_en=row.title_en,
            content=row.content,
            effective_from=row.effective_from,
        )


@strawberry.type(description="A traced key node (QS 9.1.2): one link of a hash chain.")
class AuditEvent:
    seq: int
    action: str
    from_state: str
    to_state: str
    actor_role: str
    data: JSON
    occurred_at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        return cls(
            seq=row.seq,
            action=row.action,
            from_state=row.from_state,
            to_state=row.to_state,
            actor_role=row.actor_role,
            data=row.data,
            occurred_at=row.occurred_at,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type
class AuditVerification:
    valid: bool
    checked: int = strawberry.field(description="Events checked, up to the first broken one.")
    first_broken: AuditEvent | None


@strawberry.type(description="A whole read of someone's personal information (QS 9.4.1).")
class PiiAccess(Node):
    viewer_id: strawberry.ID
    viewer_role: str
    subject_account_id: strawberry.ID
    entity_id: strawberry.ID
    fields_read: list[str]
    accessed_at: datetime

    @classmethod
    def from_row(cls, row: models.PiiAccessLog) -> PiiAccess:
        return cls(
            id=to_global_id("PiiAccess", row.id),
            viewer_id=to_global_id("Account", row.viewer_id),
            viewer_role=row.viewer_role,
            subject_account_id=to_global_id("Account", row.subject_account_id),
            entity_id=to_global_id(row.entity_type, row.entity_id),
            fields_read=row.fields_read.split(","),
            accessed_at=row.accessed_at,
        )
