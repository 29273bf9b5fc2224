"""P8 (detectors): CPU per detector on one image of each kind, every default image detector in one process.

The images are ``bench/p8_triage.py``'s (``generate``): a 4032 × 3024 camera JPEG without a face, one stored
turned (EXIF orientation 6), one with a face, a 1170 × 2532 PNG screenshot with text, a 1280 × 960 messenger
JPEG and a WebP or GIF. Each repetition builds a fresh ``Subject`` from the file's bytes and runs the
installed image detectors on it in the pipeline's order (by name), as a worker does; a detector is charged
for the decodes it is the first to ask for (the subject keeps them for the next ones). CPU is
``time.process_time`` of this process plus the CPU of the child processes it waited for (Tesseract), per
detector, best of the repetitions; one thread everywhere, as in the workers
(``detection.registry.one_thread_per_library``: onnxruntime, OpenCV and numpy's BLAS; Tesseract one OpenMP
thread). Run from the repository root:

  .venv/bin/python bench/p8_detectors.py [--repeat 3] [--only camera,screenshot]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HAETAE_ONNX_THREADS", "1")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT_DIR, machine_info, print_machine, print_table, save_results

MIMES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".gif": "image/gif"}


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def samples(folder: Path) -> dict[str, Path]:
    """One file of each kind from a generated set of 24 (see the module's doc)."""
    from p8_triage import generate

    truth = generate(folder, 24, False)
    picked: dict[str, Path] = {}
    for entry in truth:
        path = folder / entry["file"]
        kind = entry["kind"]
        if kind == "camera":
            from PIL import Image

            with Image.open(path) as image:
                turned = image.getexif().get(0x0112, 1) != 1
            kind = "camera, face" if "face" in entry else "camera, turned" if turned else "camera"
        picked.setdefault(kind, path)
    return picked


def measure(path: Path, repeat: int) -> dict[str, float]:
    """Best CPU ms per detector (and in all) over ``repeat`` fresh subjects of the file."""
    from detection.registry import detectors, ensure_loaded
    from detection.subject import Subject

    data = path.read_bytes()
    mime = MIMES[path.suffix]
    plugins = [d for _, d in sorted(detectors().items()) if "image" in d.info.media_types]
    for plugin in plugins:
        ensure_loaded(plugin)
    best: dict[str, float] = defaultdict(lambda: float("inf"))
    for _ in range(repeat):
        subject = Subject.from_bytes(data, mime=mime)
        total = 0.0
        for plugin in plugins:
            before = _cpu()
            plugin.analyze(subject)
            spent = (_cpu() - before) * 1000
            total += spent
            best[plugin.info.name] = min(best[plugin.info.name], spent)
        best["all"] = min(best["all"], total)
    return dict(best)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated kinds (camera, screenshot, ...)")
    args = parser.parse_args(argv)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="p8-detectors-", dir=OUT_DIR))
    os.environ["HAETAE_DATA_DIR"] = str(work / "data")
    import django

    django.setup()
    from detection.registry import one_thread_per_library

    one_thread_per_library()  # as each detection worker does: onnxruntime, OpenCV and numpy's BLAS
    info = machine_info(OUT_DIR)
    print_machine(info)
    picked = samples(work / "images")
    wanted = {k.strip() for k in args.only.split(",") if k.strip()}
    results: dict[str, dict[str, float]] = {}
    for kind, path in picked.items():
        if wanted and kind.split(",")[0] not in wanted:
            continue
        results[kind] = measure(path, args.repeat)
        print(f"{kind}: {path.name}: {results[kind]['all']:.0f} ms", flush=True)
    names = [*sorted({name for found in results.values() for name in found} - {"all"}), "all"]
    print_table(
        ["kind", *names],
        [[kind, *(f"{found.get(n, 0):.0f}" for n in names)] for kind, found in results.items()],
    )
    info["load average at end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    save_results("p8_detectors", {"machine": info, "repeat": args.repeat, "cpu_ms": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
