"""Complaints and satisfaction feedback."""

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import ComplaintCategory, ComplaintState, FeedbackSubject, Role


class Complaint(Model):
    id = fields.IntField(primary_key=True)
    consumer = fields.ForeignKeyField("models.Account", related_name="complaints")
    merchant = fields.ForeignKeyField("models.Merchant", related_name="complaints")
    order = fields.ForeignKeyField("models.Order", related_name="complaints", null=True)
    assignee = fields.ForeignKeyField(
        "models.Account", related_name="assigned_complaints", null=True
    )
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

    class Meta:
        table = "complaint"
        indexes = (("merchant_id", "id"), ("consumer_id", "id"))


class Feedback(Model):
    id = fields.IntField(primary_key=True)
    author = fields.ForeignKeyField("models.Account", related_name="feedback")
    author_role = fields.CharEnumField(Role, max_length=20)
    subject_type = fields.CharEnumField(FeedbackSubject, max_length=16)
    # The id of the rated order, merchant or complaint; 0 for the platform.
    subject_id = fields.IntField()
    # The party being rated, kept for scoping: a merchant sees feedback about itself.
    rated_merchant = fields.ForeignKeyField(
        "models.Merchant", related_name="feedback_received", null=True
    )
    # The consumer whose order or case is rated, kept for scoping.
    consumer = fields.ForeignKeyField("models.Account", related_name="feedback_given", null=True)
    score = fields.SmallIntField()
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "feedback"
        unique_together = (("author_id", "subject_type", "subject_id"),)
        indexes = (("subject_type", "subject_id"),)
