"""Suite-wide fixtures: a private data dir per test, real services under CI, ledger-aware flushes."""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from django.core.management.commands import flush
from django.core.management.sql import sql_flush
from django.db.backends.base.creation import BaseDatabaseCreation
from django.test import override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

from evidence import ledger_sql
from tests import databases

REQUIRE_SERVICES = os.environ.get("HAETAE_REQUIRE_SERVICES") == "true"


def worker_broker_url(url: str, worker: str) -> str:
    """The broker for one pytest-xdist worker: Redis db N + the worker's number (gw0 → N, gw1 → N + 1).

    Workers share one Redis; tests that run a real Celery worker purge its queues first, which must not
    empty another worker's. pytest-django gives each worker its own database the same way (``_gwN``).
    """
    base, _, db = url.rpartition("/")
    number = int(worker.removeprefix("gw"))
    chosen = int(db) + number if db.isdigit() else -1
    if not base.startswith(("redis://", "rediss://")) or not 0 <= chosen <= 15:
        raise pytest.UsageError(
            f"CELERY_BROKER_URL={url!r} with xdist worker {worker}: name a Redis db low enough that db "
            f"{db} + the worker number stays within Redis's 16 (e.g. redis://127.0.0.1:6379/12 for -n 4)"
        )
    return f"{base}/{chosen}"


def _use_the_workers_broker() -> None:
    """Point settings, the Celery app and child processes at this worker's Redis db (settings are already
    loaded by pytest-django when this module is imported)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("CELERY_BROKER_URL")
    if not worker or not url:
        return
    from django.conf import settings

    from haetae.celery import app

    mine = worker_broker_url(url, worker)
    os.environ["CELERY_BROKER_URL"] = mine
    settings.CELERY_BROKER_URL = mine
    app.conf.update(broker_url=mine)


_use_the_workers_broker()


def is_ci(environ: Mapping[str, str]) -> bool:
    """CI=true (as `.ci/run` sets) or HAETAE_REQUIRE_SERVICES=true: a missing fixture is a broken checkout."""
    return environ.get("HAETAE_REQUIRE_SERVICES") == "true" or environ.get("CI", "").lower() in ("true", "1")


# Left out of automatic detection in tests: Tesseract reads every image an ingest stores, seconds each on a
# loaded machine, and only the tests about OCR need it; they ask for it with ``@pytest.mark.ocr``. Production
# settings run it (tests/detection/test_ocr.py checks both).
OCR_DETECTORS = ("ocr", "video:ocr")


def _without_ocr(names: list[str]) -> list[str]:
    return [name for name in names if name not in OCR_DETECTORS]


@pytest.fixture(scope="session", autouse=True)
def _suite_settings() -> Iterator[None]:
    """Settings for the whole session, so that module-scoped fixtures (the access matrices' world) have them
    too: a fast password hasher, and the OCR detectors left out of automatic detection, also in the
    environment that child processes (workers, commands) inherit."""
    from django.conf import settings
    from django.test import override_settings

    disabled = [*_without_ocr(list(settings.HAETAE_DETECTORS_DISABLED)), *OCR_DETECTORS]
    saved = os.environ.get("HAETAE_DETECTORS_DISABLED")
    os.environ["HAETAE_DETECTORS_DISABLED"] = ",".join(disabled)
    try:
        # Password hashing is not under test; PBKDF2's deliberate slowness (about a second a user on a loaded
        # machine) would dominate the suite.
        with override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            HAETAE_DETECTORS_DISABLED=disabled,
        ):
            yield
    finally:
        if saved is None:
            os.environ.pop("HAETAE_DETECTORS_DISABLED", None)
        else:
            os.environ["HAETAE_DETECTORS_DISABLED"] = saved


@pytest.fixture(autouse=True)
def _ocr_when_asked(request: pytest.FixtureRequest) -> None:
    """A test marked ``ocr`` gets the OCR detectors back in automatic detection (settings and environment)."""
    if request.node.get_closest_marker("ocr") is None:
        return
    settings = request.getfixturevalue("settings")
    monkeypatch = request.getfixturevalue("monkeypatch")
    enabled_again = _without_ocr(list(settings.HAETAE_DETECTORS_DISABLED))
    settings.HAETAE_DETECTORS_DISABLED = enabled_again
    monkeypatch.setenv("HAETAE_DETECTORS_DISABLED", ",".join(enabled_again))


PDQ_TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "pdq"
APP_ROLE_SQL = Path(__file__).resolve().parent.parent / "scripts" / "pg-app-role.sql"


def data_settings(root: Path) -> dict[str, Path]:
    """The settings that put the vault, the keys and the ledger's witness file under ``root``."""
    return {
        "DATA_DIR": root,
        "VAULT_DIR": root / "vault",
        "MASTER_KEY_FILE": root / "keys" / "master.key",
        "LEDGER_KEY_FILE": root / "keys" / "ledger-ed25519.key",
        "LEDGER_WITNESS_FILE": root / "ledger-witness.jsonl",
    }


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """Where the test's vault and keys live: a folder of its own (the access matrices' modules share their
    world's, tests/access/conftest.py)."""
    return tmp_path / "haetae-data"


@pytest.fixture(autouse=True)
def data_dir(data_root: Path) -> Iterator[Path]:
    """Each test gets its own vault and keys, so tests never see each other's objects.

    One ``override_settings`` for all of it: pytest-django's ``settings`` fixture stacks one override per
    assignment, and every read of any setting walks the stack (a dozen layers here, about 45 reads a
    request)."""
    with override_settings(
        **data_settings(data_root),
        # Work deferred past a response runs on the request's thread: the test's data lives in a transaction
        # another thread's connection cannot see.
        HAETAE_DEFERRED_RUNNER="inline",
        # Reports in tests are signed by the development signer, also on the PostgreSQL leg.
        HAETAE_ALLOW_DEVELOPMENT_SIGNER=True,
    ):
        yield data_root


# Each run migrates once: the first xdist worker's test database is the template of the others' (and of the
# SQLite crash tests' child processes). See tests/databases.py.
setattr(BaseDatabaseCreation, "create_test_db", databases.create_test_db)  # noqa: B010 - patched for tests only


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """pytest-django's (each worker's database name gets its ``_gwN``), and the folder where the run's
    workers find its migrated template."""
    databases.share_templates_in(databases.shared_folder(tmp_path_factory.getbasetemp()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the xdist controller, after every worker is done: drop the run's PostgreSQL template."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if hasattr(session.config, "workerinput") or factory is None:
        return
    from django.conf import settings

    databases.drop_postgres_template(factory.getbasetemp(), settings.DATABASES["default"])


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


@pytest.fixture(scope="session", autouse=True)
def _application_role(django_db_setup, django_db_blocker) -> Iterator[None]:
    """HAETAE_TEST_APP_ROLE: the owner grants the application role its privileges; the suite then uses it."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    from tests import db_roles

    if not db_roles.APP_ROLE:
        yield
        return
    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", "HAETAE_TEST_APP_ROLE needs the PostgreSQL leg"
        assert db_roles.APP_ROLE == "haetae_app", "scripts/pg-app-role.sql creates the role haetae_app"
        with connection.cursor() as cursor:
            cursor.execute(APP_ROLE_SQL.read_text())
        connection_created.connect(db_roles.set_app_role)
        db_roles.set_app_role(connection=connection)
    yield
    with django_db_blocker.unblock():  # the owner drops the test database
        connection_created.disconnect(db_roles.set_app_role)
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


_original_flush_handle = flush.Command.handle
_original_sql_flush = sql_flush


def _sql_flush_by_delete(style, connection, reset_sequences=True, allow_cascade=False):
    """On PostgreSQL, a flush that keeps sequences empties every table with DELETE instead of TRUNCATE.

    TRUNCATE gives each of the ~80 tables and their indexes new files: about 2 s a flush, after every
    transactional test. DELETE of the few rows a test wrote takes milliseconds and leaves the same empty
    tables; Django's foreign keys are deferred to the commit, so the order of the tables does not matter."""
    if connection.vendor != "postgresql" or reset_sequences or allow_cascade:
        return _original_sql_flush(
            style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    return [f"DELETE FROM {connection.ops.quote_name(table)};" for table in tables]  # noqa: S608 - Django's names


setattr(flush, "sql_flush", _sql_flush_by_delete)  # noqa: B010 - patched for tests only


def _flush_around_ledger_triggers(self, **options):
    """Transactional tests end with a flush (by the owner); the append-only triggers are lifted for it.

    One transaction for all of it (triggers, flush, the post_migrate signal's content types and permissions,
    the seed) instead of one commit per step; a flush that fails is rolled back whole, triggers included."""
    from django.apps import apps as django_apps
    from django.db import connections, transaction

    from access.seed import seed_all
    from tests.db_roles import database_owner

    database = options.get("database", "default")
    connection = connections[database]
    with database_owner(), transaction.atomic(using=database):
        with connection.cursor() as cursor:
            for sql in ledger_sql.drop_statements(connection.vendor):
                cursor.execute(sql)
        result = _original_flush_handle(self, **options)
        with connection.cursor() as cursor:
            for sql in ledger_sql.create_statements(connection.vendor):
                cursor.execute(sql)
        # What the data migration seeded (offences, role groups) is back, as in a freshly migrated
        # database: the next test, or a child process it starts, may rely on it whatever ran before.
        seed_all(django_apps)
        return result


setattr(flush.Command, "handle", _flush_around_ledger_triggers)  # noqa: B010 - patched for tests only


_original_add_files_from_finders = WhiteNoiseMiddleware.add_files_from_finders
_static_files_found: dict[tuple[object, ...], dict[str, object]] = {}


def _add_files_from_finders_once(self: WhiteNoiseMiddleware) -> None:
    """WhiteNoise lists and stats every static file each time a middleware chain is built, which the test
    client does once per test (about 50 ms, a fifth of an access-matrix case). The same settings find the
    same files: they are listed once per settings and each new middleware gets that listing."""
    from django.conf import settings

    key = (
        self.static_prefix,
        self.max_age,
        self.allow_all_origins,
        self.charset,
        repr(settings.STATICFILES_DIRS),
        tuple(settings.STATICFILES_FINDERS),
        tuple(settings.INSTALLED_APPS),
    )
    if key not in _static_files_found:
        before = dict(self.files)
        _original_add_files_from_finders(self)
        _static_files_found[key] = {url: found for url, found in self.files.items() if url not in before}
    self.files.update(_static_files_found[key])


setattr(WhiteNoiseMiddleware, "add_files_from_finders", _add_files_from_finders_once)  # noqa: B010 - tests only


def require_testdata(path: Path, *, under_ci: bool) -> Path:
    """The test-data folder, or a skip on a developer's machine and a failure under CI when it is missing."""
    if path.is_dir():
        return path
    message = f"PDQ conformance images not found at {path} (../shared/testdata/pdq)"
    if under_ci:
        pytest.fail(f"{message}; under CI these tests must run, so put the images there", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def pdq_testdata() -> Iterator[Path]:
    yield require_testdata(PDQ_TESTDATA, under_ci=is_ci(os.environ))


@pytest.fixture
def eager() -> Iterator[None]:
    """Celery as in the embedded default: tasks run in-process (the PostgreSQL leg names a broker)."""
    from haetae.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = saved


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's admin_client, signed in as if with a TOTP code: the admin site requires one."""
    from django.test import Client

    from tests.factories import verified_login

    client = Client()
    verified_login(client, admin_user)
    return client


# scripts/pytest-all.sh runs two legs at once and says which this is: HAETAE_TEST_LEG=sqlite or postgres
# (unset: one run that does everything). The PostgreSQL leg runs every test that touches the database:
# PostgreSQL is what production runs. The SQLite leg runs every test that touches no database (they give
# the same answer on both legs), and of those that do, only the ones of the code that takes its own path on
# SQLite, the embedded database of `make run` (SQLITE_LEG_DATABASE). The access matrices (every API endpoint,
# portal page and management command × every role) check rules, not SQL dialects, and the browser tests
# drive the portal through a live server, which on SQLite shares the test thread's in-memory connection:
# they run on the PostgreSQL leg only.
LEG = os.environ.get("HAETAE_TEST_LEG", "")
POSTGRES_LEG_ONLY = (
    "tests/access/test_matrix.py",
    "tests/access/test_matrix_portal.py",
    "tests/access/test_matrix_commands.py",
)
# Database tests that run on both legs: where the code branches on the database or SQLite's own behaviour
# decides the outcome. Relative to the repository root: a folder (ending in "/"), a module, or one test.
SQLITE_LEG_DATABASE = (
    "tests/flows/",  # whole cases end to end, as `make run` serves them on SQLite
    "tests/search/",  # full-text search: FTS5 on SQLite, tsvector on PostgreSQL (search/backends.py)
    # The ledger's append-only triggers are written per database (evidence/ledger_sql.py), and the tamper
    # tests of the verifier drop and restore them.
    "tests/evidence/test_ledger.py",
    "tests/evidence/test_ledger_sql.py",
    "tests/evidence/test_custody.py",
    "tests/evidence/test_witness.py",
    "tests/evidence/test_verify.py",
    # Writers: SQLite's IMMEDIATE transactions serialise them where PostgreSQL takes advisory locks
    # (haetae/db.py, evidence/vault.py lock_blobs); rows go in by bulk_create there and COPY here; a killed
    # ingest is recovered from SQLite's journal.
    "tests/haetae/test_db.py",
    "tests/evidence/test_lock_order.py",
    "tests/evidence/test_vault.py",
    "tests/evidence/test_ingest.py",
    "tests/evidence/test_ingest_concurrent.py",
    "tests/evidence/test_ingest_crash.py",
    # Numbers chosen under a lock (the case row; SQLite's write lock) by processes at once (docs/cases.md,
    # docs/exhibits.md).
    "tests/parties/test_people.py::test_pseudonyms_stay_unique_when_processes_record_people_at_once",
    "tests/exhibits/test_exhibits.py::test_exhibits_created_at_once_by_separate_processes_get_distinct_numbers",
    # The embedded database's own set-up: first steps, the local trial, work deferred past a response.
    "tests/evidence/test_first_steps.py",
    "tests/evidence/test_smoke_foundation.py",
    "tests/haetae/test_local_trial.py",
    "tests/haetae/test_deferred.py",
    "tests/test_conftest.py",
    "tests/test_readme.py",
)
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def pytest_configure(config: pytest.Config) -> None:
    if LEG not in ("", "sqlite", "postgres"):
        raise pytest.UsageError(f"HAETAE_TEST_LEG={LEG!r}: say sqlite or postgres, or leave it unset")


def _root_relative(path: Path, config: pytest.Config) -> str:
    try:
        return path.resolve().relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:  # outside the repository: none of POSTGRES_LEG_ONLY
        return path.as_posix()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """On the SQLite leg the PostgreSQL leg's own modules are not even collected (collecting them costs)."""
    if LEG == "sqlite" and _root_relative(collection_path, config) in POSTGRES_LEG_ONLY:
        return True
    return None


def uses_the_database(item: pytest.Item) -> bool:
    """Whether a test can reach the database: marked ``django_db`` or asking for a fixture that opens it."""
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    )


def slow_modules_first(items: list[pytest.Item]) -> None:
    """Every module with a test marked ``slow`` (child processes, kill -9, races: up to a minute a test) moves
    to the front, whole and in its order; the rest follow in theirs. Run last, such a test kept one xdist
    worker busy minutes after the other had run out of work; run first, the quick tests at the end even the
    workers out (``--dist worksteal`` hands an idle worker half of the other's queue). Whole modules, so that
    a module-scoped fixture is still built once per worker."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)


def on_the_sqlite_leg(nodeid: str) -> bool:
    """Whether a database test (its node id, relative to the repository root) also runs on the SQLite leg."""
    for entry in SQLITE_LEG_DATABASE:
        if entry.endswith("/"):
            if nodeid.startswith(entry):
                return True
        elif nodeid == entry or nodeid.startswith((entry + "::", entry + "[")):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser (it uses the ``page`` fixture) as ``browser``; in an xdist
    worker, put the slow modules first (``slow_modules_first``); with HAETAE_TEST_LEG set, leave out what the
    other leg runs (see ``LEG``)."""
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    if hasattr(config, "workerinput"):
        slow_modules_first(items)
    if not LEG:
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        path = _root_relative(item.path, config)
        postgres_only = item.get_closest_marker("browser") is not None or path in POSTGRES_LEG_ONLY
        if LEG == "sqlite":
            runs = not postgres_only and (not uses_the_database(item) or on_the_sqlite_leg(item.nodeid))
        else:
            runs = postgres_only or uses_the_database(item)
        (kept if runs else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
