"""Seed data: the offence table and the global role groups (the function lives in casefile/seed.py)."""

from django.db import migrations

from casefile.seed import seed_all


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("casefile", "0003_links_to_findings"),
    ]

    operations = [migrations.RunPython(seed_all, migrations.RunPython.noop)]
