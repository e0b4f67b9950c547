from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from pinzhi.migrations._sqlite import sqlite_foreign_keys_off, sqlite_foreign_keys_on


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
