"""Public rules, the audit trail and the PII access log."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.scopes import TRACED, can_see_trail
from pinzhi.errors import ServiceError
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window, bad_input
from pinzhi.schema.base import Connection, from_global_id, listing
from pinzhi.schema.fields import field
from pinzhi.schema.governance import (
    AuditAnchor,
    AuditEvent,
    AuditPeriodVerification,
    AuditVerification,
    PiiAccess,
    PlatformRule,
    RegulatorRead,
)
from pinzhi.services import audit, audit_checks, rules

RULES_TTL_SECONDS = 60


async def platform_rules(info: Info) -> list[PlatformRule]:
    """Public, no login (QS 5.2). Cached: read on every page, written rarely."""
    cache = info.context.cache
    cached = await cache.get(rules.CACHE_KEY)
    if cached is None:
        rows = await rules.current_rules()
        cached = [
            {
                "id": r.id,
                "key": r.key,
                "version": r.version,
                "title_zh": r.title_zh,
                "title_en": r.title_en,
                "content": r.content,
                "effective_from": r.effective_from.isoformat(),
            }
            for r in rows
        ]
        await cache.set(rules.CACHE_KEY, cached, ttl=RULES_TTL_SECONDS)
    return [
        PlatformRule.from_row(models.PlatformRule(**item), info.context.language) for item in cached
    ]


async def _traced_entity(info: Info, entity_id: str) -> tuple[str, int] | None:
    decoded = from_global_id(entity_id)
    if decoded is None or decoded[0] not in TRACED:
        return None
    type_name, pk = decoded
    if not await can_see_trail(info.context.viewer, TRACED[type_name], pk):
        return None
    return type_name, pk


async def audit_trail(info: Info, entity_id: strawberry.ID) -> list[AuditEvent]:
    """The traced key nodes of an entity the viewer may see (QS 9.1.2); empty otherwise."""
    entity = await _traced_entity(info, entity_id)
    if entity is None:
        return []
    return [AuditEvent.from_row(e) for e in await audit.trail(*entity)]


async def verify_audit_trail(info: Info, entity_id: strawberry.ID) -> AuditVerification | None:
    entity = await _traced_entity(info, entity_id)
    if entity is None:
        return None
    return AuditVerification.from_result(await audit_checks.verify_entity(*entity))


async def verify_audit_period(
    info: Info,
    period: Annotated[str, strawberry.argument(description="An hour in UTC: 2026-12-01T18.")],
) -> AuditPeriodVerification:
    """A whole hour of every entity's trail against its anchor, for regulators (QS 9.1.2)."""
    try:
        result = await audit_checks.verify_period(period)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    return AuditPeriodVerification.from_result(result, info.context.language)


async def audit_anchors(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AuditAnchor]:
    """Every hourly anchor, newest first, so their hashes can be kept outside."""
    return await listing(
        models.AuditAnchor.all(),
        Window(first, after, last, before),
        lambda rows: [AuditAnchor.from_row(r) for r in rows],
    )


async def regulator_reads(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    regulator_id: strawberry.ID | None = None,
) -> Connection[RegulatorRead]:
    """What regulators looked at, newest first: for compliance staff (QS 9.4.1)."""
    found = await scoped_page(
        info.context.viewer,
        models.RegulatorRead,
        Window(first, after, last, before),
        regulator_id=id_filter(regulator_id, "Account"),
    )
    return Connection.of(found, [RegulatorRead.from_row(r) for r in found.rows])


async def pii_access_log(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    subject_account_id: strawberry.ID | None = None,
) -> Connection[PiiAccess]:
    found = await scoped_page(
        info.context.viewer,
        models.PiiAccessLog,
        Window(first, after, last, before),
        subject_account_id=id_filter(subject_account_id, "Account"),
    )
    return Connection.of(found, [PiiAccess.from_row(r) for r in found.rows])


@strawberry.type
class GovernanceQuery:
    platform_rules = field(platform_rules, description="Rules in force (QS 5.2).")
    audit_trail = field(
        audit_trail,
        description="QS 9.1.2: the traced key nodes of any entity the viewer may see (a rule's "
        "or a product's without login); empty otherwise.",
    )
    verify_audit_trail = field(
        verify_audit_trail,
        description="QS 9.1.2: the entity's chain recomputed and held to the anchors; null "
        "when the viewer may not see the entity.",
    )
    verify_audit_period = field(
        verify_audit_period,
        policy.AUDIT_VERIFIERS,
        description="An hour of every trail held to its anchor (QS 9.1.2).",
    )
    audit_anchors = field(
        audit_anchors,
        policy.AUDIT_VERIFIERS,
        description="The hourly anchors, newest first, to keep outside (QS 9.1.2).",
    )
    regulator_reads = field(
        regulator_reads,
        policy.COMPLIANCE,
        description="What regulators looked at (QS 9.4.1): compliance staff.",
    )
    pii_access_log = field(pii_access_log, policy.PII_LOG_READERS, description="QS 9.4.1.")
