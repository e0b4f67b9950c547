"""Staff fit for their posts (QS 9.3.1-9.3.4): a staff member's profile (team, relevant
experience, on duty) and the posts they hold.

Training is the training graph's (models/violations.py ``Enrolment``, with a staff member as
its trainee); what a post needs is the rule ``customer_service.posts``
(services/staff_posts.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import Post

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account


class StaffProfile(Model):
    """Recorded by admin staff before a staff member takes a post: the team (customer-service
    metrics are reported per team) and since when the person's relevant experience counts
    (earlier jobs backdate it), which decides a key post (QS 9.3.4). The staff member sets
    the on-duty flag; only one holding a post may be on duty."""

    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="staff_profile", on_delete=fields.RESTRICT
    )
    account_id: int
    team = fields.CharField(max_length=50, db_index=True)
    experience_since = fields.DateField(null=True)
    on_duty = fields.BooleanField(default=False)
    on_duty_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "staff_profile"


class PostAssignment(Model):
    """A staff member on a post, from assignment to its end (kept on record). At most one
    assignment per person and post is current (``ended_at`` null): the service holds it."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="post_assignments", on_delete=fields.RESTRICT
    )
    account_id: int
    post = fields.CharEnumField(Post, max_length=24)
    # The version of customer_service.posts the assignment was checked against, and what it
    # was granted on: the enrolments passed, the months of experience held.
    rule_version = fields.IntField()
    qualification: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    assigned_by: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="post_assignments_made", on_delete=fields.RESTRICT
    )
    assigned_by_id: int
    assigned_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    ended_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="post_assignments_ended",
        null=True,
        on_delete=fields.RESTRICT,
    )
    ended_by_id: int | None
    end_reason = fields.TextField(default="")

    class Meta:
        table = "post_assignment"
        indexes = (
            # holds_post: one person's current assignment to one post.
            ("account_id", "post", "ended_at"),
            # The staffing report: current assignments by post.
            ("post", "ended_at"),
        )
