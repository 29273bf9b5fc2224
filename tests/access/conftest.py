"""The access matrices' world (tests/access/matrix_world.py): built once per module that asks for it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from tests.access.matrix_world import World, build_world, caller_users, settle
from tests.conftest import data_settings


@pytest.fixture(scope="module")
def world_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One vault and one set of keys for the module: the world's sealed identities and blobs live there."""
    return tmp_path_factory.mktemp("matrix") / "haetae-data"


@pytest.fixture
def data_root(request: pytest.FixtureRequest) -> Path:
    """A test of the module's world works in the world's vault, where it was built; any other test (e.g.
    test_admin_scope, which builds its own world per test) in a folder of its own."""
    if "world_root" in request.fixturenames:
        return Path(request.getfixturevalue("world_root"))
    return Path(request.getfixturevalue("tmp_path")) / "haetae-data"


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, world_root: Path) -> Iterator[World]:
    """One world for the module, built inside an outer transaction that is rolled back at its end. Each test
    (``django_db``) runs in a savepoint inside it, rolled back after it: what a test writes, including the
    custody events the "refused writes nothing" check counts, never reaches the next one.
    Its foreign keys are checked once, when it is built (``settle``)."""
    with django_db_blocker.unblock(), override_settings(**data_settings(world_root)):
        outer = transaction.atomic()
        # Marked as Django's TestCase marks its own outer block, so that a service's durable block (the
        # first phase of a destruction, matrix_world.destruction_records) may run inside the world.
        outer._from_testcase = True  # type: ignore[attr-defined]
        outer.__enter__()
        try:
            built = build_world()
            settle()
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def callers(world: World, django_db_blocker: Any) -> dict[tuple[str, str], Any]:
    """The matrices' callers (``caller_users``), made once for the module in the world's outer transaction:
    what a test does to one of them is rolled back with the test, as the rest of the world is."""
    with django_db_blocker.unblock():
        made = caller_users(world)
        settle()
    return made
