"""The traced key nodes (QS 9.1.2): a hash chain of events per entity.

Each event's hash is ``sha256(prev_hash ‖ canonical event)``, so editing, removing or
reordering a stored event breaks every hash after it. Appends run inside the transaction
of the change they record (callers hold it), so a change and its trace land together.

A chain alone cannot show that its newest events were deleted, or that it was recomputed
whole with consistent hashes: the hourly anchors (``services/anchors.py``) record every
chain's head, and ``services/audit_checks.py`` holds the chains against them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from tortoise.expressions import Subquery
from tortoise.functions import Max

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
    new: bool = False,
) -> AuditEvent:
    """Append one event. ``new=True`` says the entity was created in this transaction,
    so its chain is empty and need not be read."""
    last = (
        None
        if new
        else await AuditEvent.filter(entity_type=entity_type, entity_id=entity_id)
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


class Problem(StrEnum):
    """What a check found wrong with the trail."""

    EDITED = "EDITED"  # an event no longer matches its hash, or its link to the one before
    MISSING = "MISSING"  # a gap in a chain's seq: an event inside it was deleted
    TRUNCATED = "TRUNCATED"  # a chain ends before the head an anchor recorded
    REWRITTEN = "REWRITTEN"  # an anchored head is there with another hash: recomputed
    INSERTED = "INSERTED"  # an event in an anchored hour that its anchor did not record
    ANCHOR_MISSING = "ANCHOR_MISSING"  # an hour inside the anchored span has no anchor
    ANCHOR_BROKEN = "ANCHOR_BROKEN"  # an anchor differs from its hash, link, heads or digest


PROBLEM_MESSAGES: dict[Problem, tuple[str, str]] = {
    Problem.EDITED: (
        "留痕记录被改动：与其哈希或前一条记录不符",
        "An event was edited: it no longer matches its hash or the event before it",
    ),
    Problem.MISSING: (
        "链中缺少记录：中间的记录被删除",
        "An event is missing inside the chain: it was deleted",
    ),
    Problem.TRUNCATED: (
        "链被截断：锚点记录的最新记录已不存在",
        "The chain was truncated: the head an anchor recorded is gone",
    ),
    Problem.REWRITTEN: (
        "链被重写：锚点记录的哈希与现存记录不同",
        "The chain was rewritten: the anchored head now has another hash",
    ),
    Problem.INSERTED: (
        "出现所属时段锚点未记录的记录：在锚定之后插入",
        "An event that its hour's anchor did not record was inserted",
    ),
    Problem.ANCHOR_MISSING: (
        "锚点缺失：已锚定区间内的某一时段没有锚点",
        "An anchor is missing: an hour inside the anchored span has none",
    ),
    Problem.ANCHOR_BROKEN: (
        "锚点被改动：与其哈希、前一锚点、记录的链头或该时段的记录不符",
        "An anchor was altered: it no longer matches its hash, the anchor before it, "
        "its heads or the events of its hour",
    ),
}


def problem_message(problem: Problem, language: str = "zh") -> str:
    zh, en = PROBLEM_MESSAGES[problem]
    return en if language == "en" else zh


@dataclass(frozen=True)
class Verification:
    valid: bool
    checked: int
    first_broken: AuditEvent | None
    problem: Problem | None = None


def check_chain(events: Sequence[AuditEvent]) -> Verification:
    """Recompute a chain (its events in seq order) and name the first event that does not
    fit: ``checked`` counts the events up to and including it."""
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problem = Problem.MISSING if event.seq > expected_seq else Problem.EDITED
            return Verification(False, expected_seq, event, problem)
        if event.prev_hash != prev or chain_hash(prev, event) != event.hash:
            return Verification(False, expected_seq, event, Problem.EDITED)
        prev = event.hash
    return Verification(True, len(events), None)


async def verify(entity_type: str, entity_id: int) -> Verification:
    """Recompute the chain from the stored events and name the first that does not fit.
    The chain alone: ``audit_checks.verify_entity`` adds what the anchors recorded."""
    return check_chain(await trail(entity_type, entity_id))


# One event for each of many entities of a type: (entity id, action, from, to, data).
Entry = tuple[int, str, str, str, dict[str, Any]]


async def append_many(entity_type: str, entries: list[Entry], *, actor: Viewer | None) -> int:
    """Append to many chains of ``entity_type`` at once, in two statements whatever their
    number (for periodic jobs moving many entities). Like ``append``, callers hold the
    transaction of the change, and the job's lock keeps other writers of these chains out."""
    if not entries:
        return 0
    heads = AuditEvent.filter(entity_type=entity_type)
    ids = {entry[0] for entry in entries}
    if len(ids) <= 1000:
        heads = heads.filter(entity_id__in=list(ids))
    last_ids = heads.annotate(last_id=Max("id")).group_by("entity_id").values("last_id")
    last = {
        e.entity_id: (e.seq, e.hash)
        for e in await AuditEvent.filter(id__in=Subquery(last_ids)).only("entity_id", "seq", "hash")
    }
    events = []
    occurred_at = datetime.now(UTC)
    for entity_id, action, from_state, to_state, data in entries:
        seq, prev_hash = last.get(entity_id, (0, GENESIS_HASH))
        event = AuditEvent(
            entity_type=entity_type,
            entity_id=entity_id,
            seq=seq + 1,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor_id=actor.account_id if actor else None,
            actor_role=str(actor.role) if actor and actor.role else "SYSTEM",
            data=data,
            occurred_at=occurred_at,
            prev_hash=prev_hash,
        )
        event.hash = chain_hash(prev_hash, event)
        last[entity_id] = (event.seq, event.hash)
        events.append(event)
    await AuditEvent.bulk_create(events, batch_size=1000)
    return len(events)
