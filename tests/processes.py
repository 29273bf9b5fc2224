"""The environment of a child process (a Celery worker, a second writer) that shares the test's database, and
the signal that starts several such children at once.

Such tests need PostgreSQL: an in-memory SQLite database is invisible to another process.
"""

import os
import subprocess
import time
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


def release_together(children: list[subprocess.Popen], ready: list[Path], go: Path) -> None:
    """Create ``go`` once every child has created its ``ready`` file (its Django set up), so that they start
    their work at once; a child that exits before then fails the test with its error output."""
    deadline = time.monotonic() + 300
    while not all(path.exists() for path in ready):
        failed = [child for child in children if child.poll() is not None]
        assert not failed, failed[0].communicate()[1].decode()
        assert time.monotonic() < deadline, "the children did not set Django up within 300 s"
        time.sleep(0.01)
    go.touch()
