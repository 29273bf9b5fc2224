"""P8: a phone-shaped photo set through every default detector, against the naive ten-line script (issue 12).

Data (generated here, never committed): ``--count`` images shaped like a phone's camera roll: 60 % camera
JPEGs 4032 × 3024 (quality 85–95, EXIF orientation 6 on every fifth without a face), 25 % screenshots
(PNG, 1170 × 2532), 10 % messenger JPEGs (longer side ≤ 1280), 5 % other (WebP and GIF; HEIC is left
out: no well-kept decoder is installed). A known subset (every third camera and messenger photo) carries
one face from scikit-image's photographs (astronaut, cameraman) pasted at a known place, 40–400 px wide
in the upright image. ``--only-1024``: the second measurement of the issue, every image a 1024 × 768 JPEG.

Contestants, on the same files in the same run:

- anchor: the naive script a user could write in ten lines (``ANCHOR`` below: per photo, Pillow decode,
  dlib HOG ``detector(img, 1)``, NudeNet's own ``NudeDetector.detect(path)``, ``pdqhash.compute``), one
  process. On 12-megapixel photos it takes seconds per photo, so by default it runs on a sample of each
  kind (``--anchor-sample`` per kind) and its throughput on the whole set is the mix of its per-kind times
  (said so in the output);
- ours, embedded default: ``manage.py ingest`` with detection on ingest to completion, SQLite, no broker
  (detection forks one worker per core, ``detection.pool``);
- ours, PostgreSQL + Redis: the same command with ``CELERY_BROKER_URL`` set and a Celery prefork worker
  started by this script (``-Q detect``, one process per core, started and warmed before the timer);
  the time runs from the ingest's start to the last detection run finished.

Reported: photos/s, the ratio to the anchor, CPU seconds per photo (the process tree's user + system),
each detector's mean time per run in its worker, peak memory (the proportional set size of the whole
process tree, so pages forked workers share are counted once, sampled every 0.2 s; PostgreSQL's and
Redis's own servers are not counted), face recall per face size
(ours: a ``face`` finding whose box centre lies in the known face; the anchor: dlib's HOG on the sample).

    .venv/bin/python bench/p8_triage.py --count 200
    .venv/bin/python bench/p8_triage.py --count 200 --only-1024
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import OUT_DIR, PYTHON, REPO_ROOT, machine_info, print_machine, print_table, save_results

MANAGE = REPO_ROOT / "manage.py"
CASE = "BENCH-P8"
FACE_SIZES = (40, 60, 80, 120, 200, 300, 400)

# The anchor: what a user could write in ten lines. Run as its own process on a list of files.
ANCHOR = """
import json, sys, dlib, numpy as np, pdqhash
from PIL import Image
from nudenet import NudeDetector
hog, nude, out = dlib.get_frontal_face_detector(), NudeDetector(), {}
for path in sys.argv[2:]:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = hog(rgb, 1)
    try: nudity = nude.detect(path)
    except Exception as exc: nudity = f"failed: {exc}"  # cv2.imread reads no GIF
    out[path] = {"faces": [[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in faces],
                 "nudenet": nudity, "pdq": pdqhash.compute(rgb)[1]}
json.dump(out, open(sys.argv[1], "w"), default=str)
"""


# --- data -------------------------------------------------------------------------------------------------


def _kinds(count: int, only_1024: bool) -> list[str]:
    if only_1024:
        return ["jpeg-1024"] * count
    shares = [("camera", 0.60), ("screenshot", 0.25), ("messenger", 0.10), ("other", 0.05)]
    kinds: list[str] = []
    for kind, share in shares:
        kinds += [kind] * round(count * share)
    kinds = (kinds + ["camera"] * count)[:count]
    # Interleaved as a camera roll is (not all screenshots at the end).
    return [kinds[(i * 7919) % count] for i in range(count)] if count > 1 else kinds


def generate(folder: Path, count: int, only_1024: bool) -> list[dict[str, Any]]:
    """Write the images and return the truth: each file's kind, size and known face (upright pixels)."""
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    from tests.factories.media import face_scene

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(8)
    noise = rng.normal(0, 4, size=(1024, 1024, 3)).astype(np.int16)  # sensor-like grain, tiled
    backgrounds = [data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field()[:, :, :3]]
    truth = []
    face_index = 0
    for index, kind in enumerate(_kinds(count, only_1024)):
        entry: dict[str, Any] = {"kind": kind}
        with_face = kind in {"camera", "messenger", "jpeg-1024"} and index % 3 == 0
        if kind in {"camera", "messenger", "jpeg-1024"}:
            size = {"camera": (4032, 3024), "messenger": (1280, 960), "jpeg-1024": (1024, 768)}[kind]
            if with_face:
                face_px = FACE_SIZES[face_index % len(FACE_SIZES)]
                source = "camera" if face_index % 4 == 3 else "astronaut"
                scene = face_scene(face_px=face_px, seed=index, source=source, size=size)
                rgb, entry["face"] = scene.rgb, {"box": list(scene.face), "px": face_px, "source": source}
                face_index += 1
            else:
                rgb = cv2.resize(backgrounds[index % len(backgrounds)], size, interpolation=cv2.INTER_CUBIC)
            height, width = rgb.shape[:2]
            tiled = np.tile(noise, (height // 1024 + 1, width // 1024 + 1, 1))[:height, :width]
            rgb = np.clip(rgb.astype(np.int16) + tiled, 0, 255).astype(np.uint8)
            image = Image.fromarray(rgb)
            exif = Image.Exif()
            if kind == "camera" and index % 5 == 0 and not with_face:
                # Stored rotated, with orientation 6 telling a viewer to turn it back: upright as generated.
                image = image.transpose(Image.Transpose.ROTATE_90)
                exif[0x0112] = 6
            quality = int(85 + (index % 11)) if kind == "camera" else 80
            name = f"{index:06d}.jpg"
            image.save(folder / name, format="JPEG", quality=quality, exif=exif.tobytes())
        elif kind == "screenshot":
            canvas = np.full((2532, 1170, 3), 245 - (index % 3) * 100, dtype=np.uint8)
            for row in range(12):
                top = 200 + row * 190
                canvas[top : top + 150, 40:1130] = (200, 220, 250) if row % 2 else (255, 255, 255)
                cv2.putText(
                    canvas,
                    f"message {index}-{row}",
                    (70, top + 95),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    2.2,
                    (20, 20, 20),
                    4,
                    cv2.LINE_AA,
                )
            name = f"{index:06d}.png"
            Image.fromarray(canvas).save(folder / name, format="PNG")
        else:
            rgb = cv2.resize(backgrounds[index % len(backgrounds)], (800, 600), interpolation=cv2.INTER_AREA)
            name = f"{index:06d}.webp" if index % 2 else f"{index:06d}.gif"
            fmt = "WEBP" if index % 2 else "GIF"
            Image.fromarray(rgb).save(folder / name, format=fmt, **({"quality": 80} if fmt == "WEBP" else {}))
        entry["file"] = name
        truth.append(entry)
    (folder / "truth.json").write_text(json.dumps(truth))
    return truth


# --- measuring a process tree -------------------------------------------------------------------------------


def _tree(roots: list[int]) -> list[int]:
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(fields[1])].append(int(entry.name))
    found, stack = [], list(roots)
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(parents.get(pid, []))
    return found


def _pss_bytes(pids: list[int]) -> int:
    """Proportional set size of the processes together: pages a forked worker shares with its parent are
    counted once between them (the sum of RSS would count them in every process)."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total


def _cpu_seconds(pids: list[int]) -> float:
    """User + system seconds of live processes, and of their waited-for children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


class Sampler:
    """Peak memory (PSS) of process trees, sampled every 0.2 s in a thread."""

    def __init__(self, roots: list[int]) -> None:
        self.roots, self.peak, self._stop = list(roots), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, pid: int) -> None:
        self.roots.append(pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _pss_bytes(_tree(self.roots)))
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class Timed:
    seconds: float
    cpu_seconds: float
    peak_memory: int


def timed(argv: list[str], *, env: dict[str, str], stdout: Path, also: list[int] | None = None) -> Timed:
    """Run a child to its end; wall time, CPU of it and its children (and of ``also``'s trees), peak RSS."""
    also = also or []
    cpu_before = _cpu_seconds(_tree(also))
    started = time.perf_counter()
    with open(stdout, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out)
        sampler = Sampler([proc.pid, *also])
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark step failed (exit {status}): {' '.join(argv)}; see {stdout}")
    cpu = usage.ru_utime + usage.ru_stime + _cpu_seconds(_tree(also)) - cpu_before
    return Timed(seconds=seconds, cpu_seconds=cpu, peak_memory=peak)


# --- contestants ---------------------------------------------------------------------------------------


def anchor_sample(truth: list[dict[str, Any]], per_kind: int) -> list[dict[str, Any]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in truth:
        by_kind[entry["kind"]].append(entry)
    sample = []
    for entries in by_kind.values():
        with_faces = [e for e in entries if "face" in e]
        without = [e for e in entries if "face" not in e]
        take = with_faces[: (per_kind + 1) // 2] + without
        sample += take[:per_kind] if per_kind else entries
    return sample


def run_anchor(folder: Path, truth: list[dict[str, Any]], sample: list[dict[str, Any]], work: Path) -> dict:
    script = work / "anchor.py"
    script.write_text(ANCHOR)
    per_kind: dict[str, list[float]] = defaultdict(list)
    answers: dict[str, Any] = {}
    cpu = 0.0
    peak = 0
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in sample:
        by_kind[entry["kind"]].append(entry)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for kind, entries in sorted(by_kind.items()):
        out = work / f"anchor-{kind}.json"
        paths = [str(folder / e["file"]) for e in entries]
        # The model loads are timed apart (a second run on one file), so per-photo times are the loop's.
        first = timed([PYTHON, str(script), str(out), paths[0]], env=env, stdout=work / "anchor.log")
        result = timed([PYTHON, str(script), str(out), *paths], env=env, stdout=work / "anchor.log")
        per_photo = max(0.0, (result.seconds - first.seconds) / max(1, len(paths) - 1))
        per_kind[kind] = [per_photo, (result.cpu_seconds - first.cpu_seconds) / max(1, len(paths) - 1)]
        answers.update(json.loads(out.read_text()))
        cpu += result.cpu_seconds
        peak = max(peak, result.peak_memory)
    counts = Counter(entry["kind"] for entry in truth)
    seconds = sum(per_kind[kind][0] * n for kind, n in counts.items())
    cpu_total = sum(per_kind[kind][1] * n for kind, n in counts.items())
    return {
        "per_kind_s_per_photo": {k: round(v[0], 3) for k, v in per_kind.items()},
        "seconds_for_set": seconds,
        "cpu_s_per_photo": cpu_total / len(truth),
        "photos_per_s": len(truth) / seconds if seconds else float("nan"),
        "sampled": len(sample),
        "peak_memory": peak,
        "answers": {Path(k).name: v for k, v in answers.items()},
    }


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "HAETAE_MASTER_KEY_FILE", "HAETAE_LEDGER_KEY_FILE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="haetae.settings", HAETAE_DATA_DIR=str(data_dir))
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, str(MANAGE), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _prepare(env: dict[str, str]) -> None:
    _manage(env, "migrate", "--noinput")
    _manage(env, "create_user", "bench", "--role", "investigator", "--json")
    _manage(env, "create_case", CASE, "--title", "P8 triage benchmark", "--actor", "bench")


STATS = """
import json
from django.db.models import Avg, Count
from detection.models import Annotation, DetectionRun
runs = DetectionRun.objects.filter(item__case__number="BENCH-P8")
faces = {}
for name, region in Annotation.objects.filter(item__case__number="BENCH-P8", label="face").values_list(
        "item__original_name", "region"):
    faces.setdefault(name, []).append(region)
print(json.dumps({
    "status": dict(runs.values_list("status").annotate(n=Count("pk")).order_by()),
    "pending": runs.filter(status__in=["queued", "running"]).count(),
    "ms": {
        r["detector__name"]: r["ms"] for r in runs.values("detector__name").annotate(ms=Avg("duration_ms"))
    },
    "faces": faces,
    "errors": list(runs.filter(status="failed").values_list("detector__name", "error")[:5]),
}))
"""


PENDING = """
SELECT count(*) FROM detection_detectionrun AS r
JOIN evidence_evidenceitem AS i ON i.id = r.item_id JOIN access_case AS c ON c.id = i.case_id
WHERE c.number = %s AND r.status IN ('queued', 'running')
"""


def stats(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(_manage(env, "shell", "-c", STATS).strip().splitlines()[-1])


def run_embedded(folder: Path, work: Path) -> tuple[Timed, dict[str, Any]]:
    data_dir = Path(tempfile.mkdtemp(prefix="p8-embedded-", dir=work))
    env = _base_env(data_dir)
    _prepare(env)
    argv = [PYTHON, str(MANAGE), "ingest", CASE, str(folder), "--actor", "bench", "--json"]
    result = timed(argv, env=env, stdout=work / "embedded-ingest.json")
    return result, stats(env)


def run_postgres(folder: Path, work: Path, server: str, broker: str) -> tuple[Timed, dict[str, Any]]:
    import psycopg
    import redis
    from psycopg import sql

    database = "haetae_triage_p8"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    redis.Redis.from_url(broker).flushdb()  # this benchmark's own Redis database
    data_dir = Path(tempfile.mkdtemp(prefix="p8-postgres-", dir=work))
    env = {**_base_env(data_dir), "DATABASE_URL": f"{server}/{database}"}
    _prepare(env)
    env["CELERY_BROKER_URL"] = broker
    log = open(work / "celery.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "haetae",
            "worker",
            "-Q",
            "detect",
            "-c",
            str(os.cpu_count() or 1),
            "--pool",
            "prefork",
            "--prefetch-multiplier",
            "1",
            "-l",
            "INFO",
            "-n",
            "p8@%h",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while b"ready." not in (work / "celery.log").read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Celery worker did not start; see {work / 'celery.log'}")
            time.sleep(0.5)
        time.sleep(2)  # pool processes load their models after "ready"
        started = time.perf_counter()
        cpu_before = _cpu_seconds(_tree([worker.pid]))
        sampler = Sampler([worker.pid])
        argv = [PYTHON, str(MANAGE), "ingest", CASE, str(folder), "--actor", "bench", "--json"]
        ingest = subprocess.Popen(argv, env=env, stdout=open(work / "postgres-ingest.json", "wb"))  # noqa: SIM115
        sampler.add(ingest.pid)
        _, status, usage = os.wait4(ingest.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("ingest failed on PostgreSQL")
        # Waits with one light query a second on its own connection: polling with `manage.py shell` (about
        # 2 s of CPU a time, outside the measured process tree) took a core's share from the workers.
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            while conn.execute(PENDING, (CASE,)).fetchone()[0]:  # type: ignore[index]
                time.sleep(1)
        seconds = time.perf_counter() - started
        cpu = usage.ru_utime + usage.ru_stime + _cpu_seconds(_tree([worker.pid])) - cpu_before
        peak = sampler.stop()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
    return Timed(seconds=seconds, cpu_seconds=cpu, peak_memory=peak), stats(env)


# --- findings ---------------------------------------------------------------------------------------------


def _hit(face: list[int], boxes: list[tuple[float, float, float, float]]) -> bool:
    from tests.factories.media import found

    return found((face[0], face[1], face[2], face[3]), boxes)


def recall(truth: list[dict[str, Any]], boxes_by_file: dict[str, list[tuple[float, ...]]]) -> dict[int, str]:
    hits: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for entry in truth:
        if "face" not in entry or entry["file"] not in boxes_by_file:
            continue
        px = entry["face"]["px"]
        hits[px][1] += 1
        if _hit(entry["face"]["box"], boxes_by_file[entry["file"]]):  # type: ignore[arg-type]
            hits[px][0] += 1
    return {px: f"{found}/{total}" for px, (found, total) in sorted(hits.items())}


def ours_boxes(found: dict[str, Any], truth: list[dict[str, Any]]) -> dict[str, list[tuple[float, ...]]]:
    boxes: dict[str, list[tuple[float, ...]]] = {entry["file"]: [] for entry in truth}
    for name, regions in found.items():
        boxes[name] = [(r["x"], r["y"], r["x"] + r["w"], r["y"] + r["h"]) for r in regions]
    return boxes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--only-1024", action="store_true", help="every image a 1024 × 768 JPEG")
    parser.add_argument(
        "--anchor-sample", type=int, default=8, help="images per kind for the anchor (0: all)"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--keep", action="store_true", help="keep the generated images and data dirs")
    args = parser.parse_args(argv)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="p8-triage-", dir=OUT_DIR))
    # This process only generates images (with the test factories) and reads answers: a throwaway data dir.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
    os.environ["HAETAE_DATA_DIR"] = str(work / "generator")
    import django

    django.setup()
    folder = work / "phone"
    info = machine_info(OUT_DIR)
    print_machine(info)
    started = time.perf_counter()
    truth = generate(folder, args.count, args.only_1024)
    (folder / "truth.json").rename(work / "truth.json")  # not part of the phone
    print(
        f"generated {len(truth)} images in {time.perf_counter() - started:.0f} s: "
        f"{dict(Counter(e['kind'] for e in truth))}, {sum(1 for e in truth if 'face' in e)} with a face"
    )

    sample = anchor_sample(truth, args.anchor_sample)
    anchor = run_anchor(folder, truth, sample, work)
    print(
        f"anchor: {anchor['photos_per_s']:.3f} photos/s on the set (from {anchor['sampled']} sampled; "
        f"s/photo by kind {anchor['per_kind_s_per_photo']})"
    )

    contestants: dict[str, tuple[Timed, dict[str, Any]]] = {}
    contestants["embedded"] = run_embedded(folder, work)
    print(f"embedded: {contestants['embedded'][0]}")
    if not args.skip_postgres:
        contestants["postgres"] = run_postgres(folder, work, args.postgres, args.broker)
        print(f"postgres: {contestants['postgres'][0]}")

    count = len(truth)
    rows = [
        [
            "anchor (naive script, 1 process)",
            f"{anchor['photos_per_s']:.3f}",
            "1.00",
            f"{anchor['cpu_s_per_photo']:.3f}",
            f"{anchor['peak_memory'] / 2**20:.0f}",
            f"{anchor['seconds_for_set']:.0f} (estimated)",
        ]
    ]
    for name, (result, _) in contestants.items():
        rate = count / result.seconds
        rows.append(
            [
                f"ours: {name}",
                f"{rate:.3f}",
                f"{rate / anchor['photos_per_s']:.2f}",
                f"{result.cpu_seconds / count:.3f}",
                f"{result.peak_memory / 2**20:.0f}",
                f"{result.seconds:.0f}",
            ]
        )
    print_table(["contestant", "photos/s", "ratio", "CPU s/photo", "peak PSS MiB", "wall s"], rows)

    print("\nmean time per run in its worker (ms), by detector:")
    names = sorted({n for _, found in contestants.values() for n in found["ms"]})
    print_table(
        ["detector", *contestants],
        [[n, *(f"{found['ms'].get(n) or 0:.0f}" for _, found in contestants.values())] for n in names],
    )

    anchor_boxes = {name: [tuple(b) for b in answer["faces"]] for name, answer in anchor["answers"].items()}
    sampled_truth = [e for e in truth if e["file"] in anchor_boxes]
    print("\nface recall by face size (found/known):")
    recall_rows = [["anchor: dlib HOG (sample)", *_recall_cells(recall(sampled_truth, anchor_boxes))]]
    for name, (_, found) in contestants.items():
        recall_rows.append(
            [f"ours: {name}", *_recall_cells(recall(truth, ours_boxes(found["faces"], truth)))]
        )
    print_table(["contestant", *(f"{px} px" for px in FACE_SIZES)], recall_rows)
    for name, (_, found) in contestants.items():
        print(f"{name}: runs {found['status']}; failures {found['errors']}")

    save_results(
        f"p8-triage-{'1024' if args.only_1024 else 'phone'}-{count}",
        {
            "machine": info,
            "load_average_end": os.getloadavg(),
            "count": count,
            "kinds": dict(Counter(e["kind"] for e in truth)),
            "anchor": {k: v for k, v in anchor.items() if k != "answers"},
            "ours": {
                name: {
                    "seconds": r.seconds,
                    "cpu_seconds": r.cpu_seconds,
                    "peak_memory": r.peak_memory,
                    "ms": f["ms"],
                    "status": f["status"],
                }
                for name, (r, f) in contestants.items()
            },
            "recall": [row for row in recall_rows],
        },
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _recall_cells(found: dict[int, str]) -> list[str]:
    return [found.get(px, "-") for px in FACE_SIZES]


if __name__ == "__main__":
    sys.exit(main())
