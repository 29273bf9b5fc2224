"""Metadata and document text: what a file says about itself, read as findings.

Images (through Pillow): EXIF camera make and model, software, the capture time ``DateTimeOriginal`` with
its ``OffsetTimeOriginal`` (and the digitised time), GPS position; XMP (through Pillow's ``getxmp`` on
defusedxml) and IPTC-IIM captions, keywords, creators and dates. Documents: the text layer of a PDF
(pypdf), a DOCX's body, headers and footers (zipfile + defusedxml), plain text (UTF-8, UTF-16 with a BOM,
or CP949, as Korean files often are) and HTML's visible text. Document properties (author, title,
created, modified, producer) too.

Every value is what the file claims: software writes it and anyone can edit it. A capture time without an
offset is a local time in an unknown zone; the timeline says so. Parsers never trust the file: sizes,
pages, ZIP members and characters read are bounded, and a container that does not parse is reported as
``metadata_unreadable`` while the rest is still read.
"""

import codecs
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

from PIL import ExifTags, Image, ImageFile, IptcImagePlugin

from detection.detectors.jsonsafe import json_safe
from detection.registry import DetectorInfo, Finding
from detection.subject import Subject, undecodable
from evidence.imaging import pillow_backstop

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # larger documents are not parsed (their name is still indexed)
MAX_TEXT = 1_000_000  # characters of document text kept
MAX_PDF_PAGES = 2_000
MAX_ZIP_MEMBER_BYTES = 32 * 1024 * 1024  # a DOCX part larger than this, uncompressed, is not read
MAX_ZIP_RATIO = 200  # nor one that claims to expand more than this (a ZIP bomb)
MAX_FIELD = 4_000  # characters kept of one metadata value
MAX_FIELDS = 300  # XMP/IPTC values kept per file

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DOCX_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$")
WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CLAIM_NOTE = "written by the software that saved the file and editable by anyone: a claim, not a fact"

DOCUMENT_MIMES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "txt",
    "text/html": "html",
    "application/xhtml+xml": "html",
}


def _clip(value: Any) -> str:
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    text = text.replace("\x00", "").strip()
    return text[:MAX_FIELD]


def exif_time(value: str, offset: str) -> dict[str, str]:
    """An EXIF ``YYYY:MM:DD HH:MM:SS`` time with its ``±HH:MM`` offset as ISO 8601 and in UTC; without an
    offset, the local time only (the zone is unknown)."""
    found: dict[str, str] = {"exif": value}
    if offset:
        found["offset"] = offset
    try:
        local = datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        found["problem"] = "not an EXIF date and time (YYYY:MM:DD HH:MM:SS)"
        return found
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset.strip()) if offset else None
    if match:
        sign = 1 if match.group(1) == "+" else -1
        zone = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
        aware = local.replace(tzinfo=zone)
        found["iso"] = aware.isoformat()
        found["utc"] = aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    else:
        found["local"] = local.isoformat()
        found["note"] = "no offset recorded: a local time in an unknown time zone"
    return found


def _rational(value: Any) -> float:
    return float(value)


def gps_position(gps: dict[int, Any]) -> dict[str, Any] | None:
    """Decimal degrees from the GPS IFD (latitude 1–2, longitude 3–4, altitude 5–6), or None."""
    try:
        lat = sum(_rational(part) / 60**i for i, part in enumerate(gps[2]))
        lon = sum(_rational(part) / 60**i for i, part in enumerate(gps[4]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    position: dict[str, Any] = {"latitude": round(lat, 7), "longitude": round(lon, 7)}
    try:
        if 6 in gps:
            altitude = _rational(gps[6])
            position["altitude_m"] = round(-altitude if gps.get(5) in (1, b"\x01") else altitude, 1)
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    if 29 in gps:
        position["gps_date"] = _clip(gps[29])
    return position


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    """XMP's nested dict as ``path: text`` pairs."""
    if len(out) >= MAX_FIELDS:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            name = str(key).split("}")[-1]
            _flatten(inner, f"{prefix}.{name}" if prefix else name, out)
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            _flatten(inner, f"{prefix}[{index}]", out)
    elif value is not None and _clip(value):
        out[prefix] = _clip(value)


IPTC_FIELDS = {
    (2, 5): "object_name",
    (2, 25): "keywords",
    (2, 55): "date_created",
    (2, 60): "time_created",
    (2, 80): "by_line",
    (2, 90): "city",
    (2, 101): "country",
    (2, 105): "headline",
    (2, 110): "credit",
    (2, 115): "source",
    (2, 116): "copyright",
    (2, 120): "caption",
}


def image_findings(image: Image.Image) -> list[Finding]:
    """Camera, software, capture time, GPS, XMP and IPTC of one image."""
    findings: list[Finding] = []
    problems: list[str] = []
    try:
        exif = image.getexif()
        exif_ifd = exif.get_ifd(EXIF_IFD)
        gps_ifd = exif.get_ifd(GPS_IFD)
    except Exception as exc:  # Pillow raises many types on a malformed EXIF block
        problems.append(f"EXIF: {type(exc).__name__}: {exc}")
        exif, exif_ifd, gps_ifd = Image.Exif(), {}, {}
    make, model = _clip(exif.get(ExifTags.Base.Make, "")), _clip(exif.get(ExifTags.Base.Model, ""))
    if make or model:
        findings.append(
            Finding(
                label="camera",
                category="metadata",
                details={"make": make, "model": model, "note": CLAIM_NOTE},
            )
        )
    software = _clip(exif.get(ExifTags.Base.Software, ""))
    if software:
        findings.append(
            Finding(label="software", category="metadata", details={"software": software, "note": CLAIM_NOTE})
        )
    for label, time_tag, offset_tag in (
        ("capture_time", ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        ("digitised_time", ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
        ("modified_time", ExifTags.Base.DateTime, ExifTags.Base.OffsetTime),
    ):
        source = exif_ifd if label != "modified_time" else exif
        value = _clip(source.get(time_tag, ""))
        if not value and label == "modified_time":
            value = _clip(exif.get(time_tag, ""))
        if value:
            offset = _clip(exif_ifd.get(offset_tag, ""))
            details: dict[str, Any] = {**exif_time(value, offset), "tag": ExifTags.Base(time_tag).name}
            details["note"] = CLAIM_NOTE
            findings.append(Finding(label=label, category="metadata", details=details))
    if gps_ifd:
        position = gps_position(dict(gps_ifd))
        if position is not None:
            findings.append(
                Finding(label="gps_position", category="metadata", details={**position, "note": CLAIM_NOTE})
            )
    xmp_fields: dict[str, str] = {}
    if image.info.get("xmp") or getattr(image, "text", {}).get("XML:com.adobe.xmp"):
        try:
            _flatten(image.getxmp(), "", xmp_fields)
        except Exception as exc:  # malformed XML: reported, the rest is still read
            problems.append(f"XMP: {type(exc).__name__}: {exc}")
    if xmp_fields:
        findings.append(Finding(label="xmp", category="metadata", details={"fields": xmp_fields}))
    iptc_fields: dict[str, str] = {}
    iptc: dict[tuple[int, int], Any] = {}
    try:
        if isinstance(image, ImageFile.ImageFile) and image.format in {"JPEG", "TIFF"}:
            iptc = dict(IptcImagePlugin.getiptcinfo(image) or {})
    except Exception as exc:
        problems.append(f"IPTC: {type(exc).__name__}: {exc}")
    for key, name in IPTC_FIELDS.items():
        raw = iptc.get(key)
        if raw is None:
            continue
        values = raw if isinstance(raw, list) else [raw]
        iptc_fields[name] = "; ".join(_clip(v) for v in values[:MAX_FIELDS])
    if iptc_fields:
        findings.append(Finding(label="iptc", category="metadata", details={"fields": iptc_fields}))
    if problems:
        findings.append(
            Finding(label="metadata_unreadable", category="metadata", details={"problems": problems})
        )
    return findings


# --- documents -------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read as: a BOM's, else UTF-8, else CP949 (Korean Windows), else UTF-8
    with replacement characters."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    for encoding in ("utf-8", "cp949"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace"), "utf-8 (with replacements)"


class _VisibleText(HTMLParser):
    """The text a browser shows: scripts, styles and templates left out."""

    HIDDEN = {"script", "style", "template", "noscript", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._hidden = 0
        self._in_title = False
        self._size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.HIDDEN:
            self._hidden += 1
        elif tag in {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden and self._size < MAX_TEXT:
            self.parts.append(data)
            self._size += len(data)


def html_text(data: bytes) -> tuple[str, dict[str, str]]:
    declared = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", data[:4096], re.IGNORECASE)
    text = None
    if declared:
        try:
            text = data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            text = None
    if text is None:
        text, _ = decode_text(data)
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    body = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    body = re.sub(r"\s*\n\s*", "\n", body).strip()
    return body, ({"title": _clip(parser.title)} if parser.title.strip() else {})


def pdf_text(data: bytes) -> tuple[str, dict[str, str], int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    properties: dict[str, str] = {}
    try:
        info: Any = reader.metadata or {}
        for key in ("/Title", "/Author", "/Subject", "/Creator", "/Producer", "/CreationDate", "/ModDate"):
            if info.get(key):
                properties[key.lstrip("/").lower()] = _clip(info[key])
    except Exception as exc:  # a broken info dictionary: the text is still worth reading
        properties["unreadable"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    parts: list[str] = []
    size = 0
    pages = len(reader.pages)
    for page in list(reader.pages)[:MAX_PDF_PAGES]:
        if size >= MAX_TEXT:
            break
        try:
            text = page.extract_text() or ""
        except Exception:  # one bad page must not hide the others
            text = ""
        parts.append(text)
        size += len(text)
    return "\n".join(parts), properties, pages


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    if info.file_size > MAX_ZIP_MEMBER_BYTES or info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        return None
    with archive.open(info) as member:
        return member.read(MAX_ZIP_MEMBER_BYTES + 1)[:MAX_ZIP_MEMBER_BYTES]


def docx_text(data: bytes) -> tuple[str, dict[str, str], list[str]]:
    from defusedxml import ElementTree

    skipped: list[str] = []
    parts: list[str] = []
    properties: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename == "docProps/core.xml" or DOCX_PARTS.match(info.filename):
                raw = _zip_member(archive, info)
                if raw is None:
                    skipped.append(f"{info.filename} (declares {info.file_size} bytes)")
                    continue
                root = ElementTree.fromstring(raw)
                if info.filename == "docProps/core.xml":
                    for element in root:
                        name = element.tag.split("}")[-1]
                        if element.text and element.text.strip():
                            properties[name] = _clip(element.text)
                    continue
                paragraphs = []
                for paragraph in root.iter(f"{WORD_NS}p"):
                    paragraphs.append(
                        "".join(
                            node.text or ("\t" if node.tag == f"{WORD_NS}tab" else "")
                            for node in paragraph.iter()
                            if node.tag in {f"{WORD_NS}t", f"{WORD_NS}tab"}
                        )
                    )
                parts.append("\n".join(paragraphs))
    return "\n".join(p for p in parts if p.strip()), properties, skipped


def document_findings(subject: Subject) -> list[Finding]:
    kind = DOCUMENT_MIMES.get((subject.mime or "").split(";")[0].strip().lower())
    if kind is None:
        return []
    if subject.size > MAX_DOCUMENT_BYTES:
        return [
            Finding(
                label="document_not_read",
                category="metadata",
                details={"format": kind, "size": subject.size, "limit": MAX_DOCUMENT_BYTES},
            )
        ]
    data = subject.read()
    properties: dict[str, str] = {}
    extra: dict[str, Any] = {"format": kind}
    try:
        if kind == "pdf":
            text, properties, pages = pdf_text(data)
            extra["pages"] = pages
        elif kind == "docx":
            text, properties, skipped = docx_text(data)
            if skipped:
                extra["parts_not_read"] = skipped
        elif kind == "html":
            text, properties = html_text(data)
        else:
            text, extra["encoding"] = decode_text(data[: MAX_TEXT * 4])
    except Exception as exc:  # the file is not what it claims, or is damaged: say so, keep the rest
        return [
            Finding(
                label="metadata_unreadable",
                category="metadata",
                details={"format": kind, "problems": [f"{type(exc).__name__}: {str(exc)[:500]}"]},
            )
        ]
    findings = []
    text = text.strip()
    if text:
        findings.append(
            Finding(
                label="document_text",
                category="extracted_text",
                details={
                    **extra,
                    "text": text[:MAX_TEXT],
                    "chars": len(text),
                    "truncated": len(text) > MAX_TEXT,
                },
            )
        )
    if properties:
        findings.append(
            Finding(
                label="document_properties",
                category="metadata",
                details={"format": kind, "fields": properties, "note": CLAIM_NOTE},
            )
        )
    return findings


def _header_only(subject: Subject) -> Image.Image:
    """The image opened without decoding its pixels: metadata is read from the header and its segments,
    so a photo over HAETAE_MAX_IMAGE_PIXELS still has its EXIF read (Pillow's backstop still applies)."""
    pillow_backstop()
    try:
        return Image.open(io.BytesIO(subject.read()))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise undecodable(exc, subject.mime) from exc


class MetadataDetector:
    """EXIF, XMP and IPTC of images; text and properties of PDF, DOCX, TXT and HTML documents."""

    info = DetectorInfo(
        name="metadata",
        version="1",
        media_types=frozenset({"image", "other"}),
        parameters={
            "images": "EXIF (Make, Model, Software, DateTimeOriginal+OffsetTimeOriginal, DateTimeDigitized, "
            "DateTime, GPS), XMP, IPTC-IIM via Pillow",
            "documents": "PDF text layer (pypdf), DOCX body/headers/footers/notes (zipfile+defusedxml), "
            "TXT (BOM, UTF-8, CP949), HTML visible text",
            "max_document_bytes": MAX_DOCUMENT_BYTES,
            "max_text_chars": MAX_TEXT,
            "max_pdf_pages": MAX_PDF_PAGES,
            "max_zip_member_bytes": MAX_ZIP_MEMBER_BYTES,
        },
        model_card="docs/detectors/metadata.md",
        licence="AGPL-3.0-or-later",
        validation="tests: values written by the fixtures are read back; a parser, no error rates",
    )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        if subject.media_type == "image":
            findings = image_findings(_header_only(subject))
        else:
            findings = document_findings(subject)
        return [
            Finding(label=f.label, category=f.category, score=f.score, details=json_safe(f.details))
            for f in findings
        ]
