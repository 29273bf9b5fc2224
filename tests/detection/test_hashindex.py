"""The PDQ index: exactly the brute-force answer (100 % recall, no false hits), live inserts, merges."""

import numpy as np
import pytest

from detection.hashindex import MAX_THRESHOLD, PdqIndex, pack_hex, unpack_hex


def _flip(rng: np.random.Generator, packed: np.ndarray, bits: int) -> np.ndarray:
    out = packed.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def _brute(stored: np.ndarray, queries: np.ndarray, threshold: int) -> set[tuple[int, int, int]]:
    dist = np.bitwise_count(queries[:, None, :] ^ stored[None, :, :]).sum(axis=2)
    q, j = np.nonzero(dist <= threshold)
    return {(int(a), int(b), int(dist[a, b])) for a, b in zip(q, j, strict=True)}


def _dataset(seed: int, n_random: int) -> tuple[np.ndarray, np.ndarray]:
    """Random hashes plus, for each distance 0–31, a near-duplicate of one query (orientation slot d % 8)."""
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 2**64, size=(n_random, 4), dtype=np.uint64)
    queries = rng.integers(0, 2**64, size=(8 * 32, 4), dtype=np.uint64)  # 32 items × 8 orientations
    planted = [_flip(rng, queries[8 * d + (d % 8)], d) for d in range(32)]
    # Also some at distance 32–40, which must not be found at threshold 31.
    far = [_flip(rng, queries[8 * d + 1], 32 + d % 9) for d in range(16)]
    return np.concatenate([stored, np.array(planted), np.array(far)]), queries


@pytest.mark.parametrize("threshold", [0, 10, 31])
def test_search_equals_brute_force(threshold):
    stored, queries = _dataset(1, 20_000)
    index = PdqIndex()
    index.build(stored, np.arange(len(stored)))
    found = {(h.query, h.id, h.distance) for h in index.search(queries, threshold)}
    expected = _brute(stored, queries, threshold)
    assert found == expected
    # Every planted near-duplicate within the threshold is among them: the point of the exercise.
    planted_ids = {20_000 + d for d in range(threshold + 1)}
    assert planted_ids <= {h[1] for h in found}


def test_live_inserts_are_found_at_once_and_after_merging():
    stored, queries = _dataset(2, 5_000)
    index = PdqIndex(merge_at=64)
    index.build(stored[:3_000], np.arange(3_000))
    assert index.version == 3_000
    for start in range(3_000, len(stored), 50):  # buffered, then merged every 64
        chunk = stored[start : start + 50]
        index.add(chunk, np.arange(start, start + len(chunk)))
        found = {(h.query, h.id, h.distance) for h in index.search(queries, MAX_THRESHOLD)}
        assert found == _brute(stored[: start + len(chunk)], queries, MAX_THRESHOLD)
    assert len(index) == len(stored) and index.version == len(stored)


def test_empty_index_and_unmerged_only_index():
    index = PdqIndex()
    query = pack_hex(["f" * 64])
    assert index.search(query, 31) == []
    index.add(pack_hex(["f" * 63 + "e"]), [7])
    (hit,) = index.search(query, 31)
    assert (hit.query, hit.id, hit.distance) == (0, 7, 1)


def test_ids_are_the_callers_and_duplicates_are_reported_once():
    hashes = pack_hex(["0" * 64, "0" * 63 + "1"])
    index = PdqIndex()
    index.build(hashes, [1001, 2002])
    hits = index.search(pack_hex(["0" * 64]), 31)
    assert sorted((h.id, h.distance) for h in hits) == [(1001, 0), (2002, 1)]


def test_thresholds_beyond_the_guarantee_are_refused():
    index = PdqIndex()
    with pytest.raises(ValueError, match="0–31"):
        index.search(pack_hex(["0" * 64]), 32)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="64 hex digits"):
        pack_hex(["abc"])
    with pytest.raises(ValueError, match="32 bits"):
        PdqIndex().build(pack_hex(["0" * 64]), [2**33])


def test_hex_round_trip():
    hexes = ["0123456789abcdef" * 4, "f" * 64]
    assert unpack_hex(pack_hex(hexes)) == hexes
