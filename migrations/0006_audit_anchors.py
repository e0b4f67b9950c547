from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_merchant_submissions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditAnchor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('seq', fields.IntField(unique=True)),
                ('period', fields.CharField(unique=True, max_length=13)),
                ('event_count', fields.IntField()),
                ('events_digest', fields.CharField(max_length=64)),
                ('head_count', fields.IntField()),
                ('heads_digest', fields.CharField(max_length=64)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_anchor', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The checkpoint of one hour of the audit trail (QS 9.1.2), itself a link of a chain:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditAnchorHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('anchor', fields.ForeignKeyField('models.AuditAnchor', source_field='anchor_id', db_constraint=True, to_field='id', related_name='heads', on_delete=OnDelete.RESTRICT)),
                ('entity_type', fields.CharField(max_length=30)),
                ('entity_id', fields.IntField()),
                ('seq', fields.IntField()),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_anchor_head', 'app': 'models', 'unique_together': (('anchor_id', 'entity_type', 'entity_id'),), 'indexes': [Index(fields=['entity_type', 'entity_id'])], 'pk_attr': 'id', 'table_description': "The head (seq, hash) of one chain that moved in an anchor's hour. A row per chain"},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['occurred_at']),
        ),
    ]
