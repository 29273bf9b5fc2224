"""The checkpoint task: eager in the embedded default, and through a real Celery worker with Redis."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from celery.result import EagerResult
from django.conf import settings
from django.db import connection

from evidence.ledger import checkpoint_signature_valid
from evidence.models import Checkpoint, CustodyEvent
from evidence.tasks import ledger_checkpoint_task
from haetae.celery import app
from tests.conftest import REQUIRE_SERVICES
from tests.evidence.test_ledger import append_events, trusted_key
from tests.processes import child_env

REPO_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_conf(**values: object) -> Iterator[None]:
    """Override Celery settings for one test (the app read Django's settings once, at import time)."""
    saved = {name: app.conf.get(name) for name in values}
    app.conf.update(values)
    try:
        yield
    finally:
        app.conf.update(saved)


def _redis_answers(url: str | None) -> bool:
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def real_worker_broker() -> str:
    """The Redis broker for a test that runs a real Celery worker; without Redis (unless services are
    required) or without PostgreSQL, the test is skipped."""
    broker = settings.CELERY_BROKER_URL or os.environ.get("CELERY_BROKER_URL")
    if not (REQUIRE_SERVICES or _redis_answers(broker)):
        pytest.skip(
            "no Redis broker: set CELERY_BROKER_URL (HAETAE_REQUIRE_SERVICES=true makes this mandatory)"
        )
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a worker process cannot see the in-memory SQLite test database")
    assert broker, "HAETAE_REQUIRE_SERVICES=true: CELERY_BROKER_URL must name the Redis broker"
    return broker


@pytest.mark.django_db
def test_eager_task_creates_a_checkpoint() -> None:
    with celery_conf(task_always_eager=True):  # the embedded default (no broker)
        _eager_checkpoints()


def _eager_checkpoints() -> None:
    assert ledger_checkpoint_task.delay().get() is None  # an empty ledger: nothing to sign yet
    assert not Checkpoint.objects.exists()
    append_events(5)
    checkpoint_id = ledger_checkpoint_task.delay().get()
    assert checkpoint_id is not None
    checkpoint = Checkpoint.objects.get(pk=checkpoint_id)
    assert checkpoint.tree_size == CustodyEvent.objects.count()
    assert checkpoint_signature_valid(checkpoint, trusted_key())
    assert ledger_checkpoint_task.delay().get() == checkpoint_id  # nothing new: the same checkpoint


def test_task_is_routed_to_the_ingest_queue_and_acks_late() -> None:
    assert ledger_checkpoint_task.name == settings.CELERY_BEAT_SCHEDULE["ledger-checkpoint"]["task"]
    assert ledger_checkpoint_task.acks_late
    route = app.amqp.router.route({}, ledger_checkpoint_task.name)
    assert route["queue"].name == "ingest"


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_creates_the_checkpoint(data_dir: Path, settings: Any) -> None:
    # Appends checkpoint on commit by default; off here, so the only checkpoint is the worker's.
    settings.HAETAE_CHECKPOINT_ON_COMMIT = False
    broker = real_worker_broker()
    with celery_conf(broker_url=broker, task_always_eager=False):
        _checkpoint_through_a_worker(broker, data_dir)


def _checkpoint_through_a_worker(broker: str, data_dir: Path) -> None:
    append_events(6)
    expected_size = CustodyEvent.objects.count()
    with app.connection_for_write() as broker_connection:
        channel: Any = broker_connection.default_channel  # kombu's typing stops at the abstract channel
        channel.queue_purge("ingest")  # no stale message may stand in for ours

    env = child_env(data_dir=data_dir, CELERY_BROKER_URL=broker)
    celery = Path(sys.executable).parent / "celery"
    log = data_dir / "worker.log"
    with open(log, "wb") as log_file:
        worker = subprocess.Popen(
            [
                str(celery),
                "-A",
                "haetae",
                "worker",
                "-Q",
                "ingest",
                "--pool",
                "solo",
                "-c",
                "1",
                "-l",
                "INFO",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            sent = ledger_checkpoint_task.apply_async()
            assert not isinstance(sent, EagerResult), "the task ran in-process, not on the worker"
            deadline = time.monotonic() + 60
            while not Checkpoint.objects.exists():
                assert worker.poll() is None, f"the worker exited early:\n{log.read_text()}"
                assert time.monotonic() < deadline, (
                    f"no checkpoint within 60 s; worker log:\n{log.read_text()}"
                )
                time.sleep(0.2)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    assert f"ledger_checkpoint_task[{sent.id}] succeeded" in log.read_text()
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.tree_size == expected_size
    assert checkpoint_signature_valid(checkpoint, trusted_key())  # signed with the key the test gave it
