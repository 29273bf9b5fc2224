"""Join part PDFs into one, writing each part's objects out as soon as it is read (memory: one part).

pikepdf (qpdf) reads each part; its objects are written to the output with new numbers, streams copied
raw (still compressed), and the part is closed before the next is opened. What stays in memory is one
offset per object and one number per page, so joining 20,000 pages costs about what joining 200 does.
The result is a plain PDF 1.4 with a classic cross-reference table; PDF/A and signing come after.
"""

import hashlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import pikepdf

CATALOG, PAGES, INFO = 1, 2, 3


class _Counter:
    """Writes to ``out`` and counts the bytes, for the cross-reference offsets."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)


def _name(key: str) -> bytes:
    return pikepdf.Name(key).unparse()


def _serialise(obj: Any, ref: Callable[[Any], bytes], *, top: bool = False) -> bytes:
    """One object in PDF syntax, indirect references renumbered through ``ref`` (``top``: write it whole)."""
    if isinstance(obj, bool):
        return b"true" if obj else b"false"
    if isinstance(obj, int):
        return str(obj).encode()
    if isinstance(obj, Decimal | float):
        text = format(Decimal(obj), "f")
        return (text.rstrip("0").rstrip(".") if "." in text else text).encode() or b"0"
    if obj is None:
        return b"null"
    if not top and obj.is_indirect:
        return ref(obj)
    kind = obj._type_code
    if kind == pikepdf.ObjectType.array:
        return b"[" + b" ".join(_serialise(item, ref) for item in obj) + b"]"
    if kind in (pikepdf.ObjectType.dictionary, pikepdf.ObjectType.stream):
        entries = obj.stream_dict if kind == pikepdf.ObjectType.stream else obj
        return _dictionary(((key, entries[key]) for key in entries), ref)
    return bytes(obj.unparse())


def _dictionary(items: Iterable[tuple[str, Any]], ref: Callable[[Any], bytes]) -> bytes:
    return b"<<" + b"".join(_name(key) + b" " + _serialise(value, ref) for key, value in items) + b">>"


class PdfJoiner:
    """Append pages part by part with ``add``; ``finish`` writes the page tree, catalogue and xref."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = _Counter(out)
        self.offsets = array("q", [0, 0, 0, 0])  # index = object number; 1-3 are written last
        self.pages = array("q")
        self.out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _allocate(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.out.position
        self.out.write(f"{number} 0 obj\n".encode() + body)
        if stream is not None:
            self.out.write(b"\nstream\n" + stream + b"\nendstream")
        self.out.write(b"\nendobj\n")

    def add(self, part: pikepdf.Pdf) -> None:
        """Write every page of ``part`` and everything they refer to (its page tree becomes ours)."""
        numbers: dict[tuple[int, int], int] = {part.Root.Pages.objgen: PAGES}
        pending: deque[Any] = deque()
        for page in part.pages:
            number = self._allocate()
            numbers[page.obj.objgen] = number
            self.pages.append(number)
            pending.append(page.obj)

        def ref(obj: Any) -> bytes:
            key = obj.objgen
            if key not in numbers:
                numbers[key] = self._allocate()
                pending.append(obj)
            return f"{numbers[key]} 0 R".encode()

        while pending:
            obj = pending.popleft()
            number = numbers[obj.objgen]
            if obj._type_code == pikepdf.ObjectType.stream:
                raw = obj.read_raw_bytes()
                entries = [(k, obj.stream_dict[k]) for k in obj.stream_dict if k != "/Length"]
                body = _dictionary([*entries, ("/Length", len(raw))], ref)
                self._object(number, body, raw)
            else:
                self._object(number, _serialise(obj, ref, top=True))

    def finish(self, *, title: str, language: str, identifier: str) -> int:
        """Page tree, catalogue, document information and cross-reference table; returns the page count."""
        kids = b" ".join(f"{n} 0 R".encode() for n in self.pages)
        self._object(PAGES, b"<</Type /Pages /Count %d /Kids [" % len(self.pages) + kids + b"]>>")
        lang = bytes(pikepdf.String(language).unparse())
        self._object(CATALOG, f"<</Type /Catalog /Pages {PAGES} 0 R /Lang ".encode() + lang + b">>")
        self._object(
            INFO,
            _dictionary(
                [
                    ("/Title", pikepdf.String(title)),
                    ("/Creator", pikepdf.String("Haetae (reportlab)")),
                    ("/Producer", pikepdf.String(f"Haetae report join (pikepdf {pikepdf.__version__})")),
                ],
                lambda obj: b"null",  # no references in these values
            ),
        )
        start = self.out.position
        self.out.write(f"xref\n0 {len(self.offsets)}\n".encode() + b"0000000000 65535 f \n")
        for offset in self.offsets[1:]:
            self.out.write(f"{offset:010d} 00000 n \n".encode())
        file_id = hashlib.md5(identifier.encode(), usedforsecurity=False).hexdigest()
        self.out.write(
            f"trailer\n<</Size {len(self.offsets)} /Root {CATALOG} 0 R /Info {INFO} 0 R "
            f"/ID [<{file_id}> <{file_id}>]>>\nstartxref\n{start}\n%%EOF\n".encode()
        )
        return len(self.pages)


def pdf_join(paths: Iterable[Path], out: BinaryIO, *, title: str, language: str, identifier: str) -> int:
    """Join the PDFs at ``paths`` into ``out``; returns the page count."""
    joiner = PdfJoiner(out)
    for path in paths:
        with pikepdf.Pdf.open(path) as part:
            joiner.add(part)
    return joiner.finish(title=title, language=language, identifier=identifier)
