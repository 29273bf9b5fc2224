"""The face index itself: exact below IVF_FROM faces, IVF-Flat above, with removal, growth and the saved copy.

Synthetic embeddings stand in for faces (the index sees only vectors): identities as points spread like
dlib's (distinct people about 1.0 apart), photos of one identity scattered around it within the match
distance of each other, as bench/p9_faces.py generates them.
"""

from pathlib import Path

import numpy as np
import pytest

from parties import faceindex
from parties.faceindex import DIM, FaceVectors

SMALL_IVF_FROM = 3_000  # clustered from here in these tests, to keep k-means training short


def _faces(n: int, *, seed: int = 7, per_identity: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` embeddings: identities of ``per_identity`` photos, and each identity's spread drawn apart."""
    rng = np.random.default_rng(seed)
    identities = rng.normal(0, 1.0 / np.sqrt(2 * DIM), size=(n // per_identity + 1, DIM))
    owner = np.arange(n) // per_identity
    spread = rng.uniform(0.012, 0.03, size=len(identities))[owner]
    vectors = identities[owner] + rng.normal(size=(n, DIM)) * spread[:, None]
    return vectors.astype(np.float32), owner


def _exact(vectors: np.ndarray, queries: np.ndarray, radius: float) -> set[tuple[int, int]]:
    stored, asked = vectors.astype(np.float64), queries.astype(np.float64)
    squared = (asked**2).sum(1)[:, None] + (stored**2).sum(1)[None, :] - 2 * asked @ stored.T
    distances = np.sqrt(np.maximum(squared, 0))
    rows, cols = np.nonzero(distances <= radius)
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def test_small_index_is_exact_and_removes_and_skips_duplicates():
    vectors, _ = _faces(500)
    index = FaceVectors()
    index.build(vectors, np.arange(500) + 1000)
    assert index.kind == "flat"
    queries = vectors[:20] + 0.01
    found = {(hit.query, hit.annotation_id - 1000) for hit in index.search(queries, 0.6)}
    assert found == _exact(vectors, queries, 0.6) and found
    index.add(vectors[:3], [1000, 1001, 1002])  # already held: not added twice
    assert len(index) == 500
    assert index.remove([1000, 5]) == 1
    assert 1000 not in index and all(hit.annotation_id != 1000 for hit in index.search(vectors[:1], 0.6))


def test_large_index_is_ivf_with_recall_of_exact_search_and_survives_a_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(faceindex, "IVF_FROM", SMALL_IVF_FROM)
    n = 3 * SMALL_IVF_FROM
    vectors, _ = _faces(n)
    index = FaceVectors()
    index.build(vectors, np.arange(n))
    assert index.kind.startswith("ivfflat")
    rng = np.random.default_rng(3)
    queries = vectors[rng.choice(n, 200, replace=False)] + rng.normal(0, 0.015, size=(200, DIM)).astype(
        np.float32
    )
    exact = _exact(vectors, queries, 0.6)
    found = {(hit.query, hit.annotation_id) for hit in index.search(queries, 0.6)}
    assert found <= exact and len(found) >= 0.99 * len(exact)
    # Every distance reported is the true one (IVF-Flat keeps the vectors whole).
    for hit in index.search(queries[:5], 0.6):
        true = float(np.linalg.norm(vectors[hit.annotation_id] - queries[hit.query]))
        assert abs(hit.distance - true) < 1e-4

    assert index.remove([int(i) for i in range(10)]) == 10
    index.save(tmp_path / "faces.faiss")
    loaded = FaceVectors()
    loaded.load(tmp_path / "faces.faiss")
    assert len(loaded) == n - 10 and 5 not in loaded and 11 in loaded and loaded.kind.startswith("ivfflat")


def test_an_exact_index_grown_by_live_additions_becomes_ivf(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(faceindex, "IVF_FROM", SMALL_IVF_FROM)
    vectors, _ = _faces(2 * SMALL_IVF_FROM)
    index = FaceVectors()
    index.build(vectors[:100], range(100))
    for start in range(100, len(vectors), 1_000):
        chunk = vectors[start : start + 1_000]
        index.add(chunk, range(start, start + len(chunk)))
    assert index.kind.startswith("ivfflat") and len(index) == 2 * SMALL_IVF_FROM
    (hit,) = [h for h in index.search(vectors[77:78], 0.001)]
    assert hit.annotation_id == 77
