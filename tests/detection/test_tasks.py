"""detect_item_task: routing and delivery settings, per-process model loading, and a real worker against
Redis and PostgreSQL that is killed mid-task and completes the task exactly once after a restart."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from detection import registry
from detection.models import Annotation, DetectionRun
from detection.models.runs import RunStatus
from detection.tasks import _load_models_after_fork, detect_item_task
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from haetae.celery import app
from tests.detection.conftest import PLUGINS, ingest_files, png
from tests.detection.plugins import HOLD_ENV
from tests.evidence.test_tasks import celery_conf, real_worker_broker
from tests.factories import CaseFactory, UserFactory
from tests.processes import child_env

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 120  # generous bounds on waits for another process; never an assertion about speed


def test_task_goes_to_the_detect_queue_acks_late_and_is_rejected_when_its_worker_is_lost() -> None:
    route = app.amqp.router.route({}, detect_item_task.name)
    assert route["queue"].name == "detect"
    assert detect_item_task.acks_late and detect_item_task.reject_on_worker_lost
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    # Pool processes load every model before reporting ready: Celery's 4 s default would kill them.
    assert app.conf.worker_proc_alive_timeout >= 60


def test_each_worker_process_loads_every_detector_once_with_one_onnx_thread(settings, test_detectors):
    settings.HAETAE_ONNX_THREADS = 0
    settings.HAETAE_ONNX_THREADS_EXPLICIT = False
    _load_models_after_fork()
    _load_models_after_fork()
    assert test_detectors["test-brightness"].loads == 1
    assert registry.onnx_threads() == 1
    assert registry.onnx_session_options().intra_op_num_threads == 1


def test_an_explicit_onnx_thread_count_is_kept_in_workers(settings, test_detectors):
    settings.HAETAE_ONNX_THREADS = 3
    settings.HAETAE_ONNX_THREADS_EXPLICIT = True
    _load_models_after_fork()
    assert registry.onnx_session_options().intra_op_num_threads == 3


@contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A real `celery worker` (prefork, one process) on the detect queue, in its own process group."""
    celery = Path(sys.executable).parent / "celery"
    with open(log, "ab") as log_file:
        worker = subprocess.Popen(
            [str(celery), "-A", "haetae", "worker", "-Q", "detect", "-c", "1", "-l", "INFO"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield worker
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()


def _wait_for(condition: Any, *, what: str, worker: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert worker.poll() is None, f"the worker exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, (
            f"{what} did not happen within {WAIT_SECONDS} s:\n{log.read_text()}"
        )
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_completes_it_exactly_once_after_restart(
    data_dir: Path, tmp_path: Path, test_detectors: Any
) -> None:
    broker = real_worker_broker()
    with celery_conf(broker_url=broker, task_always_eager=False):
        _kill_and_restart(broker, data_dir, tmp_path)


def _kill_and_restart(broker: str, data_dir: Path, tmp_path: Path) -> None:
    with app.connection_for_write() as broker_connection:
        channel: Any = broker_connection.default_channel
        channel.queue_declare(queue="detect", durable=True, auto_delete=False)
        channel.queue_purge("detect")  # no stale message may stand in for ours
    hold = tmp_path / "hold"
    hold.write_text("hold the dominant-channel detector")
    entered = Path(f"{hold}.entered")
    env = child_env(
        data_dir=data_dir, CELERY_BROKER_URL=broker, HAETAE_EXTRA_DETECTORS=PLUGINS, **{HOLD_ENV: str(hold)}
    )
    log = data_dir / "worker.log"
    data_dir.mkdir(parents=True, exist_ok=True)

    user = UserFactory()
    case = CaseFactory()
    result = ingest_files(case, user, tmp_path, {"white.png": png((250, 250, 250))})  # sends on commit
    item = EvidenceItem.objects.get(acquisition=result.acquisition)
    runs = DetectionRun.objects.filter(item=item).select_related("detector")
    assert {(r.detector.name, r.status) for r in runs} == {
        ("test-brightness", RunStatus.QUEUED),
        ("test-channel", RunStatus.QUEUED),
    }

    with _worker(env, log) as first:
        _wait_for(entered.exists, what="the worker reaching the held detector", worker=first, log=log)
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-task: the message stays unacknowledged
        first.wait()
    # An image's runs are marked running together and recorded together: the kill left both running, each
    # with its attempt counted, and recorded nothing (the brightness run had finished in the worker).
    state = {r.detector.name: (r.status, r.attempts) for r in runs.all()}
    assert state == {"test-brightness": (RunStatus.RUNNING, 1), "test-channel": (RunStatus.RUNNING, 1)}
    assert not Annotation.objects.filter(item=item).exists()
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED).exists()

    hold.unlink()
    # The broker redelivers an unacknowledged message once its visibility timeout has passed: short here.
    restart_env = {**env, "HAETAE_BROKER_VISIBILITY_TIMEOUT": "1"}
    with _worker(restart_env, log) as second:
        _wait_for(
            lambda: not runs.exclude(status=RunStatus.DONE).exists(),
            what="the redelivered task finishing",
            worker=second,
            log=log,
        )
        ours = f"'item': {item.pk}, 'runs'"  # the task's return value, logged when it succeeded

        _wait_for(
            lambda: any("succeeded" in line and ours in line for line in log.read_text().splitlines()),
            what="the redelivered task succeeding",
            worker=second,
            log=log,
        )

    state = {r.detector.name: (r.status, r.attempts) for r in runs.all()}
    assert state == {"test-brightness": (RunStatus.DONE, 2), "test-channel": (RunStatus.DONE, 2)}
    labels = sorted(Annotation.objects.filter(item=item).values_list("label", flat=True))
    assert labels == ["bright", "dominant-red"]  # each once: nothing duplicated by the redelivery
    analysed = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert sorted(e.details["detector"] for e in analysed) == ["test-brightness", "test-channel"]
