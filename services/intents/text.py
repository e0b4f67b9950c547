"""What the recogniser reads of a message: its language, its normal form, its words.

Messages come as customers type them: full-width letters, capitals, emoji, order numbers,
Chinese and English in one line. The normal form folds the first two (NFKC, casefold),
keeps emoji (an angry face says something), turns long digit runs (order, tracking and
phone numbers) into one ``#`` so that no intent is learnt from a number, and drops control
characters. Only the first ``MAX_CHARS`` characters are read.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Literal

from pinzhi.services.praise_rule import segment

Language = Literal["zh", "en"]

# What the recogniser reads of a message; the GraphQL field refuses longer ones.
MAX_CHARS = 2000
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
# Order, tracking, phone numbers: five digits or more.
NUMBER = re.compile(r"\d{5,}")
BLANKS = re.compile(r"\s+")
# Control, format (zero-width), surrogate, private-use and unassigned characters.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# One Chinese character says about as much as three Latin letters.
LETTERS_PER_HAN = 3


def language_of(text: str) -> Language:
    """``zh`` when the message is mostly Chinese ("我的 order 还没到"), ``en`` when mostly
    Latin letters ("package still 没到"); ``zh``, the platform's language, when it has
    neither (emoji, digits, nothing)."""
    head = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    han = len(HAN.findall(head))
    latin = len(LATIN.findall(head))
    if han == 0 and latin == 0:
        return "zh"
    return "zh" if han * LETTERS_PER_HAN >= latin else "en"


def normalise(text: str) -> str:
    """The first ``MAX_CHARS`` characters, folded, numbers as ``#``, blanks collapsed."""
    folded = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    kept = "".join(" " if unicodedata.category(c) in DROPPED_CATEGORIES else c for c in folded)
    return BLANKS.sub(" ", NUMBER.sub("#", kept)).strip()


def _is_word(token: str) -> bool:
    """A token that says something: not blank, not punctuation only."""
    return any(not unicodedata.category(c).startswith(("P", "Z")) for c in token)


def words(normalised: str) -> list[str]:
    """jieba's words of a normalised message (Chinese segmented, English split on its
    blanks and punctuation), and each pair of neighbours ("退款 到账")."""
    tokens = [t.strip() for t in segment(normalised) if _is_word(t)]
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
