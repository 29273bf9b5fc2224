"""P8 (faces): face recall at each face size and CPU time per photo, dlib's HOG detector (the previous
``faces`` detector) against CenterFace (the current one), on the same generated images.

Images: 1024 × 768 scenes made by ``tests.factories.face_scene``: scikit-image's astronaut and
cameraman cut out around the face and pasted, flipped on odd seeds, into its photographs without people,
the face 40 to 400 px wide at a place chosen by the seed. A face counts as found when a detected box's
centre lies inside it and the box is half to twice its width.

Contestants, in one process on one core (HAETAE_ONNX_THREADS=1, OpenCV one thread), same arrays:

  dlib HOG     the previous recipe: ``get_frontal_face_detector`` upsampled once (longer side <= 1024),
               threshold 0; then, for CPU time, 5-point landmarks and the 128-d embedding of each face
  CenterFace   ``detection.detectors.faces.FaceDetector.faces``: CenterFace at a longer side of at most
               ``DETECT_SIDE``, then the same dlib landmarks and embedding

CPU ms are process time per photo (detection and embedding, decoding left out: it is shared by every
detector), best and median over the repetitions, alternating. Goal (issue 12): at least dlib's recall at
every size, >= 95 % for faces of 80 px and more. Run from the repository root:
  .venv/bin/python bench/p8_faces.py [--per-size 12] [--repeat 3] [--detect-side 1024]
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HAETAE_ONNX_THREADS", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
import django
import numpy as np

django.setup()

from _common import best_and_median, machine_info, print_machine, print_table, save_results  # noqa: E402

from detection.detectors import faces as faces_module  # noqa: E402
from tests.factories import FACE_SOURCES, SIZES, FaceScene, face_scene, found  # noqa: E402


class DlibHog:
    """The previous detector's recipe, kept here only to compare against."""

    def __init__(self) -> None:
        import dlib

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        folder = faces_module.models_dir()
        self.shapes = dlib.shape_predictor(str(folder / faces_module.SHAPE_PREDICTOR[0]))
        self.recogniser = dlib.face_recognition_model_v1(str(folder / faces_module.RECOGNITION_MODEL[0]))

    def boxes(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        upsample = 1 if max(rgb.shape[:2]) <= 1024 else 0
        rects, _, _ = self.detector.run(rgb, upsample, 0.0)
        return [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in rects]

    def faces(self, rgb: np.ndarray) -> int:
        upsample = 1 if max(rgb.shape[:2]) <= 1024 else 0
        rects, _, _ = self.detector.run(rgb, upsample, 0.0)
        if len(rects):
            shapes = self.dlib.full_object_detections()
            for rect in rects:
                shapes.append(self.shapes(rgb, rect))
            self.recogniser.compute_face_descriptor(rgb, shapes, 0)
        return len(rects)


def scenes(per_size: int) -> list[FaceScene]:
    sources = sorted(FACE_SOURCES)
    return [
        face_scene(face_px=size, seed=seed, source=sources[seed % len(sources)])
        for size in SIZES
        for seed in range(per_size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-size", type=int, default=12, help="images per face size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--detect-side", type=int, default=faces_module.DETECT_SIDE)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    faces_module.DETECT_SIDE = args.detect_side
    info = machine_info(Path())
    print_machine(info)
    made = scenes(args.per_size)
    print(
        f"{len(made)} scenes of 1024 × 768, {args.per_size} per size; CenterFace at <= {args.detect_side} px"
    )

    hog = DlibHog()
    centerface = faces_module.faces_detector()
    centerface.load()
    contestants = {
        "dlib HOG": (hog.boxes, hog.faces),
        "CenterFace": (
            lambda rgb: [box[:4] for box in centerface.boxes(rgb)],
            lambda rgb: len(centerface.faces(rgb)),
        ),
    }
    recall: dict[str, dict[int, float]] = {}
    extra: dict[str, int] = {}
    for label, (boxes, _) in contestants.items():
        hits: dict[int, list[bool]] = {size: [] for size in SIZES}
        others = 0
        for scene in made:
            detected = boxes(scene.rgb)
            hit = found(scene.face, detected)
            hits[scene.face_px].append(hit)
            others += len(detected) - int(hit)
        recall[label] = {size: float(np.mean(values)) for size, values in hits.items()}
        extra[label] = others

    timings: dict[str, list[float]] = {label: [] for label in contestants}
    for _ in range(args.repeat):
        for label, (_, full) in contestants.items():
            started = time.process_time()
            for scene in made:
                full(scene.rgb)
            timings[label].append((time.process_time() - started) * 1000 / len(made))

    headers = ["detector", *(f"{size} px" for size in SIZES), "other boxes", "CPU ms/photo best", "median"]
    rows = []
    for label in contestants:
        best, median = best_and_median(timings[label])
        rows.append(
            [
                label,
                *(f"{recall[label][size] * 100:.0f} %" for size in SIZES),
                str(extra[label]),
                f"{best:.1f}",
                f"{median:.1f}",
            ]
        )
    print_table(headers, rows)
    ratio = best_and_median(timings["dlib HOG"])[0] / best_and_median(timings["CenterFace"])[0]
    print(f"CenterFace is {ratio:.1f}x faster than dlib HOG per photo (CPU, best of {args.repeat})")
    path = save_results(
        "p8_faces",
        {
            "machine": info,
            "per_size": args.per_size,
            "detect_side": args.detect_side,
            "recall": {label: {str(k): v for k, v in by_size.items()} for label, by_size in recall.items()},
            "other_boxes": extra,
            "cpu_ms_per_photo": timings,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
