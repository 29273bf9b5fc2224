"""Key files: created once, atomically, 0600 — concurrent first uses all get the same whole key."""

import multiprocessing
import os
import stat
import threading
from pathlib import Path

from evidence.crypto import _read_or_create_secret


def _create_in_process(path: str, queue: "multiprocessing.Queue[bytes]") -> None:
    queue.put(_read_or_create_secret(Path(path), os.urandom(32)))


def test_concurrent_threads_get_one_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    seen: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: seen.append(_read_or_create_secret(path, os.urandom(32))))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16
    assert len(set(seen)) == 1
    assert len(seen[0]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["master.key"]  # no temporary files left


def test_concurrent_processes_get_one_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[bytes] = context.Queue()
    workers = [context.Process(target=_create_in_process, args=(str(path), queue)) for _ in range(6)]
    for worker in workers:
        worker.start()
    keys = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert len(set(keys)) == 1
    assert path.read_bytes() == keys[0]


def test_existing_key_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k"
    first = _read_or_create_secret(path, b"a" * 32)
    assert _read_or_create_secret(path, b"b" * 32) == first == b"a" * 32
