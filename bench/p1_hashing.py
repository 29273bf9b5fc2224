"""P1: the one-pass hasher (MD5 + SHA-1 + SHA-256 + AES-256-GCM) against md5sum and sha256sum.

All contestants read the same file, warm in the page cache, in the same run; repetitions go round-robin so
that background load falls on each of them alike. Contestants:

  md5sum FILE, sha256sum FILE        the anchors (child processes, wall time)
  ours: hash+seal, discard           evidence.hashing.hash_and_seal into a ChunkEncryptor whose output file
                                     throws the ciphertext away: the hashing and encryption work alone
  ours: vault stage + syncfs         WorkDir().stage(file) writing the encrypted temporary file into the
                                     vault, then evidence.vault.sync_filesystem: the disk-bound number
  info: hash only, no encryption     hash_and_seal with no sink (shows what the encryption costs)
  info: hashlib MD5 alone            one MD5 over the file in 1 MiB reads: the ceiling for any one-pass
                                     hasher, since MD5 cannot be split across cores within one stream
  info: dd copy + fsync              dd bs=1M conv=fsync of the file into the data dir: what the disk takes
                                     (shown with the staging contestant)

Goal (issue 2 §6): at least 0.9x the throughput of md5sum alone and at least 2x that of sha256sum.
Run from the repository root:  .venv/bin/python bench/p1_hashing.py [--size-mib 1024] [--repeat 5]
"""

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    MB,
    OUT_DIR,
    best_and_median,
    ensure_random_file,
    machine_info,
    print_machine,
    print_table,
    run_child,
    save_results,
    warm_page_cache,
)

GOAL_VS_MD5 = 0.9
GOAL_VS_SHA256 = 2.0


class DiscardingFile:
    """A writable file that drops everything written to it (the encryptor's output goes nowhere)."""

    def write(self, data: bytes) -> int:
        return len(data)


def _setup_django(data_dir: Path) -> None:
    """Point settings at a throw-away data dir (vault and master key there) before Django starts."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "haetae.settings"
    os.environ["HAETAE_DATA_DIR"] = str(data_dir)
    for name in ("HAETAE_MASTER_KEY_FILE", "HAETAE_LEDGER_KEY_FILE", "DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()


def _reference_digests(path: Path) -> dict[str, str]:
    """MD5, SHA-1 and SHA-256 straight from hashlib, to check our one-pass results against."""
    digests = {
        "md5": hashlib.md5(usedforsecurity=False),
        "sha1": hashlib.sha1(usedforsecurity=False),
        "sha256": hashlib.sha256(),
    }
    with open(path, "rb", buffering=0) as handle:
        while block := handle.read(4 * 2**20):
            for digest in digests.values():
                digest.update(block)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the test file (default 1024)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each contestant (default 5)")
    parser.add_argument(
        "--file",
        type=Path,
        help="file to hash (default bench/out/p1-random-<size>MiB.bin, random bytes, created once)",
    )
    parser.add_argument(
        "--no-stage", action="store_true", help="skip the disk-bound vault staging contestant"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.size_mib < 1:
        parser.error("--repeat and --size-mib must be at least 1")

    path = args.file or OUT_DIR / f"p1-random-{args.size_mib}MiB.bin"
    if args.file is None:
        ensure_random_file(path, args.size_mib * 2**20)
    elif not path.is_file():
        parser.error(f"{path} is not a file")
    size = path.stat().st_size

    data_dir = Path(tempfile.mkdtemp(prefix="p1-data-", dir=OUT_DIR))
    try:
        _setup_django(data_dir)
        from evidence.crypto import ChunkEncryptor, master_key
        from evidence.hashing import Digests, hash_and_seal
        from evidence.vault import WorkDir, sync_filesystem

        info = machine_info(data_dir)
        print_machine(info)
        print(f"file: {path} ({size} bytes)")
        warm_page_cache([path])
        reference = _reference_digests(path)
        key = master_key()
        seen: dict[str, Digests] = {}

        def anchor(tool: str) -> Callable[[], float]:
            def run() -> float:
                return run_child([tool, path]).seconds

            return run

        def hash_seal_discard() -> float:
            started = time.perf_counter()
            with open(path, "rb") as src:
                seen["hash+seal"] = hash_and_seal(src, ChunkEncryptor(DiscardingFile(), key))  # type: ignore[arg-type]
            return time.perf_counter() - started

        def hash_only() -> float:
            started = time.perf_counter()
            with open(path, "rb") as src:
                seen["hash only"] = hash_and_seal(src, None)
            return time.perf_counter() - started

        def md5_alone() -> float:
            started = time.perf_counter()
            digest = hashlib.md5(usedforsecurity=False)
            with open(path, "rb", buffering=0) as src:
                while block := src.read(2**20):
                    digest.update(block)
            if digest.hexdigest() != reference["md5"]:
                raise SystemExit("hashlib MD5 alone disagrees with the reference MD5")
            return time.perf_counter() - started

        def vault_stage() -> float:
            os.sync()  # start from clean page-cache state, as every other contestant does
            with WorkDir() as work:
                started = time.perf_counter()
                with open(path, "rb") as src:
                    staged = work.stage(src)
                sync_filesystem(work.path)
                elapsed = time.perf_counter() - started
                seen["stage"] = staged.digests
            return elapsed

        def dd_copy() -> float:
            os.sync()
            target = data_dir / "dd-copy.bin"
            elapsed = run_child(
                ["dd", f"if={path}", f"of={target}", "bs=1M", "conv=fsync", "status=none"]
            ).seconds
            target.unlink()
            return elapsed

        contestants: dict[str, Callable[[], float]] = {
            "md5sum": anchor("md5sum"),
            "sha256sum": anchor("sha256sum"),
            "ours: hash+seal, discard": hash_seal_discard,
        }
        if not args.no_stage:
            contestants["ours: vault stage + syncfs"] = vault_stage
            contestants["info: dd copy + fsync"] = dd_copy
        contestants["info: hash only, no encryption"] = hash_only
        contestants["info: hashlib MD5 alone"] = md5_alone

        samples: dict[str, list[float]] = {name: [] for name in contestants}
        for rep in range(args.repeat):
            for name, contestant in contestants.items():
                samples[name].append(contestant())
            print(
                f"repetition {rep + 1}/{args.repeat}: "
                + ", ".join(f"{n} {s[-1]:.3f}s" for n, s in samples.items()),
                flush=True,
            )

        for label, digests in seen.items():
            found = {"md5": digests.md5, "sha1": digests.sha1, "sha256": digests.sha256}
            if found != reference or digests.size != size:
                raise SystemExit(f"{label}: digests differ from hashlib's: {found} != {reference}")
        print("digests: every variant of ours matches hashlib (md5, sha1, sha256) and the size")

        md5_best, md5_median = best_and_median(samples["md5sum"])
        sha_best, sha_median = best_and_median(samples["sha256sum"])
        rows = []
        results: dict[str, dict[str, object]] = {}
        ratios: dict[str, tuple[float, float]] = {}
        for name, times in samples.items():
            best, median = best_and_median(times)
            # Throughput ratios: best against best, and median against median.
            ratios[name] = (md5_best / best, sha_best / best)
            median_ratios = (md5_median / median, sha_median / median)
            rows.append(
                [
                    name,
                    f"{best:.3f}",
                    f"{median:.3f}",
                    f"{size / MB / best:.0f}",
                    f"{size / MB / median:.0f}",
                    f"{ratios[name][0]:.2f}x / {median_ratios[0]:.2f}x",
                    f"{ratios[name][1]:.2f}x / {median_ratios[1]:.2f}x",
                ]
            )
            results[name] = {
                "seconds": times,
                "best_s": best,
                "median_s": median,
                "best_MBps": size / MB / best,
                "median_MBps": size / MB / median,
                "throughput_vs_md5sum_best": ratios[name][0],
                "throughput_vs_sha256sum_best": ratios[name][1],
                "throughput_vs_md5sum_median": median_ratios[0],
                "throughput_vs_sha256sum_median": median_ratios[1],
            }
        print()
        print(f"throughput in MB/s (10^6 bytes), best and median of {args.repeat}; ratios best / median")
        print_table(
            ["contestant", "best s", "median s", "best MB/s", "median MB/s", "vs md5sum", "vs sha256sum"],
            rows,
        )
        print()
        for name in contestants:
            if not name.startswith("ours"):
                continue
            vs_md5, vs_sha = ratios[name]
            met = vs_md5 >= GOAL_VS_MD5 and vs_sha >= GOAL_VS_SHA256
            print(
                f"goal (>= {GOAL_VS_MD5}x md5sum and >= {GOAL_VS_SHA256}x sha256sum) for '{name}', "
                f"best times: {vs_md5:.2f}x md5sum, {vs_sha:.2f}x sha256sum -> {'MET' if met else 'NOT MET'}"
            )
        saved = save_results(
            "p1",
            {
                "file": str(path),
                "size": size,
                "repeat": args.repeat,
                "machine": info,
                "load average at end": os.getloadavg(),
                "results": results,
            },
        )
        print(f"raw numbers: {saved}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
