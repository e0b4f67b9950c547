from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint


async def sqlite_foreign_keys_off(apps, schema_editor) -> None:
    """SQLite adds a constraint or drops a column by rebuilding the table: with foreign keys
    enforced, dropping the old table would delete (cascade) or refuse the rows that refer to
    it. SQLite's own procedure turns them off around the rebuild; it can only be done
    outside a transaction, hence this migration is not atomic."""
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script("PRAGMA foreign_keys=OFF")


async def sqlite_foreign_keys_on(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect == "sqlite":
        await schema_editor.client.execute_script("PRAGMA foreign_keys=ON")

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
