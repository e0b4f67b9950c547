from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_bulky')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient_merchant', fields.ForeignKeyField('models.Merchant', source_field='recipient_merchant_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('recipient_account', fields.ForeignKeyField('models.Account', source_field='recipient_account_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='AFTER_SALES_BREACHED: AFTER_SALES_BREACHED\nCOMPLAINT_OVERDUE: COMPLAINT_OVERDUE', enum_type=NotificationKind, max_length=30)),
                ('subject_type', fields.CharField(max_length=30)),
                ('subject_id', fields.IntField()),
                ('title_zh', fields.CharField(max_length=200)),
                ('title_en', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'indexes': [Index(fields=['recipient_merchant_id', 'id']), Index(fields=['recipient_account_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A message to a shop or to one account about one entity.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Complaint',
            name='escalated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Complaint',
            index=Index(fields=['state', 'promised_by']),
        ),
    ]
