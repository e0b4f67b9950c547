from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import DisputeParty, DisputeState, OfferState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_fund')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Dispute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('complaint', fields.ForeignKeyField('models.Complaint', source_field='complaint_id', null=True, db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=DisputeState.OPEN, description='OPEN: OPEN\nARBITRATION: ARBITRATION\nSETTLED: SETTLED\nARBITRATED: ARBITRATED\nWITHDRAWN: WITHDRAWN', enum_type=DisputeState, max_length=16)),
                ('reason', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('currency', fields.CharField(max_length=3)),
                ('settle_by', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rule_version', fields.IntField()),
                ('arbitration_asked_by', fields.CharEnumField(null=True, description='CONSUMER: CONSUMER\nMERCHANT: MERCHANT', enum_type=DisputeParty, max_length=16)),
                ('arbitration_asked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('arbitration_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('arbitrator', fields.ForeignKeyField('models.Account', source_field='arbitrator_id', null=True, db_constraint=True, to_field='id', related_name='arbitrated_disputes', on_delete=OnDelete.RESTRICT)),
                ('outcome_refund_minor', fields.BigIntField(default=0)),
                ('outcome_replacement', fields.BooleanField(default=False)),
                ('outcome_compensation_minor', fields.BigIntField(default=0)),
                ('outcome_note', fields.TextField(default='', unique=False)),
                ('refund', fields.ForeignKeyField('models.Refund', source_field='refund_id', null=True, db_constraint=True, to_field='id', related_name='dispute_refunds', on_delete=OnDelete.RESTRICT)),
                ('compensation_refund', fields.ForeignKeyField('models.Refund', source_field='compensation_refund_id', null=True, db_constraint=True, to_field='id', related_name='dispute_compensations', on_delete=OnDelete.RESTRICT)),
                ('fund_payout_due_minor', fields.BigIntField(default=0)),
                ('replacement_provider', fields.ForeignKeyField('models.ServiceProvider', source_field='replacement_provider_id', null=True, db_constraint=True, to_field='id', related_name='dispute_replacements', on_delete=OnDelete.RESTRICT)),
                ('replacement_tracking_number', fields.CharField(null=True, max_length=64)),
                ('replacement_shipped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dispute', 'app': 'models', 'indexes': [Index(fields=['consumer_id', 'id']), Index(fields=['merchant_id', 'id']), Index(fields=['order_id']), Index(fields=['request_id']), Index(fields=['complaint_id']), Index(fields=['state', 'settle_by'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DisputeOffer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dispute', fields.ForeignKeyField('models.Dispute', source_field='dispute_id', db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='dispute_offers', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='dispute_offers', on_delete=OnDelete.RESTRICT)),
                ('party', fields.CharEnumField(description='CONSUMER: CONSUMER\nMERCHANT: MERCHANT', enum_type=DisputeParty, max_length=16)),
                ('author', fields.ForeignKeyField('models.Account', source_field='author_id', db_constraint=True, to_field='id', related_name='authored_dispute_offers', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=OfferState.PROPOSED, description='PROPOSED: PROPOSED\nACCEPTED: ACCEPTED\nDECLINED: DECLINED\nSUPERSEDED: SUPERSEDED', enum_type=OfferState, max_length=16)),
                ('refund_minor', fields.BigIntField(default=0)),
                ('replacement', fields.BooleanField(default=False)),
                ('compensation_minor', fields.BigIntField(default=0)),
                ('currency', fields.CharField(max_length=3)),
                ('note', fields.TextField(default='', unique=False)),
                ('answer_note', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'dispute_offer', 'app': 'models', 'indexes': [Index(fields=['dispute_id', 'id']), Index(fields=['consumer_id', 'id']), Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': "A party's settlement offer: money back, a replacement, compensation, or a mix."},
            bases=['Model'],
        ),
    ]
