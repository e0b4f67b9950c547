from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import CallEventKind, ProviderKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on

class Migration(migrations.Migration):
    dependencies = [('models', '0016_customer_service')]

    initial = False
    # SQLite rebuilds service_provider for its kind's new member (CONTACT_CENTRE, QS 9.2.2):
    # with foreign keys off around it (see _sqlite.py); PostgreSQL only comments it.
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.AlterField(
            model_name='ServiceProvider',
            name='kind',
            field=fields.CharEnumField(description='LOGISTICS: LOGISTICS\nPAYMENT: PAYMENT\nCONTACT_CENTRE: CONTACT_CENTRE', enum_type=ProviderKind, max_length=16),
        ),
        ops.RunPython(sqlite_foreign_keys_on),
        ops.CreateModel(
            name='Call',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.RESTRICT)),
                ('call_ref', fields.CharField(max_length=100)),
                ('queue', fields.CharField(max_length=32)),
                ('queued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('queued_hour', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('abandoned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('agent', fields.ForeignKeyField('models.Account', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='answered_calls', on_delete=OnDelete.RESTRICT)),
                ('wait_us', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'phone_call', 'app': 'models', 'unique_together': (('provider_id', 'call_ref'),), 'indexes': [Index(fields=['queued_hour', 'queue'])], 'pk_attr': 'id', 'table_description': 'One call of a contact centre, as its events so far describe it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CallEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='call_events', on_delete=OnDelete.RESTRICT)),
                ('event_id', fields.CharField(max_length=100)),
                ('call', fields.ForeignKeyField('models.Call', source_field='call_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('call_ref', fields.CharField(max_length=100)),
                ('queue', fields.CharField(max_length=32)),
                ('kind', fields.CharEnumField(description='QUEUED: QUEUED\nANSWERED: ANSWERED\nABANDONED: ABANDONED\nENDED: ENDED', enum_type=CallEventKind, max_length=16)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('agent', fields.ForeignKeyField('models.Account', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='call_events', on_delete=OnDelete.RESTRICT)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'phone_call_event', 'app': 'models', 'unique_together': (('provider_id', 'event_id'),), 'indexes': [Index(fields=['call_id'])], 'pk_attr': 'id', 'table_description': "One event of a call, as the contact centre sent it. ``event_id`` is the provider's"},
            bases=['Model'],
        ),
    ]
