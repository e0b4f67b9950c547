"""Public platform rules as versioned data (QS 5.2).

A rule is identified by its key; each publication adds a version and never edits an old
one. ``current(key)`` is the version in force now; decisions store that version number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiocache.base import BaseCache
from tortoise.exceptions import IntegrityError
from tortoise.fields import CharField
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Penalty, PlatformRule
from pinzhi.services import audit, validation
from pinzhi.services.rules.defaults import DEFAULT_RULES

CACHE_KEY = "rules:current"
KEY_LENGTH = cast(CharField[str], PlatformRule._meta.fields_map["key"]).max_length
# Version 1 of the defaults was in force from the platform's start.
DEFAULTS_EFFECTIVE_FROM = datetime(2026, 1, 1, tzinfo=UTC)

__all__ = [
    "DEFAULT_RULES",
    "current",
    "current_rules",
    "history",
    "publish",
    "publish_checked",
    "version",
]


async def current_rules() -> list[PlatformRule]:
    """The version in force of every rule key, ordered by key."""
    now = datetime.now(UTC)
    rows = await PlatformRule.filter(effective_from__lte=now).order_by("key", "-version")
    latest: dict[str, PlatformRule] = {}
    for row in rows:
        latest.setdefault(row.key, row)
    return list(latest.values())


async def current(key: str) -> PlatformRule:
    now = datetime.now(UTC)
    row = await PlatformRule.filter(key=key, effective_from__lte=now).order_by("-version").first()
    if row is None:
        raise ServiceError(ErrorCode.RULE_MISSING, (), key)
    return row


async def version(key: str, number: int) -> PlatformRule:
    """Version ``number`` of rule ``key``: the one a decision recorded it was held to."""
    row = await PlatformRule.get_or_none(key=key, version=number)
    if row is None:
        raise ServiceError(ErrorCode.RULE_MISSING, (), f"{key} v{number}")
    return row


async def publish(
    key: str,
    content: dict[str, Any],
    *,
    title_zh: str,
    title_en: str,
    effective_from: datetime | None = None,
    actor: Viewer | None = None,
    cache: BaseCache | None = None,
) -> PlatformRule:
    """Add the next version of rule ``key``; the publication is the version's traced key
    node (QS 9.1.2), by ``actor`` (None: the platform itself, e.g. ``pinzhi migrate``)."""
    async with in_transaction():
        last = await PlatformRule.filter(key=key).order_by("-version").first()
        try:
            row = await PlatformRule.create(
                key=key,
                version=(last.version + 1) if last else 1,
                title_zh=title_zh,
                title_en=title_en,
                content=content,
                effective_from=effective_from or datetime.now(UTC),
                published_by_id=actor.account_id if actor else None,
            )
        except IntegrityError as exc:
            raise ServiceError(ErrorCode.INVALID_INPUT, ("key",), "published concurrently") from exc
        await audit.append(
            "PlatformRule",
            row.id,
            "published",
            actor=actor,
            new=True,
            data={
                "key": key,
                "version": row.version,
                "effective_from": row.effective_from.isoformat(),
            },
        )
    if cache is not None:
        await cache.delete(CACHE_KEY)
    return row


def with_missing_keys(in_force: Any, default: Any) -> Any:
    """``in_force`` with every key of ``default`` it lacks added, recursively through
    objects; values in force (lists included) are kept as they are."""
    if not isinstance(in_force, dict) or not isinstance(default, dict):
        return in_force
    merged = dict(in_force)
    for key, value in default.items():
        merged[key] = with_missing_keys(in_force[key], value) if key in in_force else value
    return merged


async def ensure_defaults() -> int:
    """Publish version 1 of every default rule never published, and a new version of a rule
    whose defaults gained keys that its latest version lacks (a new indicator, a new word
    list): the values in force are kept, the new keys take their defaults. Returns the
    number of versions published."""
    latest: dict[str, PlatformRule] = {}
    for row in await PlatformRule.all().order_by("key", "-version"):
        latest.setdefault(row.key, row)
    published = 0
    for rule in DEFAULT_RULES:
        found = latest.get(rule["key"])
        if found is None:
            content, effective_from = rule["content"], DEFAULTS_EFFECTIVE_FROM
        else:
            content, effective_from = with_missing_keys(found.content, rule["content"]), None
            if content == found.content:
                continue
        await publish(
            rule["key"],
            content,
            title_zh=rule["title_zh"],
            title_en=rule["title_en"],
            effective_from=effective_from,
        )
        published += 1
    return published


# A period longer than this is a typo, and past it a date computed from it can overflow.
MAX_DAYS = 3650
PERIOD_LIMITS = {"_days": MAX_DAYS, "_hours": MAX_DAYS * 24}
MAX_NUMBER = 10**15


def _same_shape(old: Any, new: Any, path: list[str]) -> None:
    """A new version keeps every key of the old one with a value of the same kind; it may
    add keys (a new indicator joins a list of inputs by being added). Numbers are finite
    and not negative; a period (a key ending in _days or _hours) is at most ten years."""
    numbers = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        same = isinstance(old, bool) and isinstance(new, bool)
    elif isinstance(old, numbers):
        same = isinstance(new, numbers) and 0 <= new <= MAX_NUMBER
        limit = next(
            (v for end, v in PERIOD_LIMITS.items() if path and path[-1].endswith(end)), None
        )
        same = same and (limit is None or new <= limit)
    else:
        same = type(old) is type(new)
    if not same:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("content", *path), "wrong kind of value")
    if isinstance(old, dict):
        for key, value in old.items():
            if key not in new:
                raise ServiceError(ErrorCode.INVALID_INPUT, ("content", *path, key), "missing")
            _same_shape(value, new[key], [*path, key])


def _penalty_ladders(content: dict[str, Any]) -> None:
    """Every violation type's ladder is a non-empty list of penalties (QS 6.4): a decision
    takes a step of it, so a misspelt or empty one would fail every decision."""
    for kind, ladder in content["ladder"].items():
        if not ladder or not all(step in Penalty.__members__ for step in ladder):
            raise ServiceError(
                ErrorCode.INVALID_INPUT, ("content", "ladder", kind), "non-empty, of penalties"
            )


# What a rule's content must also satisfy, beyond keeping its shape.
CONTENT_CHECKS: dict[str, tuple[Any, ...]] = {"violation.penalties": (_penalty_ladders,)}


async def publish_checked(
    viewer: Viewer,
    key: str,
    content: Any,
    effective_from: datetime | None,
    cache: BaseCache | None = None,
) -> PlatformRule:
    """Staff with the admin duty publish a new version of an existing rule (QS 5.2)."""
    require(viewer, Action.PUBLISH_RULE)
    key = validation.text(key, "key", max_len=KEY_LENGTH)
    latest = await PlatformRule.filter(key=key).order_by("-version").first()
    if latest is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("key",))
    if not isinstance(content, dict):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("content",), "an object")
    _same_shape(latest.content, content, [])
    for check in CONTENT_CHECKS.get(key, ()):
        check(content)
    now = datetime.now(UTC)
    if effective_from is not None:
        effective_from = validation.moment(effective_from, "effectiveFrom")
        if effective_from < now - timedelta(minutes=5):
            raise ServiceError(ErrorCode.INVALID_INPUT, ("effectiveFrom",), "not in the past")
    row = await publish(
        key,
        content,
        title_zh=latest.title_zh,
        title_en=latest.title_en,
        effective_from=effective_from or now,
        actor=viewer,
    )
    if cache is not None:
        await cache.delete(CACHE_KEY)
    return row


async def history(key: str) -> list[PlatformRule]:
    """Every version of rule ``key``, newest first (none for a key that cannot exist)."""
    if not isinstance(key, str) or len(key) > KEY_LENGTH:
        return []
    return await PlatformRule.filter(key=key).order_by("-version")
