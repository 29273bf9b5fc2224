"""The suite's own guards: missing PDQ test data skips on a laptop and fails under CI; xdist workers get a
Redis db each; what counts as a test that touches the database (the PostgreSQL leg leaves out the others)."""

from pathlib import Path

import pytest

from tests.conftest import (
    SQLITE_LEG_DATABASE,
    is_ci,
    on_the_sqlite_leg,
    require_testdata,
    slow_modules_first,
    uses_the_database,
    worker_broker_url,
)
from tests.databases import postgres_template_name, sqlite_template


def test_present_testdata_is_returned(tmp_path: Path) -> None:
    assert require_testdata(tmp_path, under_ci=True) == tmp_path


def test_missing_testdata_skips_outside_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_testdata(tmp_path / "absent", under_ci=False)


def test_missing_testdata_fails_under_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="under CI these tests must run"):
        require_testdata(tmp_path / "absent", under_ci=True)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"HAETAE_REQUIRE_SERVICES": "true"}, True),
        ({"CI": "false"}, False),
        ({}, False),
    ],
)
def test_ci_is_read_from_the_environment(environ: dict[str, str], expected: bool) -> None:
    assert is_ci(environ) is expected


def test_each_xdist_worker_gets_its_own_redis_db() -> None:
    assert worker_broker_url("redis://127.0.0.1:6379/8", "gw0") == "redis://127.0.0.1:6379/8"
    assert worker_broker_url("redis://127.0.0.1:6379/8", "gw3") == "redis://127.0.0.1:6379/11"


@pytest.mark.parametrize(
    ("url", "worker"),
    [("redis://127.0.0.1:6379/15", "gw1"), ("redis://127.0.0.1:6379", "gw0"), ("amqp://host/1", "gw0")],
)
def test_a_broker_url_that_cannot_take_the_worker_number_is_refused(url: str, worker: str) -> None:
    with pytest.raises(pytest.UsageError, match="xdist worker"):
        worker_broker_url(url, worker)


def test_a_test_without_the_database_is_left_to_the_sqlite_leg(request: pytest.FixtureRequest) -> None:
    assert not uses_the_database(request.node)


@pytest.mark.django_db
def test_a_test_marked_django_db_uses_the_database(request: pytest.FixtureRequest) -> None:
    assert uses_the_database(request.node)


def test_a_test_asking_for_a_database_fixture_uses_the_database(
    request: pytest.FixtureRequest, db: None
) -> None:
    assert uses_the_database(request.node)


def test_a_workers_template_name_drops_its_number() -> None:
    assert postgres_template_name("test_haetae_gw1") == "test_haetae_template"
    assert postgres_template_name("test_haetae") == "test_haetae_template"


@pytest.mark.django_db
def test_the_test_database_migrated_or_copied_from_the_template_has_every_migration() -> None:
    """Whether this worker migrated or copied the run's template (tests/databases.py), nothing is left to
    apply; on SQLite the template the crash tests' children copy records the same migrations."""
    import sqlite3
    from contextlib import closing

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    applied = set(executor.recorder.applied_migrations())
    assert ("evidence", "0001_initial") in applied
    template = sqlite_template()
    if connection.vendor == "sqlite":
        assert template is not None
        with closing(sqlite3.connect(template)) as copied:
            rows = copied.execute("SELECT app, name FROM django_migrations").fetchall()
        assert set(rows) == applied


def test_slow_modules_go_first_whole_and_in_their_order() -> None:
    class Item:
        def __init__(self, path: str, slow: bool = False) -> None:
            self.path, self.slow = Path(path), slow

        def get_closest_marker(self, name: str) -> object:
            return "slow" if name == "slow" and self.slow else None

    items = [Item("a.py"), Item("b.py"), Item("b.py", slow=True), Item("c.py"), Item("d.py", slow=True)]
    slow_modules_first(items)
    assert [(str(item.path), item.slow) for item in items] == [
        ("b.py", False),
        ("b.py", True),
        ("d.py", True),
        ("a.py", False),
        ("c.py", False),
    ]


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/search/test_search.py::test_x", True),  # in a listed folder
        ("tests/evidence/test_ingest.py::test_x[a]", True),  # in a listed module
        ("tests/evidence/test_ingest_command.py::test_x", False),  # a listed module's name is no prefix
        ("tests/portal/test_cases.py::test_x", False),
        ("tests/searching/test_x.py::test_x", False),  # nor is a listed folder's
        (
            "tests/parties/test_people.py::test_pseudonyms_stay_unique_when_processes_record_people_at_once",
            True,
        ),
        (
            "tests/parties/test_people.py::test_pseudonyms_stay_unique_when_processes_record_people_at_once[x]",
            True,
        ),
        (
            "tests/parties/test_people.py::test_pseudonyms_stay_unique_when_processes_record_people_at_once_2",
            False,
        ),
        ("tests/parties/test_people.py::test_another", False),  # a listed test leaves its module's others out
    ],
)
def test_which_database_tests_also_run_on_the_sqlite_leg(nodeid: str, expected: bool) -> None:
    assert on_the_sqlite_leg(nodeid) is expected


def test_every_path_run_on_both_legs_exists() -> None:
    """A module or test moved or renamed would otherwise drop off the SQLite leg without a word."""
    missing = [entry for entry in SQLITE_LEG_DATABASE if not (ROOT / entry.split("::")[0]).exists()]
    assert not missing, f"SQLITE_LEG_DATABASE names paths that are gone: {missing}"
    tests = [entry.split("::") for entry in SQLITE_LEG_DATABASE if "::" in entry]
    renamed = [f"{path}::{name}" for path, name in tests if f"def {name}(" not in (ROOT / path).read_text()]
    assert not renamed, f"SQLITE_LEG_DATABASE names tests that are gone: {renamed}"
    folders = [entry for entry in SQLITE_LEG_DATABASE if (ROOT / entry).is_dir()]
    assert all(entry.endswith("/") for entry in folders), "a folder in SQLITE_LEG_DATABASE ends in '/'"
