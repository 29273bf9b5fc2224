"""Shared pieces of the benchmarks: the machine description, timed child processes, statistics, output."""

import json
import os
import platform
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from access.models import Case
    from evidence.models import Acquisition, Blob, EvidenceItem

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "bench" / "out"
PYTHON = sys.executable
MB = 1_000_000  # throughput is reported in decimal megabytes per second, as disks and md5sum users expect


@dataclass(frozen=True)
class ChildRun:
    """One finished child process: wall time, CPU time (user + system), exit status, peak resident set."""

    seconds: float
    returncode: int
    max_rss_kib: int
    cpu_seconds: float


def run_child(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    stdout_path: Path | None = None,
    check: bool = True,
) -> ChildRun:
    """Run ``argv`` and measure it; wait4 gives this child's own rusage (peak RSS, CPU), not a running total.

    The rusage covers the child and the descendants it waited for (for ``bash -c`` pipelines: all of them),
    but not server processes such as PostgreSQL's backend.

    Output goes to ``stdout_path`` (or /dev/null) rather than a pipe, so a large JSON answer cannot stall
    the child while we are not reading.
    """
    stdout_target = open(stdout_path, "wb") if stdout_path else open(os.devnull, "wb")  # noqa: SIM115
    with stdout_target:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [os.fspath(a) for a in argv], env=dict(env) if env is not None else None, stdout=stdout_target
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if check and proc.returncode != 0:
        raise SystemExit(f"benchmark step failed (exit {proc.returncode}): {' '.join(map(str, argv))}")
    # ru_maxrss is in KiB on Linux.
    return ChildRun(
        seconds=seconds,
        returncode=proc.returncode,
        max_rss_kib=usage.ru_maxrss,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def ensure_random_file(path: Path, size: int) -> Path:
    """Create ``path`` with ``size`` random bytes unless it already has exactly that size (reused)."""
    if path.exists() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    print(f"generating {size / 2**20:.0f} MiB of random bytes in {path} …", flush=True)
    with open(partial, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 16 * 2**20))
            out.write(block)
            left -= len(block)
    partial.replace(path)
    return path


def warm_page_cache(paths: Iterable[Path]) -> int:
    """Read every file once so that every contestant starts with the data in the page cache."""
    total = 0
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            while block := handle.read(8 * 2**20):
                total += len(block)
    return total


def best_and_median(samples: Sequence[float]) -> tuple[float, float]:
    return min(samples), statistics.median(samples)


def _first_line(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _disk(path: Path) -> str:
    """Filesystem, device and whether the kernel calls it rotational, for the directory the data lives in."""
    found = subprocess.run(
        ["findmnt", "-n", "-o", "SOURCE,FSTYPE", "--target", str(path)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if len(found) < 2:
        return "unknown"
    source, fstype = found[0], found[1]
    device = Path(source).name
    detail = ""
    rotational = Path(f"/sys/block/{device}/queue/rotational")
    if rotational.exists():
        detail = ", rotational" if rotational.read_text().strip() == "1" else ", non-rotational"
    if device.startswith("vd"):
        detail += ", virtio block device (virtual machine)"
    usage = shutil.disk_usage(path)
    return f"{source} ({fstype}{detail}), {usage.total / 2**30:.0f} GiB"


def machine_info(data_dir: Path) -> dict[str, str]:
    """What a reader needs to judge the numbers: CPU, cores, memory, disk, OS, Python, OpenSSL."""
    from cryptography.hazmat.backends.openssl import backend

    flags = _cpu_flags()
    accel = [name for name in ("sha_ni", "aes", "vaes", "avx512f", "avx2") if name in flags]
    return {
        "cpu": f"{_cpu_model()} ({', '.join(accel) or 'no'} acceleration flags)",
        "cores": f"{os.cpu_count()} logical",
        "ram": f"{_mem_total_gib():.1f} GiB",
        "disk": _disk(data_dir),
        "os": f"{_os_name()}, Linux {platform.release()}",
        "python": platform.python_version(),
        "openssl (hashlib)": ssl.OPENSSL_VERSION,
        "openssl (cryptography, AES-GCM)": backend.openssl_version_text(),
        "coreutils": _first_line(["md5sum", "--version"]),
        "load average at start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def print_machine(info: Mapping[str, str]) -> None:
    print("machine:")
    for key, value in info.items():
        print(f"  {key}: {value}")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


def ensure_database(db_url: str) -> None:
    """Create the PostgreSQL database ``db_url`` names unless it exists (benchmarks keep their own)."""
    import psycopg

    server, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_blob(rng: random.Random, *, sha256: str, size: int, mime: str) -> "Blob":
    """A vault row with no bytes behind it: the bulk data's blob (Django must be set up)."""
    from evidence.models import Blob

    return Blob(
        sha256=sha256,
        md5=rng.randbytes(16).hex(),
        sha1=rng.randbytes(20).hex(),
        size=size,
        mime=mime,
        encryption_scheme="none (bench row)",
        key_id="bench",
    )


def bench_item(
    rng: random.Random,
    *,
    case: "Case",
    acquisition: "Acquisition",
    actor: Any,
    index: int,
    sha256: str,
    name: str,
    size: int,
    mime: str,
) -> "EvidenceItem":
    """An ingested file of a seized phone (a thousand to a folder) on ``sha256``'s blob: a bulk data item."""
    from evidence.choices import ItemKind, ItemStatus
    from evidence.models import EvidenceItem

    path = f"/seized/phone/{index // 1000:03d}/{name}"
    return EvidenceItem(
        case=case,
        acquisition=acquisition,
        blob_id=sha256,
        kind=ItemKind.FILE,
        status=ItemStatus.INGESTED,
        original_name=name,
        original_path=path,
        original_path_raw=path.encode(),
        locator_sha256=rng.randbytes(32).hex(),
        size=size,
        mime=mime,
        acquired_by=actor,
    )


def save_results(name: str, payload: Mapping[str, object]) -> Path:
    """Keep the raw numbers next to the generated data (bench/out is git-ignored)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
