"""Video frame sampling: ``detection.video.video_scan`` (1 fps, keyframes only) against decoding every frame.

Anchor: PyAV decoding every frame of the same file and converting each to RGB, which is what a detector
that looked at every frame would pay. Haetae: decode every frame but convert only the sampled ones (1 fps),
and the fast mode that decodes keyframes only. One decoder thread each (the worker model: processes = cores).
Reports wall time and CPU time (this process, all threads: FFmpeg's RGB conversion may use threads); on a
shared, loaded machine the CPU time is the fairer comparison, and the ratio uses it.
Reports wall time and CPU time (this process, all threads: FFmpeg's RGB conversion may use threads); on a
shared, loaded machine the CPU time is the fairer comparison, and the ratio uses it.

    .venv/bin/python bench/video_sampling.py          # 60 s of 1280×720 H.264 at 30 fps, 3 repetitions
    .venv/bin/python bench/video_sampling.py --seconds 20 --repeat 1
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")

import django

django.setup()

import av  # noqa: E402
import numpy as np  # noqa: E402
from _common import OUT_DIR, best_and_median, machine_info, print_machine, print_table, save_results  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as skdata  # noqa: E402

from detection.subject import Subject  # noqa: E402
from detection.video import Sampling, video_scan  # noqa: E402


def make_video(path: Path, seconds: int, size: tuple[int, int], fps: int) -> None:
    """Photos panning slowly (so every frame differs), x264 'medium' with a 2 s GOP."""
    photos = [np.asarray(Image.fromarray(p).resize((size[0] * 2, size[1]))) for p in (skdata.astronaut(),)]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(fps * 2), "preset": "veryfast"}
        for i in range(seconds * fps):
            offset = (i * 4) % size[0]
            picture = np.ascontiguousarray(photos[0][:, offset : offset + size[0]])
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def every_frame(data: bytes) -> int:
    converted = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            converted += 1
    return converted


def sampled(data: bytes, sampling: Sampling) -> int:
    subject = Subject.from_bytes(data, mime="video/mp4")
    return len(video_scan(subject, lambda frame: None, sampling).frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"video-{args.seconds}s-720p.mp4"
    if not path.exists():
        make_video(path, args.seconds, (1280, 720), 30)
    data = path.read_bytes()
    contestants = {
        "anchor: every frame to RGB": lambda: every_frame(data),
        "haetae 1 fps": lambda: sampled(data, Sampling(max_frames=10_000)),
        "haetae keyframes only": lambda: sampled(data, Sampling(keyframes_only=True, max_frames=10_000)),
    }
    times: dict[str, list[float]] = {name: [] for name in contestants}
    cpu: dict[str, list[float]] = {name: [] for name in contestants}
    frames: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, run in contestants.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            frames[name] = run()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    print_machine(machine_info(OUT_DIR))
    anchor_cpu = min(cpu["anchor: every frame to RGB"])
    rows = []
    for name, samples in times.items():
        best, median = best_and_median(samples)
        best_cpu, median_cpu = best_and_median(cpu[name])
        rows.append(
            [
                name,
                str(frames[name]),
                f"{best:.2f} / {median:.2f}",
                f"{best_cpu:.2f} / {median_cpu:.2f}",
                f"{args.seconds / best_cpu:.1f}",
                f"{anchor_cpu / best_cpu:.2f}",
            ]
        )
    headers = [
        "contestant",
        "frames out",
        "wall s best/median",
        "CPU s best/median",
        "video s per CPU s",
        "× anchor",
    ]
    print_table(headers, rows)
    save_results(
        "video",
        {"seconds": args.seconds, "size": "1280x720", "fps": 30, "wall": times, "cpu": cpu, "frames": frames},
    )


if __name__ == "__main__":
    main()
