from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import InstallationState, TradeInCondition, TradeInState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# QS 9.7.5: installation appointments and trade-ins; a refund may pay a trade-in's credit
# (a nullable column added to refund: SQLite adds it in place, no table rebuild).
class Migration(migrations.Migration):
    dependencies = [('models', '0013_disputes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InstallationAppointment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='installation_appointments', on_delete=OnDelete.RESTRICT)),
                ('order_line', fields.ForeignKeyField('models.OrderLine', source_field='order_line_id', db_constraint=True, to_field='id', related_name='installation_appointments', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='installation_appointments', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='installation_appointments', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='installation_appointments', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharField(max_length=50)),
                ('state', fields.CharEnumField(default=InstallationState.PROPOSED, description='PROPOSED: PROPOSED\nCONFIRMED: CONFIRMED\nRESCHEDULED: RESCHEDULED\nCOMPLETED: COMPLETED\nMISSED: MISSED\nCANCELLED: CANCELLED', enum_type=InstallationState, max_length=16)),
                ('slot_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('slot_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reschedules', fields.SmallIntField(default=0)),
                ('note', fields.CharField(default='', max_length=500)),
                ('outcome_note', fields.CharField(default='', max_length=500)),
                ('rule_version', fields.IntField()),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('on_time', fields.BooleanField(null=True)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'installation_appointment', 'app': 'models', 'indexes': [Index(fields=['consumer_id', 'id']), Index(fields=['merchant_id', 'id']), Index(fields=['provider_id', 'id']), Index(fields=['order_line_id'])], 'pk_attr': 'id', 'table_description': "A slot in which a bulky line's goods are delivered and installed."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TradeIn',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='trade_ins', on_delete=OnDelete.RESTRICT)),
                ('order_line', fields.ForeignKeyField('models.OrderLine', source_field='order_line_id', db_constraint=True, to_field='id', related_name='trade_ins', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='trade_ins', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='trade_ins', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='trade_ins', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharField(max_length=50)),
                ('condition', fields.CharEnumField(description='WORKING: WORKING\nWORN: WORN\nBROKEN: BROKEN', enum_type=TradeInCondition, max_length=16)),
                ('description', fields.CharField(max_length=200)),
                ('value_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('rule_version', fields.IntField()),
                ('state', fields.CharEnumField(default=TradeInState.REQUESTED, description='REQUESTED: REQUESTED\nSCHEDULED: SCHEDULED\nCOLLECTED: COLLECTED\nCREDITED: CREDITED\nREJECTED: REJECTED\nCANCELLED: CANCELLED', enum_type=TradeInState, max_length=16)),
                ('decision_note', fields.CharField(default='', max_length=500)),
                ('collection_event_id', fields.CharField(null=True, max_length=100)),
                ('collected_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('credited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'trade_in', 'app': 'models', 'indexes': [Index(fields=['consumer_id', 'id']), Index(fields=['merchant_id', 'id']), Index(fields=['provider_id', 'id']), Index(fields=['order_line_id'])], 'pk_attr': 'id', 'table_description': 'An old item handed over when a bulky line is delivered, its value credited.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Refund',
            name='trade_in',
            field=fields.ForeignKeyField('models.TradeIn', source_field='trade_in_id', null=True, db_constraint=True, to_field='id', related_name='credits', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Refund',
            index=Index(fields=['trade_in_id']),
        ),
    ]
