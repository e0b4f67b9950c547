from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_encrypted_email')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RegulatorRead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('regulator', fields.ForeignKeyField('models.Account', source_field='regulator_id', db_constraint=True, to_field='id', related_name='regulator_reads', on_delete=OnDelete.CASCADE)),
                ('operation_name', fields.CharField(default='', max_length=100)),
                ('fields_read', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('entity_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('entity_count', fields.IntField(default=0)),
                ('document_hash', fields.CharField(max_length=64)),
                ('read_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'regulator_read', 'app': 'models', 'indexes': [Index(fields=['regulator_id', 'id'])], 'pk_attr': 'id', 'table_description': 'What a regulator looked at (QS 9.4.1, 10.2): who, when, which operation and fields,'},
            bases=['Model'],
        ),
    ]
