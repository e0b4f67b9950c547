from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from pinzhi.models.enums import CourseTopic, Post
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on


async def sqlite_merchant_course_unique(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script(
            'CREATE UNIQUE INDEX IF NOT EXISTS "uid_enrolment_merchan_539d5c" '
            'ON "enrolment" ("merchant_id", "course_id")'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0017_phone_queue')]

    initial = False
    # SQLite rebuilds the enrolment table to let its merchant be null and to add the
    # constraints; its rows, and those referring to it, must survive (migrations/_sqlite.py).
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.CreateModel(
            name='PostAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='post_assignments', on_delete=OnDelete.RESTRICT)),
                ('post', fields.CharEnumField(description='ONLINE_SERVICE: ONLINE_SERVICE\nPHONE_SERVICE: PHONE_SERVICE\nCOMPLAINT_HANDLING: COMPLAINT_HANDLING\nADVANCE_COMPENSATION: ADVANCE_COMPENSATION\nSENIOR_SUPPORT: SENIOR_SUPPORT\nQUALITY_SUPERVISION: QUALITY_SUPERVISION', enum_type=Post, max_length=24)),
                ('rule_version', fields.IntField()),
                ('qualification', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('assigned_by', fields.ForeignKeyField('models.Account', source_field='assigned_by_id', db_constraint=True, to_field='id', related_name='post_assignments_made', on_delete=OnDelete.RESTRICT)),
                ('assigned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_by', fields.ForeignKeyField('models.Account', source_field='ended_by_id', null=True, db_constraint=True, to_field='id', related_name='post_assignments_ended', on_delete=OnDelete.RESTRICT)),
                ('end_reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'post_assignment', 'app': 'models', 'indexes': [Index(fields=['account_id', 'post', 'ended_at']), Index(fields=['post', 'ended_at'])], 'pk_attr': 'id', 'table_description': 'A staff member on a post, from assignment to its end (kept on record). At most one'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='staff_profile', on_delete=OnDelete.RESTRICT)),
                ('team', fields.CharField(db_index=True, max_length=50)),
                ('experience_since', fields.DateField(null=True)),
                ('on_duty', fields.BooleanField(default=False)),
                ('on_duty_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'staff_profile', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Recorded by admin staff before a staff member takes a post: the team (customer-service'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Course',
            name='topic',
            field=fields.CharEnumField(description='QUALITY_CONTROL: QUALITY_CONTROL\nSUPPLY_CHAIN: SUPPLY_CHAIN\nCOMPLIANCE: COMPLIANCE\nSERVICE: SERVICE\nETIQUETTE: ETIQUETTE\nRIGHTS_HANDLING: RIGHTS_HANDLING\nECOMMERCE_LAW: ECOMMERCE_LAW', enum_type=CourseTopic, max_length=20),
        ),
        ops.AlterModelOptions(
            name='Enrolment',
            # The new description only: the constraints on staff_id follow its column (below).
            options={'table': 'enrolment', 'app': 'models', 'unique_together': (('merchant_id', 'course_id'),), 'pk_attr': 'id', 'table_description': "A trainee's enrolment in a course: a merchant (QS 6.3) or, for the posts they may"},
        ),
        ops.AlterField(
            model_name='Enrolment',
            name='merchant',
            field=fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='enrolments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Enrolment',
            name='staff',
            field=fields.ForeignKeyField('models.Account', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='staff_enrolments', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddConstraint(
            model_name='Enrolment',
            constraint=CheckConstraint(check='(merchant_id IS NULL) <> (staff_id IS NULL)', name='enrolment_one_trainee'),
        ),
        # SQLite's rebuilds above keep no unique constraint: the merchant's comes back here.
        ops.RunPython(sqlite_merchant_course_unique),
        ops.AddConstraint(
            model_name='Enrolment',
            constraint=UniqueConstraint(fields=('staff_id', 'course_id'), name=None),
        ),
        ops.RunPython(sqlite_foreign_keys_on),
    ]
