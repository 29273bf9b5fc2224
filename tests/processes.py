"""The environment of a child process (a Celery worker, a second writer) that shares the test's database.

Such tests need PostgreSQL: an in-memory SQLite database is invisible to another process.
"""

import os
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def shared_database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def child_env(*, data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment pointed at the test's database, data directory and keys, plus ``extra``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "haetae.settings",
        "DATABASE_URL": shared_database_url(),
        "HAETAE_DATA_DIR": str(data_dir),
        "HAETAE_MASTER_KEY_FILE": str(settings.MASTER_KEY_FILE),
        "HAETAE_LEDGER_KEY_FILE": str(settings.LEDGER_KEY_FILE),
        **extra,
    }
