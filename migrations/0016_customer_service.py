from tortoise import migrations
from tortoise.migrations import operations as ops
from pinzhi.models.enums import HandoverReason, MessageAuthor, Role, ServiceSessionState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_after_sales_sweep')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServiceSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('opener', fields.ForeignKeyField('models.Account', source_field='opener_id', db_constraint=True, to_field='id', related_name='service_sessions', on_delete=OnDelete.RESTRICT)),
                ('opener_role', fields.CharEnumField(description='CONSUMER: CONSUMER\nMERCHANT: MERCHANT\nSERVICE_PROVIDER: SERVICE_PROVIDER\nREGULATOR: REGULATOR\nSTAFF: STAFF', enum_type=Role, max_length=20)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='service_sessions', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='service_sessions', on_delete=OnDelete.RESTRICT)),
                ('after_sales_request', fields.ForeignKeyField('models.AfterSalesRequest', source_field='after_sales_request_id', null=True, db_constraint=True, to_field='id', related_name='service_sessions', on_delete=OnDelete.RESTRICT)),
                ('complaint', fields.ForeignKeyField('models.Complaint', source_field='complaint_id', null=True, db_constraint=True, to_field='id', related_name='service_sessions', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(description='BOT: BOT\nWAITING: WAITING\nACTIVE: ACTIVE\nCLOSED: CLOSED', enum_type=ServiceSessionState, max_length=10)),
                ('language', fields.CharField(default='zh', max_length=5)),
                ('priority', fields.SmallIntField(default=0)),
                ('priority_reasons', fields.CharField(default='', max_length=100)),
                ('ai_failures', fields.SmallIntField(default=0)),
                ('handover_reason', fields.CharEnumField(null=True, description='REQUESTED: REQUESTED\nLOW_CONFIDENCE: LOW_CONFIDENCE\nREPEATED_FAILURE: REPEATED_FAILURE\nACCESSIBILITY: ACCESSIBILITY\nTRANSFERRED: TRANSFERRED', enum_type=HandoverReason, max_length=20)),
                ('handed_over_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('response_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('agent', fields.ForeignKeyField('models.Account', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='served_sessions', on_delete=OnDelete.RESTRICT)),
                ('taken_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_response_seconds', fields.FloatField(null=True)),
                ('first_responder', fields.ForeignKeyField('models.Account', source_field='first_responder_id', null=True, db_constraint=True, to_field='id', related_name='first_responses', on_delete=OnDelete.RESTRICT)),
                ('first_responder_team', fields.CharField(default='', max_length=50)),
                ('awaiting_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rule_version', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_session', 'app': 'models', 'indexes': [Index(fields=['opener_id', 'id']), Index(fields=['merchant_id', 'id']), Index(fields=['state', 'priority', 'response_due_at', 'id']), Index(fields=['agent_id', 'state']), Index(fields=['handed_over_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('models.ServiceSession', source_field='session_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.RESTRICT)),
                ('author_kind', fields.CharEnumField(description='CUSTOMER: CUSTOMER\nAI: AI\nAGENT: AGENT\nSYSTEM: SYSTEM', enum_type=MessageAuthor, max_length=10)),
                ('author', fields.ForeignKeyField('models.Account', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='service_messages', on_delete=OnDelete.RESTRICT)),
                ('body', fields.TextField(unique=False)),
                ('client_key', fields.CharField(null=True, max_length=64)),
                ('intent', fields.CharField(null=True, max_length=30)),
                ('confidence', fields.FloatField(null=True)),
                ('response_seconds', fields.FloatField(null=True)),
                ('team', fields.CharField(default='', max_length=50)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_message', 'app': 'models', 'unique_together': (('session_id', 'client_key'),), 'indexes': [Index(fields=['session_id', 'id']), Index(fields=['author_id', 'created_at']), Index(fields=['created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
