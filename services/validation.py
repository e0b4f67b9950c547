"""Small input checks shared by the services."""

from __future__ import annotations

import re

from pinzhi.services.errors import ErrorCode, ServiceError

PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def text(value: str | None, field: str, *, min_len: int = 1, max_len: int = 200) -> str:
    cleaned = (value or "").strip()
    if not (min_len <= len(cleaned) <= max_len):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), f"length must be {min_len}–{max_len}")
    return cleaned


def phone(value: str | None, field: str) -> str:
    cleaned = (value or "").replace(" ", "").replace("-", "")
    if not PHONE.match(cleaned):
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "not a phone number")
    return cleaned
