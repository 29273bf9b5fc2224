"""A salt per item and acquisition for the ledger's commitments to facts that may name a person.

Rows that exist already keep an empty salt: their ledger events recorded those facts in clear, so there is
nothing to commit to (Django would give every existing row the same salt from a callable default).
"""

from django.db import migrations, models

import evidence.models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_append_only_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="acquisition",
            name="record_salt",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="evidenceitem",
            name="record_salt",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="acquisition",
            name="record_salt",
            field=models.CharField(blank=True, default=evidence.models.record_salt_new, max_length=64),
        ),
        migrations.AlterField(
            model_name="evidenceitem",
            name="record_salt",
            field=models.CharField(blank=True, default=evidence.models.record_salt_new, max_length=64),
        ),
    ]
