"""P8 (watermark): the generator-watermark decoder, the previous way against the current one, same images.

Contestants, in one process on one core, over the same decoded 1024 × 768 RGB arrays (decoding is shared
by every detector and is left out of both), repetitions alternating so background load falls on each alike:

  previous   what the decoder did before: for each of the four conventions (2 colour orders × 2 array
             types), OpenCV's full YUV conversion of a float32 copy, U copied to float64, a full one-level
             Haar DWT with PyWavelets (all four bands), blocks copied out for the argmax; and the mean votes
             computed twice per payload
  current    ``detection.detectors.watermark.read_payloads``: one Haar approximation of the three channels
             (area resize to half size), U's approximation for each colour order as a weighted sum of them,
             the array type as an offset, one block maximum per convention

Accuracy: the images are half marked (the real encoder when installed, else the test encoder), half not;
the two decoders must report the same payloads on every image (the previous way with the current payload
bits, so FLUX.1's 46-bit mark counts for both).
Goal (issue 12): a few ms per photo. Run from the repository root:
  .venv/bin/python bench/p8_watermark.py [--count 40] [--repeat 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pywt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_and_median, machine_info, print_machine, print_table, save_results
from skimage import data as skdata

from detection.detectors import watermark

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "camera", "hubble_deep_field")
SIZE = (1024, 768)


def previous_votes(rgb: np.ndarray, colour_order: str, array_type: str) -> np.ndarray:
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    pixels = np.ascontiguousarray(rgb[:rows, :cols], dtype=np.float32)
    code = cv2.COLOR_RGB2YUV if colour_order == "bgr" else cv2.COLOR_BGR2YUV
    u_plane = cv2.cvtColor(pixels, code)[:, :, 1].astype(np.float64)
    if array_type == "uint8":
        u_plane = np.clip(np.rint(u_plane + 127.5), 0, 255)
    approx = pywt.dwt2(u_plane, "haar")[0]
    brows, bcols = approx.shape[0] // 4, approx.shape[1] // 4
    blocks = approx[: brows * 4, : bcols * 4].reshape(brows, 4, bcols, 4).swapaxes(1, 2).reshape(-1, 16)
    rest = np.abs(blocks[:, 1:])
    strongest = rest[np.arange(len(rest)), np.argmax(rest, axis=1)]
    return (np.mod(strongest, 36) > 18).astype(np.uint8)


def previous_found(rgb: np.ndarray) -> set[str]:
    found = set()
    for order in watermark.COLOUR_ORDERS:
        for array_type in watermark.ARRAY_TYPES:
            votes = previous_votes(rgb, order, array_type)
            for payload in watermark.PAYLOADS:
                length = len(payload.bits)
                agreeing = int(np.sum(watermark.decode_bits(votes, length) == payload.bits))
                adaptive = watermark.decode_bits_adaptive(votes, length)
                if adaptive is not None:
                    agreeing = max(agreeing, int(np.sum(adaptive == payload.bits)))
                if agreeing * 100 >= watermark.MIN_AGREEMENT_PERCENT * length:
                    found.add(payload.name)
    return found


def current_found(rgb: np.ndarray) -> set[str]:
    return {r.payload.name for r in watermark.read_payloads(rgb) if r.present}


def _marker():
    try:
        from tests.detection import reference_watermarks

        reference_watermarks.sdxl(np.zeros((256, 256, 3), dtype=np.uint8))
        return "real encoder", reference_watermarks.PIPELINES
    except ImportError:
        from tests.detection.watermark_encoder import embed

        by_name = {p.name: p.bits for p in watermark.PAYLOADS}
        conventions = {"sdxl": "float32", "flux1": "float32", "sd1": "uint8", "sd2": "uint8"}
        return "test encoder", {
            name: (lambda rgb, n=name: embed(rgb, by_name[n], colour_order="bgr", array_type=conventions[n]))
            for name in by_name
        }


def images(count: int) -> tuple[str, list[tuple[str, np.ndarray]]]:
    encoder, pipelines = _marker()
    made = []
    for index in range(count):
        pixels = getattr(skdata, PHOTOS[index % len(PHOTOS)])()
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        rgb = np.ascontiguousarray(cv2.resize(pixels[:, :, :3], SIZE, interpolation=cv2.INTER_AREA))
        if index % 2:
            name = sorted(pipelines)[(index // 2) % len(pipelines)]
            made.append((name, np.ascontiguousarray(pipelines[name](rgb))))
        else:
            made.append(("none", rgb))
    return encoder, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    info = machine_info(Path())
    print_machine(info)
    encoder, made = images(args.count)
    print(f"{len(made)} images of {SIZE[0]} × {SIZE[1]}, marks by the {encoder}")

    disagreements = [
        (expected, previous_found(rgb), current_found(rgb))
        for expected, rgb in made
        if previous_found(rgb) != current_found(rgb)
    ]
    missed = sum(1 for expected, rgb in made if expected != "none" and expected not in current_found(rgb))
    false = sum(1 for expected, rgb in made if expected == "none" and current_found(rgb))

    timings: dict[str, list[float]] = {"previous": [], "current": []}
    for _ in range(args.repeat):
        for label, decode in (("previous", previous_found), ("current", current_found)):
            started = time.perf_counter()
            for _, rgb in made:
                decode(rgb)
            timings[label].append((time.perf_counter() - started) * 1000 / len(made))

    rows = []
    for label, samples in timings.items():
        best, median = best_and_median(samples)
        rows.append([label, f"{best:.1f}", f"{median:.1f}"])
    print_table(["decoder", "best ms/photo", "median ms/photo"], rows)
    ratio = min(timings["previous"]) / min(timings["current"])
    print(f"ratio (previous / current, best): {ratio:.1f}×")
    print(f"current: {missed} marked images missed, {false} unmarked images reported")
    print(f"decoders disagree on {len(disagreements)} of {len(made)} images {disagreements[:5]}")
    save_results(
        "p8-watermark",
        {
            "machine": info,
            "images": len(made),
            "encoder": encoder,
            "ms_per_photo": timings,
            "median": {k: statistics.median(v) for k, v in timings.items()},
            "ratio_best": ratio,
            "missed": missed,
            "false_positives": false,
            "disagreements": len(disagreements),
        },
    )


if __name__ == "__main__":
    main()
