"""Public rules, the audit trail, its anchors and the PII access log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from pinzhi import models
from pinzhi.schema.base import Node, to_global_id
from pinzhi.services import audit, audit_checks

AuditProblem = audit.Problem
strawberry.enum(
    AuditProblem, name="AuditProblem", description="What a check of the trail found wrong."
)


@strawberry.type(description="One version of a published platform rule (QS 5.2).")
class PlatformRule:
    id: strawberry.ID = strawberry.field(
        description="This version's id: its publication is on its audit trail (QS 9.1.2)."
    )
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
            id=to_global_id("PlatformRule", row.id),
            key=row.key,
            version=row.version,
            title=row.title_en if language == "en" else row.title_zh,
            title_zh=row.title_zh,
            title_en=row.title_en,
            content=JSON(row.content),
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
            data=JSON(row.data),
            occurred_at=row.occurred_at,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type(description="The head of a chain as an hourly anchor recorded it.")
class AnchoredHead:
    period: str
    seq: int
    hash: str


@strawberry.type
class AuditVerification:
    valid: bool
    checked: int = strawberry.field(description="Events checked, up to the first broken one.")
    first_broken: AuditEvent | None = strawberry.field(
        description="The event where the chain breaks; null when valid, and when TRUNCATED."
    )
    problem: AuditProblem | None = strawberry.field(description="Null when valid.")
    anchored: bool = strawberry.field(
        description="Whether anchors cover the chain through its newest event. Newer events "
        "are covered by the next hourly anchor; until then nothing shows their deletion."
    )
    anchored_through: AnchoredHead | None = strawberry.field(
        description="The newest head an anchor recorded for this chain."
    )

    @classmethod
    def from_result(cls, result: audit_checks.TrailVerification) -> AuditVerification:
        through = result.anchored_through
        return cls(
            valid=result.valid,
            checked=result.checked,
            first_broken=AuditEvent.from_row(result.first_broken) if result.first_broken else None,
            problem=result.problem,
            anchored=result.anchored,
            anchored_through=AnchoredHead(period=through.period, seq=through.seq, hash=through.hash)
            if through
            else None,
        )


@strawberry.type(
    description="The checkpoint of one hour of the audit trail (QS 9.1.2): hash = "
    "sha256(prevHash ‖ canonical anchor). Keep these hashes outside the platform."
)
class AuditAnchor:
    seq: int
    period: str = strawberry.field(description="The hour, in UTC: 2026-12-01T18.")
    event_count: int
    events_digest: str
    head_count: int = strawberry.field(description="Chains that moved in the hour.")
    heads_digest: str
    prev_hash: str
    hash: str
    anchored_at: datetime

    @classmethod
    def from_row(cls, row: models.AuditAnchor) -> AuditAnchor:
        return cls(
            seq=row.seq,
            period=row.period,
            event_count=row.event_count,
            events_digest=row.events_digest,
            head_count=row.head_count,
            heads_digest=row.heads_digest,
            prev_hash=row.prev_hash,
            hash=row.hash,
            anchored_at=row.created_at,
        )


@strawberry.type(description="One thing wrong in an hour of the audit trail.")
class AuditFinding:
    problem: AuditProblem
    entity_id: strawberry.ID | None = strawberry.field(
        description="The entity whose chain it concerns; null for an anchor."
    )
    seq: int | None = strawberry.field(
        description="The event's seq, the anchored head's seq, or the anchor's seq."
    )
    expected: str | None = strawberry.field(description="The hash the check wanted.")
    found: str | None = strawberry.field(description="The hash stored instead.")
    message: str

    @classmethod
    def from_finding(cls, finding: audit_checks.Finding, language: str) -> AuditFinding:
        return cls(
            problem=finding.problem,
            entity_id=to_global_id(finding.entity_type, finding.entity_id)
            if finding.entity_type and finding.entity_id
            else None,
            seq=finding.seq,
            expected=finding.expected,
            found=finding.found,
            message=audit.problem_message(finding.problem, language),
        )


@strawberry.type(description="An hour of the audit trail recomputed and held to its anchor.")
class AuditPeriodVerification:
    period: str
    valid: bool
    anchored: bool = strawberry.field(
        description="False while the hour is newer than the newest anchor: then only each "
        "event's own hash and links can be checked."
    )
    events_checked: int
    chains_checked: int
    events_digest: str = strawberry.field(
        description="Recomputed from the stored events; the anchor's when nothing changed."
    )
    anchor: AuditAnchor | None
    problems: list[AuditProblem]
    findings: list[AuditFinding] = strawberry.field(
        description=f"The first {audit_checks.MAX_FINDINGS}; findingCount counts them all."
    )
    finding_count: int

    @classmethod
    def from_result(
        cls, result: audit_checks.PeriodVerification, language: str
    ) -> AuditPeriodVerification:
        return cls(
            period=result.period,
            valid=result.valid,
            anchored=result.anchored,
            events_checked=result.events_checked,
            chains_checked=result.chains_checked,
            events_digest=result.events_digest,
            anchor=AuditAnchor.from_row(result.anchor) if result.anchor else None,
            problems=list(result.problems),
            findings=[AuditFinding.from_finding(f, language) for f in result.findings],
            finding_count=result.finding_count,
        )


@strawberry.type(description="What a regulator looked at: one request (QS 9.4.1, 10.2).")
class RegulatorRead(Node):
    regulator_id: strawberry.ID
    operation_name: str = strawberry.field(description="As the client named it; may be empty.")
    fields: list[str] = strawberry.field(description="The root fields asked for.")
    entity_ids: list[strawberry.ID] = strawberry.field(
        description="The ids the answer held (the first 1,000)."
    )
    entity_count: int
    document_hash: str = strawberry.field(description="SHA-256 of the query text.")
    read_at: datetime

    @classmethod
    def from_row(cls, row: models.RegulatorRead) -> RegulatorRead:
        return cls(
            id=to_global_id("RegulatorRead", row.id),
            regulator_id=to_global_id("Account", row.regulator_id),
            operation_name=row.operation_name,
            fields=list(row.fields_read),
            entity_ids=[strawberry.ID(i) for i in row.entity_ids],
            entity_count=row.entity_count,
            document_hash=row.document_hash,
            read_at=row.read_at,
        )


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
