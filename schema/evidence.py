"""Evidence items, shared by violation cases and merchants' submissions."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="One item of evidence: what it shows, and where to see it.")
class Evidence:
    description: str
    url: str | None

    @classmethod
    def many(cls, stored: list[dict[str, Any]]) -> list[Evidence]:
        return [cls(description=e["description"], url=e.get("url")) for e in stored]


@strawberry.input
class EvidenceInput:
    description: str = strawberry.field(description="2–1000 characters.")
    url: str | None = strawberry.field(default=None, description="An http(s) link, optional.")
