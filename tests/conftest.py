"""Suite-wide fixtures: a private data dir per test, real services under CI, ledger-aware flushes."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management.commands import flush

from evidence import ledger_sql

REQUIRE_SERVICES = os.environ.get("HAETAE_REQUIRE_SERVICES") == "true"
PDQ_TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "pdq"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, settings) -> Path:
    """Each test gets its own vault and keys, so tests never see each other's objects."""
    root = tmp_path / "haetae-data"
    settings.DATA_DIR = root
    settings.VAULT_DIR = root / "vault"
    settings.MASTER_KEY_FILE = root / "keys" / "master.key"
    settings.LEDGER_KEY_FILE = root / "keys" / "ledger-ed25519.key"
    # Password hashing is not under test; PBKDF2's deliberate slowness would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Work deferred past a response runs on the request's thread: the test's data lives in a transaction
    # another thread's connection cannot see.
    settings.HAETAE_DEFERRED_RUNNER = "inline"
    # Reports in tests are signed by the development signer, also on the PostgreSQL leg.
    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = True
    return root


@pytest.fixture(scope="session", autouse=True)
def _services_are_real(django_db_setup, django_db_blocker) -> None:
    """Under CI the suite must run on PostgreSQL with Redis: fail loudly rather than fall back."""
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", "CI=true: the suite must run on PostgreSQL (DATABASE_URL)"
    import redis

    assert settings.CELERY_BROKER_URL, "CI=true: CELERY_BROKER_URL must name the Redis broker"
    redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=3).ping()


_original_flush_handle = flush.Command.handle


def _flush_around_ledger_triggers(self, **options):
    """Transactional tests end with a flush; the append-only triggers are lifted for it and put back."""
    from django.db import connections

    connection = connections[options.get("database", "default")]
    with connection.cursor() as cursor:
        for sql in ledger_sql.drop_statements(connection.vendor):
            cursor.execute(sql)
    try:
        return _original_flush_handle(self, **options)
    finally:
        with connection.cursor() as cursor:
            for sql in ledger_sql.create_statements(connection.vendor):
                cursor.execute(sql)


setattr(flush.Command, "handle", _flush_around_ledger_triggers)  # noqa: B010 - patched for tests only


@pytest.fixture
def pdq_testdata() -> Iterator[Path]:
    if not PDQ_TESTDATA.is_dir():
        pytest.skip(f"PDQ conformance images not found at {PDQ_TESTDATA} (../shared/testdata/pdq)")
    yield PDQ_TESTDATA


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's admin_client, signed in as if with a TOTP code: the admin site requires one."""
    from django.test import Client

    from tests.factories_access import verified_login

    client = Client()
    verified_login(client, admin_user)
    return client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser (it uses the ``page`` fixture) as ``browser``.

    ``scripts/pytest-all.sh`` runs them once, in the PostgreSQL leg, when that leg runs: there the live server
    has its own connections, while SQLite's in-memory test database is one connection shared by the test
    thread and the server thread.
    """
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
