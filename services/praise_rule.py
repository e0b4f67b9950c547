"""The quality-praise rule compiled from its content, and its keyword matcher (QS 7.1.1).

The words come from the rule content (QS 5.2: rules are public data); this module only knows
how they combine. A keyword is a sequence of parts ("质量", "好") that must occur in order in
one clause's words, separated only by degree adverbs, fillers and negations ("质量真的很好",
"质量一点也不好"), or by a comparison ("质量比上次好", "质量没有上次好"). Its polarity is the
parity of the negations before and between its parts, so "质量不能说不好" praises. Every key
is read with ``.get``: a rule version without the newer keys keeps the older behaviour.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba

# At most this many words may separate the parts of a keyword, or precede it as a negation.
MAX_GAP_WORDS = 4
MAX_GAP_CHARS = 24
# At most this many words name what a comparison compares with ("上次", "实体店的").
MAX_TARGET_WORDS = 4
# A part may be written across this many words ("靠谱" as "靠/谱").
MAX_PART_WORDS = 3
MARKER_KEYS = (
    "question_markers",
    "exclamatory_markers",
    "rhetorical_markers",
    "hypothetical_markers",
    "hypothetical_endings",
    "continuation_words",
    "hearsay_markers",
    "disbelief_markers",
    "confirmation_markers",
    "refutation_markers",
    "contrast_markers",
    "own_voice_markers",
)

_init_lock = threading.Lock()
_initialised = False


def _ensure_jieba() -> None:
    """Load jieba's dictionary once per process, quietly."""
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _initialised = True


def segment(text: str) -> list[str]:
    """The words of ``text`` (jieba, precise mode), blanks kept."""
    _ensure_jieba()
    segmented: list[str] = jieba.lcut(text)
    return segmented


def words(text: str) -> list[str]:
    """The words of ``text`` (jieba, precise mode), without blanks."""
    return [w for w in segment(text) if w.strip()]


def normalise(text: str) -> str:
    """Full-width forms to ASCII ("？" → "?", "ｇｏｏｄ" → "good") and English in lower case."""
    return unicodedata.normalize("NFKC", text).casefold()


def _pieces(text: str, vocabulary: frozenset[str], longest: int) -> list[str] | None:
    """Split ``text`` wholly into words of ``vocabulary``, longest words first; None when it
    cannot be (the text says something else than adverbs, fillers and negations)."""
    if len(text) > MAX_GAP_CHARS:
        return None
    memo: dict[int, list[str] | None] = {}

    def solve(start: int) -> list[str] | None:
        if start == len(text):
            return []
        if start not in memo:
            memo[start] = None
            for size in range(min(longest, len(text) - start), 0, -1):
                head = text[start : start + size]
                rest = solve(start + size) if head in vocabulary else None
                if rest is not None:
                    memo[start] = [head, *rest]
                    break
        return memo[start]

    return solve(0)


@dataclass(frozen=True)
class Keyword:
    text: str
    parts: tuple[str, ...]
    # Anchored keywords name a quality topic ("质量好"); the others stand alone ("正品") and
    # are about whatever subject the clause names just before them.
    anchored: bool


@dataclass(frozen=True)
class Occurrence:
    keyword: Keyword
    start: int  # index of the word holding the keyword's first part
    end: int  # index of the word holding its last part
    negated: bool


def _spans(markers: frozenset[str], tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Where one of ``markers`` occurs as whole words: (first word, after its last)."""
    spans: list[tuple[int, int]] = []
    if not markers:
        return spans
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, min(len(tokens), i + MAX_GAP_WORDS)):
            joined += tokens[j]
            if joined in markers:
                spans.append((i, j + 1))
    return spans


# Rule content is published data: a list or map of the wrong shape is read as empty rather
# than failing every review written while that version is in force.


def _word_list(content: Mapping[str, Any], key: str) -> list[str]:
    listed = content.get(key)
    if not isinstance(listed, list | tuple):
        return []
    return [normalise(w) for w in listed if isinstance(w, str) and w.strip()]


def _word_map(content: Mapping[str, Any], key: str) -> dict[str, str]:
    mapping = content.get(key)
    if not isinstance(mapping, dict):
        return {}
    return {
        normalise(k): normalise(v)
        for k, v in mapping.items()
        if isinstance(k, str) and k and isinstance(v, str)
    }


def _character_table(content: Mapping[str, Any]) -> dict[int, int]:
    pair = content.get("traditional_characters")
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return {}
    traditional, simplified = pair
    if not isinstance(traditional, str) or not isinstance(simplified, str):
        return {}
    if len(traditional) != len(simplified):
        return {}
    return str.maketrans(traditional, simplified)


class PraiseRule:
    """The rule's words, ready to match; built once per rule content (see ``compile_rule``)."""

    def __init__(self, content: Mapping[str, Any]) -> None:
        self.negations = frozenset(_word_list(content, "negations"))
        self.adverbs = frozenset(_word_list(content, "degree_adverbs"))
        comparison = content.get("comparison_markers")
        comparison = comparison if isinstance(comparison, dict) else {}
        self.better = frozenset(_word_list(comparison, "better"))
        self.worse = frozenset(_word_list(comparison, "worse"))
        self.vocabulary = (
            self.negations
            | self.adverbs
            | frozenset(_word_list(content, "filler_words"))
            | frozenset(_word_list(content, "double_negations"))
        )
        self.longest = max((len(w) for w in self.vocabulary), default=1)
        self.complements = frozenset(_word_list(content, "degree_complements"))
        self.topics = tuple(_word_list(content, "quality_topics"))
        self.other_topics = tuple(_word_list(content, "other_topics"))
        self.markers: dict[str, frozenset[str]] = {}
        # "怎么…这么": words in this order, anything between them (normalised "…" is "...").
        self.patterns: dict[str, tuple[tuple[str, ...], ...]] = {}
        for key in MARKER_KEYS:
            listed = _word_list(content, key)
            self.markers[key] = frozenset(w for w in listed if "..." not in w)
            self.patterns[key] = tuple(
                tuple(p for p in w.split("...") if p) for w in listed if "..." in w
            )
        self.coordinations = frozenset(_word_list(content, "coordination_words"))
        self.keywords = self._keywords(content)
        self.by_first: dict[str, list[Keyword]] = {}
        for keyword in self.keywords:
            self.by_first.setdefault(keyword.parts[0], []).append(keyword)
        self._variants = _word_map(content, "spelling_variants")
        self._variant_pattern = (
            re.compile("|".join(map(re.escape, sorted(self._variants, key=len, reverse=True))))
            if self._variants
            else None
        )
        self._characters = _character_table(content)
        # How many words a part may be looked for after the previous one.
        self.reach = MAX_GAP_WORDS + (MAX_TARGET_WORDS + 1 if self.better or self.worse else 0)
        self.gap = lru_cache(maxsize=4096)(self._gap)
        self.subject_of = lru_cache(maxsize=4096)(self._subject_of)
        self._compared = lru_cache(maxsize=4096)(self._compared_uncached)

    # --- Building -----------------------------------------------------------------------------

    def _parts(self, phrase: str) -> tuple[str, ...]:
        """ "质量很好" → ("质量", "好"): the words of a phrase, its degree adverbs dropped."""
        return tuple(w for w in words(phrase) if w not in self.adverbs) or (phrase,)

    def _keywords(self, content: Mapping[str, Any]) -> tuple[Keyword, ...]:
        found: dict[tuple[str, ...], Keyword] = {}

        def add(text: str, parts: tuple[str, ...]) -> None:
            # A keyword naming a quality topic ("好质量") is about quality wherever it stands.
            anchored = any(p in self.topics for p in parts)
            found.setdefault(parts, Keyword(text, parts, anchored))

        for phrase in _word_list(content, "praise_keywords"):
            add(phrase, self._parts(phrase))
        for topic in self.topics:
            for predicate in _word_list(content, "quality_predicates"):
                joint = " " if topic.isascii() and predicate.isascii() else ""
                add(topic + joint + predicate, (topic, *self._parts(predicate)))
        for phrase in _word_list(content, "standalone_praise"):
            add(phrase, self._parts(phrase))
        return tuple(found.values())

    # --- Text ---------------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """Normalised text, traditional characters and listed spelling variants replaced."""
        text = normalise(text).translate(self._characters)
        if self._variant_pattern is not None:
            text = self._variant_pattern.sub(lambda m: self._variants[m.group(0)], text)
        return text

    def _subject_of(self, word: str) -> str | None:
        """ "quality" for a quality topic ("质量", "产品质量"), "other" for another one
        ("物流", "服务质量"), None for a word that names no subject."""
        for topic in self.topics:
            if word.endswith(topic):
                head = word[: -len(topic)]
                return "other" if any(head.endswith(o) for o in self.other_topics) else "quality"
        return "other" if any(word.endswith(o) for o in self.other_topics) else None

    def marker_spans(self, key: str, tokens: Sequence[str]) -> list[tuple[int, int]]:
        """Where a marker of ``key`` occurs as whole words: (first word, after its last)."""
        spans = _spans(self.markers[key], tokens)
        for pattern in self.patterns[key]:
            start, end = 0, 0
            for index, piece in enumerate(pattern):
                found = [s for s in _spans(frozenset([piece]), tokens) if s[0] >= end]
                if not found:
                    break
                start = found[0][0] if index == 0 else start
                end = found[0][1]
            else:
                spans.append((start, end))
        return spans

    # --- Gaps ---------------------------------------------------------------------------------

    def _gap(self, text: str) -> tuple[bool, int]:
        """(may stand between keyword words, how many negations it holds)."""
        pieces = _pieces(text, self.vocabulary, self.longest)
        if pieces is None:
            return False, 0
        return True, sum(p in self.negations for p in pieces)

    def _compared_uncached(self, gap: tuple[str, ...]) -> int | None:
        """Negations of a gap that holds a comparison ("比上次", "没有想象中"): a worse one
        counts as a negation; None when the gap is no comparison."""
        for m, word in enumerate(gap):
            if word not in self.better and word not in self.worse:
                continue
            allowed, before = self.gap("".join(gap[:m]))
            if not allowed:
                continue
            for stop in range(m + 2, min(len(gap), m + 1 + MAX_TARGET_WORDS) + 1):
                if gap[stop - 1] in self.negations:
                    break
                allowed, after = self.gap("".join(gap[stop:]))
                if allowed:
                    return before + after + (word in self.worse)
        return None

    def _bridge(self, gap: list[str]) -> int | None:
        """Negations of a gap between two parts, or None when no gap may stand there."""
        if len(gap) <= MAX_GAP_WORDS:
            allowed, negations = self.gap("".join(gap))
            if allowed:
                return negations
        if len(gap) >= 2 and gap[0] in self.coordinations and self.subject_of(gap[1]):
            # "质量和服务都很好": a second subject joined to the first shares the predicate.
            return self._bridge(gap[2:])
        if self.better or self.worse:
            return self._compared(tuple(gap))
        return None

    def _negations_before(self, tokens: Sequence[str], index: int, head: str) -> int:
        """Negations right before the word at ``index`` (whose first characters ``head`` are
        no part of the keyword, as "产品" in "产品质量"): the longest run of gap words."""
        found, text = 0, head
        if head:
            allowed, found = self.gap(head)
            if not allowed:
                return 0
        for back in range(index - 1, max(-1, index - 1 - MAX_GAP_WORDS), -1):
            text = tokens[back] + text
            allowed, negations = self.gap(text)
            if allowed:
                found = negations
        return found + self._worse_before(tokens, index)

    def _worse_before(self, tokens: Sequence[str], index: int) -> int:
        """1 when a worse comparison precedes the keyword ("没有上次买的质量好")."""
        for m in range(index - 2, max(-1, index - 2 - MAX_TARGET_WORDS), -1):
            if tokens[m] in self.worse:
                between = tokens[m + 1 : index]
                return int(not any(w in self.negations for w in between))
        return 0

    # --- Matching -----------------------------------------------------------------------------

    def _follows(
        self, tokens: Sequence[str], start: int, part: str, nearby: str
    ) -> tuple[int, int] | None:
        """Find ``part`` from ``tokens[start]`` on, written in one or a few words, over a gap:
        (index of its last word, negations of the gap), or None. ``nearby`` is the text of
        the words it may be found in."""
        if part not in nearby:
            return None  # cheap and common: the part is not written nearby at all
        gap: list[str] = []
        for j in range(start, min(len(tokens), start + self.reach + 1)):
            span = ""
            for k in range(j, min(len(tokens), j + MAX_PART_WORDS)):
                span += tokens[k]
                head_length = len(span) - len(part)
                if span.endswith(part) and 0 <= head_length < len(tokens[j]):
                    head = span[:head_length]
                    negations = self._bridge([*gap, head] if head else gap)
                    if negations is not None:
                        return k, negations
                if k == j and span.startswith(part) and span[len(part) :] in self.complements:
                    negations = self._bridge(gap)
                    if negations is not None:
                        return k, negations
            gap.append(tokens[j])
        return None

    def _owned_by_other(self, tokens: Sequence[str], index: int, head: str) -> bool:
        """Whether a quality topic belongs to another subject ("服务质量", "包装的质量")."""
        if head and self.subject_of(head) == "other":
            return True
        back = index - 1
        if back >= 0 and tokens[back] == "的":
            back -= 1
        return back >= 0 and self.subject_of(tokens[back]) == "other"

    def _subject_before(self, tokens: Sequence[str], index: int) -> str | None:
        """The subject a standalone praise word speaks of: one named just before it."""
        for back in range(index - 1, max(-1, index - 1 - MAX_GAP_WORDS), -1):
            subject = self.subject_of(tokens[back])
            if subject:
                return subject
        return None

    def occurrences(self, tokens: Sequence[str]) -> list[Occurrence]:
        """Every keyword occurrence in one clause's words, negated or not."""
        found = []
        span = self.reach + 2 * MAX_PART_WORDS
        for i, token in enumerate(tokens):
            nearby = "".join(tokens[i + 1 : i + 1 + span])
            for first, keywords in self.by_first.items():
                if token.endswith(first):
                    head = token[: -len(first)]
                elif token.startswith(first):
                    head = ""  # "优质产品": a one-part keyword may begin a longer word
                    keywords = [k for k in keywords if len(k.parts) == 1]
                else:
                    continue
                if first in self.topics:
                    if self._owned_by_other(tokens, i, head):
                        continue
                elif self._subject_before(tokens, i) == "other":
                    # "包装很结实": standalone praise of another subject is not about quality.
                    keywords = [k for k in keywords if k.anchored]
                before: int | None = None
                for keyword in keywords:
                    end, negations = i, 0
                    for part in keyword.parts[1:]:
                        step = self._follows(tokens, end + 1, part, nearby)
                        if step is None:
                            break
                        end, negations = step[0], negations + step[1]
                    else:
                        if before is None:
                            before = self._negations_before(tokens, i, head)
                        found.append(Occurrence(keyword, i, end, (before + negations) % 2 == 1))
        return found


@lru_cache(maxsize=16)
def _compiled(key: str) -> PraiseRule:
    return PraiseRule(json.loads(key))


def compile_rule(content: Mapping[str, Any]) -> PraiseRule:
    """The compiled rule of ``content``, memoised per content (a new rule version compiles
    once, the next review reuses it)."""
    return _compiled(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str))
