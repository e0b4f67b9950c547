"""The breach sweep of online customer service (QS 9.2.2): sessions handed over, still
unanswered, past their first-response limit are stamped ``breached_at`` once, traced, and
announced on the agents' queue topic so supervisors see them at once.

The live flag needs no sweep (``ServiceSession.firstResponseOverdue`` and the metrics read
the times as of now); the sweep makes the breach part of the record and tells the queue's
subscribers. It runs every minute (job ``service-breach-sweep``).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from pinzhi.models import ServiceSession, ServiceSessionState
from pinzhi.services import audit, events
from pinzhi.services.lookup import ids_of, lock_rows


async def sweep(now: datetime) -> int:
    """Stamp every overdue, unanswered session not yet stamped; the number stamped."""
    overdue = ServiceSession.filter(
        first_response_at__isnull=True,
        breached_at__isnull=True,
        response_due_at__lt=now,
        state__in=[ServiceSessionState.WAITING, ServiceSessionState.ACTIVE],
    )
    async with in_transaction():
        ids = await ids_of(overdue)
        if not ids:
            return 0
        await lock_rows(ServiceSession, ids)
        # Re-read under the locks: an agent may have answered meanwhile.
        ids = await ids_of(overdue.filter(id__in=ids))
        await ServiceSession.filter(id__in=ids).update(breached_at=now)
        await audit.append_many(
            "ServiceSession",
            [(pk, "breached", "", "", {"at": now.isoformat()}) for pk in ids],
            actor=None,
        )
    for pk in ids:
        await events.publish(events.QUEUE_TOPIC, {"session": pk, "event": "BREACHED"})
    return len(ids)
