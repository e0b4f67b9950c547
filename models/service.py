"""Complaints and satisfaction feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import ComplaintCategory, ComplaintState, FeedbackSubject, Role

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.catalog import Merchant
    from pinzhi.models.orders import Order


class Complaint(Model):
    id = fields.IntField(primary_key=True)
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="complaints"
    )
    consumer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="complaints"
    )
    merchant_id: int
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="complaints", null=True
    )
    order_id: int | None
    assignee: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="assigned_complaints", null=True
    )
    assignee_id: int | None
    state = fields.CharEnumField(ComplaintState, max_length=16, default=ComplaintState.OPEN)
    description = fields.TextField()
    resolution = fields.TextField(default="")
    # QS 9.2.4: when not solved on the spot, a reason and a promised date.
    delay_reason = fields.TextField(default="")
    promised_by = fields.DatetimeField(null=True)
    rule_version = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)
    category = fields.CharEnumField(
        ComplaintCategory, max_length=20, default=ComplaintCategory.OTHER
    )
    # Whether the resolution found the consumer right: an upheld complaint is an order defect.
    upheld = fields.BooleanField(null=True)
    # Set once by the after-sales sweep when a promise passed unkept (QS 9.2.4).
    escalated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "complaint"
        # The last: the after-sales sweep's promises past their date (QS 9.2.4).
        indexes = (("merchant_id", "id"), ("consumer_id", "id"), ("state", "promised_by"))


class Feedback(Model):
    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="feedback"
    )
    author_id: int
    author_role = fields.CharEnumField(Role, max_length=20)
    subject_type = fields.CharEnumField(FeedbackSubject, max_length=16)
    # The id of the rated order, merchant or complaint; 0 for the platform.
    subject_id = fields.IntField()
    # The party being rated, kept for scoping: a merchant sees feedback about itself.
    rated_merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="feedback_received", null=True
    )
    rated_merchant_id: int | None
    # The consumer whose order or case is rated, kept for scoping.
    consumer: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="feedback_given", null=True
    )
    consumer_id: int | None
    score = fields.SmallIntField()
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "feedback"
        unique_together = (("author_id", "subject_type", "subject_id"),)
        indexes = (("subject_type", "subject_id"),)
