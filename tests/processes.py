"""Child processes of a test: the environment of one (a Celery worker, a second writer) that shares the test's
database, the signal that starts several at once, and ``forked``: a ``python manage.py …`` or ``python -c …``
forked from a server that has already imported the heavy libraries.

Such tests need PostgreSQL, or a SQLite file: an in-memory SQLite database is invisible to another process.
"""

import atexit
import multiprocessing
import os
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any
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


def release_together(children: Sequence[Any], ready: list[Path], go: Path) -> None:
    """Create ``go`` once every child has created its ``ready`` file (its Django set up), so that they start
    their work at once; a child that exits before then fails the test with its error output."""
    deadline = time.monotonic() + 300
    while not all(path.exists() for path in ready):
        failed = [child for child in children if child.poll() is not None]
        assert not failed, failed[0].communicate()[1].decode()
        assert time.monotonic() < deadline, "the children did not set Django up within 300 s"
        time.sleep(0.01)
    go.touch()


# A fresh `python manage.py …` spends about a second of CPU importing Django, Celery, NumPy, cryptography …
# before it does anything; the crash, kill and race tests start hundreds of them. ``forked`` children are
# forked from a fork server (one per test process, started on first use) that has imported those libraries
# (tests/child_preload.py) but not the project nor its settings: the child takes its environment and working
# folder, then runs manage.py or the code as `python` would, as a real, separate process (its own pid, its own
# database connections, killed by a real SIGKILL). Tests of the command line's own contract (exit codes, the
# checks, --help) start the real interpreter instead.
_forks: ForkServerContext | None = None


def _fork_server() -> ForkServerContext:
    global _forks
    if _forks is None:
        _forks = multiprocessing.get_context("forkserver")
        _forks.set_forkserver_preload(["tests.child_preload", "tests.processes"])
    return _forks


def _child_main(argv: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked child: ``python ARGV`` with this environment and folder, its output into two files."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    # As Python sets them up for a pipe: stdout block-buffered (lost if the child is killed), stderr by line.
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = list(argv)
            runpy.run_path(str(Path(cwd) / argv[0]), run_name="__main__")
    finally:
        atexit._run_exitfuncs()  # what the interpreter runs at exit (the fork server's child leaves by _exit)
        sys.stdout.flush()
        sys.stderr.flush()


class Forked:
    """A child started by ``forked``, with the ``subprocess.Popen`` methods the tests use."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> None:
        self.args = list(argv)
        self._folder = Path(tempfile.mkdtemp(prefix="haetae-child-"))
        self._out, self._err = self._folder / "stdout", self._folder / "stderr"
        self._process = _fork_server().Process(
            target=_child_main, args=(self.args, dict(env), str(cwd), str(self._out), str(self._err))
        )
        self._process.start()
        self.pid = self._process.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not self._process.is_alive():
            self.returncode = self._process.exitcode
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self._process.pid or 0, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[bytes, bytes]:
        """Wait for the child (killed after ``timeout``, as ``subprocess.run`` does) and read its output."""
        try:
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.wait()
                raise
            return self._out.read_bytes(), self._err.read_bytes()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def forked(
    argv: Sequence[str], *, env: dict[str, str], cwd: Path, timeout: float, text: bool = False
) -> subprocess.CompletedProcess:
    """``subprocess.run([sys.executable, *argv], capture_output=True, …)`` through the fork server: ARGV is
    ``["manage.py", ARGS…]`` or ``["-c", CODE, ARGS…]``; a child killed by a signal has its negative number as
    return code, as with ``subprocess``."""
    child = Forked(argv, env=env, cwd=cwd)
    out, err = child.communicate(timeout)
    assert child.returncode is not None
    if text:
        return subprocess.CompletedProcess(child.args, child.returncode, out.decode(), err.decode())
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)
