"""The record of what regulators looked at (QS 9.4.1, 10.2).

Regulators read everything, masked and read-only; the platform keeps, for each of their
requests, which operation and fields were asked for and which entities the answer held,
so that it can show (to compliance staff, and to a data subject's inquiry) what a
regulator saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from pinzhi.auth.viewer import Viewer
from pinzhi.models import RegulatorRead, Role

MAX_RECORDED_IDS = 1000


def ids_in(data: Any) -> Iterator[str]:
    """The global ids (every ``id`` string) in a response's data, in order."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found = item.get("id")
            if isinstance(found, str):
                yield found
            stack.extend(reversed([v for k, v in item.items() if k != "id"]))
        elif isinstance(item, list):
            stack.extend(reversed(item))


async def record(
    viewer: Viewer,
    query: str,
    operation_name: str | None,
    fields_read: Sequence[str],
    data: Any,
) -> None:
    if viewer.role != Role.REGULATOR or viewer.account_id is None:
        return
    ids = list(dict.fromkeys(ids_in(data)))
    await RegulatorRead.create(
        regulator_id=viewer.account_id,
        operation_name=(operation_name or "")[:100],
        fields_read=list(fields_read),
        entity_ids=ids[:MAX_RECORDED_IDS],
        entity_count=len(ids),
        document_hash=hashlib.sha256(query.encode()).hexdigest(),
    )
