"""detection.pool: detection on every core without a broker; a worker killed mid-photo; retries; batches;
the per-detector progress with its ETA on a terminal and nowhere else."""

import fcntl
import io
import json
import os
import pty
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from detection import registry
from detection.models import Annotation, DetectionRun, ScanJob
from detection.models.runs import JobKind, JobStatus, RunStatus
from detection.pipeline import scan_job_create
from detection.pool import detection_pool_run
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.detection.conftest import ingest_files, png
from tests.detection.plugins import HOLD_ENV, FlakyDetector
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory

WAIT_SECONDS = 120  # a bound on waiting for another process, never an assertion about speed

COLOURS = {
    "red.png": (250, 20, 20),
    "green.png": (20, 250, 20),
    "blue.png": (20, 20, 250),
    "white.png": (250, 250, 250),
    "grey.png": (90, 90, 90),
    "black.png": (5, 5, 5),
}


def _queued_case(settings: Any, tmp_path: Path) -> tuple[Any, dict[int, list[int]], ScanJob]:
    """A case whose six images have queued runs of both test detectors, nothing analysed yet."""
    settings.HAETAE_DETECT_ON_INGEST = False
    user, case = UserFactory(), CaseFactory.create()
    CaseMemberFactory(case=case, user=user)
    ingest_files(case, user, tmp_path, {name: png(rgb, size=64) for name, rgb in COLOURS.items()})
    job, planned = scan_job_create(
        kind=JobKind.MANUAL, case_id=case.pk, detector_name=None, actor=None, send=False
    )
    assert len(planned) == len(COLOURS)
    return case, planned, job


def _kill_when_entered(hold: Path, killed: list[int]) -> threading.Thread:
    """A thread that SIGKILLs the worker process holding the detector, then lets the others go on."""
    entered = Path(f"{hold}.entered")

    def kill() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not entered.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        pid = int(entered.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
        hold.unlink()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_photo_leaves_nothing_twice_and_the_item_is_analysed_again(
    settings: Any, tmp_path: Path, test_detectors: Any, monkeypatch: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a worker process cannot see the in-memory SQLite test database")
    case, planned, job = _queued_case(settings, tmp_path)
    hold = tmp_path / "hold"
    hold.write_text("hold the dominant-channel detector")
    monkeypatch.setenv(HOLD_ENV, str(hold))  # inherited by the forked workers
    killed: list[int] = []
    killer = _kill_when_entered(hold, killed)

    detection_pool_run(planned=planned, workers=2)
    killer.join(timeout=WAIT_SECONDS)

    assert killed and killed[0] != os.getpid()  # a real worker process, not this one, was killed
    runs = DetectionRun.objects.filter(item__case=case).select_related("detector")
    assert runs.count() == 2 * len(COLOURS)
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}
    # The killed worker's item was analysed twice (both its runs: nothing of it had been recorded); every
    # other item once.
    attempts_by_item: dict[int, set[int]] = {}
    for run in runs:
        attempts_by_item.setdefault(run.item_id, set()).add(run.attempts)
    assert sorted(attempts_by_item.values(), key=sorted) == [{1}] * (len(COLOURS) - 1) + [{2}]
    # One finding per channel run, one custody event per run: nothing duplicated by the retry.
    channel = Annotation.objects.filter(item__case=case, run__detector__name="test-channel")
    assert channel.count() == len(COLOURS)
    assert Annotation.objects.filter(item__case=case).values("run").distinct().count() == channel.count() + (
        Annotation.objects.filter(item__case=case, label="bright").count()
    )
    analysed = CustodyEvent.objects.filter(item__case=case, action=CustodyAction.ANALYSED)
    assert sorted((e.item_id, e.details["detector"]) for e in analysed) == sorted(
        (run.item_id, run.detector.name) for run in runs
    )
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_runs_are_recorded_in_batches_with_their_custody_events(
    settings: Any, tmp_path: Path, test_detectors: Any, db: Any
) -> None:
    case, planned, _ = _queued_case(settings, tmp_path)
    before = CustodyEvent.objects.filter(action=CustodyAction.ANALYSED).count()

    detection_pool_run(planned=planned)  # inside the test's transaction: in this process

    runs = DetectionRun.objects.filter(item__case=case)
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}
    assert set(runs.values_list("attempts", flat=True)) == {1}
    labels = sorted(Annotation.objects.filter(item__case=case).values_list("label", flat=True))
    # Greys tie on every channel (the first, red, wins); only white is bright.
    assert labels == ["bright", "dominant-blue", "dominant-green"] + ["dominant-red"] * 4
    analysed = CustodyEvent.objects.filter(action=CustodyAction.ANALYSED).order_by("seq")
    assert analysed.count() - before == 12
    # The twelve events of one batch were appended together, so their sequence numbers are consecutive.
    seqs = list(analysed.values_list("seq", flat=True))[-12:]
    assert seqs == list(range(seqs[0], seqs[0] + 12))

    # Running the same plan again adds nothing: runs are idempotent per (item, detector version).
    detection_pool_run(planned=planned)
    assert Annotation.objects.filter(item__case=case).count() == len(labels)
    assert CustodyEvent.objects.filter(action=CustodyAction.ANALYSED).count() - before == 12


def test_a_detector_that_raises_is_retried_then_recorded_once(
    settings: Any, tmp_path: Path, test_detectors: Any, db: Any
) -> None:
    flaky = FlakyDetector(failures=2)
    registry.register_dynamic("flaky", lambda: [flaky])
    try:
        _, planned, _ = _queued_case(settings, tmp_path)
        first = next(iter(planned))
        detection_pool_run(planned={first: planned[first]})
        runs = DetectionRun.objects.filter(item_id=first).select_related("detector")
        state = {run.detector.name: (run.status, run.attempts) for run in runs}
        assert state["test-flaky"] == (RunStatus.DONE, 3)
        assert state["test-brightness"] == (RunStatus.DONE, 1)
        assert Annotation.objects.filter(item_id=first, run__detector__name="test-flaky").count() == 1
    finally:
        registry._dynamic.pop("flaky", None)
        registry.reset()


def _on_a_terminal(monkeypatch: Any, *, stdout_tty: bool = True) -> tuple[int, Any]:
    """stdout and stderr of this process on a pseudo-terminal (stdout on a pipe-like buffer if not
    ``stdout_tty``); returns the terminal's reading end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    terminal = os.fdopen(slave, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", terminal if stdout_tty else io.StringIO())
    return master, terminal


def _drain(master: int) -> str:
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536) if _readable(master) else b""
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0.2)[0])


@pytest.mark.parametrize(
    ("args", "stdout_tty", "shows"),
    [([], True, True), (["--json"], True, False), ([], False, False)],
    ids=["terminal", "json", "stdout-not-a-terminal"],
)
def test_detect_shows_progress_with_an_eta_per_detector_only_on_a_terminal(
    settings: Any,
    tmp_path: Path,
    test_detectors: Any,
    db: Any,
    monkeypatch: Any,
    args: list[str],
    stdout_tty: bool,
    shows: bool,
) -> None:
    case, _, _ = _queued_case(settings, tmp_path)
    master, terminal = _on_a_terminal(monkeypatch, stdout_tty=stdout_tty)
    try:
        call_command("detect", case.number, *args, stdout=sys.stdout, stderr=sys.stderr)
        terminal.flush()
        drawn = _drain(master)
    finally:
        terminal.close()
        os.close(master)
    if shows:
        for name in ("test-brightness", "test-channel"):
            assert name in drawn
        assert "ETA" in drawn and "6/6" in drawn
    else:
        assert "ETA" not in drawn
    if "--json" in args:
        answer = json.loads(drawn.strip().splitlines()[-1])
        assert answer["runs"]["done"] == 12


def test_runs_recorded_by_the_pool_reach_the_run_listeners(
    settings: Any, tmp_path: Path, test_detectors: Any, db: Any, request: pytest.FixtureRequest
) -> None:
    """As ``detection_run`` does: search re-indexes an item when a run with text is stored (its listener), so
    the text that OCR or the metadata detector found on a photo analysed by the pool is searchable."""
    from detection import listeners

    heard: list[tuple[int, list[str]]] = []

    def listener(run: Any, annotations: Any) -> None:
        heard.append((run.pk, [a.label for a in annotations]))

    listeners.run_listeners.append(listener)  # the list itself: detection.services holds it by name
    request.addfinalizer(lambda: listeners.run_listeners.remove(listener))
    case, planned, _ = _queued_case(settings, tmp_path)

    detection_pool_run(planned=planned)

    runs = DetectionRun.objects.filter(item__case=case, status=RunStatus.DONE)
    assert sorted(run_id for run_id, _ in heard) == sorted(runs.values_list("pk", flat=True))
    assert sorted(label for _, labels in heard for label in labels) == sorted(
        Annotation.objects.filter(item__case=case).values_list("label", flat=True)
    )
