"""Violation cases and merchant training (QS 6.3, 6.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from pinzhi.models.enums import CourseTopic, Penalty, ViolationState, ViolationType

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.catalog import Merchant


class ViolationCase(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="violations"
    )
    merchant_id: int
    type = fields.CharEnumField(ViolationType, max_length=20)
    state = fields.CharEnumField(ViolationState, max_length=12, default=ViolationState.OPEN)
    evidence: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    opened_by: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="opened_violations"
    )
    opened_by_id: int
    decided_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="decided_violations", null=True
    )
    decided_by_id: int | None
    decision_note = fields.TextField(default="")
    penalty = fields.CharEnumField(Penalty, max_length=20, null=True)
    deduction_minor = fields.BigIntField(default=0)
    repeat_count = fields.IntField(default=0)
    appeal_deadline = fields.DatetimeField(null=True)
    appeal_text = fields.TextField(default="")
    appealed_at = fields.DatetimeField(null=True)
    outcome_note = fields.TextField(default="")
    rule_version = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # What the penalty did to the shop (services/penalties.py): the products it delisted,
    # the rank penalty; and when that was undone (its period ended, or an appeal won).
    effects: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict, db_default={})
    effects_lifted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "violation_case"
        indexes = (("merchant_id", "id"),)


class Course(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=30, unique=True)
    title = fields.CharField(max_length=200)
    topic = fields.CharEnumField(CourseTopic, max_length=20)
    pass_mark = fields.SmallIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "course"


class Enrolment(Model):
    """A trainee's enrolment in a course: a merchant (QS 6.3) or, for the posts they may
    take, a staff member (QS 9.3.2); exactly one of the two."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="enrolments", null=True
    )
    merchant_id: int | None
    # Staff posts and their qualification (QS 9.3.2): the staff member trained.
    staff: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="staff_enrolments", null=True, on_delete=fields.RESTRICT
    )
    staff_id: int | None
    course: fields.ForeignKeyRelation[Course] = fields.ForeignKeyField(
        "models.Course", related_name="enrolments"
    )
    course_id: int
    enrolled_at = fields.DatetimeField(auto_now_add=True)
    score = fields.SmallIntField(null=True)
    passed = fields.BooleanField(null=True)
    assessed_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="assessments", null=True
    )
    assessed_by_id: int | None
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "enrolment"
        unique_together = (("merchant_id", "course_id"), ("staff_id", "course_id"))
        constraints = (
            CheckConstraint(
                check="(merchant_id IS NULL) <> (staff_id IS NULL)", name="enrolment_one_trainee"
            ),
        )
