"""The platform hash list as a file: JSON (with its metadata) or CSV, one row per hash."""

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PdqHash:
    hash: str
    quality: int
    frame_ms: int | None = None


@dataclass
class HashListEntry:
    """One distinct file (by SHA-256) that depicts the victim: its digests and perceptual hashes."""

    sha256: str
    md5: str
    size: int
    content_type: str
    pdq: list[PdqHash] = field(default_factory=list)


HASH_EXPORT_CSV_COLUMNS = ["signal_type", "signal", "content_type", "file_sha256", "pdq_quality", "frame_ms"]


def content_type_of(mime: str) -> str:
    if mime.startswith("image/"):
        return "photo"
    if mime.startswith("video/"):
        return "video"
    return "other"


def render_json(entries: list[HashListEntry], meta: dict[str, Any]) -> bytes:
    document = {
        **meta,
        "files": [
            {
                "sha256": entry.sha256,
                "md5": entry.md5,
                "size": entry.size,
                "content_type": entry.content_type,
                "pdq": [
                    {
                        "hash": p.hash,
                        "quality": p.quality,
                        **({"frame_ms": p.frame_ms} if p.frame_ms is not None else {}),
                    }
                    for p in entry.pdq
                ],
            }
            for entry in entries
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def render_csv(entries: list[HashListEntry]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HASH_EXPORT_CSV_COLUMNS)
    for entry in entries:
        writer.writerow(["sha256", entry.sha256, entry.content_type, entry.sha256, "", ""])
        writer.writerow(["md5", entry.md5, entry.content_type, entry.sha256, "", ""])
        for pdq in entry.pdq:
            frame = "" if pdq.frame_ms is None else str(pdq.frame_ms)
            writer.writerow(["pdq", pdq.hash, entry.content_type, entry.sha256, str(pdq.quality), frame])
    return out.getvalue().encode()
