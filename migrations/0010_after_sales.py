from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from pinzhi.models.enums import AfterSalesKind, AfterSalesState, RefundState, ShipmentState
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on

class Migration(migrations.Migration):
    dependencies = [('models', '0009_regulator_reads')]

    initial = False
    # SQLite rebuilds tracking_event to make shipment_id nullable (see _sqlite.py).
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.CreateModel(
            name='AfterSalesRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='after_sales_requests', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='after_sales_requests', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='after_sales_requests', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='REFUND_BEFORE_SHIPMENT: REFUND_BEFORE_SHIPMENT\nRETURN_REFUND: RETURN_REFUND\nREFUND_ONLY: REFUND_ONLY\nEXCHANGE: EXCHANGE\nQUALITY_ISSUE: QUALITY_ISSUE\nRESHIPMENT: RESHIPMENT', enum_type=AfterSalesKind, max_length=24)),
                ('state', fields.CharEnumField(default=AfterSalesState.REQUESTED, description='REQUESTED: REQUESTED\nRESPONDED: RESPONDED\nESCALATED: ESCALATED\nAPPROVED: APPROVED\nREJECTED: REJECTED\nRETURN_IN_TRANSIT: RETURN_IN_TRANSIT\nRETURN_RECEIVED: RETURN_RECEIVED\nREFUNDED: REFUNDED\nRESHIPPED: RESHIPPED\nEXCHANGED: EXCHANGED\nCLOSED: CLOSED\nWITHDRAWN: WITHDRAWN', enum_type=AfterSalesState, max_length=20)),
                ('reason', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('evidence', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('response_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rule_version', fields.IntField()),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_responder', fields.ForeignKeyField('models.Account', source_field='first_responder_id', null=True, db_constraint=True, to_field='id', related_name='after_sales_responses', on_delete=OnDelete.CASCADE)),
                ('response_note', fields.TextField(default='', unique=False)),
                ('decision_note', fields.TextField(default='', unique=False)),
                ('breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('escalated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('priority', fields.SmallIntField(default=0)),
                ('accessibility', fields.BooleanField(default=False)),
                ('premium', fields.BooleanField(default=False)),
                ('benefits', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('premium_rule_version', fields.IntField(null=True)),
                ('product_level', fields.CharField(null=True, max_length=4)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'after_sales_request', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'id']), Index(fields=['consumer_id', 'id']), Index(fields=['order_id']), Index(fields=['state', 'response_due_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AfterSalesLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('order_line', fields.ForeignKeyField('models.OrderLine', source_field='order_line_id', db_constraint=True, to_field='id', related_name='after_sales_lines', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
            ],
            options={'table': 'after_sales_line', 'app': 'models', 'indexes': [Index(fields=['request_id']), Index(fields=['order_line_id'])], 'pk_attr': 'id', 'table_description': 'An order line (and how many of it) that a request is about.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=RefundState.REQUESTED, description='REQUESTED: REQUESTED\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=RefundState, max_length=16)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('provider_reference', fields.CharField(null=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refund', 'app': 'models', 'unique_together': (('payment_id', 'idempotency_key'),), 'indexes': [Index(fields=['provider_id', 'id']), Index(fields=['merchant_id', 'id']), Index(fields=['consumer_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Money going back on a payment, executed by its payment provider.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReturnShipment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='return_shipments', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='return_shipments', on_delete=OnDelete.RESTRICT)),
                ('consumer', fields.ForeignKeyField('models.Account', source_field='consumer_id', db_constraint=True, to_field='id', related_name='return_shipments', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='return_shipments', on_delete=OnDelete.RESTRICT)),
                ('tracking_number', fields.CharField(max_length=64)),
                ('state', fields.CharEnumField(default=ShipmentState.CREATED, description='CREATED: CREATED\nIN_TRANSIT: IN_TRANSIT\nOUT_FOR_DELIVERY: OUT_FOR_DELIVERY\nDELIVERED: DELIVERED\nEXCEPTION: EXCEPTION', enum_type=ShipmentState, max_length=20)),
                ('replacement', fields.BooleanField(default=False)),
                ('platform_pickup', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'return_shipment', 'app': 'models', 'unique_together': (('provider_id', 'tracking_number'),), 'indexes': [Index(fields=['request_id']), Index(fields=['provider_id', 'id']), Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Goods going back to the merchant (or a replacement going out) for a request.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='accessibility_profile',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='cancelled_quantity',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Payment',
            name='refunded_minor',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AlterModelOptions(
            name='TrackingEvent',
            options={'table': 'tracking_event', 'app': 'models', 'unique_together': (('provider_id', 'external_id'),), 'indexes': [Index(fields=['shipment_id']), Index(fields=['return_shipment_id'])], 'pk_attr': 'id', 'table_description': "A carrier's event on an order's shipment or, for after-sales, a return shipment."},
        ),
        ops.AlterField(
            model_name='TrackingEvent',
            name='shipment',
            field=fields.ForeignKeyField('models.Shipment', source_field='shipment_id', null=True, db_constraint=True, to_field='id', related_name='tracking_events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='TrackingEvent',
            name='return_shipment',
            field=fields.ForeignKeyField('models.ReturnShipment', source_field='return_shipment_id', null=True, db_constraint=True, to_field='id', related_name='tracking_events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='TrackingEvent',
            index=Index(fields=['return_shipment_id']),
        ),
        ops.RunPython(sqlite_foreign_keys_on),
    ]
