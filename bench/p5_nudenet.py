"""P5: Haetae's explicit-content detector against NudeNet's own ``NudeDetector.detect`` on the same images.

Both start from the encoded file in memory (decode included) and end with the list of boxes. Contestants:

  nudenet as-is          NudeDetector().detect(file bytes): OpenCV decode, pad, blobFromImage, onnxruntime
                         with its default threads, Python post-processing loop. Feeds the network BGR
                         (upstream issue #203), so its boxes are those of a different input.
  nudenet RGB fixed      NudeDetector().detect(RGB array): what a careful user gets; decode with
                         cv2.imdecode + cvtColor inside the timing. The wrapper swaps channels twice for an
                         array, so the network sees RGB: the reference for "same boxes".
  nudenet, 1 thread      "RGB fixed" with its onnxruntime session limited to one intra-op thread (per core).
  ours, 1 process        NudityDetector(intra_op_threads=1).analyze(Subject.from_bytes(...)): Pillow decode
                         (JPEG with DCT scaling to >= 640 px), cv2 resize, onnxruntime, numpy post-processing.
  ours, N processes      the same, as deployed (issue 4: one intra-op thread per process, processes = cores):
                         a pool of N forked workers, each with its own session, loaded before timing.

Box agreement: for each image, our boxes against theirs — a pair is the same box when labels are equal and
IoU >= 0.9; every box without a partner counts as a mismatch. Throughput = images / wall time of the set;
repetitions alternate between contestants, the ratio uses the best times.

Goal (issue 4 §6): at least 2x NudeNet's throughput with the same boxes.
Run from the repository root:  .venv/bin/python bench/p5_nudenet.py [--repeat 3] [--processes N]
"""

import argparse
import io
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT_DIR, best_and_median, machine_info, print_machine, print_table, save_results

from detection.detectors.nudity import NudityDetector, model_path
from detection.subject import Subject

IMAGES_DIR = OUT_DIR / "p5-images"
IOU_SAME = 0.9
GOAL = 2.0
BoxTuple = tuple[str, int, int, int, int]


# --- the benign image set ---------------------------------------------------------------------------


def _photos() -> dict[str, np.ndarray]:
    from skimage import data

    grey = {"camera": data.camera(), "moon": data.moon(), "cell": data.cell(), "brick": data.brick()}
    colour = {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
        "immunohistochemistry": data.immunohistochemistry(),
        "retina": data.retina(),
        "hubble": data.hubble_deep_field(),
        "colorwheel": data.colorwheel(),
        "logo": data.logo()[:, :, :3],
    }
    colour.update({name: np.repeat(img[:, :, None], 3, axis=2) for name, img in grey.items()})
    return colour


def _generated(rng: np.random.Generator, index: int) -> np.ndarray:
    """Face-free synthetic images: gradients, noise, random rectangles and circles."""
    height, width = int(rng.integers(200, 1600)), int(rng.integers(200, 1600))
    kind = index % 3
    if kind == 0:
        y, x = np.mgrid[0:height, 0:width]
        phase = rng.uniform(0, 6.28, size=3)
        return np.stack(
            [(127 + 127 * np.sin(x / (20 + 30 * c) + y / 70 + phase[c])).astype(np.uint8) for c in range(3)],
            axis=2,
        )
    if kind == 1:
        small = rng.integers(0, 256, size=(height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), rng.integers(0, 256, size=3), dtype=np.uint8)
    for _ in range(12):
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.rectangle(
                canvas,
                (x0, y0),
                (x0 + int(rng.integers(10, 400)), y0 + int(rng.integers(10, 400))),
                colour,
                -1,
            )
        else:
            cv2.circle(canvas, (x0, y0), int(rng.integers(5, 200)), colour, -1)
    return canvas


def _save(rgb: np.ndarray, path: Path) -> None:
    image = Image.fromarray(np.ascontiguousarray(rgb))
    if path.suffix == ".jpg":
        image.save(path, format="JPEG", quality=90)
    else:
        image.save(path, format="PNG", compress_level=3)


def ensure_images(count_generated: int = 100) -> list[Path]:
    """Skimage photos at five sizes (JPEG, PNG), crops, and generated images; made once in bench/out."""
    marker = IMAGES_DIR.with_name(IMAGES_DIR.name + ".complete")
    if marker.exists():
        return sorted(IMAGES_DIR.iterdir())
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    print(f"generating the benign image set in {IMAGES_DIR} …", flush=True)
    rng = np.random.default_rng(5)
    for name, photo in _photos().items():
        height, width = photo.shape[:2]
        for side in (256, 512, 1024, 2048, 4032):
            scale = side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            resized = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            _save(resized, IMAGES_DIR / f"{name}-{side}.jpg")
            if side in (512, 2048):
                _save(resized, IMAGES_DIR / f"{name}-{side}.png")
        for crop in range(5):
            ch, cw = int(rng.integers(height // 3, height)), int(rng.integers(width // 3, width))
            y0, x0 = int(rng.integers(0, height - ch + 1)), int(rng.integers(0, width - cw + 1))
            _save(photo[y0 : y0 + ch, x0 : x0 + cw], IMAGES_DIR / f"{name}-crop{crop}.jpg")
    for index in range(count_generated):
        _save(
            _generated(rng, index), IMAGES_DIR / f"generated-{index:03d}.{'png' if index % 4 == 0 else 'jpg'}"
        )
    marker.touch()
    return sorted(IMAGES_DIR.iterdir())


# --- contestants ----------------------------------------------------------------------------------------


def _mime(path: Path) -> str:
    return "image/jpeg" if path.suffix == ".jpg" else "image/png"


def _theirs_as_tuples(found: list[dict[str, Any]]) -> list[BoxTuple]:
    return [(d["class"], *(int(v) for v in d["box"])) for d in found]


_worker_detector: NudityDetector | None = None
_worker_files: list[tuple[bytes, str]] = []


def _worker_init() -> None:
    global _worker_detector
    _worker_detector = NudityDetector(intra_op_threads=1)
    _worker_detector.load()


def _worker_run(index: int) -> tuple[list[BoxTuple], float]:
    assert _worker_detector is not None
    started = time.process_time()
    data, mime = _worker_files[index]
    found = _ours_as_tuples_from_findings(_worker_detector.analyze(Subject.from_bytes(data, mime=mime)))
    return found, time.process_time() - started


Contestant = Callable[[], tuple[list[list[BoxTuple]], float]]


def _in_process(run: Callable[[], list[list[BoxTuple]]]) -> Contestant:
    """Time the CPU of this whole process (every onnxruntime thread included) around ``run``."""

    def timed() -> tuple[list[list[BoxTuple]], float]:
        started = time.process_time()
        found = run()
        return found, time.process_time() - started

    return timed


def _pooled(pool: Any, count: int) -> Contestant:
    def timed() -> tuple[list[list[BoxTuple]], float]:
        answers = pool.map(_worker_run, range(count), chunksize=4)
        return [found for found, _ in answers], sum(cpu for _, cpu in answers)

    return timed


def make_contestants(files: list[tuple[bytes, str]], processes: int) -> dict[str, Contestant]:
    import multiprocessing

    import onnxruntime
    from nudenet import NudeDetector

    as_is = NudeDetector()
    fixed = NudeDetector()
    single = NudeDetector()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    single.onnx_session = onnxruntime.InferenceSession(
        str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    ours = NudityDetector(intra_op_threads=1)
    ours.load()
    global _worker_files
    _worker_files = files
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_worker_init)
    pool.map(_worker_run, range(min(len(files), processes * 2)))  # every worker loaded and warm

    def rgb_fixed(detector: Any) -> list[list[BoxTuple]]:
        out = []
        for data, _ in files:
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            assert bgr is not None, "OpenCV could not decode a generated image"
            out.append(_theirs_as_tuples(detector.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))))
        return out

    def ours_single() -> list[list[BoxTuple]]:
        out = []
        for data, mime in files:
            subject = Subject.from_bytes(data, mime=mime)
            out.append(_ours_as_tuples_from_findings(ours.analyze(subject)))
        return out

    return {
        "nudenet as-is": _in_process(lambda: [_theirs_as_tuples(as_is.detect(data)) for data, _ in files]),
        "nudenet RGB fixed": _in_process(lambda: rgb_fixed(fixed)),
        "nudenet RGB fixed, 1 thread": _in_process(lambda: rgb_fixed(single)),
        "ours, 1 process": _in_process(ours_single),
        f"ours, {processes} processes": _pooled(pool, len(files)),
    }


def _ours_as_tuples_from_findings(findings: list[Any]) -> list[BoxTuple]:
    return [(f.label, f.region["x"], f.region["y"], f.region["w"], f.region["h"]) for f in findings]


def _category(label: str) -> str:
    return "face" if label.startswith("FACE_") else "exposed" if label.endswith("_EXPOSED") else "covered"


# --- agreement --------------------------------------------------------------------------------------------


def _iou(a: BoxTuple, b: BoxTuple) -> float:
    ax0, ay0, ax1, ay1 = a[1], a[2], a[1] + a[3], a[2] + a[4]
    bx0, by0, bx1, by1 = b[1], b[2], b[1] + b[3], b[2] + b[4]
    inter = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
    union = a[3] * a[4] + b[3] * b[4] - inter
    return inter / union if union > 0 else 0.0


def agreement(ours: list[list[BoxTuple]], theirs: list[list[BoxTuple]]) -> dict[str, int]:
    """Images whose boxes all pair up (same label, IoU >= 0.9), and the boxes left without a partner."""
    same_images = only_ours = only_theirs = 0
    for mine, other in zip(ours, theirs, strict=True):
        left = list(other)
        unmatched = 0
        for box in sorted(mine, key=lambda b: -b[3] * b[4]):
            partner = next((o for o in left if o[0] == box[0] and _iou(box, o) >= IOU_SAME), None)
            if partner is None:
                unmatched += 1
            else:
                left.remove(partner)
        only_ours += unmatched
        only_theirs += len(left)
        same_images += unmatched == 0 and not left
    return {
        "images": len(ours),
        "images with the same boxes": same_images,
        "boxes only in ours": only_ours,
        "boxes only in theirs": only_theirs,
        "boxes in ours": sum(len(m) for m in ours),
        "boxes in theirs": sum(len(t) for t in theirs),
    }


# --- main -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each contestant (default 3)")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for ours (default: cores)",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images (0: all)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.processes < 1:
        parser.error("--repeat and --processes must be at least 1")

    paths = ensure_images()
    if args.limit:
        paths = paths[: args.limit]
    files = [(path.read_bytes(), _mime(path)) for path in paths]
    megapixels = sum(
        Image.open(io.BytesIO(data)).size[0] * Image.open(io.BytesIO(data)).size[1] for data, _ in files
    )
    info = machine_info(IMAGES_DIR)
    print_machine(info)
    print(
        f"images: {len(files)} ({sum(len(d) for d, _ in files) / 1e6:.1f} MB encoded, "
        f"{megapixels / 1e6:.0f} megapixels); repetitions: {args.repeat}; "
        f"ours with {args.processes} processes\n"
    )

    contestants = make_contestants(files, args.processes)
    times: dict[str, list[float]] = {name: [] for name in contestants}
    cpu: dict[str, list[float]] = {name: [] for name in contestants}
    results: dict[str, list[list[BoxTuple]]] = {}
    for rep in range(args.repeat):
        for name, run in contestants.items():
            started = time.perf_counter()
            found, cpu_seconds = run()
            seconds = time.perf_counter() - started
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            results.setdefault(name, found)
            print(
                f"  round {rep + 1}: {name}: {seconds:.2f} s ({len(files) / seconds:.1f} images/s), "
                f"CPU {cpu_seconds:.2f} s",
                flush=True,
            )

    anchor = "nudenet as-is"
    anchor_best = min(times[anchor])
    anchor_cpu = statistics.median(cpu[anchor])
    rows = []
    for name, samples in times.items():
        best, median = best_and_median(samples)
        cpu_median = statistics.median(cpu[name])
        rows.append(
            [
                name,
                f"{len(files) / best:.1f}",
                f"{len(files) / median:.1f}",
                f"{anchor_best / best:.2f}x",
                f"{1000 * cpu_median / len(files):.1f}",
                f"{anchor_cpu / cpu_median:.2f}x",
            ]
        )
    print()
    print_table(
        [
            "contestant",
            "images/s (best)",
            "images/s (median)",
            f"throughput vs {anchor}",
            "CPU ms/image (median)",
            f"CPU efficiency vs {anchor}",
        ],
        rows,
    )

    ours_name = f"ours, {args.processes} processes"
    print()
    agreements = {}
    for other in ("nudenet RGB fixed", "nudenet as-is"):
        agreements[other] = agreement(results[ours_name], results[other])
    agreements["ours 1 process vs ours N processes"] = agreement(
        results["ours, 1 process"], results[ours_name]
    )
    agreements["nudenet as-is vs nudenet RGB fixed"] = agreement(
        results["nudenet as-is"], results["nudenet RGB fixed"]
    )
    differing = [
        (path.name, mine, theirs)
        for path, mine, theirs in zip(paths, results[ours_name], results["nudenet RGB fixed"], strict=True)
        if agreement([mine], [theirs])["images with the same boxes"] == 0
    ]
    keys = list(next(iter(agreements.values())))
    print_table(
        ["box agreement (IoU >= 0.9, same label)", *keys],
        [[k, *map(str, v.values())] for k, v in agreements.items()],
    )

    for name, mine, theirs in differing:
        print(f"  differs from nudenet RGB fixed: {name}: ours {mine}; theirs {theirs}")

    findings: dict[str, dict[str, Any]] = {}
    for name in (ours_name, "nudenet as-is", "nudenet RGB fixed"):
        categories: Counter[str] = Counter(_category(label) for found in results[name] for label, *_ in found)
        exposed = Counter(
            label for found in results[name] for label, *_ in found if _category(label) == "exposed"
        )
        flagged = sum(any(_category(label) == "exposed" for label, *_ in found) for found in results[name])
        findings[name] = {
            "categories": dict(categories),
            "exposed_labels": dict(exposed),
            "images_exposed": flagged,
        }
        print(
            f"\n{name}: findings on this benign set by category {dict(categories)}; "
            f"images with an 'exposed' finding: {flagged} {dict(exposed)}"
        )
    ratio_as_is = min(times["nudenet as-is"]) / min(times[ours_name])
    ratio_fixed = min(times["nudenet RGB fixed"]) / min(times[ours_name])
    ratio_one_thread = min(times["nudenet RGB fixed, 1 thread"]) / min(times["ours, 1 process"])
    print(
        f"\nthroughput, ours with {args.processes} processes against nudenet as-is (default threads): "
        f"{ratio_as_is:.2f}x; against nudenet RGB fixed: {ratio_fixed:.2f}x; "
        f"one core each (ours 1 process vs nudenet 1 thread): {ratio_one_thread:.2f}x; goal >= {GOAL}x"
    )
    saved = save_results(
        "p5",
        {
            "machine": info,
            "images": len(files),
            "processes": args.processes,
            "times_s": times,
            "cpu_s": cpu,
            "agreement": agreements,
            "differing": differing,
            "findings": findings,
        },
    )
    print(f"raw numbers: {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
