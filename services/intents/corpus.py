"""The labelled messages: the corpus the repository ships, other files in its format, and
the held-out split.

A file holds one message a line, ``INTENT<TAB>text``, in UTF-8; blank lines and lines
starting with ``#`` are skipped. The shipped corpus is ``corpus/zh.tsv`` and
``corpus/en.tsv`` beside this module (how its messages are labelled: ``corpus/README.md``).

The held-out split is stratified and stable: within each language and intent, the messages
are ordered by a hash of their normal form and the first ``HELD_OUT_SHARE`` of them are held
out. Which messages are held out depends on their text only, never on their position in a
file, so reordering a file changes nothing and adding a message moves at most one other.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pinzhi.models.enums import Intent
from pinzhi.services.intents.text import Language, language_of, normalise

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LANGUAGES: tuple[Language, ...] = ("zh", "en")
HELD_OUT_SHARE = 0.2
# A file to score is read whole: more than this is not a labelled set but a mistake.
MAX_FILE_BYTES = 20 * 1024 * 1024


class CorpusError(ValueError):
    """A labelled file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Example:
    intent: Intent
    text: str
    language: Language
    source: str
    line: int

    @property
    def key(self) -> str:
        """The split's hash: the language and the normal form of the text."""
        return hashlib.sha256(f"{self.language}\t{normalise(self.text)}".encode()).hexdigest()


def _intent(name: str, where: str) -> Intent:
    try:
        return Intent(name.strip().upper())
    except ValueError:
        known = ", ".join(Intent)
        raise CorpusError(f"{where}: unknown intent {name.strip()!r} (known: {known})") from None


def parse(
    lines: Iterable[bytes | str], source: str, language: Language | None = None
) -> list[Example]:
    """The examples of a file's lines; each line's language is ``language`` or, when not
    given, the one its text reads as. The first bad line is a ``CorpusError``."""
    examples: list[Example] = []
    for number, raw in enumerate(lines, start=1):
        where = f"{source}:{number}"
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CorpusError(f"{where}: not UTF-8") from None
        else:
            line = raw
        line = line.rstrip("\r\n")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, tab, text = line.partition("\t")
        if not tab:
            raise CorpusError(f"{where}: expected INTENT<TAB>text, found no tab")
        if "\t" in text:
            raise CorpusError(f"{where}: expected INTENT<TAB>text, found more than one tab")
        text = text.strip()
        if not text:
            raise CorpusError(f"{where}: the message is empty")
        intent = _intent(name, where)
        examples.append(Example(intent, text, language or language_of(text), source, number))
    return examples


def read(path: str | Path, language: Language | None = None) -> list[Example]:
    """The examples of a labelled file; a missing, unreadable or malformed file is a
    ``CorpusError`` naming it (and the line)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CorpusError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a directory") from None
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror})") from None
    examples = parse(data.splitlines(), str(path), language)
    if not examples:
        raise CorpusError(f"{path}: no labelled messages")
    return examples


_lock = threading.Lock()
_shipped: tuple[Example, ...] | None = None


def shipped() -> tuple[Example, ...]:
    """The repository's corpus, both languages, read once per process."""
    global _shipped
    if _shipped is None:
        with _lock:
            if _shipped is None:
                examples: list[Example] = []
                for language in LANGUAGES:
                    examples += read(CORPUS_DIR / f"{language}.tsv", language)
                _shipped = tuple(examples)
    return _shipped


def digest() -> str:
    """A hash of the shipped corpus files, which the model is built from."""
    hashed = hashlib.sha256()
    for language in LANGUAGES:
        hashed.update((CORPUS_DIR / f"{language}.tsv").read_bytes())
    return hashed.hexdigest()


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held out): within each language and intent, the ``HELD_OUT_SHARE``
    (rounded up) of the messages first by hash are held out."""
    groups: dict[tuple[Language, Intent], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.language, example.intent)].append(example)
    held: set[int] = set()
    for members in groups.values():
        ranked = sorted(members, key=lambda e: e.key)
        held.update(id(e) for e in ranked[: math.ceil(len(ranked) * HELD_OUT_SHARE)])
    training = [e for e in examples if id(e) not in held]
    held_out = [e for e in examples if id(e) in held]
    return training, held_out
