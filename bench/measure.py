"""What the benchmarks (and the tests' SQL-count checks) measure in this process: the SQL
statements tortoise runs, and the resident memory.

Tests import ``count_sql`` from here too (tests/helpers.py), so a statement counts the same
in a test's pinned figure as in a benchmark's result.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
LOGGER = "tortoise.db_client"


class SqlCounter(logging.Handler):
    """Counts the statements tortoise logs (``"%s: %s", query, values``), by phase and by
    shape (verb and table), reading the query without formatting the message: a bulk
    write's values would cost more than the count. ``keep`` also keeps each statement's
    full text, for a failing test to print."""

    def __init__(self, *, keep: bool = False) -> None:
        super().__init__(level=logging.DEBUG)
        self.keep = keep
        self.phase = "start"
        self.counts: dict[str, Counter[str]] = {}
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            query = args[0]
        else:
            query = record.getMessage()
        if not SQL.match(query):
            return
        verb = query.split(None, 1)[0].upper()
        table = TABLE.search(query)
        many = " (executemany)" if record.funcName == "execute_many" else ""
        shape = f"{verb} {table.group(1) if table else ''}{many}".strip()
        self.counts.setdefault(self.phase, Counter())[shape] += 1
        if self.keep:
            self.statements.append(record.getMessage())

    def total(self, phase: str | None = None) -> int:
        phases = [phase] if phase else list(self.counts)
        return sum(sum(self.counts.get(p, Counter()).values()) for p in phases)

    @property
    def count(self) -> int:
        return self.total()


@contextmanager
def count_sql(*, keep: bool = False) -> Iterator[SqlCounter]:
    """Count the statements run inside the block."""
    logger = logging.getLogger(LOGGER)
    counter, previous = SqlCounter(keep=keep), logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


def status_kib(key: str, pid: int | str = "self") -> int:
    """A size from /proc/<pid>/status (VmRSS, VmHWM, ...), in KiB; 0 where there is none."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    """Writing 5 to clear_refs resets VmHWM to the current resident size (Linux >= 4.0)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
