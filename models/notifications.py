"""Notifications: what the platform tells a merchant's shop or an account (QS 9.2.3, 9.2.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import NotificationKind

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.catalog import Merchant


class Notification(Model):
    """A message to a shop or to one account about one entity.

    Every account of a merchant reads its shop's; ``subject_type`` is the entity's type
    name, as in global ids and trails."""

    id = fields.IntField(primary_key=True)
    recipient_merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    recipient_merchant_id: int | None
    recipient_account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    recipient_account_id: int | None
    kind = fields.CharEnumField(NotificationKind, max_length=30)
    subject_type = fields.CharField(max_length=30)
    subject_id = fields.IntField()
    title_zh = fields.CharField(max_length=200)
    title_en = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("recipient_merchant_id", "id"), ("recipient_account_id", "id"))
