"""The traced key nodes (QS 9.1.2): a hash chain of events per entity.

Each event's hash is ``sha256(prev_hash ‖ canonical event)``, so editing, removing or
reordering a stored event breaks every hash after it. Appends run inside the transaction
of the change they record (callers hold it), so a change and its trace land together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pinzhi.auth.viewer import Viewer
from pinzhi.models import AuditEvent

GENESIS_HASH = "0" * 64


def canonical(event: AuditEvent) -> bytes:
    body = {
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "seq": event.seq,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "data": event.data,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


async def append(
    entity_type: str,
    entity_id: int,
    action: str,
    *,
    actor: Viewer | None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    last = (
        await AuditEvent.filter(entity_type=entity_type, entity_id=entity_id)
        .order_by("-seq")
        .only("seq", "hash")
        .first()
    )
    event = AuditEvent(
        entity_type=entity_type,
        entity_id=entity_id,
        seq=(last.seq + 1) if last else 1,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.account_id if actor else None,
        actor_role=str(actor.role) if actor and actor.role else "SYSTEM",
        data=data or {},
        occurred_at=datetime.now(UTC),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = chain_hash(event.prev_hash, event)
    await event.save()
    return event


async def trail(entity_type: str, entity_id: int) -> list[AuditEvent]:
    return await AuditEvent.filter(entity_type=entity_type, entity_id=entity_id).order_by("seq")


@dataclass(frozen=True)
class Verification:
    valid: bool
    checked: int
    first_broken: AuditEvent | None


async def verify(entity_type: str, entity_id: int) -> Verification:
    """Recompute the chain from the stored events and name the first that does not fit."""
    events = await trail(entity_type, entity_id)
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if (
            event.seq != expected_seq
            or event.prev_hash != prev
            or chain_hash(prev, event) != event.hash
        ):
            return Verification(False, expected_seq, event)
        prev = event.hash
    return Verification(True, len(events), None)
