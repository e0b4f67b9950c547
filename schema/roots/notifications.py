"""Notifications and after-sales timeliness (QS 9.2.1, 9.2.3, 9.2.4)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.auth.scopes import sees_after_sales_timeliness
from pinzhi.errors import ServiceError
from pinzhi.resolvers.lists import scoped_page
from pinzhi.resolvers.pagination import Window, bad_input
from pinzhi.schema.base import Connection, attempt, pk_of, pk_or_missing, to_global_id
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.notifications import AfterSalesTimeliness, Notification, NotificationPayload
from pinzhi.services import after_sales_metrics, notifications


async def notification_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    unread: bool | None = None,
) -> Connection[Notification]:
    """The viewer's notifications, newest first: a merchant's account reads its shop's and
    its own, any other account its own."""
    found = await scoped_page(
        info.context.viewer,
        models.Notification,
        Window(first, after, last, before),
        read_at__isnull=unread,
    )
    language = info.context.language
    return Connection.of(found, [Notification.from_row(r, language) for r in found.rows])


async def mark_notification_read(info: Info, notification_id: strawberry.ID) -> NotificationPayload:
    row, errors = await attempt(
        info,
        notifications.mark_read(
            info.context.viewer, pk_or_missing(notification_id, "Notification")
        ),
    )
    return NotificationPayload(
        notification=Notification.from_row(row, info.context.language) if row else None,
        errors=errors,
    )


async def after_sales_timeliness(
    info: Info, merchant_id: strawberry.ID | None = None, period: str | None = None
) -> AfterSalesTimeliness | None:
    """A merchant's counts (its own for a merchant when no id is given), or the platform's
    for staff and regulators; null for a merchant the viewer may not see, as for a missing
    one."""
    viewer = info.context.viewer
    if merchant_id is None:
        merchant_pk = viewer.merchant_id if viewer.role == models.Role.MERCHANT else None
    else:
        merchant_pk = pk_of(merchant_id, "Merchant")
        if merchant_pk is None:
            return None
    if not sees_after_sales_timeliness(viewer, merchant_pk):
        return None
    if merchant_pk is not None and not await models.Merchant.filter(id=merchant_pk).exists():
        return None
    try:
        month, counts = await after_sales_metrics.for_period(merchant_pk, period)
    except ServiceError as error:
        raise bad_input(error.message(info.context.language)) from None
    return AfterSalesTimeliness(
        merchant_id=to_global_id("Merchant", merchant_pk) if merchant_pk is not None else None,
        period=month,
        requests=counts.requests,
        responded=counts.responded,
        on_time=counts.on_time,
        breached=counts.breached,
        pending=counts.pending,
        escalated=counts.escalated,
        on_time_rate=counts.on_time_rate,
    )


@strawberry.type
class NotificationQuery:
    notifications = field(
        notification_list,
        policy.READERS,
        description="The viewer's notifications (QS 9.2.3, 9.2.4); `unread: true` for those "
        "not yet read, `false` for those read.",
    )
    after_sales_timeliness = field(
        after_sales_timeliness,
        policy.TIMELINESS_READERS,
        description="On-time after-sales responses and breaches over a month (QS 9.2.3): a "
        "merchant's own shop, or any merchant's and the platform's (no merchantId) for "
        "customer-service and compliance staff and regulators; null for others.",
    )


@strawberry.type
class NotificationMutation:
    mark_notification_read = mutation(
        mark_notification_read,
        Action.MARK_NOTIFICATION_READ,
        description="Mark one of the viewer's notifications read (traced); again, no change.",
    )
