"""Database triggers refuse UPDATE, DELETE and TRUNCATE on the custody ledger and checkpoints."""

from django.db import migrations

from evidence import ledger_sql


def forwards(apps, schema_editor):
    ledger_sql.install(schema_editor)


def backwards(apps, schema_editor):
    ledger_sql.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
