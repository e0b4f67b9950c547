"""Evidence attached to a case or a submission: described items, optionally with an http(s)
link to the document or photo (the platform stores references, not files)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.services import validation

MAX_ITEMS = 20
URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class Evidence:
    description: str
    url: str | None = None


def clean(items: Sequence[Evidence], field: str = "evidence") -> list[dict[str, Any]]:
    """1–20 items, each a description of 2–1000 characters and an optional http(s) URL, as
    stored (JSON)."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ServiceError(ErrorCode.INVALID_INPUT, (field,), f"give 1–{MAX_ITEMS} items")
    cleaned = []
    for index, item in enumerate(items):
        path = (field, str(index))
        description = validation.text(
            item.description, (*path, "description"), min_len=2, max_len=1000, multiline=True
        )
        url = validation.text(item.url, (*path, "url"), min_len=0, max_len=MAX_URL_LENGTH) or None
        if url is not None and not URL.fullmatch(url):
            raise ServiceError(ErrorCode.INVALID_INPUT, (*path, "url"), "not an http(s) URL")
        cleaned.append({"description": description, "url": url})
    return cleaned
