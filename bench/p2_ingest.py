"""P2: `manage.py ingest` of 10,000 photos on PostgreSQL against `cp -r` + `sha256sum` of the same files.

The photos (~200 KB JPEGs: smooth colour gradients plus noise at quality 90, each different) are generated
once into bench/out/p2-photos/ and reused. Every repetition, in the same run and with the photos warm in
the page cache:

  anchor   cp -r SRC DST && find DST -type f -print0 | xargs -0 sha256sum > /dev/null   (timed together)
  ours     manage.py ingest NUMBER SRC --actor bench --json, on a freshly created and migrated PostgreSQL
           database (haetae_bench, dropped and recreated by this script) with a fresh HAETAE_DATA_DIR;
           manage.py create_case is timed separately. Peak RSS comes from wait4 on the child.

Dirty pages are flushed (sync, untimed) before each timed step so that no contestant pays for another's
writes. The JSON answer must say that every photo was ingested and none rejected.

Memory: peak RSS of ingesting one 64 MiB file against one 1 GiB file (random bytes; the 1 GiB file of P1
is reused when it exists) shows whether memory stays constant in file size.

Goal (issue 2 §6): ingest takes at most 1.5x the anchor's time.
Run from the repository root:  .venv/bin/python bench/p2_ingest.py [--count 10000] [--repeat 3]
"""

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    OUT_DIR,
    PYTHON,
    REPO_ROOT,
    ChildRun,
    best_and_median,
    ensure_random_file,
    machine_info,
    print_machine,
    print_table,
    run_child,
    save_results,
    warm_page_cache,
)

GOAL_RATIO = 1.5
MANAGE = REPO_ROOT / "manage.py"
PHOTO_WIDTH, PHOTO_HEIGHT = 800, 600
SPAN = 1010  # just over the diagonal of 800x600


# --- the photos -----------------------------------------------------------------------------------------


def _photo(index: int) -> bytes:
    """One synthetic photo: three rotated gradients as colour channels, film-grain noise, a unique stamp."""
    from PIL import Image, ImageChops, ImageDraw

    rng = random.Random(index)
    channels = []
    for _ in range(3):
        low, high = rng.randint(0, 90), rng.randint(150, 255)
        # Scaled past the photo's diagonal before rotating, so the crop has no empty corners.
        left, top = (SPAN - PHOTO_WIDTH) // 2, (SPAN - PHOTO_HEIGHT) // 2
        gradient = (
            Image.linear_gradient("L")
            .resize((SPAN, SPAN), Image.Resampling.BILINEAR)
            .rotate(rng.uniform(0, 360), resample=Image.Resampling.BILINEAR)
            .crop((left, top, left + PHOTO_WIDTH, top + PHOTO_HEIGHT))
            .point(lambda v, low=low, high=high: low + v * (high - low) // 255)
        )
        channels.append(gradient)
    image = Image.merge("RGB", channels)
    noise = Image.effect_noise((PHOTO_WIDTH, PHOTO_HEIGHT), rng.uniform(11.0, 15.0)).convert("RGB")
    image = ImageChops.add(image, noise, scale=1.0, offset=-128)
    # The noise generator is not seeded per photo, so the index is drawn in as bits: all photos differ.
    draw = ImageDraw.Draw(image)
    for bit in range(16):
        shade = 255 if index >> bit & 1 else 0
        draw.rectangle((8 + bit * 12, 8, 17 + bit * 12, 17), fill=(shade, shade, shade))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _write_photo(job: tuple[Path, int]) -> tuple[int, str]:
    directory, index = job
    data = _photo(index)
    # 100 photos per folder, as a camera or phone dump would have them, so the ingest walks a tree.
    target = directory / f"DCIM-{index // 100:03d}" / f"IMG_{index:05d}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return len(data), hashlib.sha256(data).hexdigest()


def ensure_photos(directory: Path, count: int, jobs: int) -> list[Path]:
    """Generate ``count`` distinct JPEGs under ``directory`` once; later runs reuse them."""
    done_marker = directory.with_name(directory.name + ".complete")  # outside the tree that gets ingested
    if done_marker.exists() and done_marker.read_text().strip() == str(count):
        return sorted(directory.rglob("*.jpg"))
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    print(f"generating {count} photos in {directory} with {jobs} processes …", flush=True)
    started = time.perf_counter()
    with multiprocessing.Pool(jobs) as pool:
        written = pool.map(_write_photo, [(directory, i) for i in range(count)], chunksize=50)
    sizes = [size for size, _ in written]
    distinct = len({sha for _, sha in written})
    if distinct != count:
        raise SystemExit(f"photo generation produced {count - distinct} duplicates; delete {directory}")
    print(
        f"generated {count} photos in {time.perf_counter() - started:.0f}s: "
        f"mean {sum(sizes) / count / 1000:.0f} KB, min {min(sizes) / 1000:.0f} KB, "
        f"max {max(sizes) / 1000:.0f} KB, all distinct",
        flush=True,
    )
    done_marker.write_text(f"{count}\n")
    return sorted(directory.rglob("*.jpg"))


# --- the database and the data dir ----------------------------------------------------------------------


@dataclass
class Instance:
    """A fresh Haetae: its own PostgreSQL database and data dir, migrated, with the user 'bench'."""

    env: dict[str, str]
    data_dir: Path

    def manage(self, *args: str | Path, stdout_path: Path | None = None, check: bool = True) -> ChildRun:
        return run_child([PYTHON, MANAGE, *args], env=self.env, stdout_path=stdout_path, check=check)

    def remove(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


def fresh_instance(server_url: str, db_name: str) -> Instance:
    """Drop and recreate the benchmark database, migrate it and create the acting user."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    data_dir = Path(tempfile.mkdtemp(prefix="p2-data-", dir=OUT_DIR))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"HAETAE_MASTER_KEY_FILE", "HAETAE_LEDGER_KEY_FILE", "CELERY_BROKER_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="haetae.settings",
        HAETAE_DATA_DIR=str(data_dir),
        DATABASE_URL=f"{server_url}/{db_name}",
        # P2 measures ingest (hash, encrypt, store, record); detection is measured by P3-P5.
        HAETAE_DETECT_ON_INGEST="false",
    )
    instance = Instance(env=env, data_dir=data_dir)
    instance.manage("migrate", "--noinput")
    instance.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; get_user_model().objects.create_user('bench')",
    )
    return instance


def postgres_version(server_url: str) -> str:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("fsync", "synchronous_commit", "shared_buffers")
        }
    version = row[0] if row else "unknown"
    return f"PostgreSQL {version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"


def check_ingest_answer(path: Path, *, ingested: int) -> dict:
    answer = json.loads(path.read_text())
    counts = answer["counts"]
    if counts.get("ingested") != ingested or counts.get("rejected") != 0:
        raise SystemExit(f"ingest answered {counts}, expected {ingested} ingested and 0 rejected ({path})")
    return answer


# --- the runs -------------------------------------------------------------------------------------------


def anchor_run(source: Path, copy_dir: Path) -> ChildRun:
    shutil.rmtree(copy_dir, ignore_errors=True)
    os.sync()
    script = 'cp -r "$1" "$2" && find "$2" -type f -print0 | xargs -0 sha256sum > /dev/null'
    return run_child(["bash", "-c", script, "anchor", source, copy_dir])


def ours_run(
    server_url: str, db_name: str, source: Path, count: int, answer_path: Path
) -> tuple[ChildRun, ChildRun]:
    instance = fresh_instance(server_url, db_name)
    try:
        os.sync()
        created = instance.manage("create_case", "BENCH-P2", "--title", "P2 benchmark", "--actor", "bench")
        os.sync()
        ingest = instance.manage(
            "ingest", "BENCH-P2", source, "--actor", "bench", "--json", stdout_path=answer_path, check=False
        )
        if ingest.returncode != 0:
            raise SystemExit(f"ingest exited {ingest.returncode}; its answer is in {answer_path}")
        check_ingest_answer(answer_path, ingested=count)
    finally:
        instance.remove()
    return created, ingest


def memory_runs(server_url: str, db_name: str, sizes_mib: list[int]) -> dict[int, ChildRun]:
    """Peak RSS of ingesting one random file of each size (each into its own fresh instance)."""
    runs = {}
    for size_mib in sizes_mib:
        p1_file = OUT_DIR / f"p1-random-{size_mib}MiB.bin"
        path = ensure_random_file(p1_file, size_mib * 2**20)
        warm_page_cache([path])
        instance = fresh_instance(server_url, db_name)
        try:
            instance.manage("create_case", "BENCH-MEM", "--title", "P2 memory", "--actor", "bench")
            answer = OUT_DIR / f"p2-memory-{size_mib}MiB.json"
            os.sync()
            run = instance.manage(
                "ingest", "BENCH-MEM", path, "--actor", "bench", "--json", stdout_path=answer, check=False
            )
            if run.returncode != 0:
                raise SystemExit(f"ingest of {path} exited {run.returncode}; see {answer}")
            check_ingest_answer(answer, ingested=1)
        finally:
            instance.remove()
        runs[size_mib] = run
        print(
            f"memory: one {size_mib} MiB file: {run.seconds:.2f}s, peak RSS {run.max_rss_kib / 1024:.1f} MiB"
        )
    return runs


def profile_ingest(server_url: str, db_name: str, source: Path, count: int) -> Path:
    """One extra ingest under cProfile (main thread only), for finding where the time goes."""
    instance = fresh_instance(server_url, db_name)
    profile = OUT_DIR / "p2-ingest.prof"
    try:
        answer = OUT_DIR / "p2-profile-answer.json"
        instance.manage("create_case", "BENCH-P2", "--title", "P2 profile", "--actor", "bench")
        command: list[str | os.PathLike[str]] = [PYTHON, "-m", "cProfile", "-o", profile, MANAGE]
        command += ["ingest", "BENCH-P2", source, "--actor", "bench", "--json"]
        run = run_child(
            command,
            env=instance.env,
            stdout_path=answer,
            check=False,
        )
        check_ingest_answer(answer, ingested=count)
    finally:
        instance.remove()
    print(
        f"\nprofiled ingest: {run.seconds:.1f}s under cProfile; top costs (internal time, then cumulative):"
    )
    import pstats

    stats = pstats.Stats(str(profile))
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="number of photos (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each contestant (default 3)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes generating photos (default: cores)"
    )
    parser.add_argument(
        "--server",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL without database (default postgres://postgres@127.0.0.1:5432)",
    )
    parser.add_argument(
        "--db-name", default="haetae_bench", help="database to drop, recreate and use (default haetae_bench)"
    )
    parser.add_argument(
        "--memory-sizes",
        default="64,1024",
        help="MiB sizes of the single files for the memory check, comma-separated (default 64,1024)",
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory check")
    parser.add_argument("--generate-only", action="store_true", help="only generate the photos")
    parser.add_argument(
        "--profile", action="store_true", help="afterwards, run one ingest under cProfile and print top costs"
    )
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    try:
        memory_sizes = [int(size) for size in args.memory_sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--memory-sizes takes whole MiB numbers, e.g. 64,1024")

    source = OUT_DIR / ("p2-photos" if args.count == 10_000 else f"p2-photos-{args.count}")
    photos = ensure_photos(source, args.count, args.jobs)
    if args.generate_only:
        return 0
    total_bytes = sum(p.stat().st_size for p in photos)

    info = machine_info(OUT_DIR)
    info["database"] = postgres_version(args.server)
    print_machine(info)
    print(f"photos: {len(photos)} files, {total_bytes / 1e6:.0f} MB in {source}")
    warm_page_cache(photos)

    copy_dir = OUT_DIR / "p2-copy"
    answer_path = OUT_DIR / "p2-ingest-answer.json"
    anchor_times: list[float] = []
    anchor_cpu: list[float] = []
    ingest_cpu: list[float] = []
    create_times: list[float] = []
    ingest_times: list[float] = []
    ingest_rss: list[int] = []
    try:
        for rep in range(args.repeat):
            anchor = anchor_run(source, copy_dir)
            anchor_times.append(anchor.seconds)
            anchor_cpu.append(anchor.cpu_seconds)
            created, ingest = ours_run(args.server, args.db_name, source, len(photos), answer_path)
            create_times.append(created.seconds)
            ingest_times.append(ingest.seconds)
            ingest_cpu.append(ingest.cpu_seconds)
            ingest_rss.append(ingest.max_rss_kib)
            print(
                f"repetition {rep + 1}/{args.repeat}: anchor {anchor.seconds:.2f}s "
                f"(CPU {anchor.cpu_seconds:.1f}s), create_case {created.seconds:.2f}s, ingest "
                f"{ingest.seconds:.2f}s (CPU {ingest.cpu_seconds:.1f}s, "
                f"peak RSS {ingest.max_rss_kib / 1024:.0f} MiB)",
                flush=True,
            )
    finally:
        shutil.rmtree(copy_dir, ignore_errors=True)

    anchor_best, anchor_median = best_and_median(anchor_times)
    ingest_best, ingest_median = best_and_median(ingest_times)
    create_best, create_median = best_and_median(create_times)
    ratio_best, ratio_median = ingest_best / anchor_best, ingest_median / anchor_median
    print()
    print(f"{len(photos)} photos, {total_bytes / 1e6:.0f} MB; seconds, best and median of {args.repeat}")
    print_table(
        ["contestant", "best s", "median s", "files/s (best)", "MB/s (best)", "CPU s (min)", "peak RSS"],
        [
            ["anchor: cp -r + sha256sum", f"{anchor_best:.2f}", f"{anchor_median:.2f}",
             f"{len(photos) / anchor_best:.0f}", f"{total_bytes / 1e6 / anchor_best:.0f}",
             f"{min(anchor_cpu):.1f}", "-"],
            ["ours: manage.py ingest", f"{ingest_best:.2f}", f"{ingest_median:.2f}",
             f"{len(photos) / ingest_best:.0f}", f"{total_bytes / 1e6 / ingest_best:.0f}",
             f"{min(ingest_cpu):.1f}", f"{max(ingest_rss) / 1024:.0f} MiB"],
            ["info: manage.py create_case", f"{create_best:.2f}", f"{create_median:.2f}", "-", "-", "-", "-"],
        ],
    )  # fmt: skip
    met = ratio_best <= GOAL_RATIO
    print(
        f"\nratio ingest/anchor: {ratio_best:.2f}x (best), {ratio_median:.2f}x (median); "
        f"goal <= {GOAL_RATIO}x -> {'MET' if met else 'NOT MET'}"
    )

    memory = {} if args.skip_memory else memory_runs(args.server, args.db_name, memory_sizes)
    if memory:
        print_table(
            ["single file", "ingest s", "peak RSS"],
            [
                [f"{size} MiB", f"{run.seconds:.2f}", f"{run.max_rss_kib / 1024:.1f} MiB"]
                for size, run in memory.items()
            ],
        )

    saved = save_results(
        "p2",
        {
            "photos": len(photos),
            "bytes": total_bytes,
            "repeat": args.repeat,
            "machine": info,
            "load average at end": os.getloadavg(),
            "anchor_s": anchor_times,
            "anchor_cpu_s": anchor_cpu,
            "ingest_cpu_s": ingest_cpu,
            "create_case_s": create_times,
            "ingest_s": ingest_times,
            "note": "CPU seconds are the child's user+system time; PostgreSQL's backend is not included",
            "ingest_peak_rss_kib": ingest_rss,
            "ratio_best": ratio_best,
            "ratio_median": ratio_median,
            "memory": {
                f"{size}MiB": {"seconds": run.seconds, "peak_rss_kib": run.max_rss_kib}
                for size, run in memory.items()
            },
        },
    )
    print(f"raw numbers: {saved}")
    if args.profile:
        profile_ingest(args.server, args.db_name, source, len(photos))
    return 0


if __name__ == "__main__":
    if sys.platform == "linux":
        multiprocessing.set_start_method("fork")
    sys.exit(main())
