from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def encrypt_emails(apps, schema_editor) -> None:
    """Move every e-mail into its encrypted column and its keyed lookup hash (QS 9.4.1),
    with the data key the server runs with, before the plain column goes."""
    from pinzhi.auth.crypto import email_lookup, encrypt

    client = schema_editor.client
    _, rows = await client.execute_query('SELECT "id", "email" FROM "account"')
    if not rows:
        return
    postgres = client.capabilities.dialect == "postgres"
    marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
    query = (
        f'UPDATE "account" SET "email_enc" = {marks[0]}, "email_hash" = {marks[1]} '
        f'WHERE "id" = {marks[2]}'
    )
    values = []
    for row in rows:
        email = (row["email"] or "").strip().lower()
        values.append([encrypt(email), email_lookup(email), row["id"]])
    await client.execute_many(query, values)



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
    dependencies = [('models', '0007_penalty_effects')]

    initial = False
    atomic = False

    operations = [
        ops.RunPython(sqlite_foreign_keys_off),
        ops.AddField(
            model_name='Account',
            name='email_enc',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Account',
            name='email_hash',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.RunPython(encrypt_emails),
        ops.RemoveField(model_name='Account', name='email'),
        ops.RunPython(sqlite_foreign_keys_on),
    ]
