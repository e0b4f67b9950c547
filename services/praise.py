"""Whether a review's text praises the product's quality (QS 7.1.1 reviews, "质量好" rate).

The text is cut into sentences (。!?; and line breaks) and clauses (commas and contrast markers
such as 但是/结果/其实/没想到), and a keyword occurrence found in a clause (see
``praise_rule``) counts only when the reviewer asserts it in their own voice:

- not negated ("质量不好"), unless a rhetorical question turns it round ("这质量能不好吗");
- not asked ("质量好吗？", "质量好不好"), though an exclamation may end in "?"
  ("质量怎么这么好？");
- not a condition or a wish ("要是质量好就好了", "质量好的话会回购", "希望质量好"), unless the
  wish is that it stay so ("希望质量一直这么好");
- not taken back right after ("质量好才怪", "质量很好，呵呵", "说质量好的都是托");
- not reported from others ("卖家说质量好，我觉得一般", "号称质量好其实很差") unless the
  reviewer confirms it ("听说质量好，果然名不虚传"), and never set up to be disbelieved
  ("别信什么质量好", "本以为质量好结果一般"). Reported speech lasts until a contrast, the
  reviewer's own voice ("我觉得", "收到后") or the end of the sentence.

A clause naming no subject speaks of the previous clause's ("本以为质量一般，没想到这么好";
after a question also across the sentence: "质量怎么样？很好！").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pinzhi.services.praise_rule import Occurrence, PraiseRule, compile_rule, segment

SENTENCE_ENDS = frozenset("。.!?;…\n")
CLAUSE_BREAKS = frozenset(",、:\"'()[]{}<>《》「」『』“”‘’—-~|/·")


@dataclass
class Clause:
    words: list[str]
    after_contrast: bool = False


@dataclass
class Finding:
    """One keyword occurrence and whether it counts (for explanations and tests)."""

    keyword: str
    clause: str
    reason: str  # "praise" when it counts, else why not


@dataclass
class _Scope:
    """Reported speech: praise inside counts only when confirmed (never when disbelieved)."""

    disbelieved: bool
    confirmed: bool = False
    findings: list[Finding] = field(default_factory=list)


def _sentences(rule: PraiseRule, text: str) -> list[list[Clause]]:
    sentences: list[list[Clause]] = []
    clauses: list[Clause] = [Clause([])]
    tokens = segment(rule.clean(text))

    def end_clause(after_contrast: bool = False) -> None:
        if clauses[-1].words:
            clauses.append(Clause([], after_contrast))
        else:
            clauses[-1].after_contrast = clauses[-1].after_contrast or after_contrast

    def end_sentence() -> None:
        nonlocal clauses
        kept = [c for c in clauses if c.words]
        if kept:
            sentences.append(kept)
        clauses = [Clause([])]

    contrasts = rule.markers["contrast_markers"]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        stripped = token.strip()
        if not stripped:
            if "\n" in token:
                end_sentence()
            i += 1
            continue
        if all(c in SENTENCE_ENDS for c in stripped):
            clauses[-1].words.append(stripped)  # "?" still marks the clause a question
            end_sentence()
        elif all(c in CLAUSE_BREAKS or c in SENTENCE_ENDS for c in stripped):
            end_clause()
        else:
            size = _marker_at(tokens, i, contrasts)
            if size:
                end_clause(after_contrast=True)
                i += size
                continue
            clauses[-1].words.append(stripped)
        i += 1
    end_sentence()
    return sentences


def _marker_at(tokens: Sequence[str], index: int, markers: frozenset[str]) -> int:
    """How many words from ``index`` on spell a marker (longest first), 0 if none."""
    if not markers:
        return 0
    for size in (3, 2, 1):
        if "".join(tokens[index : index + size]) in markers:
            return size
    return 0


def _starts(spans: Iterable[tuple[int, int]]) -> list[int]:
    return [start for start, _ in spans]


def _verdict(
    spans: Mapping[str, list[tuple[int, int]]], occurrence: Occurrence, refuted_next: bool
) -> str:
    """Why an occurrence does not count within its clause (whose marker ``spans`` are
    given), or "praise"."""
    question = bool(spans["question_markers"]) and not spans["exclamatory_markers"]
    if question and any(s < occurrence.end for s in _starts(spans["rhetorical_markers"])):
        # A rhetorical question means the opposite of what it asks.
        return "praise" if occurrence.negated else "rhetorical"
    if question:
        return "question"
    if occurrence.negated:
        return "negated"
    if not spans["continuation_words"] and (
        any(s < occurrence.start for s in _starts(spans["hypothetical_markers"]))
        or any(s > occurrence.end for s in _starts(spans["hypothetical_endings"]))
    ):
        return "hypothetical"
    if refuted_next or any(s > occurrence.end for s in _starts(spans["refutation_markers"])):
        return "refuted"
    return "praise"


def _judge_sentence(
    rule: PraiseRule, clauses: list[Clause], carried: str | None
) -> tuple[list[Finding], str | None]:
    """The findings of one sentence, and the last subject it names. ``carried`` is the
    subject of the question before it, if any."""
    findings: list[Finding] = []
    scope: _Scope | None = None
    scopes: list[_Scope] = []
    for index, clause in enumerate(clauses):
        if clause.after_contrast:
            scope = None
        words = clause.words
        # A subject carries over a contrast ("本以为质量一般，没想到这么好") or from a question
        # into its answer, not over a plain comma ("质量一般，好评").
        carries = clause.after_contrast or index == 0
        if carried and carries and not any(rule.subject_of(w) for w in words):
            words = [carried, *words]
        occurrences = rule.occurrences(words)
        spans = {key: rule.marker_spans(key, words) for key in rule.markers}
        next_words = clauses[index + 1].words if index + 1 < len(clauses) else []
        refuted_next = bool(rule.marker_spans("refutation_markers", next_words))
        events: list[tuple[int, int, str, Any]] = []
        for key, rank in (
            ("own_voice_markers", 0),
            ("hearsay_markers", 1),
            ("disbelief_markers", 1),
            ("confirmation_markers", 2),
        ):
            events += [(start, rank, key, None) for start in _starts(spans[key])]
        events += [(o.start, 3, "occurrence", o) for o in occurrences]
        for _, _, key, occurrence in sorted(events, key=lambda e: e[:2]):
            if key == "own_voice_markers":
                scope = None
            elif key in ("hearsay_markers", "disbelief_markers"):
                # Within disbelieved speech all reported praise stays disbelieved:
                # "千万别信卖家说的质量好".
                disbelieved = key == "disbelief_markers" or bool(scope and scope.disbelieved)
                scope = _Scope(disbelieved=disbelieved)
                scopes.append(scope)
            elif key == "confirmation_markers":
                if scope is not None:
                    scope.confirmed = True
            else:
                reason = _verdict(spans, occurrence, refuted_next)
                finding = Finding(occurrence.keyword.text, "".join(clause.words), reason)
                findings.append(finding)
                if scope is not None and reason == "praise":
                    scope.findings.append(finding)
        for word in reversed(words):
            if rule.subject_of(word):
                carried = word
                break
    for reported in scopes:
        if reported.disbelieved or not reported.confirmed:
            for finding in reported.findings:
                finding.reason = "disbelieved" if reported.disbelieved else "reported"
    return findings, carried


def explain(text: str, content: Mapping[str, Any]) -> list[Finding]:
    """Every praise keyword occurrence in ``text`` and whether (or why not) it counts."""
    if not text or not text.strip():
        return []
    rule = compile_rule(content)
    findings: list[Finding] = []
    carried: str | None = None
    for clauses in _sentences(rule, text):
        found, last = _judge_sentence(rule, clauses, carried)
        findings += found
        # A subject carries into the next sentence only after a question about it.
        carried = last if "?" in clauses[-1].words[-1] else None
    return findings


def praises_quality_by_rule(text: str, content: Mapping[str, Any]) -> bool:
    """Whether ``text`` praises the product's quality, by the ``product.grading`` rule."""
    return any(f.reason == "praise" for f in explain(text, content))


def praises_quality(
    text: str,
    keywords: Iterable[str],
    negations: Iterable[str],
    adverbs: Iterable[str] = (),
    fillers: Iterable[str] = (),
) -> bool:
    """Whether ``text`` praises quality by one of ``keywords``, un-negated (the rule's first
    four word lists alone, as the earliest rule versions had them)."""
    content = {
        "praise_keywords": list(keywords),
        "negations": list(negations),
        "degree_adverbs": list(adverbs),
        "filler_words": list(fillers),
    }
    return praises_quality_by_rule(text, content)
