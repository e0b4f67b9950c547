from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from pinzhi.models.enums import SubmissionState
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_idempotency')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DepositPayment',
            fields=[
                ('state', fields.CharEnumField(default=SubmissionState.SUBMITTED, db_default=SubmissionState.SUBMITTED, description='SUBMITTED: SUBMITTED\nVERIFIED: VERIFIED\nREJECTED: REJECTED', enum_type=SubmissionState, max_length=10)),
                ('evidence', fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads)),
                ('submitted_by', fields.ForeignKeyField('models.Account', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reviewed_by', fields.ForeignKeyField('models.Account', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('review_note', fields.TextField(default='', db_default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='deposit_payments', on_delete=OnDelete.CASCADE)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('reference', fields.CharField(max_length=100)),
            ],
            options={'table': 'deposit_payment', 'app': 'models', 'unique_together': (('merchant_id', 'reference'),), 'indexes': [Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Money a merchant paid into its security deposit (QS 6.1.1 credit), by bank transfer'},
            bases=['Submission'],
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='evidence',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='review_note',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='reviewed_by',
            field=fields.ForeignKeyField('models.Account', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='state',
            field=fields.CharEnumField(default=SubmissionState.SUBMITTED, db_default=SubmissionState.SUBMITTED, description='SUBMITTED: SUBMITTED\nVERIFIED: VERIFIED\nREJECTED: REJECTED', enum_type=SubmissionState, max_length=10),
        ),
        ops.AddField(
            model_name='BrandRegistration',
            name='submitted_by',
            field=fields.ForeignKeyField('models.Account', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='BrandRegistration',
            index=Index(fields=['merchant_id', 'id']),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='evidence',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='review_note',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='reviewed_by',
            field=fields.ForeignKeyField('models.Account', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='state',
            field=fields.CharEnumField(default=SubmissionState.SUBMITTED, db_default=SubmissionState.SUBMITTED, description='SUBMITTED: SUBMITTED\nVERIFIED: VERIFIED\nREJECTED: REJECTED', enum_type=SubmissionState, max_length=10),
        ),
        ops.AddField(
            model_name='MerchantLicence',
            name='submitted_by',
            field=fields.ForeignKeyField('models.Account', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='MerchantLicence',
            index=Index(fields=['merchant_id', 'id']),
        ),
        ops.AddIndex(
            model_name='ProductReview',
            index=Index(fields=['product_id', 'id']),
        ),
        # Licences and brands recorded before submissions existed were entered by the platform.
        ops.RunSQL(
            [
                "UPDATE merchant_licence SET state = 'VERIFIED'",
                "UPDATE brand_registration SET state = 'VERIFIED'",
            ],
            reverse_sql=[],
        ),
    ]
