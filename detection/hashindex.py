"""An in-memory index of 256-bit PDQ hashes: every stored hash within a threshold (≤ 31) of a query, always.

Multi-index hashing by the pigeonhole principle. The 256 bits are cut into 16 chunks of 16 bits. If two
hashes differ in at most 31 bits, at least one chunk differs in at most 1 bit (16 chunks × 2 bits = 32 >
31). So for each chunk of the query, probing that chunk's exact value and its 16 one-bit neighbours finds
every hash within distance 31: 100 % recall by construction, not by tuning. Candidates are then verified
with a vectorised popcount over the packed hashes.

Layout (all numpy, no Python loop per candidate):
* ``hashes``: the packed hashes, ``(capacity, 4)`` uint64, row = position;
* per chunk, a CSR table: ``offsets[c]`` (65,537 bucket starts) and ``table[c]`` (positions sorted by that
  chunk's value, uint32);
* ``ids``: the caller's id of each position (uint32), e.g. a BankEntry or Annotation primary key.

Live inserts go to an append buffer that queries scan by brute force; when it holds ``merge_at`` hashes it
is merged into the CSR tables by inserting at each bucket's end (one memmove per chunk), so new hashes take
effect immediately and a rebuild is never needed. ``version`` counts the hashes ever added: a Match
records it so one can say what the index held when it matched.

Memory at 10 million hashes: 320 MB hashes + 640 MB tables + 40 MB ids + 8 MB offsets (bench/p4_index.py).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

CHUNKS = 16
MAX_THRESHOLD = 31  # the largest distance the 16 × 16-bit pigeonhole guarantees
_BUCKETS = 1 << 16
_FLIPS = np.array([0] + [1 << b for b in range(16)], dtype=np.uint16)  # exact value and 16 neighbours
MAX_POSITIONS = (1 << 24) - 1  # table entries are 24-bit positions + an 8-bit filter byte


def _entries(positions: np.ndarray, partner_chunks: np.ndarray) -> np.ndarray:
    """Table entries: the position in the top 24 bits, the partner chunk's low byte in the bottom 8."""
    return (positions.astype(np.uint32) << np.uint32(8)) | (partner_chunks & 0xFF).astype(np.uint32)


def pack_hex(hashes: Sequence[str]) -> np.ndarray:
    """Hex PDQ hashes (64 digits each) as an ``(n, 4)`` uint64 array, first hex digit most significant."""
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    try:
        raw = b"".join(bytes.fromhex(h) for h in hashes)
    except ValueError:
        raw = b""
    if len(raw) != 32 * len(hashes):
        raise ValueError("every PDQ hash must be 64 hex digits")
    return np.frombuffer(raw, dtype=">u8").reshape(-1, 4).astype(np.uint64)


def unpack_hex(packed: np.ndarray) -> list[str]:
    big = np.ascontiguousarray(packed, dtype=">u8")
    return [row.tobytes().hex() for row in big]


@dataclass(frozen=True)
class Hit:
    """A stored hash within the threshold of query row ``query``."""

    query: int
    id: int
    distance: int


class PdqIndex:
    """Hashes within ``threshold`` of any query, with 100 % recall for thresholds up to 31."""

    def __init__(self, *, merge_at: int = 4096) -> None:
        self.merge_at = merge_at
        self._hashes = np.zeros((0, 4), dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.uint32)
        self._size = 0  # positions in the CSR tables
        # The 16 tables, one after another: table c is _tables[c * size : (c + 1) * size].
        self._tables = np.zeros(0, dtype=np.uint32)
        self._offsets = np.zeros((CHUNKS, _BUCKETS + 1), dtype=np.int64)
        self._buffer_hashes: list[np.ndarray] = []
        self._buffer_ids: list[np.ndarray] = []
        self._buffered = 0
        self.version = 0

    def __len__(self) -> int:
        return self._size + self._buffered

    @property
    def nbytes(self) -> int:
        """Bytes the index holds (tables, hashes, ids, offsets, buffer)."""
        return (
            self._hashes.nbytes
            + self._ids.nbytes
            + self._tables.nbytes
            + self._offsets.nbytes
            + sum(b.nbytes for b in self._buffer_hashes)
            + sum(b.nbytes for b in self._buffer_ids)
        )

    # --- building -------------------------------------------------------------------------------------

    def build(self, hashes: np.ndarray, ids: np.ndarray | Sequence[int], *, copy: bool = True) -> None:
        """Replace the contents with ``hashes`` (``(n, 4)`` uint64) and their ``ids``.

        ``copy=False`` takes over a contiguous uint64 array that owns its memory instead of copying it
        (large builds); any other array is copied, so that merges can always grow it in place.
        """
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        ids_array = _as_ids(ids, len(hashes))
        n = len(hashes)
        self._hashes = hashes if not copy and hashes.flags.owndata else hashes.copy()
        self._ids = ids_array
        self._size = n
        if n > MAX_POSITIONS:
            raise ValueError(f"one index holds at most {MAX_POSITIONS:,} hashes; shard larger sets")
        chunks = self._hashes.view(np.uint16)  # (n, 16): each 64-bit word as four 16-bit chunks
        self._tables = np.empty(CHUNKS * n, dtype=np.uint32)
        for c in range(CHUNKS):
            keys = chunks[:, c]
            # Stable radix sort of 16-bit keys: positions in each bucket stay ascending.
            order = np.argsort(keys, kind="stable").astype(np.uint32)
            self._tables[c * n : (c + 1) * n] = _entries(order, chunks[order, c ^ 1])
            del order
            counts = np.bincount(keys, minlength=_BUCKETS)
            self._offsets[c, 0] = 0
            np.cumsum(counts, out=self._offsets[c, 1:])
        self._buffer_hashes, self._buffer_ids, self._buffered = [], [], 0
        self.version += n

    def add(self, hashes: np.ndarray, ids: np.ndarray | Sequence[int]) -> None:
        """Insert hashes live: searchable as soon as this returns."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64).reshape(-1, 4)
        if not len(hashes):
            return
        self._buffer_hashes.append(hashes.copy())
        self._buffer_ids.append(_as_ids(ids, len(hashes)))
        self._buffered += len(hashes)
        self.version += len(hashes)
        if self._buffered >= self.merge_at:
            self.merge()

    def merge(self) -> None:
        """Move the append buffer into the CSR tables (each new position goes at its bucket's end)."""
        if not self._buffered:
            return
        new_hashes = np.concatenate(self._buffer_hashes)
        new_ids = np.concatenate(self._buffer_ids)
        n_old, n_new = self._size, len(new_hashes)
        if n_old + n_new > MAX_POSITIONS:
            raise ValueError(f"one index holds at most {MAX_POSITIONS:,} hashes; shard larger sets")
        if n_old + n_new > len(self._hashes):
            capacity = max(n_old + n_new, n_old + n_old // 8, 1024)
            self._hashes = _grown(self._hashes, (capacity, 4))
            self._ids = _grown(self._ids, (capacity,))
        self._hashes[n_old : n_old + n_new] = new_hashes
        self._ids[n_old : n_old + n_new] = new_ids
        positions = np.arange(n_old, n_old + n_new, dtype=np.uint32)
        chunks = new_hashes.view(np.uint16)
        n_all = n_old + n_new
        self._tables = _grown(self._tables, (CHUNKS * n_all,))
        # Last table first, each moved to its new place with its new entries: a table's new region never
        # overlaps a table not yet moved, and only one table (not all sixteen) is copied at a time.
        for c in reversed(range(CHUNKS)):
            keys = chunks[:, c].astype(np.int64)
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            # Inserting before offsets[key + 1] puts each new position at the end of its bucket.
            merged = np.insert(
                self._tables[c * n_old : (c + 1) * n_old],
                self._offsets[c, keys + 1],
                _entries(positions[order], chunks[order, c ^ 1]),
            )
            self._tables[c * n_all : (c + 1) * n_all] = merged
            self._offsets[c, 1:] += np.cumsum(np.bincount(keys, minlength=_BUCKETS))
        self._size = n_all
        self._buffer_hashes, self._buffer_ids, self._buffered = [], [], 0

    # --- searching ------------------------------------------------------------------------------------

    def search(self, queries: np.ndarray, threshold: int) -> list[Hit]:
        """Every stored hash within ``threshold`` bits of each query row (``(q, 4)`` uint64), deduplicated."""
        if not 0 <= threshold <= MAX_THRESHOLD:
            raise ValueError(f"threshold must be 0–{MAX_THRESHOLD} (the index's pigeonhole guarantee)")
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, 4)
        rows: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        distances: list[np.ndarray] = []
        if self._size and len(queries):
            q, p, d = self._search_tables(queries, threshold)
            rows.append(q)
            positions.append(self._ids[p])
            distances.append(d)
        if self._buffered:
            q, i, d = self._search_buffer(queries, threshold)
            rows.append(q)
            positions.append(i)
            distances.append(d)
        if not rows:
            return []
        all_rows = np.concatenate(rows)
        all_ids = np.concatenate(positions)
        all_dist = np.concatenate(distances)
        seen: set[tuple[int, int]] = set()
        hits: list[Hit] = []
        for row, ident, dist in zip(all_rows.tolist(), all_ids.tolist(), all_dist.tolist(), strict=True):
            if (row, ident) not in seen:
                seen.add((row, ident))
                hits.append(Hit(row, ident, dist))
        return hits

    def _search_tables(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qchunks = queries.view(np.uint16).astype(np.int64)  # (q, 16)
        # Probes ordered (probe, query, chunk): every exact-value probe first, then the one-bit neighbours.
        probes = qchunks[None, :, :] ^ _FLIPS[:, None, None].astype(np.int64)  # (17, q, 16)
        chunk_of = np.arange(CHUNKS)[None, None, :]
        starts = self._offsets[chunk_of, probes].reshape(-1)
        ends = self._offsets[chunk_of, probes + 1].reshape(-1)
        # Hashes within 31 bits have a 32-bit chunk pair (chunks 2k, 2k + 1) within 3 bits, and the half of
        # it within 1 bit is probed; so the other half's low byte (kept in each table entry) is within
        # 3 bits after an exact probe and within 2 after a one-bit probe. This drops ~85 % of candidates
        # before any random access to the hashes.
        partner = (qchunks[:, np.arange(CHUNKS) ^ 1] & 0xFF).astype(np.uint8).reshape(-1)  # (q * 16,)
        lengths = ends - starts
        nonempty = np.flatnonzero(lengths)
        if not len(nonempty):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        per_probe = len(qchunks) * CHUNKS  # ranges per probe value; range r is (probe, query, chunk)
        # Every probed bucket's entries, gathered in one pass: index = a running sum of steps that are 1
        # inside a bucket and jump to the next bucket's start between buckets.
        counts = lengths[nonempty]
        begins = (nonempty % CHUNKS) * self._size + starts[nonempty]
        ends_in_entries = np.cumsum(counts)
        step = np.ones(int(ends_in_entries[-1]), dtype=np.int64)
        step[0] = begins[0]
        step[ends_in_entries[:-1]] = begins[1:] - (begins[:-1] + counts[:-1]) + 1
        entries = self._tables[np.cumsum(step)]
        exact_total = (
            int(ends_in_entries[np.searchsorted(nonempty, per_probe) - 1]) if nonempty[0] < per_probe else 0
        )
        wanted = np.repeat(partner[nonempty % per_probe], counts)
        byte_distance = np.bitwise_count(entries.view(np.uint8)[::4] ^ wanted)
        near = np.empty(len(entries), dtype=bool)
        np.less_equal(byte_distance[:exact_total], 3, out=near[:exact_total])
        np.less_equal(byte_distance[exact_total:], 2, out=near[exact_total:])
        keep = np.flatnonzero(near)
        # The range (hence the query row) of each kept entry, found from the kept ones only.
        range_of = nonempty[np.searchsorted(ends_in_entries, keep, side="right")]
        query_of = (range_of % per_probe) // CHUNKS
        candidates = (entries[keep] >> np.uint32(8)).astype(np.intp)
        stored = np.take(self._hashes, candidates, axis=0)
        distance = np.bitwise_count(stored ^ queries[query_of]).sum(axis=1, dtype=np.int64)
        ok = distance <= threshold
        return query_of[ok], candidates[ok].astype(np.int64), distance[ok]

    def _search_buffer(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hashes = np.concatenate(self._buffer_hashes)
        ids = np.concatenate(self._buffer_ids)
        dist = np.bitwise_count(queries[:, None, :] ^ hashes[None, :, :]).sum(axis=2, dtype=np.int64)
        q, j = np.nonzero(dist <= threshold)
        return q, ids[j].astype(np.int64), dist[q, j]


def _grown(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` enlarged to ``shape`` (new rows zero), in place where the allocator can (realloc/mremap
    moves large blocks without copying them, so growing does not briefly hold two copies)."""
    try:
        array.resize(shape, refcheck=False)
        return array
    except ValueError:  # a view, or not owning its memory: copy
        grown = np.zeros(shape, dtype=array.dtype)
        grown[: len(array)] = array
        return grown


def _as_ids(ids: np.ndarray | Iterable[int], n: int) -> np.ndarray:
    array = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
    if array.shape != (n,):
        raise ValueError(f"expected {n} ids, got shape {array.shape}")
    if n and (array.min() < 0 or array.max() > np.iinfo(np.uint32).max):
        raise ValueError("ids must fit in 32 bits (0 … 4,294,967,295)")
    return array.astype(np.uint32)
