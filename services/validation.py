"""Small input checks shared by the services.

Text is checked after stripping surrounding blanks. Control characters are refused rather
than stored: a name or number with a newline or NUL in it is a client bug or an attack,
never data (multi-line fields may hold line breaks and tabs, nothing else).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from pinzhi.errors import ErrorCode, ServiceError

PHONE = re.compile(r"\+?[0-9]{6,15}")
TRACKING_NUMBER = re.compile(r"[A-Za-z0-9-]{4,64}")
# Separators people type inside phone numbers.
PHONE_SEPARATORS = str.maketrans("", "", " -")
MULTILINE_ALLOWED = frozenset("\n\t")


def _has_control(value: str, allowed: frozenset[str]) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)


Field = str | tuple[str, ...]


def _path(field: Field) -> tuple[str, ...]:
    return (field,) if isinstance(field, str) else field


def text(
    value: str | None,
    field: Field,
    *,
    min_len: int = 1,
    max_len: int = 200,
    multiline: bool = False,
) -> str:
    """``value`` stripped, 1–``max_len`` characters; control characters are refused (line
    breaks and tabs are allowed in ``multiline`` text, where ``\\r\\n`` becomes ``\\n``)."""
    cleaned = (value or "").strip()
    if multiline:
        cleaned = cleaned.replace("\r\n", "\n")
    if _has_control(cleaned, MULTILINE_ALLOWED if multiline else frozenset()):
        raise ServiceError(ErrorCode.INVALID_INPUT, _path(field), "control characters")
    if not (min_len <= len(cleaned) <= max_len):
        raise ServiceError(
            ErrorCode.INVALID_INPUT, _path(field), f"length must be {min_len}–{max_len}"
        )
    return cleaned


# Times the platform can mean: before the first is not a business event, after the last a
# typo; outside them a time may not even convert to UTC (year 9999 at -05:00 overflows).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def moment(
    value: datetime | None, field: str, code: ErrorCode = ErrorCode.INVALID_INPUT
) -> datetime:
    """``value`` as an aware UTC time between 1970 and 2200, or ``code`` for ``field``."""
    if value is None or value.tzinfo is None or value.utcoffset() is None:
        raise ServiceError(code, (field,), "a time with a timezone")
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ServiceError(code, (field,), "out of range") from None
    if not EARLIEST_YEAR <= utc.year < LATEST_YEAR:
        raise ServiceError(code, (field,), f"between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return utc


def phone(value: str | None, field: str) -> str:
    """Digits with an optional leading +, 6–15 of them; spaces and hyphens are dropped."""
    cleaned = (value or "").translate(PHONE_SEPARATORS)
    if not PHONE.fullmatch(cleaned):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "not a phone number")
    return cleaned


def tracking_number(value: str | None, field: str = "trackingNumber") -> str:
    """A carrier's tracking number: 4–64 letters, digits or hyphens."""
    number = (value or "").strip()
    if not TRACKING_NUMBER.fullmatch(number):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "4–64 letters or digits")
    return number
