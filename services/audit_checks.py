"""Holding the traced key nodes against their anchors (QS 9.1.2).

Two checks, each a fixed number of statements:

* ``verify_entity``: one entity's chain as ``audit.verify`` checks it, plus every head an
  anchor recorded for it must still be in the chain with the same hash. A chain whose
  newest events were deleted is shorter than an anchored head (TRUNCATED); one recomputed
  with consistent hashes has another hash at an anchored seq (REWRITTEN); an event after
  the newest anchored head stamped in an hour already anchored was not there when its hour
  was anchored (INSERTED). Events after the newest anchor are covered by the next one.
* ``verify_period``: a whole hour for regulators. It recomputes every event's hash, the
  hour's digest and every chain's head from the stored events and compares them with the
  hour's anchor, whose own hash and link to the anchor before it it checks too.

Both trust the anchors stored here; an attacker who rewrites the anchors as well is caught
only against anchor hashes kept outside the platform (``auditAnchors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinzhi.models import AuditAnchor, AuditAnchorHead, AuditEvent
from pinzhi.services import anchors, audit
from pinzhi.services.audit import GENESIS_HASH, Problem

# A period's findings beyond this many are counted, not listed.
MAX_FINDINGS = 100


@dataclass(frozen=True)
class AnchoredHead:
    """What an anchor recorded of a chain: its head at the end of ``period``."""

    period: str
    seq: int
    hash: str


@dataclass(frozen=True)
class TrailVerification:
    valid: bool
    checked: int
    first_broken: AuditEvent | None
    problem: Problem | None
    # The newest head an anchor recorded for this chain, and whether it covers every event.
    anchored_through: AnchoredHead | None
    anchored: bool


async def verify_entity(entity_type: str, entity_id: int) -> TrailVerification:
    """The chain of one entity against itself and its anchors: three statements."""
    events = await audit.trail(entity_type, entity_id)
    rows = await AuditAnchorHead.filter(entity_type=entity_type, entity_id=entity_id).values_list(
        "anchor__period", "seq", "hash"
    )
    heads = sorted(
        (AnchoredHead(str(p), int(s), str(h)) for p, s, h in rows), key=lambda head: head.seq
    )
    newest = await AuditAnchor.all().order_by("-seq").first().values_list("period")
    through = heads[-1] if heads else None
    anchored = through is not None and through.seq >= len(events)

    def result(checked: int, broken: AuditEvent | None, problem: Problem) -> TrailVerification:
        return TrailVerification(False, checked, broken, problem, through, anchored)

    chain = audit.check_chain(events)
    if not chain.valid:
        return result(chain.checked, chain.first_broken, chain.problem or Problem.EDITED)
    for head in heads:
        if head.seq > len(events):
            return result(len(events), None, Problem.TRUNCATED)
        if events[head.seq - 1].hash != head.hash:
            return result(len(events), events[head.seq - 1], Problem.REWRITTEN)
    if newest is not None:
        anchored_until = anchors.period_bounds(newest[0])[1]
        for event in events[through.seq if through else 0 :]:
            if event.occurred_at < anchored_until:
                return result(len(events), event, Problem.INSERTED)
    return TrailVerification(True, len(events), None, None, through, anchored)


@dataclass(frozen=True)
class Finding:
    """One thing wrong in a period. For an event or chain: its entity and seq; for an
    anchor: the anchor's seq. ``expected`` is what the check wanted (a hash), ``found`` what
    is stored."""

    problem: Problem
    entity_type: str | None = None
    entity_id: int | None = None
    seq: int | None = None
    expected: str | None = None
    found: str | None = None


@dataclass
class PeriodVerification:
    period: str
    anchored: bool
    events_checked: int
    chains_checked: int
    # Recomputed from the stored events; equal to the anchor's when nothing changed.
    events_digest: str
    anchor: AuditAnchor | None
    findings: list[Finding] = field(default_factory=list)
    finding_count: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.finding_count == 0


class _Report:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.count = 0
        self.problems: set[Problem] = set()

    def add(self, finding: Finding) -> None:
        self.count += 1
        self.problems.add(finding.problem)
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)


async def verify_period(period: str) -> PeriodVerification:
    """Recompute ``period`` from the stored events and hold it against its anchor: four
    statements, and work in proportion to the hour's events."""
    start, end = anchors.period_bounds(period)
    anchor = await AuditAnchor.get_or_none(period=period)
    events = sorted(
        await AuditEvent.filter(occurred_at__gte=start, occurred_at__lt=end),
        key=lambda e: (e.entity_type, e.entity_id, e.seq),
    )
    report = _Report()
    links = _check_events(events, report)
    heads = anchors.heads_of(links)
    digest = anchors.events_digest(links)
    if anchor is not None:
        await _check_anchor(anchor, report)
        anchored = await _anchored_heads(anchor, report)
        _check_heads(anchored, events, report)
        if report.count == 0 and digest != anchor.events_digest:
            # Nothing else differs, yet the digest does: it was changed, or the events were
            # rewritten along with the anchor's heads and hash (the next anchor's link then
            # breaks as well).
            report.add(_broken(anchor, digest, anchor.events_digest))
    else:
        await _check_unanchored(period, events, report)
    return PeriodVerification(
        period=period,
        anchored=anchor is not None,
        events_checked=len(events),
        chains_checked=len(heads),
        events_digest=digest,
        anchor=anchor,
        findings=report.findings,
        finding_count=report.count,
        problems=[p for p in Problem if p in report.problems],
    )


def _check_events(events: list[AuditEvent], report: _Report) -> list[anchors.Link]:
    """Every event against its own hash and the event before it in the hour; the links
    carry the recomputed hashes, so an edited event changes the digest."""
    links: list[anchors.Link] = []
    before: AuditEvent | None = None
    for event in events:
        key = (event.entity_type, event.entity_id)
        recomputed = audit.chain_hash(event.prev_hash, event)
        if recomputed != event.hash:
            report.add(_at(Problem.EDITED, event, expected=recomputed, found=event.hash))
        # The event before it in the same chain, if that is in the hour too.
        previous = (
            before if before is not None and (before.entity_type, before.entity_id) == key else None
        )
        if previous is not None and event.seq != previous.seq + 1:
            report.add(_at(Problem.MISSING, event, seq=previous.seq + 1))
        elif previous is not None and event.prev_hash != previous.hash:
            report.add(_at(Problem.EDITED, event, expected=previous.hash, found=event.prev_hash))
        elif previous is None and event.seq == 1 and event.prev_hash != GENESIS_HASH:
            report.add(_at(Problem.EDITED, event, expected=GENESIS_HASH, found=event.prev_hash))
        links.append((*key, event.seq, recomputed))
        before = event
    return links


def _at(
    problem: Problem,
    event: AuditEvent,
    *,
    seq: int | None = None,
    expected: str | None = None,
    found: str | None = None,
) -> Finding:
    return Finding(problem, event.entity_type, event.entity_id, seq or event.seq, expected, found)


async def _check_anchor(anchor: AuditAnchor, report: _Report) -> None:
    """The anchor against its own hash and the anchor before it."""
    recomputed = anchors.anchor_hash(anchor)
    if recomputed != anchor.hash:
        report.add(_broken(anchor, recomputed, anchor.hash))
    if anchor.seq == 1:
        if anchor.prev_hash != GENESIS_HASH:
            report.add(_broken(anchor, GENESIS_HASH, anchor.prev_hash))
        return
    previous = await AuditAnchor.get_or_none(seq=anchor.seq - 1)
    if previous is None or previous.period != anchors.previous_period(anchor.period):
        report.add(Finding(Problem.ANCHOR_MISSING, seq=anchor.seq - 1))
    elif previous.hash != anchor.prev_hash:
        report.add(_broken(anchor, previous.hash, anchor.prev_hash))


def _broken(anchor: AuditAnchor, expected: str, found: str) -> Finding:
    return Finding(Problem.ANCHOR_BROKEN, seq=anchor.seq, expected=expected, found=found)


async def _anchored_heads(
    anchor: AuditAnchor, report: _Report
) -> dict[anchors.ChainKey, tuple[int, str]]:
    """The heads stored with the anchor, checked against the count and digest it holds."""
    rows = await AuditAnchorHead.filter(anchor_id=anchor.id).values_list(
        "entity_type", "entity_id", "seq", "hash"
    )
    heads = {(str(t), int(i)): (int(s), str(h)) for t, i, s, h in rows}
    digest = anchors.heads_digest(heads)
    if len(rows) != anchor.head_count or digest != anchor.heads_digest:
        report.add(_broken(anchor, anchor.heads_digest, digest))
    return heads


def _check_heads(
    anchored: dict[anchors.ChainKey, tuple[int, str]],
    events: list[AuditEvent],
    report: _Report,
) -> None:
    """Each chain's head now against the head its anchor recorded, by the stored hashes:
    an event edited with its hash left is EDITED already, one whose hash was recomputed
    no longer has its anchored hash."""
    links = [(e.entity_type, e.entity_id, e.seq, e.hash) for e in events]
    stored = anchors.heads_of(links)
    stored_hash = {(t, i, s): h for t, i, s, h in links}
    first_seq: dict[anchors.ChainKey, int] = {}
    for t, i, s, _ in links:
        first_seq.setdefault((t, i), s)
    for key in sorted(anchored.keys() | stored.keys()):
        entity_type, entity_id = key
        was, now = anchored.get(key), stored.get(key)
        if was is None:
            # A chain the anchor did not record, so ``now`` is there.
            found = now[1] if now else None
            report.add(
                Finding(Problem.INSERTED, entity_type, entity_id, first_seq[key], found=found)
            )
            continue
        was_seq, was_hash = was
        at_was = stored_hash.get((entity_type, entity_id, was_seq))
        if now is None or (at_was is None and now[0] < was_seq):
            report.add(Finding(Problem.TRUNCATED, entity_type, entity_id, was_seq, was_hash))
            continue
        if at_was is not None and at_was != was_hash:
            report.add(
                Finding(Problem.REWRITTEN, entity_type, entity_id, was_seq, was_hash, at_was)
            )
        if now[0] > was_seq:
            report.add(Finding(Problem.INSERTED, entity_type, entity_id, was_seq + 1, found=now[1]))


async def _check_unanchored(period: str, events: list[AuditEvent], report: _Report) -> None:
    """A period without an anchor: fine while it is newer than the newest anchor; a hole
    inside the anchored span; before the span, no event can be (the span starts at the
    first event's hour)."""
    first = await AuditAnchor.all().order_by("seq").first()
    newest = await AuditAnchor.all().order_by("-seq").first()
    if first is None or newest is None or period > newest.period:
        return
    if period > first.period or first.seq != 1:
        report.add(Finding(Problem.ANCHOR_MISSING))
        return
    reported: set[anchors.ChainKey] = set()
    for event in events:
        if (event.entity_type, event.entity_id) not in reported:
            reported.add((event.entity_type, event.entity_id))
            report.add(_at(Problem.INSERTED, event, found=event.hash))
