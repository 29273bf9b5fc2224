"""Tokens of DRF's authtoken (stored in clear) become hashed tokens expiring in 7 days; the clear table goes.

Any backup taken before this migration holds those tokens in clear, so they are not kept for a full
lifetime: their holders get a week to switch to a token issued with ``manage.py api_token issue``.
"""

import hashlib
from datetime import UTC, timedelta

from django.db import migrations
from django.utils import timezone

GRACE = timedelta(days=7)


def hash_clear_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    api_token = apps.get_model("accounts", "ApiToken")
    account_event = apps.get_model("accounts", "AccountEvent")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    now = timezone.now()
    for key, user_id, created in rows:
        if created is not None and timezone.is_naive(created):  # SQLite hands back naive UTC
            created = timezone.make_aware(created, UTC)
        row = api_token.objects.create(
            user_id=user_id,
            name="migrated from a clear-text token: replace it",
            prefix=key[:8],
            key_sha256=hashlib.sha256(key.encode("utf-8")).hexdigest(),
            created_at=created or now,
            expires_at=now + GRACE,
        )
        account_event.objects.create(
            user_id=user_id,
            action="token_issued",
            details={"token": row.pk, "prefix": row.prefix, "migrated_from_clear_text": True},
            at=now,
        )
    schema_editor.execute(
        schema_editor.sql_delete_table % {"table": schema_editor.quote_name("authtoken_token")}
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(hash_clear_tokens, migrations.RunPython.noop)]
