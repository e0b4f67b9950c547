from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import ViolationType
from pinzhi.models.fund import FundAccountKind, FundParty, FundTransactionKind, PayoutCause, PayoutState, PayoutSubject, RecoveryMethod, RecoveryState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on

class Migration(migrations.Migration):
    dependencies = [('models', '0010_after_sales')]

    initial = False
    # SQLite rebuilds violation_case for its type's new member (FUND_RECOVERY, QS 9.7.6):
    # first, with foreign keys off around it (see _sqlite.py); PostgreSQL only comments it.
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.AlterField(
            model_name='ViolationCase',
            name='type',
            field=fields.CharEnumField(description='COUNTERFEIT: COUNTERFEIT\nFAKE_ORDERS: FAKE_ORDERS\nFALSE_ADVERTISING: FALSE_ADVERTISING\nUNSAFE_PRODUCT: UNSAFE_PRODUCT\nOTHER: OTHER\nFUND_RECOVERY: FUND_RECOVERY', enum_type=ViolationType, max_length=20),
        ),
        ops.RunPython(sqlite_foreign_keys_on),
        ops.CreateModel(
            name='FundAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=60)),
                ('kind', fields.CharEnumField(description='CASH: CASH\nHELD: HELD\nCONTRIBUTIONS: CONTRIBUTIONS\nPAYOUTS: PAYOUTS\nRECEIVABLE: RECEIVABLE\nRECOVERIES: RECOVERIES', enum_type=FundAccountKind, max_length=16)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='fund_accounts', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='fund_accounts', on_delete=OnDelete.RESTRICT)),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_account', 'app': 'models', 'pk_attr': 'id'},
            bases=['AppendOnly'],
        ),
        ops.CreateModel(
            name='FundPayout',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_type', fields.CharEnumField(description='AFTER_SALES: AFTER_SALES\nCOMPLAINT: COMPLAINT', enum_type=PayoutSubject, max_length=12)),
                ('after_sales_request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='after_sales_request_id', null=True, db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('complaint', fields.ForeignKeyField('models.Complaint', source_field='complaint_id', null=True, db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=PayoutState.PAID, description='PAID: PAID', enum_type=PayoutState, max_length=8)),
                ('cause', fields.CharEnumField(description='PRODUCT_QUALITY: PRODUCT_QUALITY\nSERVICE_FAILURE: SERVICE_FAILURE', enum_type=PayoutCause, max_length=16)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('party', fields.CharEnumField(description='MERCHANT: MERCHANT\nPROVIDER: PROVIDER', enum_type=FundParty, max_length=8)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='fund_payouts', on_delete=OnDelete.RESTRICT)),
                ('note', fields.TextField(default='', unique=False)),
                ('idempotency_key', fields.CharField(unique=True, max_length=64)),
                ('rule_version', fields.IntField()),
                ('approved_by', fields.ForeignKeyField('models.Account', source_field='approved_by_id', db_constraint=True, to_field='id', related_name='fund_payouts_approved', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_payout', 'app': 'models', 'unique_together': (('after_sales_request_id', 'cause'), ('complaint_id', 'cause')), 'indexes': [Index(fields=['consumer_id', 'id']), Index(fields=['order_id']), Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A payout to a consumer, approved by customer-service staff and paid at once.'},
            bases=['AppendOnly'],
        ),
        ops.CreateModel(
            name='FundRecovery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payout', fields.OneToOneField('models.FundPayout', source_field='payout_id', db_constraint=True, to_field='id', related_name='recovery', on_delete=OnDelete.RESTRICT)),
                ('party', fields.CharEnumField(description='MERCHANT: MERCHANT\nPROVIDER: PROVIDER', enum_type=FundParty, max_length=8)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='fund_recoveries', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='fund_recoveries', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=RecoveryState.OPEN, description='OPEN: OPEN\nDEDUCTED: DEDUCTED\nRECOVERED: RECOVERED\nWAIVED: WAIVED\nCANCELLED: CANCELLED', enum_type=RecoveryState, max_length=10)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('method', fields.CharEnumField(null=True, description='DEPOSIT: DEPOSIT\nSETTLEMENT: SETTLEMENT', enum_type=RecoveryMethod, max_length=10)),
                ('violation_case', fields.OneToOneField('models.ViolationCase', source_field='violation_case_id', null=True, db_constraint=True, to_field='id', related_name='fund_recovery', on_delete=OnDelete.RESTRICT)),
                ('note', fields.TextField(default='', unique=False)),
                ('decided_by', fields.ForeignKeyField('models.Account', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='fund_recoveries_decided', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deducted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fund_recovery', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'id']), Index(fields=['provider_id', 'id']), Index(fields=['state', 'id'])], 'pk_attr': 'id', 'table_description': 'The claim against the party responsible for a payout, opened with it (QS 9.7.6).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FundTransaction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='CONTRIBUTION: CONTRIBUTION\nPAYOUT: PAYOUT\nRECOVERY: RECOVERY\nRELEASE: RELEASE\nCORRECTION: CORRECTION', enum_type=FundTransactionKind, max_length=12)),
                ('idempotency_key', fields.CharField(unique=True, max_length=100)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('memo', fields.TextField(default='', unique=False)),
                ('reference', fields.CharField(default='', max_length=100)),
                ('actor', fields.ForeignKeyField('models.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='fund_transactions', on_delete=OnDelete.RESTRICT)),
                ('actor_role', fields.CharField(default='', max_length=20)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='fund_transactions', on_delete=OnDelete.RESTRICT)),
                ('payout', fields.ForeignKeyField('models.FundPayout', source_field='payout_id', null=True, db_constraint=True, to_field='id', related_name='transactions', on_delete=OnDelete.RESTRICT)),
                ('recovery', fields.ForeignKeyField('models.FundRecovery', source_field='recovery_id', null=True, db_constraint=True, to_field='id', related_name='transactions', on_delete=OnDelete.RESTRICT)),
                ('corrects', fields.OneToOneField('models.FundTransaction', source_field='corrects_id', null=True, db_constraint=True, to_field='id', related_name='corrected_by', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_transaction', 'app': 'models', 'indexes': [Index(fields=['kind', 'id']), Index(fields=['payout_id']), Index(fields=['recovery_id'])], 'pk_attr': 'id'},
            bases=['AppendOnly'],
        ),
        ops.CreateModel(
            name='FundEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('transaction', fields.ForeignKeyField('models.FundTransaction', source_field='transaction_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.FundAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('seq', fields.IntField()),
                ('amount_minor', fields.BigIntField()),
                ('balance_after_minor', fields.BigIntField()),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_entry', 'app': 'models', 'unique_together': (('account_id', 'seq'),), 'indexes': [Index(fields=['transaction_id']), Index(fields=['account_id', 'id'])], 'pk_attr': 'id'},
            bases=['AppendOnly'],
        ),
    ]
