"""What an ingest reads: files and folders on disk, uploads, and ZIP members, described as findings.

A finding is one thing found at one place: a file to read, or something recorded without its content (a
symbolic link, a device, an unreadable folder). This module never touches the database or the vault; it
names things bytes-safely, identifies each place with a locator hash, and opens content defensively
(no symlink is followed, no FIFO is opened, no archive member is extracted to disk).
"""

import hashlib
import itertools
import os
import re
import stat
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from evidence.choices import ItemKind

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Below this many decompressed bytes a member is never called a bomb, whatever its ratio (tiny members of
# zeros compress 1000:1 and are harmless).
RATIO_FLOOR_BYTES = 4 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(rb"^[A-Za-z]:")


@dataclass(frozen=True)
class PathSource:
    """A file or folder on disk to ingest (folders recursively); symbolic links are never followed."""

    path: Path | bytes


@dataclass(frozen=True)
class UploadSource:
    """An uploaded file (e.g. a Django UploadedFile), read once as a stream."""

    name: str
    stream: BinaryIO


def display_name(raw: bytes) -> str:
    """Bytes as a person reads them: UTF-8, with undecodable bytes and control characters as \\xNN."""
    text = raw.decode("utf-8", errors="backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def locator_sha256(*parts: bytes) -> str:
    """SHA-256 over length-prefixed parts: identifies one place where something was found."""
    digest = hashlib.sha256(b"haetae-locator-v1")
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _utc(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=rest // 1000)


@dataclass
class Finding:
    """One thing found at one place, with how to read it (``opener``) or why it is not read."""

    kind: str
    raw_path: bytes  # the full place: absolute path, or container path + b"!/" + member name
    raw_name: bytes
    locator: str
    opener: Callable[[], BinaryIO] | None = None
    reject_reason: str = ""
    note: str = ""
    link_target: str = ""
    parent_id: int | None = None
    member_index: int | None = None
    depth: int = 0  # how many archives deep this finding lies
    modified_at: datetime | None = None
    accessed_at: datetime | None = None
    changed_at: datetime | None = None
    expect_stat: tuple[int, int] | None = None  # (st_dev, st_ino) seen by lstat, re-checked after open
    size_hint: int = 0  # the size the source claims (lstat, ZIP header): bounds read-ahead, never trusted
    budget: "ArchiveBudget | None" = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return display_name(self.raw_path)

    @property
    def name(self) -> str:
        return display_name(self.raw_name)


class NotRegularFile(OSError):
    """What was opened is not the regular file lstat saw (swapped while we looked)."""


def open_regular(path: bytes, expect: tuple[int, int] | None) -> BinaryIO:
    """Open a regular file without following a symlink or blocking on a FIFO, and check it is the same."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(0, "it stopped being a regular file between listing and opening")
        if expect is not None and (st.st_dev, st.st_ino) != expect:
            raise NotRegularFile(0, "it was replaced by another file between listing and opening")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=0)


def _path_finding(raw_path: bytes, *, source_label: str) -> Finding:
    """Describe whatever lstat finds at ``raw_path`` (never following a symlink)."""
    # os.path on bytes throughout: pathlib has no bytes paths, and names need not be UTF-8.
    raw_name = os.path.basename(raw_path.rstrip(b"/")) or raw_path  # noqa: PTH119
    locator = locator_sha256(b"path", source_label.encode(), raw_path)
    finding = Finding(kind=ItemKind.FILE, raw_path=raw_path, raw_name=raw_name, locator=locator)
    try:
        st = os.lstat(raw_path)
    except OSError as exc:
        finding.reject_reason = f"could not be examined: {exc.strerror} (errno {exc.errno})"
        return finding
    finding.modified_at = _utc(st.st_mtime_ns)
    finding.accessed_at = _utc(st.st_atime_ns)
    finding.changed_at = _utc(st.st_ctime_ns)
    if stat.S_ISLNK(st.st_mode):
        try:
            target = display_name(os.readlink(raw_path))  # noqa: PTH115
        except OSError as exc:
            target = f"(unreadable: {exc.strerror})"
        finding.kind = ItemKind.SYMLINK
        finding.link_target = target
        finding.reject_reason = (
            f"symbolic link to {target} — recorded, not followed; ingest the target itself if it is evidence"
        )
    elif stat.S_ISREG(st.st_mode):
        finding.expect_stat = (st.st_dev, st.st_ino)
        finding.opener = lambda: open_regular(raw_path, finding.expect_stat)
        finding.size_hint = st.st_size
        if st.st_size == 0:
            finding.note = "empty file (0 bytes)"
    else:
        what = (
            "named pipe (FIFO)"
            if stat.S_ISFIFO(st.st_mode)
            else "socket"
            if stat.S_ISSOCK(st.st_mode)
            else "device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "special file"
        )
        finding.kind = ItemKind.SPECIAL
        finding.reject_reason = (
            f"{what}, not a regular file: recorded, never opened (reading it could block or has no fixed "
            "content); image the device with a forensic imager and ingest the image"
        )
    return finding


def walk_path(raw_path: bytes, *, source_label: str) -> Iterator[Finding]:
    """Findings under ``raw_path``: the file itself, or every entry of a folder tree in sorted order."""
    try:
        is_dir = stat.S_ISDIR(os.lstat(raw_path).st_mode)
    except OSError:
        is_dir = False
    if not is_dir:
        yield _path_finding(raw_path, source_label=source_label)
        return
    stack: list[bytes] = [raw_path]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(entry.name for entry in listing)
        except OSError as exc:
            finding = _path_finding(folder, source_label=source_label)
            finding.opener = None
            finding.reject_reason = (
                f"folder could not be listed: {exc.strerror} (errno {exc.errno}); its files were not "
                "ingested — give the ingesting user access and ingest it again"
            )
            yield finding
            continue
        subfolders = []
        for name in entries:
            child = os.path.join(folder, name)  # noqa: PTH118
            try:
                child_is_dir = stat.S_ISDIR(os.lstat(child).st_mode)
            except OSError:
                child_is_dir = False
            if child_is_dir:
                subfolders.append(child)
            else:
                yield _path_finding(child, source_label=source_label)
        # Depth-first, in name order: push in reverse so the first name is walked first.
        stack.extend(reversed(subfolders))


def upload_finding(source: UploadSource, *, source_label: str) -> Finding:
    """The finding for an uploaded file: its place is the name the uploader gave."""
    raw = source.name.encode("utf-8", errors="surrogateescape")
    return Finding(
        kind=ItemKind.UPLOAD,
        raw_path=raw,
        raw_name=raw.rsplit(b"/", 1)[-1] or raw,
        locator=locator_sha256(b"upload", source_label.encode(), raw),
        opener=lambda: source.stream,
    )


def is_zip(head: bytes) -> bool:
    return head[:4] in ZIP_MAGICS


class ArchiveLimitExceeded(Exception):
    """Reading an archive member passed a zip-bomb limit."""

    def __init__(self, reason: str, *, stops_archive: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stops_archive = stops_archive


class ArchiveBudget:
    """Decompressed bytes and members read so far under one top-level archive (nested ones included)."""

    def __init__(
        self, *, max_bytes: int, max_members: int, limit_name: str = "HAETAE_MAX_ARCHIVE_EXPANDED_BYTES"
    ) -> None:
        self.max_bytes = max_bytes
        self.max_members = max_members
        self.limit_name = limit_name
        self.expanded = 0
        self.members = 0
        self.stopped = ""
        self._lock = threading.Lock()

    def count_member(self) -> bool:
        """Count one more member; False once the member limit is passed."""
        with self._lock:
            self.members += 1
            return self.members <= self.max_members

    def charge(self, size: int) -> None:
        with self._lock:
            self.expanded += size
            over = self.expanded > self.max_bytes
            if over and not self.stopped:
                self.stopped = (
                    f"more than {self.max_bytes} bytes would be decompressed from this archive "
                    f"({self.limit_name})"
                )
        if over:
            raise ArchiveLimitExceeded(self.stopped, stops_archive=True)


class _GuardedMember:
    """A member stream that counts the bytes really decompressed (declared sizes can lie)."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        limit: int,
        budget: ArchiveBudget,
        compressed: int,
        close_lock: threading.Lock,
    ) -> None:
        self._stream = stream
        self._close_lock = close_lock
        self._limit = limit
        self._budget = budget
        self._compressed = compressed
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._read += len(data)
        if self._read > self._limit:
            raise ArchiveLimitExceeded(
                f"not extracted: it expands to more than {self._limit} bytes from {self._compressed} "
                "compressed (beyond HAETAE_MAX_COMPRESSION_RATIO): a likely zip bomb; the archive itself "
                "is kept whole",
                stops_archive=False,
            )
        self._budget.charge(len(data))
        return data

    def close(self) -> None:
        with self._close_lock:  # ZipFile's handle reference count is not thread-safe
            self._stream.close()

    def __enter__(self) -> "_GuardedMember":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A local file header is 30 bytes before its name and extra field.
_LOCAL_HEADER_BYTES = 30


def zip_overlap(archive: zipfile.ZipFile) -> str:
    """Why the archive's entries overlap (a zip bomb that makes one compressed stream count many
    times), or ''. Each entry occupies at least its local header, name and compressed data from its
    header offset on; in a well-formed archive those spans are disjoint and end before the central
    directory. Checked from the central directory alone, before any member is read."""
    spans = sorted(
        (
            info.header_offset,
            info.header_offset + _LOCAL_HEADER_BYTES + len(member_raw_name(info)) + info.compress_size,
            index,
        )
        for index, info in enumerate(archive.infolist())
    )
    directory = int(getattr(archive, "start_dir", 0) or 0)
    for (start, end, index), (next_start, _next_end, next_index) in itertools.pairwise(spans):
        if next_start < end:
            return (
                f"overlapping entries: member {next_index} begins at byte {next_start}, inside member "
                f"{index} (bytes {start}-{end}); such an archive makes one compressed stream expand many "
                "times (a zip bomb)"
            )
    if spans and directory and spans[-1][1] > directory:
        start, end, index = spans[-1]
        return (
            f"overlapping entries: member {index} (bytes {start}-{end}) runs into the central directory "
            f"at byte {directory} (a zip bomb or a damaged archive)"
        )
    return ""


_IMAGE_ENDS = {
    "image/jpeg": (b"\xff\xd9", "JPEG's end of image (EOI)"),
    "image/png": (b"IEND\xae\x42\x60\x82", "PNG's IEND chunk"),
}


class SeekableReader(Protocol):
    """What ``appended_zip`` reads from: a file object, or the vault's decrypting reader."""

    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...


def appended_zip(reader: SeekableReader, mime: str) -> str:
    """Why this JPEG or PNG is also a ZIP archive (a polyglot: an archive appended after the image), or ''.

    The archive is recognised as Python's ``zipfile`` recognises one: an end-of-central-directory record
    near the end of the file whose entries lie after leading data (the image)."""
    if mime not in _IMAGE_ENDS:
        return ""
    try:
        with zipfile.ZipFile(reader) as archive:
            entries = archive.infolist()
            if not entries:
                return ""
            start = min(info.header_offset for info in entries)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return ""
    if start <= 0:
        return ""
    marker, what = _IMAGE_ENDS[mime]
    reader.seek(max(0, start - 65536))
    before = reader.read(start - max(0, start - 65536))
    found = before.rfind(marker)
    ends = f"after the {what}" if found >= 0 else "after the image data"
    return (
        f"polyglot: a ZIP archive of {len(entries)} {'entry' if len(entries) == 1 else 'entries'} is "
        f"appended {ends}, from byte {start}: the file shows as an image and also opens as an archive"
    )


def member_raw_name(info: zipfile.ZipInfo) -> bytes:
    """The member name's bytes as stored: UTF-8 when flag 0x800 says so, else CP437 (both round-trip)."""
    if info.flag_bits & 0x800:
        return info.orig_filename.encode("utf-8", errors="surrogateescape")
    return info.orig_filename.encode("cp437")


def hostile_name_warning(raw: bytes) -> str:
    """Why a member name would be dangerous to extract (zip slip), or ''."""
    parts = re.split(rb"[/\\]", raw)
    if raw.startswith((b"/", b"\\")) or _DRIVE.match(raw):
        problem = "an absolute path"
    elif b".." in parts:
        problem = "a path that climbs out of the folder ('..')"
    else:
        return ""
    return (
        f"hostile name: {problem} that would escape the target folder if extracted (zip slip); Haetae "
        "never extracts to disk, so the content is stored and the name recorded verbatim"
    )


def _zip_time_utc(info: zipfile.ZipInfo) -> datetime | None:
    """The member's modification time from the extended-timestamp field (UTC), when the archive has one."""
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag = int.from_bytes(extra[pos : pos + 2], "little")
        size = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(int.from_bytes(body[1:5], "little", signed=True), UTC)
        pos += 4 + size
    return None


def zip_member_findings(
    archive: zipfile.ZipFile,
    *,
    container_raw_path: bytes,
    container_id: int,
    depth: int,
    budget: ArchiveBudget,
    max_ratio: int,
    open_lock: threading.Lock,
) -> Iterator[Finding]:
    """One finding per member of an open archive, in directory order; stops when the budget says so."""
    members = archive.infolist()
    seen_names: dict[bytes, int] = {}
    for index, info in enumerate(members):
        if budget.stopped:
            return
        if info.is_dir() and info.compress_size == 0 and info.file_size == 0:
            continue  # a folder entry has no content; its name survives in the stored archive
        raw_name = member_raw_name(info)
        finding = Finding(
            kind=ItemKind.ARCHIVE_MEMBER,
            raw_path=container_raw_path + b"!/" + raw_name,
            raw_name=raw_name.rstrip(b"/").rsplit(b"/", 1)[-1] or raw_name,
            locator=locator_sha256(b"member", str(container_id).encode(), str(index).encode(), raw_name),
            parent_id=container_id,
            member_index=index,
            depth=depth,
            modified_at=_zip_time_utc(info),
            size_hint=info.file_size,
            budget=budget,
            details={"zip_date_time": "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*info.date_time)},
        )
        notes = [hostile_name_warning(raw_name)]
        if raw_name in seen_names:
            notes.append(f"another member of this archive has the same name (member {seen_names[raw_name]})")
        seen_names.setdefault(raw_name, index)
        if info.file_size == 0:
            notes.append("empty file (0 bytes)")
        finding.note = "; ".join(n for n in notes if n)
        if not budget.count_member():
            budget.stopped = (
                f"it has more than {budget.max_members} members (HAETAE_MAX_ARCHIVE_MEMBERS); this member "
                f"and the {len(members) - index - 1} after it were not extracted"
            )
            finding.reject_reason = f"not extracted: the archive {budget.stopped}"
            yield finding
            return
        if info.flag_bits & 0x1:
            finding.reject_reason = (
                "encrypted: a password is needed to read it; the archive is kept whole, so it can be "
                "opened with the password later"
            )
            yield finding
            continue
        limit = max(max_ratio * max(info.compress_size, 1), RATIO_FLOOR_BYTES)
        finding.opener = _member_opener(archive, info, limit, budget, open_lock)
        yield finding


def _member_opener(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: int,
    budget: ArchiveBudget,
    open_lock: threading.Lock,
) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        with open_lock:  # ZipFile's handle reference count is not thread-safe
            stream = archive.open(info)
        return _GuardedMember(  # type: ignore[return-value]
            stream, limit=limit, budget=budget, compressed=info.compress_size, close_lock=open_lock
        )

    return opener
