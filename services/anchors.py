"""Hourly anchors of the traced key nodes (QS 9.1.2).

A chain of events proves that no event inside it was changed, but not that its newest
events are all still there, nor that the whole chain was not recomputed with consistent
hashes. An anchor closes both gaps: once an hour is over it records, apart from the
events, the head (seq, hash) of every chain that moved in that hour and a digest over all
of the hour's events, and it is itself a link of a chain of anchors::

    hash = sha256(prev_hash ‖ canonical anchor)

An anchor is written once and never rewritten. Anchors are numbered 1, 2, 3 … and one
exists for every hour from the hour of the first event on, empty hours included, so the
anchor chain has no holes. ``services/audit_checks.py`` holds the trail against them.

An hour is anchored only when it is over plus ``GRACE``: an event's ``occurred_at`` is
stamped inside the transaction of its change and becomes visible at commit, so a
transaction still in flight when its hour ends has that long to commit before the hour is
frozen. An event committed later than that is outside its hour's anchor and is reported
as inserted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import AuditAnchor, AuditAnchorHead, AuditEvent
from pinzhi.services.audit import GENESIS_HASH

PERIOD_FORMAT = "%Y-%m-%dT%H"
PERIOD_LENGTH = timedelta(hours=1)
# Long enough for any transaction of the services to commit (they hold no user waits).
GRACE = timedelta(minutes=5)
HEAD_BATCH = 1000

_PERIOD = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}")

# One event as the digest sees it, and the key of its chain.
Link = tuple[str, int, int, str]  # entity type, entity id, seq, hash
ChainKey = tuple[str, int]


# --- Periods: an hour in UTC, named like 2026-12-01T18 ---------------------------------------


def period_start(period: str) -> datetime:
    """The first moment of ``period``; INVALID_PERIOD when it is not an hour's name."""
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise ServiceError(ErrorCode.INVALID_PERIOD, ("period",))
    try:
        return datetime.strptime(period, PERIOD_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_PERIOD, ("period",)) from None


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(PERIOD_FORMAT)


def period_bounds(period: str) -> tuple[datetime, datetime]:
    start = period_start(period)
    return start, start + PERIOD_LENGTH


def next_period(period: str) -> str:
    return period_of(period_start(period) + PERIOD_LENGTH)


def previous_period(period: str) -> str:
    return period_of(period_start(period) - PERIOD_LENGTH)


def is_complete(period: str, now: datetime) -> bool:
    """Whether ``period`` may be anchored at ``now``: it is over, plus the grace."""
    return period_bounds(period)[1] + GRACE <= now


# --- What an anchor records ------------------------------------------------------------------


def _digest(links: Iterable[Link]) -> str:
    digest = hashlib.sha256()
    for entity_type, entity_id, seq, event_hash in links:
        digest.update(f"{entity_type}\t{entity_id}\t{seq}\t{event_hash}\n".encode())
    return digest.hexdigest()


def events_digest(links: Iterable[Link]) -> str:
    """sha256 over ``type TAB id TAB seq TAB hash LF`` of every event of an hour, ordered by
    entity type (code points), entity id and seq: an order anyone can rebuild."""
    return _digest(sorted(links))


def heads_of(links: Iterable[Link]) -> dict[ChainKey, tuple[int, str]]:
    """The newest (seq, hash) of every chain among ``links``."""
    heads: dict[ChainKey, tuple[int, str]] = {}
    for entity_type, entity_id, seq, event_hash in links:
        key = (entity_type, entity_id)
        if key not in heads or heads[key][0] < seq:
            heads[key] = (seq, event_hash)
    return heads


def heads_digest(heads: dict[ChainKey, tuple[int, str]]) -> str:
    """The same digest over the heads, one line per chain, ordered by type and id."""
    return _digest((*key, *heads[key]) for key in sorted(heads))


def anchor_hash(anchor: AuditAnchor) -> str:
    body = {
        "seq": anchor.seq,
        "period": anchor.period,
        "event_count": anchor.event_count,
        "events_digest": anchor.events_digest,
        "head_count": anchor.head_count,
        "heads_digest": anchor.heads_digest,
    }
    content = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(anchor.prev_hash.encode() + content).hexdigest()


async def period_links(period: str) -> list[Link]:
    """Every event stamped in ``period``, as (type, id, seq, hash): one statement."""
    start, end = period_bounds(period)
    rows = await AuditEvent.filter(occurred_at__gte=start, occurred_at__lt=end).values_list(
        "entity_type", "entity_id", "seq", "hash"
    )
    return [(str(t), int(i), int(s), str(h)) for t, i, s, h in rows]


# --- Anchoring -------------------------------------------------------------------------------


async def newest_anchor() -> AuditAnchor | None:
    return await AuditAnchor.all().order_by("-seq").first()


async def _create(period: str, previous: AuditAnchor | None) -> AuditAnchor:
    """Anchor ``period`` after ``previous`` in one transaction; IntegrityError when another
    run anchored it (or any period after ``previous``) first."""
    links = await period_links(period)
    heads = heads_of(links)
    anchor = AuditAnchor(
        seq=previous.seq + 1 if previous else 1,
        period=period,
        event_count=len(links),
        events_digest=events_digest(links),
        head_count=len(heads),
        heads_digest=heads_digest(heads),
        prev_hash=previous.hash if previous else GENESIS_HASH,
    )
    anchor.hash = anchor_hash(anchor)
    async with in_transaction():
        await anchor.save()
        await AuditAnchorHead.bulk_create(
            [
                AuditAnchorHead(
                    anchor_id=anchor.id,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    seq=seq,
                    hash=head_hash,
                )
                for (entity_type, entity_id), (seq, head_hash) in sorted(heads.items())
            ],
            batch_size=HEAD_BATCH,
        )
    return anchor


async def first_period() -> str | None:
    """Where the anchor chain starts: the hour of the first event, None before any."""
    first = await AuditEvent.all().order_by("occurred_at").first().values_list("occurred_at")
    return period_of(first[0]) if first else None


async def anchor_period(period: str, now: datetime) -> tuple[AuditAnchor, bool]:
    """Anchor ``period``; (anchor, created). An existing anchor is returned as it is, never
    rewritten. Refused (INVALID_PERIOD) for an hour not yet over plus the grace, and for one
    not next in line (which would leave a hole in the anchor chain, or start it before the
    first event)."""
    period_start(period)
    existing = await AuditAnchor.get_or_none(period=period)
    if existing is not None:
        return existing, False
    if not is_complete(period, now):
        raise ServiceError(ErrorCode.INVALID_PERIOD, ("period",), f"{period} is not over yet")
    previous = await newest_anchor()
    expected = next_period(previous.period) if previous else await first_period()
    if period != expected:
        detail = f"the next period to anchor is {expected}" if expected else "no event yet"
        raise ServiceError(ErrorCode.INVALID_PERIOD, ("period",), detail)
    try:
        return await _create(period, previous), True
    except IntegrityError:
        raced = await AuditAnchor.get_or_none(period=period)
        if raced is None:
            raise
        return raced, False


@dataclass
class CatchUp:
    anchored: int = 0
    empty: int = 0
    events: int = 0
    through: str | None = None
    newest_hash: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "anchored": self.anchored,
            "empty": self.empty,
            "events": self.events,
            "through": self.through,
            "hash": self.newest_hash,
        }


async def catch_up(now: datetime, progress: Callable[[str], None] | None = None) -> CatchUp:
    """Anchor, in order, every complete hour since the newest anchor (from the first
    event's hour when there is none), empty hours included. Per hour: one read of its
    events and one insert per 1,000 chains, whatever the number of entities."""
    say = progress or (lambda _line: None)
    result = CatchUp()
    previous = await newest_anchor()
    period = next_period(previous.period) if previous else await first_period()
    if previous is not None:
        result.through, result.newest_hash = previous.period, previous.hash
    while period is not None and is_complete(period, now):
        try:
            anchor = await _create(period, previous)
        except IntegrityError:
            say(f"  {period}: anchored by another run meanwhile; stopping")
            break
        result.anchored += 1
        result.events += anchor.event_count
        result.empty += anchor.event_count == 0
        if anchor.event_count:
            say(
                f"  anchored {period}: {anchor.event_count} events, {anchor.head_count} "
                f"chains, hash {anchor.hash[:16]}…"
            )
        result.through, result.newest_hash = anchor.period, anchor.hash
        previous, period = anchor, next_period(period)
    say(
        f"  {result.anchored} hours anchored ({result.empty} empty), "
        f"anchored through {result.through or '-'}"
    )
    return result
