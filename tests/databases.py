"""Test databases migrated once per run: the first pytest-xdist worker migrates, the others copy its result.

Migrating costs about 12 s of CPU (Django renders the migration state model by model), once per worker and
leg. With a template the first worker to set its database up migrates as usual and saves the result; every
other worker of the same run copies it: ``CREATE DATABASE … TEMPLATE …`` on PostgreSQL, SQLite's backup API
into the in-memory database on SQLite. A file lock in the folder the run's workers share keeps the second
worker waiting while the first migrates. The SQLite template file is also what the crash tests give their
child processes (``sqlite_template``), instead of a ``manage.py migrate`` of their own.

Used for the ``default`` database, a fresh database each run (not ``--reuse-db``), and on PostgreSQL only
when several workers share the run; everything else takes Django's ordinary path.
"""

import fcntl
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.base.creation import BaseDatabaseCreation

_original_create_test_db = BaseDatabaseCreation.create_test_db

# The folder the run's workers share (set by tests/conftest.py's django_db_modify_db_settings).
_shared: dict[str, Path] = {}

SQLITE_TEMPLATE = "run-template.sqlite3"
POSTGRES_TEMPLATE = "postgres-template.name"


def share_templates_in(folder: Path) -> None:
    _shared["folder"] = folder


def shared_folder(basetemp: Path) -> Path:
    """The folder every worker of this run can see: the run's base temporary directory (a worker's own is a
    ``popen-gwN`` folder inside it)."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def sqlite_template() -> Path | None:
    """The migrated SQLite database of this run, as a file, once a worker has set its test database up."""
    folder = _shared.get("folder")
    path = folder / SQLITE_TEMPLATE if folder else None
    return path if path is not None and path.exists() else None


def postgres_template_name(test_database_name: str) -> str:
    """``test_haetae_gw1`` → ``test_haetae_template``: one template per run and database name."""
    return re.sub(r"_gw\d+$", "", test_database_name) + "_template"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / "database-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _several_workers() -> bool:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1


def _use_as_test_database(creation: Any, name: str) -> None:
    """What Django's create_test_db does once the database exists: every later connection goes to it."""
    creation.connection.close()
    settings.DATABASES[creation.connection.alias]["NAME"] = name
    creation.connection.settings_dict["NAME"] = name
    creation.connection.ensure_connection()


def _sqlite(creation: Any, folder: Path, verbosity: int, autoclobber: bool) -> str:
    template = folder / SQLITE_TEMPLATE
    with _locked(folder):
        if not template.exists():
            name = _original_create_test_db(creation, verbosity, autoclobber, serialize=False)
            partial = template.with_suffix(".partial")
            with closing(sqlite3.connect(partial)) as saved:
                creation.connection.connection.backup(saved)
            partial.rename(template)
            return name
    name = creation._get_test_db_name()
    _use_as_test_database(creation, name)
    with closing(sqlite3.connect(template)) as migrated:
        migrated.backup(creation.connection.connection)
    return name


def _postgres(creation: Any, folder: Path, verbosity: int, autoclobber: bool) -> str:
    marker = folder / POSTGRES_TEMPLATE
    name = creation._get_test_db_name()
    template = postgres_template_name(name)
    quote = creation.connection.ops.quote_name
    with _locked(folder):
        if not marker.exists():
            _original_create_test_db(creation, verbosity, autoclobber, serialize=False)
            # CREATE DATABASE … TEMPLATE needs the source without connections.
            creation.connection.close()
            creation.connection.close_pool()
            with creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(template)}")
                cursor.execute(f"CREATE DATABASE {quote(template)} TEMPLATE {quote(name)}")
            marker.write_text(template)
            creation.connection.ensure_connection()
            return name
        with creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
    _use_as_test_database(creation, name)
    return name


def create_test_db(
    self: Any,
    verbosity: int = 1,
    autoclobber: bool = False,
    serialize: bool = True,
    keepdb: bool = False,
) -> str:
    """BaseDatabaseCreation.create_test_db, through the run's template where it applies (see the module)."""
    folder = _shared.get("folder")
    connection = self.connection
    vendor = connection.vendor
    applies = (
        folder is not None
        and connection.alias == "default"
        and connection.settings_dict["TEST"].get("MIGRATE", True) is not False
        and (
            (vendor == "sqlite" and self.is_in_memory_db(self._get_test_db_name()))
            or (vendor == "postgresql" and not keepdb and _several_workers())
        )
    )
    if not applies:
        return _original_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
    assert folder is not None
    if verbosity >= 1:
        self.log(f"Creating test database for alias {connection.alias!r} from this run's template…")
    name = (_sqlite if vendor == "sqlite" else _postgres)(self, folder, verbosity, autoclobber)
    if serialize:
        connection._test_serialized_contents = self.serialize_db_to_string()
    return name


def drop_postgres_template(basetemp: Path, database: dict[str, Any]) -> None:
    """After the run (in the xdist controller): drop the PostgreSQL template its workers copied, if any."""
    marker = basetemp / POSTGRES_TEMPLATE
    if not marker.exists():
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        dbname="postgres",
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        autocommit=True,
    ) as owner:
        owner.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(marker.read_text())))
    marker.unlink()
