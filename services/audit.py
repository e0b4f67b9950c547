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
from typing import Any, cast

import orjson
from tortoise.expressions import Subquery
from tortoise.fields import JSONField
from tortoise.functions import Max

from pinzhi.auth.viewer import Viewer
from pinzhi.models import AuditEvent
from pinzhi.services import bulk

GENESIS_HASH = "0" * 64


def canonical(event: AuditEvent) -> bytes:
    return _canonical(
        event.entity_type,
        event.entity_id,
        event.seq,
        event.action,
        event.from_state,
        event.to_state,
        event.actor_id,
        event.actor_role,
        event.data,
        event.occurred_at,
    )


def _canonical(
    entity_type: str,
    entity_id: int,
    seq: int,
    action: str,
    from_state: str,
    to_state: str,
    actor_id: int | None,
    actor_role: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> bytes:
    """The bytes an event's hash covers: its fields, keys sorted, the time in UTC to the
    microsecond."""
    body = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "seq": seq,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "data": data,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return _link(prev_hash, canonical(event))


def _link(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


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
    head_rows: list[tuple[int, int, str]] = await AuditEvent.filter(
        id__in=Subquery(last_ids)
    ).values_list("entity_id", "seq", "hash")
    last = {entity_id: (seq, digest) for entity_id, seq, digest in head_rows}
    # The rows are written as plain values (bulk.insert_rows), not as model objects: at
    # the sweep's 100,000 key nodes, building and binding the objects took most of its
    # time. The hash covers exactly what ``canonical`` reads back from the stored row.
    rows: list[tuple[Any, ...]] = []
    occurred_at = datetime.now(UTC)
    actor_id = actor.account_id if actor else None
    actor_role = str(actor.role) if actor and actor.role else "SYSTEM"
    encode = cast(JSONField[Any], AuditEvent._meta.fields_map["data"]).encoder
    for entity_id, action, from_state, to_state, data in entries:
        seq, prev_hash = last.get(entity_id, (0, GENESIS_HASH))
        seq += 1
        body = _canonical(
            entity_type,
            entity_id,
            seq,
            action,
            from_state,
            to_state,
            actor_id,
            actor_role,
            data,
            occurred_at,
        )
        digest = _link(prev_hash, body)
        last[entity_id] = (seq, digest)
        rows.append(
            (
                entity_type,
                entity_id,
                seq,
                action,
                from_state,
                to_state,
                actor_id,
                actor_role,
                encode(data),
                occurred_at,
                prev_hash,
                digest,
            )
        )
    await bulk.insert_rows(AuditEvent, EVENT_COLUMNS, rows)
    return len(rows)


# The columns append_many writes, in its rows' order.
EVENT_COLUMNS = (
    "entity_type",
    "entity_id",
    "seq",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "actor_role",
    "data",
    "occurred_at",
    "prev_hash",
    "hash",
)
