"""Notifications to shops and accounts (QS 9.2.3, 9.2.4): written by the after-sales sweep
(``services/after_sales_sweep.py``) inside the transaction of what they announce, read
through ``auth/scopes.py`` (a recipient's own only), and marked read by their recipient.

Marking one read is traced on the notification's own trail (QS 9.1.2): that a shop read
the notice of a breach, and when, is evidence that the notice reached it. The notice
itself is recorded on the trail of the request or complaint it is about.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.models import Notification
from pinzhi.services import audit, state
from pinzhi.services.lookup import lock_visible


async def mark_read(viewer: Viewer, notification_id: int | None) -> Notification:
    """Mark one of the viewer's notifications read; again, it stays read as it was."""
    require(viewer, Action.MARK_NOTIFICATION_READ)
    async with in_transaction():
        notice = await lock_visible(viewer, Notification, notification_id or 0, "notificationId")
        if notice.read_at is None:
            notice.read_at = state.now()
            await Notification.filter(id=notice.id).update(read_at=notice.read_at)
            await audit.append(
                "Notification",
                notice.id,
                "read",
                actor=viewer,
                data={
                    "kind": str(notice.kind),
                    "subject_type": notice.subject_type,
                    "subject_id": notice.subject_id,
                },
            )
    return notice
