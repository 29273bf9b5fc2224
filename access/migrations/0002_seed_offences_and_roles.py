"""Seed data: the offence table and the global role groups (the function lives in access/seed.py)."""

from django.db import migrations

from access.seed import seed_all


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("access", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed_all, migrations.RunPython.noop)]
