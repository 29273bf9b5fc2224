"""The report PDF, laid out with reportlab in Korean or English, fonts embedded, streamed in parts.

reportlab keeps a whole document in memory until it is saved, so a report is written as a series of part
PDFs of at most ``PART_EXHIBITS`` exhibits each (the generators of ``ReportData`` feed them), every part
saved to a temporary file as soon as it is laid out. When the total page count is known, a small footer
PDF per part carries "page X of Y · report ID vN"; each footer's drawing is appended to its page and the
parts are written one after another into ``out`` (``exhibits.reports.pdfjoin``), each closed before the
next is opened. Memory therefore depends on the size of one part, not on the number of exhibits.

The output is a plain PDF; ``exhibits.reports.pdfa`` makes it PDF/A-3 and ``exhibits.reports.signing``
signs it.
"""

import io
import itertools
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import pikepdf
from django.conf import settings
from django.utils import translation
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from detection.labels import finding_label
from evidence.choices import CustodyAction
from exhibits.reports.data import (
    NOT_VALIDATED,
    CustodyRow,
    ExhibitSection,
    HashCertificateRow,
    ItemSection,
    ReportData,
)
from exhibits.reports.pdfjoin import PdfJoiner
from exhibits.reports.strings import STRINGS, Strings
from exhibits.reports.types import SignerInfo
from haetae.errors import RejectedInput

PART_EXHIBITS = 50
CERTIFICATE_ROWS_PER_PART = 1500
LIST_ROWS_PER_TABLE = 200
LIST_TABLES_PER_PART = 5
FONT = "NanumGothic"
FONT_BOLD = "NanumGothic-Bold"
FONT_FILES = {FONT: "NanumGothic.ttf", FONT_BOLD: "NanumGothicBold.ttf"}
PAGE = A4
MARGIN = 18 * mm
WIDTH = PAGE[0] - 2 * MARGIN
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
HEAD_BG = colors.HexColor("#e6e6e6")
WARN = colors.HexColor("#a00000")
CELL_SIZE, CELL_LEADING, CELL_PADDING = 7.0, 8.6, 2.5
HASH_SIZE, HASH_LEADING = 6.2, 7.6


@dataclass(frozen=True)
class RenderResult:
    """The finished plain PDF's page count and its text for the PII scan: every value it shows (names,
    descriptions, opinions, paths, places, metadata …), without the fixed wording of ``strings.py`` and the
    hex digests, signatures and roots Haetae computed, neither of which can hold an identity."""

    page_count: int
    text: str


def font_dir() -> Path:
    return Path(settings.HAETAE_REPORT_FONT_DIR)


def register_fonts() -> None:
    """Register NanumGothic (regular and bold) once; reportlab embeds a subset of each TTF it uses."""
    rl_config.useA85 = 0  # binary streams: ASCII85 would make images 25 % larger and cost time to encode
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, filename in FONT_FILES.items():
        path = font_dir() / filename
        if not path.is_file():
            raise RejectedInput(
                f"the report font {filename} is not in {font_dir()}: install fonts-nanum (Debian/Ubuntu) or "
                "point HAETAE_REPORT_FONT_DIR at a folder holding NanumGothic.ttf and NanumGothicBold.ttf"
            )
        if name in registered:
            continue
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5, wordWrap=None)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7, leading=8.6),
        "head": ParagraphStyle("headcell", parent=base, fontName=FONT_BOLD, fontSize=7, leading=8.6),
        "hash": ParagraphStyle("hash", parent=base, fontSize=HASH_SIZE, leading=HASH_LEADING, wordWrap="CJK"),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=20, leading=26),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=6, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3
        ),
        "warn": ParagraphStyle(
            "warn", parent=base, fontName=FONT_BOLD, fontSize=11, leading=15, textColor=WARN, borderPadding=6
        ),
        "lead": ParagraphStyle(
            "lead", parent=base, fontName=FONT_BOLD, fontSize=8, leading=10, textColor=WARN
        ),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
    }


_CHAR_WIDTHS: dict[tuple[str, float, str], float] = {}


def _width(text: str, size: float, font: str = FONT) -> float:
    """The width of ``text`` in ``font`` at ``size`` points (per-character widths, cached)."""
    total = 0.0
    for char in text:
        key = (char, size, font)
        if key not in _CHAR_WIDTHS:
            _CHAR_WIDTHS[key] = pdfmetrics.stringWidth(char, font, size)
        total += _CHAR_WIDTHS[key]
    return total


def _break(line: str, width: float, size: float) -> list[str]:
    """``line`` cut into pieces no wider than ``width`` (character by character: for hash values)."""
    pieces, current, used = [], "", 0.0
    for char in line:
        char_width = _width(char, size)
        if current and used + char_width > width:
            pieces.append(current)
            current, used = "", 0.0
        current += char
        used += char_width
    pieces.append(current)
    return pieces


def _when(moment: datetime | None) -> str:
    """A time in the report's zone with its UTC offset, e.g. 2024-05-01 14:03:09 +09:00."""
    if moment is None:
        return ""
    text = moment.strftime("%Y-%m-%d %H:%M:%S %z")
    return text[:-2] + ":" + text[-2:]


class _Writer:
    """Flowables for one language, recording every string it lays out (the report's text)."""

    def __init__(self, strings: Strings, text: list[str], language: str) -> None:
        self.s = strings
        self.language = language
        self.st = _styles()
        self.text = text

    def p(self, value: Any, style: str = "body", *, record: bool = True) -> Paragraph:
        """A paragraph; ``record`` False for the fixed wording of strings.py, which holds no data."""
        value = "" if value is None else str(value)
        if record:
            self.text.append(value)
        return Paragraph(escape(value).replace("\n", "<br/>"), self.st[style])

    def cell(self, value: Any, style: str, width: float, *, record: bool = True) -> Paragraph | str:
        """A table cell: plain text where it fits on its lines (fast), a wrapping Paragraph otherwise.

        Hash values are broken into lines by character width (hex has no word breaks), never wrapped by
        reportlab's CJK line breaking, which is many times slower.
        """
        value = "" if value is None else str(value)
        inner = width - 2 * CELL_PADDING
        if style == "hash":
            # Digests, signatures and checkpoint references Haetae computed: hex that no identity can be
            # hidden in, left out of the text for the PII scan (about half of a report's characters).
            return "\n".join(part for line in value.split("\n") for part in _break(line, inner, HASH_SIZE))
        font = FONT_BOLD if style == "head" else FONT
        if all(_width(line, CELL_SIZE, font) <= inner for line in value.split("\n")):
            if record:
                self.text.append(value)
            return value
        return self.p(value, style, record=record)

    def label(self, key: str, style: str = "body") -> Paragraph:
        return self.p(self.s[key], style, record=False)

    def table(
        self,
        header: list[str],
        rows: Iterable[list[Any]],
        widths: list[float],
        *,
        styles: list[str] | None = None,
        repeat: bool = True,
    ) -> Table:
        cell_styles = styles or ["cell"] * len(header)
        columns = [w * WIDTH for w in widths]
        data: list[list[Any]] = [
            [self.cell(self.s[h], "head", columns[i], record=False) for i, h in enumerate(header)]
        ]
        for row in rows:
            data.append(
                [
                    v if isinstance(v, Flowable) else self.cell(v, cell_styles[i], columns[i])
                    for i, v in enumerate(row)
                ]
            )
        table = Table(data, colWidths=columns, repeatRows=1 if repeat else 0)
        hash_columns = [i for i, style in enumerate(cell_styles) if style == "hash"]
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT),
                    ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                    ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
                    ("LEADING", (0, 0), (-1, -1), CELL_LEADING),
                    *[("FONTSIZE", (i, 1), (i, -1), HASH_SIZE) for i in hash_columns],
                    *[("LEADING", (i, 1), (i, -1), HASH_LEADING) for i in hash_columns],
                    ("GRID", (0, 0), (-1, -1), 0.3, RULE),
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                    ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def pairs(self, rows: list[tuple[str, Any]], *, key_width: float = 0.28) -> Table:
        columns = [key_width * WIDTH, (1 - key_width) * WIDTH]
        data = [
            [self.cell(self.s[k], "head", columns[0], record=False), self.cell(v, "cell", columns[1])]
            for k, v in rows
        ]
        table = Table(data, colWidths=columns)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT),
                    ("FONTNAME", (0, 0), (0, -1), FONT_BOLD),
                    ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
                    ("LEADING", (0, 0), (-1, -1), CELL_LEADING),
                    ("GRID", (0, 0), (-1, -1), 0.3, RULE),
                    ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table


def _person(person: Any, s: Strings) -> str:
    if not person.name:
        return s["not_recorded"]
    role = s.get(f"role_{person.role.replace(' ', '_')}", person.role)
    if person.organisation_roles:
        role += f" ({s['organisation_roles']}: {person.organisation_roles})"
    qualification = person.qualification or s["qualification_not_recorded"]
    return f"{person.name} — {role}; {s['qualification']}: {qualification}"


def _cover(
    w: _Writer, data: ReportData, *, report_id: str, version: int, signer: SignerInfo
) -> list[Flowable]:
    s, cover = w.s, data.cover
    story: list[Flowable] = [w.label("report_title", "title"), Spacer(1, 4 * mm)]
    if signer.development:
        story += [w.label("development_warning", "warn"), Spacer(1, 3 * mm)]
    story.append(
        w.pairs(
            [
                ("report_id", f"{report_id} (v{version})"),
                ("case_number", cover.case_number),
                ("case_title", cover.case_title),
                ("offences", "\n".join(cover.offences) or s["none_recorded"]),
                ("unit", cover.unit or s["not_recorded"]),
                ("jurisdiction", cover.jurisdiction or s["not_recorded"]),
                ("examiner", _person(cover.examiner, s)),
                ("reviewer", "\n".join(_person(r, s) for r in cover.reviewers) or s["no_reviewer"]),
                ("generated_at", f"{_when(cover.generated_at)} ({cover.time_zone})"),
                (
                    "scope",
                    s["scope_value"].format(
                        exhibits=cover.exhibit_count, items=cover.item_count, numbers=_numbers(cover.scope)
                    ),
                ),
                ("signer", f"{signer.subject}\nSHA-256 {signer.certificate_sha256}"),
                ("language", s["language_name"]),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), w.label("cover_note", "small")]
    if data.latest_checkpoint is not None:
        cp = data.latest_checkpoint
        story += [
            Spacer(1, 2 * mm),
            w.p(
                s["latest_checkpoint"].format(
                    id=cp.id, size=cp.tree_size, root=cp.root_hash, key=cp.key_id, at=_when(cp.created_at)
                ),
                "small",
            ),
        ]
    return story


def _numbers(numbers: list[str]) -> str:
    if len(numbers) <= 12:
        return ", ".join(numbers)
    return f"{numbers[0]} … {numbers[-1]}"


def _exhibit_list(w: _Writer, data: ReportData) -> Iterator[Flowable]:
    s = w.s
    yield PageBreak()
    yield w.label("exhibit_list", "h1")
    rows = data.exhibit_list
    for start in range(0, len(rows), LIST_ROWS_PER_TABLE):
        yield w.table(
            ["col_number", "col_status", "col_description", "col_items", "col_approved"],
            (
                [
                    r.number,
                    s.get(f"status_{r.status}", r.status),
                    r.description,
                    str(r.item_count),
                    f"{r.approved_by}\n{_when(r.approved_at)}" if r.approved_by else s["not_approved"],
                ]
                for r in rows[start : start + LIST_ROWS_PER_TABLE]
            ),
            [0.1, 0.14, 0.48, 0.08, 0.2],
        )


def _thumbnail(w: _Writer, item: ItemSection) -> Flowable:
    s = w.s
    if item.thumbnail is None:
        return w.p(s["no_thumbnail"].format(reason=item.thumbnail_note), "small")
    picture = Image(io.BytesIO(item.thumbnail))
    scale = min(40 * mm / picture.imageWidth, 40 * mm / picture.imageHeight)
    picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
    caption = w.p(s["thumbnail_caption"].format(sha256=item.thumbnail_sha256), "small")
    table = Table([[picture, caption]], colWidths=[44 * mm, WIDTH - 44 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _action(code: str, language: str) -> str:
    """An action's label in the report's language where the catalogue has it, with its stable code."""
    if code not in CustodyAction.values:
        return code
    with translation.override(language):
        label = str(CustodyAction(code).label)
    return label if label == code else f"{label} ({code})"


def _custody(w: _Writer, rows: list[CustodyRow]) -> list[Flowable]:
    s = w.s
    cited: dict[int, Any] = {}
    for row in rows:
        if row.checkpoint is not None:
            cited[row.checkpoint.id] = row.checkpoint
    table = w.table(
        ["col_seq", "col_time", "col_action", "col_actor", "col_event_hash", "col_checkpoint"],
        (
            [
                str(r.seq),
                _when(r.occurred_at),
                _action(r.action, w.language) + (f"\n{r.purpose}" if r.purpose else ""),
                f"{r.actor} ({r.role})" if r.role else r.actor,
                f"{r.event_hash}\n{s['prev']}: {r.prev_hash}",
                (
                    s["checkpoint_ref"].format(id=r.checkpoint.id, size=r.checkpoint.tree_size)
                    + f"\n{s['root']}: {r.checkpoint.root_hash}"
                    if r.checkpoint
                    else s["not_yet_signed"]
                ),
            ]
            for r in rows
        ),
        [0.06, 0.14, 0.15, 0.13, 0.27, 0.25],
        styles=["cell", "cell", "cell", "cell", "hash", "hash"],
    )
    story: list[Flowable] = [w.label("custody", "h3"), table]
    if cited:
        story += [
            Spacer(1, 1.5 * mm),
            w.table(
                ["col_checkpoint", "col_signed_at", "col_root", "col_signature"],
                (
                    [
                        s["checkpoint_ref"].format(id=c.id, size=c.tree_size) + f"\n{s['key']}: {c.key_id}",
                        _when(c.created_at),
                        c.root_hash,
                        c.signature,
                    ]
                    for c in cited.values()
                ),
                [0.16, 0.14, 0.3, 0.4],
                styles=["cell", "cell", "hash", "hash"],
            ),
        ]
    return story


def _sources(w: _Writer, item: ItemSection) -> list[Flowable]:
    """Where a messenger export or an extraction report placed the item: the message (chat, id, time) or
    the device path, the acquisition, and the export file it was parsed from, by item and SHA-256."""
    if not item.sources:
        return []
    s = w.s
    return [
        w.label("source_records", "h3"),
        w.table(
            ["col_source_kind", "col_source_place", "col_sent_at", "col_source_file"],
            (
                [
                    f"{row.kind} · {s['acquisition_short']} {row.acquisition_id}",
                    (f"{row.chat} #{row.message}" if row.message else row.device_path)
                    + (
                        ""
                        if row.report_hash_agrees is None
                        else "\n"
                        + s["report_hash_agrees" if row.report_hash_agrees else "report_hash_differs"]
                    ),
                    (_when(row.sent_at) + (f" ({row.time_zone})" if row.time_zone else ""))
                    if row.sent_at
                    else "—",
                    f"{s['item_short']} {row.source_item_id}\n{row.source_sha256}"
                    if row.source_item_id
                    else "—",
                ]
                for row in item.sources
            ),
            [0.18, 0.32, 0.2, 0.3],
            styles=["cell", "cell", "cell", "hash"],
        ),
    ]


def _item(w: _Writer, exhibit: ExhibitSection, item: ItemSection) -> list[Flowable]:
    s = w.s
    acq = item.acquisition
    story: list[Flowable] = [
        CondPageBreak(60 * mm),
        w.p(
            s["item_heading"].format(exhibit=exhibit.number, item=item.item_id, name=item.original_name), "h2"
        ),
        _thumbnail(w, item),
        w.label("source_acquisition", "h3"),
        w.pairs(
            [
                (
                    "acquired_by",
                    f"{acq.acquired_by} ({acq.acquired_role})" if acq.acquired_role else acq.acquired_by,
                ),
                ("acquired_at", _when(acq.acquired_at)),
                ("location", acq.location or s["not_recorded"]),
                ("source", acq.source or s["not_recorded"]),
                ("legal_authority", "\n".join(acq.legal_authorities) or s["none_recorded"]),
                ("seizure_reference", acq.seizure_reference or s["not_recorded"]),
                ("seals", ", ".join(acq.seal_numbers) or s["none_recorded"]),
                ("participants", ", ".join(acq.participants) or s["none_recorded"]),
                ("acquisition_tool", acq.tool),
                ("trusted_time", acq.trusted_time or s["no_trusted_timestamp"]),
                *([("captured_page", acq.capture)] if acq.capture else []),
            ]
        ),
        w.label("hashes", "h3"),
        w.table(
            ["col_algorithm", "col_value", "col_taken_at", "col_tool"],
            ([h.algorithm, h.value, _when(h.taken_at), h.tool] for h in item.hashes),
            [0.1, 0.5, 0.18, 0.22],
            styles=["cell", "hash", "cell", "cell"],
        ),
        w.label("file_metadata", "h3"),
        w.pairs(
            [
                ("original_path", item.original_path),
                ("kind", s.get(f"kind_{item.kind}", item.kind)),
                ("size", s["bytes"].format(n=item.size) if item.size is not None else s["not_recorded"]),
                ("mime", item.mime or s["not_recorded"]),
                (
                    "file_times",
                    "\n".join(f"{s.get('time_' + k, k)}: {_when(v)}" for k, v in item.file_times)
                    or s["none_recorded"],
                ),
            ]
        ),
        *_sources(w, item),
        w.label("findings", "h3"),
        w.label("lead_label", "lead"),
    ]
    if item.findings:
        story.append(
            w.table(
                [
                    "col_detector",
                    "col_model_sha256",
                    "col_threshold",
                    "col_label",
                    "col_score",
                    "col_error_rate",
                    "col_review",
                ],
                (
                    [
                        f"{f.detector} {f.version}",
                        f.model_sha256 or s["no_model"],
                        f.threshold or s["no_threshold"],
                        _finding_label(f.label, w),
                        f.score or "—",
                        # The detector's own prose is quoted once, full width, under "detectors used".
                        s["validation_measured"]
                        if f.measured
                        else s["not_validated"]
                        if f.error_rate == NOT_VALIDATED
                        else s["validation_stated"],
                        s.get(f"review_{f.review}", f.review),
                    ]
                    for f in item.findings
                ),
                [0.14, 0.18, 0.1, 0.22, 0.07, 0.17, 0.12],
                styles=["cell", "hash", "cell", "cell", "cell", "cell", "cell"],
            )
        )
    else:
        story.append(w.label("no_findings", "small"))
    story.append(w.label("provenance", "h3"))
    if item.provenance:
        for prov in item.provenance:
            rows = [
                ("c2pa_state", s.get(f"c2pa_{prov.state}", prov.state)),
                ("c2pa_validation", prov.validation or "—"),
                ("c2pa_signer", prov.signer or "—"),
                ("c2pa_source_type", prov.digital_source_type or "—"),
                ("c2pa_detector", prov.detector),
            ]
            if prov.absent:
                rows.append(("c2pa_meaning", s["c2pa_absent_not_probative"]))
            elif prov.note:
                rows.append(("c2pa_meaning", prov.note))
            story.append(w.pairs(rows))
    else:
        story.append(w.label("c2pa_not_checked", "small"))
    story += _custody(w, item.custody)
    return story


def _exhibit_timeline(w: _Writer, exhibit: ExhibitSection) -> list[Flowable]:
    """The exhibit's items' dated points on one axis, each with its time source and trust."""
    s = w.s
    story: list[Flowable] = [
        CondPageBreak(40 * mm),
        w.label("exhibit_timeline", "h2"),
        w.label("exhibit_timeline_note", "small"),
    ]
    if not exhibit.timeline:
        return [*story, w.label("no_timeline", "small")]
    story.append(
        w.table(
            ["col_time", "col_kind", "col_item", "col_what", "col_time_source", "col_trust"],
            (
                [
                    _when(row.at)
                    + (f"\n{s['as_written']}: {row.as_written}" if row.as_written else "")
                    + ("" if row.zone_known else f"\n({s['zone_unknown']})"),
                    row.kind,
                    f"{s['item_short']} {row.item_id}" if row.item_id else "—",
                    row.what,
                    row.time_source,
                    row.trust,
                ]
                for row in exhibit.timeline
            ),
            [0.2, 0.13, 0.09, 0.22, 0.26, 0.1],
            styles=["cell", "cell", "cell", "cell", "cell", "cell"],
        )
    )
    return story


def _exhibit(w: _Writer, exhibit: ExhibitSection) -> list[Flowable]:
    s = w.s
    story: list[Flowable] = [
        PageBreak(),
        w.p(s["exhibit_heading"].format(number=exhibit.number), "h1"),
        w.pairs(
            [
                ("col_status", s.get(f"status_{exhibit.status}", exhibit.status)),
                ("created", f"{exhibit.created_by} {_when(exhibit.created_at)}"),
                (
                    "col_approved",
                    f"{exhibit.approved_by} {_when(exhibit.approved_at)}"
                    if exhibit.approved_by
                    else s["not_approved"],
                ),
            ]
        ),
        w.label("description", "h3"),
        w.p(exhibit.description),
    ]
    for item in exhibit.items:
        story += _item(w, exhibit, item)
    story += _exhibit_timeline(w, exhibit)
    opinion: list[Flowable] = [
        Spacer(1, 3 * mm),
        w.label("opinion", "h2"),
        w.label("opinion_note", "small"),
        w.p(exhibit.opinion or s["no_opinion"]),
    ]
    story.append(KeepTogether(opinion))
    return story


def _certificate_intro(w: _Writer, data: ReportData) -> list[Flowable]:
    s = w.s
    return [
        PageBreak(),
        w.label("hash_certificate", "h1"),
        w.label("hash_certificate_ko_title", "h2"),
        w.p(
            s["hash_certificate_intro"].format(
                at=_when(data.included.rehashed_at) if data.included.rehashed_at else "",
            ),
            "body",
        ),
    ]


def _certificate_table(w: _Writer, rows: list[HashCertificateRow]) -> Table:
    s = w.s
    return w.table(
        ["col_exhibit_item", "col_algorithm", "col_at_acquisition", "col_now", "col_match"],
        (
            [
                f"{r.exhibit} / {r.item_id}\n{r.name}",
                r.algorithm,
                r.at_acquisition,
                r.now,
                s["match_yes"] if r.matches else s["match_no"],
            ]
            for r in rows
        ),
        [0.17, 0.08, 0.33, 0.33, 0.09],
        styles=["cell", "cell", "hash", "hash", "cell"],
    )


def _declaration(w: _Writer, data: ReportData, rows: int, mismatches: int) -> list[Flowable]:
    s = w.s
    certifier = data.certifier
    return [
        Spacer(1, 4 * mm),
        w.label("declaration", "h2"),
        w.p(
            s["declaration_text"].format(
                rows=rows,
                at=_when(data.included.rehashed_at) if data.included.rehashed_at else "",
                result=s["all_match"] if mismatches == 0 else s["some_mismatch"].format(n=mismatches),
            )
        ),
        Spacer(1, 3 * mm),
        w.pairs(
            [
                ("certifier", _person(certifier, s)),
                ("certified_at", _when(data.included.rehashed_at)),
                ("signature_line", s["signature_line_value"]),
            ]
        ),
    ]


def _limitations(w: _Writer, data: ReportData) -> list[Flowable]:
    s = w.s
    story: list[Flowable] = [PageBreak(), w.label("limitations", "h1")]
    for key in s.paragraph_keys("limitation_"):
        story.append(w.p(s[key]))
        story.append(Spacer(1, 1.5 * mm))
    story.append(w.label("detectors_used", "h2"))
    if data.detectors:
        # Full width: the validation statements are paragraphs, unreadable in a narrow column.
        story.append(w.label("validation_quoted", "small"))
        for name, version, validation in data.detectors:
            story.append(w.p(f"{name} {version}", "h3"))
            story.append(w.p(s["not_validated"] if validation == NOT_VALIDATED else validation))
            story.append(Spacer(1, 1.5 * mm))
    else:
        story.append(w.label("no_findings", "small"))
    return story


def _canvas(*args: Any, **kwargs: Any) -> canvas.Canvas:
    """reportlab's canvas starting in NanumGothic, so no unembedded standard font is ever referenced."""
    kwargs.update(initialFontName=FONT, initialFontSize=9)
    return canvas.Canvas(*args, **kwargs)


class _Parts:
    """Lays out part PDFs in a temporary folder and counts their pages."""

    def __init__(self, folder: Path, *, title: str, language: str, text: list[str]) -> None:
        self.folder = folder
        self.title = title
        self.language = language
        self.parts: list[tuple[Path, int]] = []
        self.text = text  # the writer's strings, made into one per part (small strings cost ~50 bytes each)
        self.text_parts: list[str] = []

    def write(self, story: list[Flowable]) -> None:
        while story and isinstance(story[0], PageBreak):  # a part starts on a fresh page anyway
            story = story[1:]
        path = self.folder / f"part-{len(self.parts):05d}.pdf"
        doc = SimpleDocTemplate(
            str(path),
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + 6 * mm,
            title=self.title,
            lang=self.language,
        )
        doc.build(story, canvasmaker=_canvas)
        self.parts.append((path, doc.page))
        self.text_parts.append("\n".join(self.text))
        self.text.clear()

    @property
    def pages(self) -> int:
        return sum(pages for _, pages in self.parts)


def _footers(path: Path, *, first: int, count: int, total: int, text: str, s: Strings) -> None:
    """One footer page per part page: "page X of Y · report ID vN" (a separate PDF, overlaid later)."""
    footer = _canvas(str(path), pagesize=PAGE)
    for number in range(first, first + count):
        footer.setFont(FONT, 7.5)
        footer.setFillColor(GREY)
        footer.drawCentredString(
            PAGE[0] / 2, MARGIN / 2 + 2 * mm, s["page_of"].format(x=number, y=total) + text
        )
        footer.setStrokeColor(RULE)
        footer.setLineWidth(0.3)
        footer.line(MARGIN, MARGIN / 2 + 6 * mm, PAGE[0] - MARGIN, MARGIN / 2 + 6 * mm)
        footer.showPage()
    footer.save()


def report_render(
    *,
    data: ReportData,
    out: BinaryIO,
    report_id: str,
    version: int,
    signer: SignerInfo,
    progress: Callable[[int], None] | None = None,
) -> RenderResult:
    """Write the report of ``data`` to ``out`` as a plain PDF; returns its page count and its text.

    ``progress`` receives whole percents (0–100) as exhibits are laid out.
    """
    register_fonts()
    strings = STRINGS[data.language]
    text: list[str] = []
    w = _Writer(strings, text, data.language)
    total_exhibits = max(1, data.cover.exhibit_count)
    done = 0

    def report(percent: int) -> None:
        if progress is not None:
            progress(max(0, min(100, percent)))

    report(0)
    with tempfile.TemporaryDirectory(prefix="haetae-report-") as tmp:
        parts = _Parts(
            Path(tmp),
            title=f"{strings['report_title']} {report_id} v{version}",
            language=data.language,
            text=text,
        )
        story = _cover(w, data, report_id=report_id, version=version, signer=signer)
        for n, flowable in enumerate(_exhibit_list(w, data)):
            story.append(flowable)
            if isinstance(flowable, Table) and n % LIST_TABLES_PER_PART == 0:
                parts.write(story)  # a long exhibit list is laid out in parts too
                story = []
        if story:
            parts.write(story)
        story = []
        in_part = 0
        for exhibit in data.exhibits:
            story += _exhibit(w, exhibit)
            in_part += 1
            done += 1
            if in_part >= PART_EXHIBITS:
                parts.write(story)
                story, in_part = [], 0
                report(done * 85 // total_exhibits)
        if story:
            parts.write(story)
        report(85)
        certificate = iter(data.hash_certificate)
        first = next(certificate, None)  # starts the re-hashing, which sets the time the intro states
        story = _certificate_intro(w, data)
        batch: list[HashCertificateRow] = []
        rows = mismatches = 0
        for row in itertools.chain([first] if first is not None else [], certificate):
            batch.append(row)
            rows += 1
            mismatches += 0 if row.matches else 1
            if len(batch) >= CERTIFICATE_ROWS_PER_PART:
                story.append(_certificate_table(w, batch))
                parts.write(story)
                story, batch = [], []
        if batch:
            story.append(_certificate_table(w, batch))
        story += _declaration(w, data, rows, mismatches)
        story += _limitations(w, data)
        parts.write(story)
        report(92)
        total = parts.pages
        suffix = f" · {report_id} v{version}"
        text.append(strings["page_of"].format(x=1, y=total) + suffix)
        _join(
            parts,
            total=total,
            suffix=suffix,
            strings=strings,
            out=out,
            title=parts.title,
            language=data.language,
        )
    report(100)
    return RenderResult(page_count=total, text="\n".join([*parts.text_parts, *text]))


def _stamp(
    part: pikepdf.Pdf, page: pikepdf.Page, footer: pikepdf.Page, fonts: dict[str, pikepdf.Object]
) -> None:
    """Append the footer page's drawing to ``page``: its content stream and its font, under our own name.

    Cheaper than a form-XObject overlay, which copies the footer's resources onto every page.
    """
    drawing = footer.obj.Contents.read_bytes()
    resources = page.obj.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    for name, font in footer.obj.Resources.Font.items():
        local = "/HaetaeFooter" + re.sub(r"[^A-Za-z0-9]", "_", name[1:])
        if local not in fonts:
            fonts[local] = part.copy_foreign(font)
        resources.Font[local] = fonts[local]
        drawing = drawing.replace(f"{name} ".encode(), f"{local} ".encode())
    page.contents_add(b"q\n" + drawing + b"\nQ\n")


def _join(
    parts: _Parts, *, total: int, suffix: str, strings: Strings, out: BinaryIO, title: str, language: str
) -> None:
    """Stamp each part's footers and write the parts one after another into ``out`` (one part in memory)."""
    joiner = PdfJoiner(out)
    first = 1
    for path, pages in parts.parts:
        footer_path = path.with_suffix(".footer.pdf")
        _footers(footer_path, first=first, count=pages, total=total, text=suffix, s=strings)
        with pikepdf.Pdf.open(path) as part, pikepdf.Pdf.open(footer_path) as footer:
            fonts: dict[str, pikepdf.Object] = {}
            for page, footer_page in zip(part.pages, footer.pages, strict=True):
                _stamp(part, page, footer_page, fonts)
            joiner.add(part)
        path.unlink()
        footer_path.unlink()
        first += pages
    joiner.finish(title=title, language=language, identifier=title)


def _finding_label(code: str, w: "_Writer") -> str:
    """A finding's label in the report's language, with the code the manifest carries, and "lead"."""
    with translation.override(w.language):
        words = finding_label(code)
    shown = code if words == code else f"{words} ({code})"
    return f"{shown}\n({w.s['lead_short']})"
