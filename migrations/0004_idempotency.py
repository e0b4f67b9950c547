from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on
from tortoise.migrations.constraints import UniqueConstraint


class Migration(migrations.Migration):
    dependencies = [('models', '0003_indexes')]

    initial = False
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.AddField(
            model_name='Order',
            name='idempotency_key',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Order',
            name='request_hash',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddConstraint(
            model_name='Order',
            constraint=UniqueConstraint(fields=('consumer_id', 'idempotency_key'), name=None),
        ),
        ops.AddField(
            model_name='Payment',
            name='confirmed_succeeded',
            field=fields.BooleanField(null=True),
        ),
        # Payments reported before the column existed: a reference is written only by the
        # provider's report, so it tells which outcome was reported.
        ops.RunSQL(
            [
                "UPDATE payment SET confirmed_succeeded = TRUE "
                "WHERE provider_reference IS NOT NULL AND state IN ('SUCCEEDED', 'REFUNDED')",
                "UPDATE payment SET confirmed_succeeded = FALSE "
                "WHERE provider_reference IS NOT NULL AND state = 'FAILED'",
            ],
            reverse_sql=[],
        ),
        ops.RunPython(sqlite_foreign_keys_on),
    ]
