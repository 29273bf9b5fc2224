"""P9 (faces): one reference photo against a million face embeddings — latency per query and recall of the
index Haetae uses (``parties.faceindex.FaceVectors``: FAISS IVF-Flat) against exact search, at the match
distance.

Data (synthetic: the index sees only vectors): identities drawn as N(0, 1/256) per dimension, so two people
lie about 1.0 apart as dlib's embeddings do; each identity has a number of photos (geometric, mean 5), each
photo the identity plus N(0, s²) per dimension with s drawn per identity from 0.015–0.04, so two photos of
one person lie 0.24–0.64 apart: the threshold (0.6) cuts through the widest identities, where recall is
hardest. Queries: new photos of identities in the index (each query has hits), and photos of identities
not in it (no hits).

Contestants, one thread each (FAISS's OpenMP set to 1), one query at a time (a search is per reference):

  exact        ``IndexFlatL2.range_search``: every stored vector; the ground truth and the anchor
  haetae       ``FaceVectors`` as built by ``face_index rebuild`` (IVF-Flat, about 4 sqrt(n) cells),
               ``range_search`` at the threshold with ``nprobe`` cells visited; also other ``nprobe``s

Recall = hits found / hits exact search finds within the threshold (a face IVF-Flat reports is always a
true hit: it keeps vectors whole). Goal (issue 14): p95 <= 50 ms per reference photo, recall >= 99 %.
Run from the repository root:
  .venv/bin/python bench/p9_faces.py [--faces 1000000] [--queries 300] [--nprobe 16,32,64,128,256]
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import django
import faiss
import numpy as np

django.setup()

from _common import machine_info, print_machine, print_table, save_results  # noqa: E402

from parties.faceindex import DIM, NPROBE, FaceVectors  # noqa: E402

THRESHOLD = 0.6


def embeddings(count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``count`` photos: vectors (float32), each photo's identity, the identities' centres and spreads."""
    rng = np.random.default_rng(seed)
    photos_per = rng.geometric(1 / 5, size=count)  # more than enough identities
    owner = np.repeat(np.arange(count), photos_per)[:count]
    identities = int(owner[-1]) + 1
    centres = rng.normal(0, 1 / np.sqrt(2 * DIM), size=(identities, DIM)).astype(np.float32)
    spreads = rng.uniform(0.015, 0.04, size=identities).astype(np.float32)
    vectors = np.empty((count, DIM), dtype=np.float32)
    for start in range(0, count, 100_000):
        part = owner[start : start + 100_000]
        noise = rng.normal(size=(len(part), DIM)).astype(np.float32)
        vectors[start : start + len(part)] = centres[part] + noise * spreads[part, None]
    return vectors, owner, centres, spreads


def queries(centres: np.ndarray, spreads: np.ndarray, count: int, *, seed: int) -> np.ndarray:
    """New photos: four in five of identities in the index, one in five of people not in it."""
    rng = np.random.default_rng(seed)
    known = int(count * 0.8)
    chosen = rng.choice(len(centres), known, replace=False)
    photos = centres[chosen] + rng.normal(size=(known, DIM)).astype(np.float32) * spreads[chosen, None]
    strangers = rng.normal(0, 1 / np.sqrt(2 * DIM), size=(count - known, DIM)).astype(np.float32)
    return np.concatenate([photos, strangers]).astype(np.float32)


def per_query(search, rows: np.ndarray) -> tuple[list[float], list[set[int]]]:
    """Milliseconds and found ids of each query, asked one at a time."""
    times, found = [], []
    for row in rows:
        started = time.perf_counter()
        ids = search(row[None, :])
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--nprobe", default="16,32,64,128,256", help="other nprobe values to measure")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    machine = machine_info(Path(__file__).resolve().parent)
    print_machine(machine)

    started = time.perf_counter()
    vectors, _, centres, spreads = embeddings(args.faces, seed=1)
    asked = queries(centres, spreads, args.queries, seed=2)
    print(f"generated {args.faces:,} embeddings in {time.perf_counter() - started:.1f} s")

    exact = faiss.IndexFlatL2(DIM)
    exact.add(vectors)

    def exact_search(row: np.ndarray) -> set[int]:
        _, _, labels = exact.range_search(row, THRESHOLD**2)
        return set(labels.tolist())

    exact_ms, truth = per_query(exact_search, asked)

    started = time.perf_counter()
    index = FaceVectors()
    index.build(vectors, np.arange(args.faces))
    build_s = time.perf_counter() - started
    del vectors

    rows = [("exact (IndexFlatL2)", exact_ms, 1.0)]
    results: dict[str, object] = {"faces": args.faces, "queries": args.queries, "build_s": build_s}
    total = sum(len(t) for t in truth)
    for nprobe in sorted({NPROBE, *(int(p) for p in args.nprobe.split(",") if p)}):
        index._index.nprobe = nprobe

        def haetae_search(row: np.ndarray) -> set[int]:
            return {hit.annotation_id for hit in index.search(row, THRESHOLD)}

        ms, found = per_query(haetae_search, asked)
        recall = sum(len(f & t) for f, t in zip(found, truth, strict=True)) / total if total else 1.0
        false = sum(len(f - t) for f, t in zip(found, truth, strict=True))
        chosen = " (chosen)" if nprobe == NPROBE else ""
        rows.append((f"haetae IVF-Flat nprobe={nprobe}{chosen}", ms, recall))
        results[f"nprobe_{nprobe}"] = {
            "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)),
            "recall": recall,
            "false_hits": false,
        }
    results["exact"] = {
        "p50_ms": float(np.percentile(exact_ms, 50)),
        "p95_ms": float(np.percentile(exact_ms, 95)),
    }
    index._index.nprobe = NPROBE
    print(
        f"index: {index.kind}, built in {build_s:.1f} s; {total:,} true hits over {args.queries} queries "
        f"({sum(1 for t in truth if not t)} with none)"
    )
    print_table(
        ["contestant", "p50 ms", "p95 ms", "recall"],
        [
            [name, f"{np.percentile(ms, 50):.2f}", f"{np.percentile(ms, 95):.2f}", f"{recall:.2%}"]
            for name, ms, recall in rows
        ],
    )
    save_results("p9-faces", {"machine": machine, **results})


if __name__ == "__main__":
    main()
