"""An index of the face embeddings in every case (FAISS), kept in step with the database, for finding one
face across cases.

Why FAISS ``IndexIVFFlat`` (docs/faces.md): a face search is a *range* search (every face within the match
distance, 0.6), and the answer must hold at that threshold. IVF-Flat keeps the vectors whole, so every
distance it reports is exact and a face it finds within the threshold is truly within it; the only loss is
a face whose cell is not probed, which ``nprobe`` bounds (measured recall in bench/p9_faces.py). It supports
``range_search``, ``add_with_ids`` and ``remove_ids``, which HNSW does not (no removal), and product
quantisation would approximate the very distance the threshold is applied to. Below ``IVF_FROM`` faces the
index is exact (``IndexFlatL2``): clustering a few thousand points buys nothing.

In step with the database, per process, as the PDQ index is (``detection.matching.LiveIndex``):

* faces landing: annotations with an id above a high-water mark (plus ids skipped by transactions not yet
  committed, re-read until they appear or are given up) are added before every search;
* faces rejected by an investigator, items destroyed, a rejection reversed: the custody ledger is the
  change log. Its ``seq`` is gap-free in commit order (appends serialise on the ledger lock), so reading the
  ``finding_reviewed`` and ``destroyed`` events after the last ``seq`` seen says which faces to re-check;
* the index only proposes: every hit is re-read from the database and its distance recomputed from the
  stored embedding before anyone sees it.

``manage.py face_index rebuild`` builds the index from the database and saves it under
``DATA_DIR/face-index/`` (one file per embedding model); a process loads the file and catches up from the
marks saved with it instead of reading every embedding again. A file whose ledger position does not match
this database's (a restored or different database) is ignored.
"""

import json
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q

from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent

DIM = 128
FACE_LABEL = "face"
FACE_DETECTOR = "faces"
IVF_FROM = 20_000  # faces at which the index is clustered (IVF); below, exact search is as fast
NPROBE = 128  # cells visited per query (of about 4 √n): at a million faces 99.3 % of exact search at 0.6
INDEX_FORMAT = "faiss-v1"


def _faiss() -> Any:
    """FAISS, imported where first needed: its native library is large, and every process that loads the
    parties app (an ingest under a memory cap, a web worker) need not map it."""
    import faiss

    return faiss


DEFAULT_MAX_DISTANCE = 0.6  # dlib's standard: same person at or below it (99.38 % on LFW, dlib-models README)
_READ_CHUNK = 10_000  # faces read from the database at a time
_GAP_PATIENCE_S = 600  # ids seen missing below the high-water mark are re-read this long
_CHANGES = (CustodyAction.FINDING_REVIEWED, CustodyAction.DESTROYED)


def match_max_distance() -> float:
    """The Euclidean embedding distance at or below which a face is suggested as the same person."""
    return float(getattr(settings, "HAETAE_FACE_MATCH_MAX_DISTANCE", DEFAULT_MAX_DISTANCE))


@dataclass(frozen=True)
class FaceHit:
    """A stored face within the distance of query row ``query``."""

    query: int
    annotation_id: int
    distance: float


def nlist_for(count: int) -> int:
    """IVF cells for ``count`` faces: about 4 √n, a power of two (4,096 at a million)."""
    return 1 << max(6, round(math.log2(4 * math.sqrt(max(count, 1)))))


class FaceVectors:
    """128-d embeddings under annotation ids: exact below ``IVF_FROM`` faces, IVF-Flat from there."""

    def __init__(self, *, nprobe: int = NPROBE) -> None:
        self.nprobe = nprobe
        self._index: Any = _faiss().IndexIDMap2(_faiss().IndexFlatL2(DIM))
        self._ids: set[int] = set()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def kind(self) -> str:
        if isinstance(self._index, _faiss().IndexIVFFlat):
            return f"ivfflat nlist={self._index.nlist} nprobe={self._index.nprobe}"
        return "flat"

    def build(self, vectors: np.ndarray, ids: np.ndarray | Iterable[int], *, seed: int = 0) -> None:
        """Replace the contents; trains the IVF cells on a sample when there are ``IVF_FROM`` or more."""
        vectors = _as_vectors(vectors)
        ids_array = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        if len(ids_array) != len(vectors):
            raise ValueError(f"expected {len(vectors)} ids, got {len(ids_array)}")
        if len(vectors) < IVF_FROM:
            self._index = _faiss().IndexIDMap2(_faiss().IndexFlatL2(DIM))
        else:
            nlist = nlist_for(len(vectors))
            index = _faiss().IndexIVFFlat(_faiss().IndexFlatL2(DIM), DIM, nlist)
            sample = np.random.default_rng(seed).choice(
                len(vectors), min(len(vectors), nlist * 40), replace=False
            )
            index.train(vectors[np.sort(sample)])
            index.nprobe = self.nprobe
            self._index = index
        self._index.add_with_ids(vectors, ids_array)
        self._ids = set(ids_array.tolist())

    def add(self, vectors: np.ndarray, ids: Iterable[int]) -> None:
        """Insert faces (ids already held are skipped); searchable when this returns."""
        vectors = _as_vectors(vectors)
        fresh = [(row, int(pk)) for row, pk in enumerate(ids) if int(pk) not in self._ids]
        if not fresh:
            return
        rows = [row for row, _ in fresh]
        self._index.add_with_ids(vectors[rows], np.asarray([pk for _, pk in fresh], dtype=np.int64))
        self._ids.update(pk for _, pk in fresh)
        if isinstance(self._index, _faiss().IndexIDMap2) and len(self._ids) >= 2 * IVF_FROM:
            self._cluster()

    def remove(self, ids: Iterable[int]) -> int:
        """Take faces out; returns how many were held."""
        held = [int(pk) for pk in ids if int(pk) in self._ids]
        if held:
            self._index.remove_ids(np.asarray(held, dtype=np.int64))
            self._ids.difference_update(held)
        return len(held)

    def __contains__(self, annotation_id: int) -> bool:
        return annotation_id in self._ids

    def search(self, queries: np.ndarray, max_distance: float) -> list[FaceHit]:
        """Every held face within ``max_distance`` (Euclidean) of each query row."""
        queries = _as_vectors(queries)
        if not len(self._ids) or not len(queries):
            return []
        # FAISS's L2 is squared; a hair of slack so float32 rounding never drops a face at the threshold.
        limits, distances, labels = self._index.range_search(queries, float(max_distance) ** 2 * (1 + 1e-5))
        hits = []
        for row in range(len(queries)):
            for at in range(int(limits[row]), int(limits[row + 1])):
                hits.append(FaceHit(row, int(labels[at]), math.sqrt(max(float(distances[at]), 0.0))))
        return hits

    def _cluster(self) -> None:
        """Grown past the exact index's size by live additions: cluster what it holds."""
        flat: Any = _faiss().downcast_index(self._index.index)
        vectors = _faiss().rev_swig_ptr(flat.get_xb(), flat.ntotal * DIM).reshape(-1, DIM).copy()
        ids = _faiss().vector_to_array(self._index.id_map).astype(np.int64)
        self.build(vectors, ids)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    def load(self, path: Path) -> None:
        index = _faiss().read_index(str(path))  # already its concrete class, and owning its memory
        if isinstance(index, _faiss().IndexIVFFlat):
            index.nprobe = self.nprobe
            ids = _ivf_ids(index)
        elif isinstance(index, _faiss().IndexIDMap2) and index.d == DIM:
            ids = _faiss().vector_to_array(index.id_map).astype(np.int64)
        else:
            raise ValueError(f"{path} is not a face index")
        self._index = index
        self._ids = set(ids.tolist())


def _ivf_ids(index: Any) -> np.ndarray:
    invlists = index.invlists
    parts = [
        _faiss().rev_swig_ptr(invlists.get_ids(cell), invlists.list_size(cell)).copy()
        for cell in range(index.nlist)
        if invlists.list_size(cell)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _as_vectors(vectors: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, DIM)
    return array


def eligible_faces(model_sha256: str) -> Any:
    """Face findings of one embedding model that search may propose: not rejected, item not destroyed."""
    return (
        Annotation.objects.filter(label=FACE_LABEL, detector_name=FACE_DETECTOR, model_sha256=model_sha256)
        .exclude(review_status=ReviewStatus.REJECTED)
        .exclude(item__status=ItemStatus.DESTROYED)
    )


def _vectors(queryset: Any) -> tuple[np.ndarray, list[int]]:
    """The faces' embeddings as one float32 array and their ids, read in chunks (a million faces as Python
    lists of floats would be gigabytes; as float32 they are 512 MB)."""
    parts: list[np.ndarray] = []
    ids: list[int] = []
    batch: list[list[float]] = []
    rows = queryset.values_list("pk", "details__embedding").order_by("pk")
    for pk, embedding in rows.iterator(chunk_size=_READ_CHUNK):
        if isinstance(embedding, list) and len(embedding) == DIM:
            batch.append(embedding)
            ids.append(int(pk))
        if len(batch) == _READ_CHUNK:
            parts.append(np.asarray(batch, dtype=np.float32))
            batch = []
    if batch:
        parts.append(np.asarray(batch, dtype=np.float32))
    return (np.concatenate(parts) if parts else np.zeros((0, DIM), dtype=np.float32)), ids


def _chunks(values: list[int], size: int = 5_000) -> Iterator[list[int]]:
    """``values`` in lists of at most ``size`` (SQLite caps the parameters of one query)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _top_seq() -> int:
    return int(CustodyEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0)


def _top_annotation() -> int:
    return int(Annotation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)


def _leaf_at(seq: int) -> str:
    return str(CustodyEvent.objects.filter(seq=seq).values_list("leaf_hash", flat=True).first() or "")


class LiveFaceIndex:
    """The faces of one embedding model, caught up with the database before each search."""

    def __init__(self, model_sha256: str) -> None:
        self.model_sha256 = model_sha256
        self.vectors = FaceVectors()
        self.high_water = 0  # annotation id
        self.seq = 0  # custody ledger position
        self._gaps: dict[int, float] = {}
        self._lock = threading.Lock()
        self._started = False

    @property
    def version(self) -> str:
        held = f"faces={len(self.vectors)} annotation@{self.high_water} ledger@{self.seq}"
        return f"{INDEX_FORMAT} {self.vectors.kind} {held}"

    def rebuild(self) -> None:
        """Read every eligible face of the model from the database."""
        with self._lock:
            self._rebuild()

    def _rebuild(self) -> None:
        seq, top = _top_seq(), _top_annotation()
        vectors, ids = _vectors(eligible_faces(self.model_sha256).filter(pk__lte=top))
        self.vectors = FaceVectors()
        self.vectors.build(vectors, ids)
        self.high_water, self.seq, self._gaps, self._started = top, seq, {}, True

    def sync(self) -> None:
        """Add faces committed since the last sync; take out or put back faces the ledger says changed."""
        with self._lock:
            if not self._started:
                if not self._load():
                    self._rebuild()
                return self._catch_up()
            if _top_annotation() < self.high_water or _top_seq() < self.seq:  # a restored database
                self._rebuild()
            self._catch_up()

    def search(self, queries: np.ndarray, max_distance: float) -> list[FaceHit]:
        """Catch up, then every held face within ``max_distance`` of each query (under the index's lock, so
        that no other thread changes the index while FAISS reads it)."""
        self.sync()
        with self._lock:
            return self.vectors.search(queries, max_distance)

    def _catch_up(self) -> None:
        now = time.monotonic()
        seq = _top_seq()
        rows = list(
            Annotation.objects.filter(Q(pk__gt=self.high_water) | Q(pk__in=list(self._gaps))).values_list(
                "pk", flat=True
            )
        )
        seen = set(rows)
        if seen:
            # By range, not by a list of ids (SQLite caps the parameters of one query).
            found_gaps = [pk for pk in seen if pk in self._gaps]
            fresh = Q(pk__gt=self.high_water, pk__lte=max(seen)) | Q(pk__in=found_gaps)
            vectors, ids = _vectors(eligible_faces(self.model_sha256).filter(fresh))
            self.vectors.add(vectors, ids)
        for pk in seen:
            self._gaps.pop(pk, None)
        new_top = max((pk for pk in seen if pk > self.high_water), default=self.high_water)
        new_ids = {pk for pk in seen if pk > self.high_water}
        if len(new_ids) < new_top - self.high_water:
            for missing in set(range(self.high_water + 1, new_top + 1)) - new_ids:
                self._gaps.setdefault(missing, now)
        self._gaps = {pk: t for pk, t in self._gaps.items() if now - t < _GAP_PATIENCE_S}
        self.high_water = new_top
        self._apply_changes(upto=seq)

    def _apply_changes(self, *, upto: int) -> None:
        events = CustodyEvent.objects.filter(seq__gt=self.seq, seq__lte=upto, action__in=_CHANGES)
        touched: set[int] = set()
        destroyed_items: set[int] = set()
        for action, item_id, annotation_id in events.values_list("action", "item_id", "details__annotation"):
            if action == CustodyAction.FINDING_REVIEWED and annotation_id is not None:
                touched.add(int(annotation_id))
            elif action == CustodyAction.DESTROYED and item_id is not None:
                destroyed_items.add(int(item_id))
        for items in _chunks(sorted(destroyed_items)):
            of_items = Annotation.objects.filter(item_id__in=items, label=FACE_LABEL)
            touched.update(of_items.values_list("pk", flat=True))
        for chunk in _chunks(sorted(pk for pk in touched if pk <= self.high_water)):
            vectors, ids = _vectors(eligible_faces(self.model_sha256).filter(pk__in=chunk))
            self.vectors.remove(set(chunk) - set(ids))
            self.vectors.add(vectors, ids)
        self.seq = upto

    # --- the saved copy -------------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write the index and its marks (annotation high-water, gaps, ledger position and leaf hash)."""
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{self.model_sha256}.faiss"
            self.vectors.save(path.with_suffix(".faiss.tmp"))
            path.with_suffix(".faiss.tmp").replace(path)
            meta = {
                "format": INDEX_FORMAT,
                "model_sha256": self.model_sha256,
                "high_water": self.high_water,
                "gaps": sorted(self._gaps),
                "seq": self.seq,
                "leaf_hash": _leaf_at(self.seq),
                "faces": len(self.vectors),
            }
            path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
            return path

    def _load(self) -> bool:
        path = index_dir() / f"{self.model_sha256}.faiss"
        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            return False
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != INDEX_FORMAT or meta.get("model_sha256") != self.model_sha256:
                return False
            seq = int(meta["seq"])
            if _leaf_at(seq) != meta.get("leaf_hash") or _top_annotation() < int(meta["high_water"]):
                return False  # not this database's history
            vectors = FaceVectors()
            vectors.load(path)
        except (OSError, ValueError, KeyError, RuntimeError):
            return False
        now = time.monotonic()
        self.vectors, self.high_water, self.seq = vectors, int(meta["high_water"]), seq
        self._gaps = {int(pk): now for pk in meta.get("gaps", [])}
        self._started = True
        return True


def index_dir() -> Path:
    return Path(settings.DATA_DIR) / "face-index"


_indexes: dict[str, LiveFaceIndex] = {}
_indexes_lock = threading.Lock()


def face_index(model_sha256: str) -> LiveFaceIndex:
    """This process's index of the faces embedded by one model."""
    with _indexes_lock:
        if model_sha256 not in _indexes:
            _indexes[model_sha256] = LiveFaceIndex(model_sha256)
        return _indexes[model_sha256]


def face_index_models() -> list[str]:
    """The embedding models of the face findings in the database."""
    rows = Annotation.objects.filter(label=FACE_LABEL, detector_name=FACE_DETECTOR)
    return sorted(set(rows.values_list("model_sha256", flat=True).distinct()))


def reset_face_indexes() -> None:
    """Forget the in-memory indexes (tests; they load or rebuild on next use)."""
    with _indexes_lock:
        _indexes.clear()
