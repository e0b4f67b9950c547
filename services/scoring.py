"""Turning indicator values into 0–100 sub-scores and totals into grade levels, by rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime


def linear(value: float | None, good: float, bad: float) -> float | None:
    """100 at ``good``, 0 at ``bad``, linear between and clamped; None stays None
    (no data: the dimension averages what it has)."""
    if value is None:
        return None
    if good == bad:
        return 100.0 if value == good else 0.0
    share = (value - bad) / (good - bad)
    return round(100.0 * min(1.0, max(0.0, share)), 2)


def mean(scores: Sequence[float | None], default: float = 100.0) -> float:
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known), 2) if known else default


def weighted_total(dimensions: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total_weight = sum(weights.values())
    return round(sum(dimensions[k] * w for k, w in weights.items()) / total_weight, 2)


def level_for(score: float, levels: Sequence[Sequence[str | float]]) -> str:
    """``levels`` is [[name, minimum score], …] from best to worst."""
    for name, minimum in levels:
        if score >= float(minimum):
            return str(name)
    return str(levels[-1][0])


def level_rank(level: str | None, levels: Sequence[Sequence[str | float]]) -> int:
    """0 for the best level; a larger number is worse; unknown levels rank last."""
    names = [str(name) for name, _ in levels]
    return names.index(level) if level in names else len(names)


def cap(level: str, ceiling: str, levels: Sequence[Sequence[str | float]]) -> str:
    """The worse of ``level`` and ``ceiling``."""
    return level if level_rank(level, levels) >= level_rank(ceiling, levels) else ceiling


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def current_period(now: datetime | None = None) -> str:
    """Grading periods are calendar months, e.g. ``2026-11``."""
    now = now or datetime.now(UTC)
    return f"{now.year:04d}-{now.month:02d}"
