"""The Korean procedure documents, made by the report machinery: data → render (NanumGothic) → PDF/A-3 with
the data embedded as manifest.json → PAdES signature → the vault, its SHA-256 on the case's custody chain.

- 상세목록 (``seized_list_issue``): every file of one acquisition, with its path on the device or in the
  original, size, time stamps and hashes, and what was not seized (marked unrelated, returned, deleted, or not
  taken), with signature lines for the investigator and the person searched (형사소송법 제106조 제3항,
  제121조; 대법원 2011모1839, 2017도13263, 2021모1586);
- 전자정보 확인서 / 해시값 확인서 (``scene_confirmation_issue``): a ``SceneConfirmation`` as entered,
  each hash read out at the scene compared with the vault;
- 반출 확인서 (``export_confirmation_issue``): an export bundle that left the vault: who, when, what, the
  hashes, the recipient.

Korean first, then English, as the house does. Times are shown in the configured zone (Asia/Seoul) with the
offset, and kept in UTC in the manifest. The ledger event names the document, its SHA-256 and its
manifest's SHA-256; the names the documents print stay out of the ledger (evidence.records).
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from access.models import Case
from access.policy import Action, case_access_role, role_may
from evidence.choices import AcquisitionStatus, CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append_many
from evidence.models import Acquisition, EvidenceItem
from evidence.vault import StagedObject, WorkDir, blob_commit, read_verified
from exhibits.choices import ReportStatus
from exhibits.models import ExportBundle
from exhibits.reports.pdfa import pdfa_finalize
from exhibits.reports.render import FONT, FONT_BOLD, register_fonts
from exhibits.reports.signing import LoadedSigner, pdf_sign_checked, signer_load
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, RejectedInput
from haetae.toolkit import utc_iso
from records.choices import ProcedureDocumentKind, UnrelatedMarkStatus
from records.models import ProcedureDocument, SceneConfirmation, UnrelatedMark

PREFIX: dict[str, str] = {
    ProcedureDocumentKind.SEIZED_LIST: "L",
    ProcedureDocumentKind.SCENE_CONFIRMATION: "C",
    ProcedureDocumentKind.EXPORT_CONFIRMATION: "X",
}
TITLES: dict[str, tuple[str, str]] = {
    ProcedureDocumentKind.SEIZED_LIST: (
        "전자정보 상세목록",
        "Detailed list of seized electronic information",
    ),
    ProcedureDocumentKind.SCENE_CONFIRMATION: (
        "전자정보 확인서 (해시값 확인서)",
        "Confirmation of electronic information and hash values",
    ),
    ProcedureDocumentKind.EXPORT_CONFIRMATION: (
        "반출 확인서",
        "Confirmation of removal from the evidence vault",
    ),
}
LEGAL_BASIS = (
    "형사소송법 제106조 제3항·제121조·제129조(제219조), 대법원 2011모1839·2017도13263·2021모1586 "
    "(Criminal Procedure Act art. 106(3), 121, 129 with 219; Supreme Court 2011Mo1839, 2017Do13263, "
    "2021Mo1586)"
)
STATUS_WORDS = {
    ItemStatus.INGESTED: ("압수", "seized"),
    ItemStatus.REJECTED: ("내용 미저장", "content not taken"),
    ItemStatus.UNRELATED: ("무관정보 표시, 반환·삭제 대기", "marked unrelated, awaiting return or deletion"),
    ItemStatus.DESTROYED: ("폐기·삭제됨", "destroyed or deleted"),
}

MARK_WORDS = {
    UnrelatedMarkStatus.MARKED: "반환·삭제 대기 awaiting return or deletion",
    UnrelatedMarkStatus.RETURNED: "반환 returned",
    UnrelatedMarkStatus.DELETED: "삭제 deleted",
}


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _when(moment: datetime | None) -> str:
    """A moment in the configured zone with its offset (2026-12-07 09:13:04 +09:00)."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def _utc(moment: datetime | None) -> str:
    return utc_iso(moment) if moment else ""


def _require(*, case: Case, actor: User, action: Action, doing: str) -> None:
    role = case_access_role(user=actor, case_id=case.pk)
    if not role_may(role, action):
        raise AccessDenied(
            f"your role on case {case.number} is {role or 'none'}; you may not {doing}: ask the case lead"
        )


# -- the data -------------------------------------------------------------------------------------------


def _item_row(item: EvidenceItem) -> dict[str, Any]:
    blob = item.blob
    return {
        "item": item.pk,
        "path": item.original_path,
        "source": item.source,
        "kind": item.kind,
        "status": item.status,
        "size": item.size,
        "mime": item.mime,
        "modified_at": _utc(item.file_modified_at),
        "accessed_at": _utc(item.file_accessed_at),
        "changed_at": _utc(item.file_changed_at),
        "created_at": _utc(item.file_created_at),
        "acquired_at": _utc(item.acquired_at),
        "sha256": item.blob_id or "",
        "md5": blob.md5 if blob else "",
        "sha1": blob.sha1 if blob else "",
    }


def seized_list_manifest(acquisition: Acquisition, *, number: str, actor: User) -> dict[str, Any]:
    """What the detailed list states, as data (embedded as manifest.json)."""
    items = list(
        EvidenceItem.objects.filter(acquisition=acquisition)
        .select_related("blob")
        .order_by("original_path", "pk")
    )
    marks: dict[int, UnrelatedMark] = {}
    for found in UnrelatedMark.objects.filter(item__in=items).select_related("disposal").order_by("pk"):
        marks[found.item_id] = found  # the newest mark of each item
    seized, not_seized = [], []
    for item in items:
        row = _item_row(item)
        mark = marks.get(item.pk)
        if mark is not None and mark.status != UnrelatedMarkStatus.WITHDRAWN:
            row["unrelated"] = {
                "reason": mark.reason,
                "status": mark.status,
                "disposal": mark.disposal.number if mark.disposal else "",
                "done_at": _utc(mark.disposal.done_at) if mark.disposal else "",
            }
        if item.status == ItemStatus.INGESTED:
            seized.append(row)
        else:
            row["status_reason"] = item.status_reason
            not_seized.append(row)
    return {
        "kind": "haetae detailed list of seized electronic information",
        "legal_basis": LEGAL_BASIS,
        "case": acquisition.case.number,
        "number": number,
        "acquisition": {
            "id": acquisition.pk,
            "seizure_reference": acquisition.seizure_reference,
            "location": acquisition.location,
            "seal_numbers": list(acquisition.seal_numbers or []),
            "participants": list(acquisition.participants or []),
            "source_description": acquisition.source_description,
            "tool": f"{acquisition.tool_name} {acquisition.tool_version}".strip(),
            "acquired_by": _name(acquisition.actor),
            "started_at": _utc(acquisition.started_at),
            "finished_at": _utc(acquisition.finished_at),
            "status": acquisition.status,
            "manifest_sha256": acquisition.manifest_sha256,
        },
        "issued": {"by": _name(actor), "at": utc_iso(timezone.now())},
        "seized": seized,
        "not_seized": not_seized,
        "total_bytes_seized": sum(row["size"] or 0 for row in seized),
    }


def _vault_match(case: Case, algorithm: str, value: str) -> list[int]:
    """Items of the case whose content has this digest (a scene hash found again in the vault)."""
    field = {"SHA-256": "blob__sha256", "SHA-1": "blob__sha1", "MD5": "blob__md5"}.get(algorithm)
    if field is None or not value:
        return []
    return list(
        EvidenceItem.objects.filter(case=case, **{field: value.lower()})
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def scene_confirmation_manifest(
    confirmation: SceneConfirmation, *, number: str, actor: User
) -> dict[str, Any]:
    """What the confirmation states, as entered, with each hash compared with the vault."""
    return {
        "kind": "haetae scene hash confirmation",
        "legal_basis": LEGAL_BASIS,
        "case": confirmation.case.number,
        "number": number,
        "confirmation": confirmation.number,
        "acquisition": confirmation.acquisition_id,
        "subject": confirmation.subject,
        "hashes": [
            {**entry, "vault_items": _vault_match(confirmation.case, entry["algorithm"], entry["value"])}
            for entry in confirmation.hashes
        ],
        "tool": confirmation.tool,
        "computed": {"by": confirmation.computed_by, "at": _utc(confirmation.computed_at)},
        "place": confirmation.place,
        "person_searched": confirmation.person_searched,
        "witness": {"name": confirmation.witness_name, "relation": confirmation.witness_relation},
        "participant_refused": confirmation.participant_refused,
        "refusal_reason": confirmation.refusal_reason,
        "recorded": {"by": _name(confirmation.recorded_by), "at": _utc(confirmation.recorded_at)},
        "record_sha256": confirmation.record_sha256,
        "issued": {"by": _name(actor), "at": utc_iso(timezone.now())},
    }


def _exported_row(item: EvidenceItem) -> dict[str, Any]:
    blob = item.blob
    return {
        "item": item.pk,
        "name": item.original_name,
        "size": item.size,
        "sha256": item.blob_id or "",
        "md5": blob.md5 if blob else "",
        "sha1": blob.sha1 if blob else "",
    }


def export_confirmation_manifest(bundle: ExportBundle, *, number: str, actor: User) -> dict[str, Any]:
    """What left the vault in one export bundle: who, when, what with its hashes, and to whom."""
    exhibits = sorted(bundle.exhibits.all(), key=lambda e: e.number)
    item_ids = list(
        dict.fromkeys(
            item_id
            for exhibit in exhibits
            for item_id in exhibit.exhibit_items.order_by("position").values_list("item_id", flat=True)
        )
    )
    by_id = {i.pk: i for i in EvidenceItem.objects.filter(pk__in=item_ids).select_related("blob")}
    report = bundle.report
    return {
        "kind": "haetae confirmation of removal from the vault",
        "case": bundle.case.number,
        "number": number,
        "bundle": {
            "id": bundle.pk,
            "sha256": bundle.sha256,
            "size": bundle.size,
            "exhibits": [e.number for e in exhibits],
            "recipient": bundle.recipient,
            "recipient_key": bundle.recipient_key,
            "exported_by": _name(bundle.requested_by),
            "requested_at": _utc(bundle.requested_at),
            "exported_at": _utc(bundle.finished_at),
            "report": (
                {"id": report.report_id, "version": report.version, "sha256": report.sha256}
                if report
                else None
            ),
        },
        "what": (
            "사본(원본과 같은 바이트, 수신자에게 암호화) · copies (the originals' bytes, encrypted to the "
            "recipient)"
        ),
        "items": [_exported_row(by_id[item_id]) for item_id in item_ids if item_id in by_id],
        "issued": {"by": _name(actor), "at": utc_iso(timezone.now())},
    }


# -- the render -----------------------------------------------------------------------------------------


@dataclass
class _Styles:
    body: ParagraphStyle
    cell: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle


def _styles() -> _Styles:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5, wordWrap="CJK")
    return _Styles(
        body=body,
        cell=ParagraphStyle("cell", parent=body, fontSize=6.5, leading=8),
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=15, leading=20),
        subtitle=ParagraphStyle("subtitle", parent=body, fontName=FONT_BOLD, fontSize=10, leading=14),
    )


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _grid(rows: list[list[Any]], widths: Sequence[float], *, header: bool = False) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.3, "#888888"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"))
    table.setStyle(TableStyle(style))
    return table


def _pairs(rows: Iterable[tuple[str, Any]], s: _Styles) -> Table:
    return _grid([[_p(k, s.body), _p(v if v not in ("", None) else "-", s.body)] for k, v in rows], [50, 120])


def _signatures(lines: list[tuple[str, str]], s: _Styles) -> Table:
    """Signature lines: who signs, the name printed (or blank to fill in), and a box for the signature."""
    rows = [
        [_p("구분 role", s.cell), _p("성명 name", s.cell), _p("서명 또는 날인 signature or seal", s.cell)]
    ]
    rows += [[_p(role, s.body), _p(name or "", s.body), ""] for role, name in lines]
    table = Table(rows, colWidths=[50 * mm, 55 * mm, 65 * mm], rowHeights=[None] + [16 * mm] * len(lines))
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.3, "#888888"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    )
    return table


def _hashes(row: dict[str, Any]) -> str:
    if not row["sha256"]:
        return "-"
    return f"SHA-256 {row['sha256']}\nMD5 {row['md5']}"


def _times(row: dict[str, Any]) -> str:
    names = (
        ("modified_at", "수정 modified"),
        ("accessed_at", "접근 accessed"),
        ("changed_at", "변경 changed"),
        ("created_at", "생성 created"),
        ("acquired_at", "수집 acquired"),
    )
    return "\n".join(
        f"{label} {_when(datetime.fromisoformat(row[key].replace('Z', '+00:00')))}"
        for key, label in names
        if row[key]
    )


def _head_with_legal_basis(kind: str, m: dict[str, Any], s: _Styles) -> list[Any]:
    """A document's title (Korean and English) and the legal basis it is issued under."""
    ko, en = TITLES[kind]
    return [_p(f"{ko} ({en})", s.title), Spacer(1, 3 * mm), _p(m["legal_basis"], s.cell), Spacer(1, 3 * mm)]


def _seized_list_story(m: dict[str, Any], s: _Styles) -> list[Any]:
    a = m["acquisition"]
    story = _head_with_legal_basis(ProcedureDocumentKind.SEIZED_LIST, m, s)
    story.append(
        _pairs(
            [
                ("문서 번호 (document)", m["number"]),
                ("사건 번호 (case)", m["case"]),
                ("수집 번호 (acquisition)", a["id"]),
                ("영장·압수 근거 (warrant)", a["seizure_reference"]),
                ("장소 (place)", a["location"]),
                ("봉인 번호 (seals)", ", ".join(a["seal_numbers"])),
                ("참여인 (participants)", ", ".join(str(p) for p in a["participants"])),
                ("대상 매체 (source)", a["source_description"]),
                ("도구 (tool)", a["tool"]),
                ("수집자 (acquired by)", a["acquired_by"]),
                (
                    "수집 시각 (acquired)",
                    f"{_when(_parse(a['started_at']))} — {_when(_parse(a['finished_at']))}",
                ),
                ("수집 목록 해시 (acquisition manifest SHA-256)", a["manifest_sha256"]),
                (
                    "압수 파일 (files seized)",
                    f"{len(m['seized'])} 개, {m['total_bytes_seized']} bytes",
                ),
            ],
            s,
        )
    )
    story += [Spacer(1, 4 * mm), _p("1. 압수한 전자정보 (electronic information seized)", s.subtitle)]
    story.append(_file_table(m["seized"], s, with_status=False))
    if m["not_seized"]:
        story += [
            Spacer(1, 4 * mm),
            _p(
                "2. 압수하지 않은 항목: 영장과 무관하여 반환·삭제한 정보, 저장하지 않은 항목 "
                "(not seized: unrelated to the warrant and returned or deleted, or not taken)",
                s.subtitle,
            ),
            _file_table(m["not_seized"], s, with_status=True),
        ]
    story += [
        Spacer(1, 4 * mm),
        _p(
            "위 목록은 압수한 전자정보의 파일 경로, 크기, 시각 및 해시값을 기재한 것으로, 피압수자에게 "
            "교부합니다. 해시값은 수집 시 계산되어 보관 원장에 기록된 값입니다.\n"
            "This list names each file of electronic information seized, with its path, size, time stamps "
            "and hash values, and is handed to the person searched. The hashes are those computed at "
            "acquisition and recorded on the custody ledger. The same facts are in the attached "
            "manifest.json.",
            s.body,
        ),
        Spacer(1, 4 * mm),
        _p(f"교부 일시 (issued): {_when(_parse(m['issued']['at']))}", s.body),
        Spacer(1, 2 * mm),
        _signatures(
            [
                ("압수자·수사관 (investigator)", m["issued"]["by"]),
                ("피압수자 (person searched)", ""),
                ("참여인 (participant)", ""),
            ],
            s,
        ),
    ]
    return story


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _file_table(rows: list[dict[str, Any]], s: _Styles, *, with_status: bool) -> Table:
    header = ["#", "경로 path (원본 original)", "크기 size", "시각 time stamps", "해시 hashes"]
    if with_status:
        header.append("상태 status")
    widths = [8, 50, 14, 42, 56] if not with_status else [8, 40, 12, 34, 46, 30]
    out: list[list[Any]] = [[_p(h, s.cell) for h in header]]
    for row in rows:
        path = row["path"] + (f"\n({row['source']})" if row["source"] else "")
        cells = [
            _p(row["item"], s.cell),
            _p(path, s.cell),
            _p(row["size"] if row["size"] is not None else "-", s.cell),
            _p(_times(row) or "-", s.cell),
            _p(_hashes(row), s.cell),
        ]
        if with_status:
            ko, en = STATUS_WORDS.get(row["status"], (row["status"], row["status"]))
            text = f"{ko} ({en})"
            unrelated = row.get("unrelated")
            if unrelated:
                text += f"\n무관정보 unrelated: {unrelated['reason']}"
                if unrelated["disposal"]:
                    done = _when(_parse(unrelated["done_at"]))
                    words = MARK_WORDS.get(unrelated["status"], unrelated["status"])
                    text += f"\n{unrelated['disposal']} {words} {done}"
            elif row.get("status_reason"):
                text += f"\n{row['status_reason']}"
            cells.append(_p(text, s.cell))
        out.append(cells)
    if len(out) == 1:
        out.append([_p("-", s.cell)] + [""] * (len(header) - 1))
    return _grid(out, widths, header=True)


def _scene_confirmation_story(m: dict[str, Any], s: _Styles) -> list[Any]:
    story = _head_with_legal_basis(ProcedureDocumentKind.SCENE_CONFIRMATION, m, s)
    story.append(
        _pairs(
            [
                ("문서 번호 (document)", f"{m['number']} ({m['confirmation']})"),
                ("사건 번호 (case)", m["case"]),
                ("수집 번호 (acquisition)", m["acquisition"]),
                ("대상 (what was hashed)", m["subject"]),
                ("장소 (place)", m["place"]),
                ("계산 도구 (tool)", m["tool"]),
                ("계산자 (computed by)", m["computed"]["by"]),
                ("계산 시각 (computed at)", _when(_parse(m["computed"]["at"]))),
                ("피압수자 (person searched)", m["person_searched"]),
                (
                    "참관인 (witness)",
                    f"{m['witness']['name']} ({m['witness']['relation']})" if m["witness"]["name"] else "",
                ),
            ],
            s,
        )
    )
    story += [Spacer(1, 4 * mm), _p("해시값 (hash values computed at the scene)", s.subtitle)]
    rows: list[list[Any]] = [
        [_p(h, s.cell) for h in ("대상 name", "알고리즘 algorithm", "값 value", "보관소 대조 vault check")]
    ]
    for entry in m["hashes"]:
        found = entry["vault_items"]
        check = (
            f"일치: 항목 {', '.join(map(str, found))} (matches item {', '.join(map(str, found))})"
            if found
            else "보관소에 같은 해시의 항목 없음 (no item in the vault has this hash)"
        )
        rows.append(
            [
                _p(entry["name"], s.cell),
                _p(entry["algorithm"], s.cell),
                _p(entry["value"], s.cell),
                _p(check, s.cell),
            ]
        )
    story.append(_grid(rows, [40, 20, 70, 40], header=True))
    story.append(Spacer(1, 4 * mm))
    if m["participant_refused"]:
        story.append(
            _p(
                f"참여인 서명 거부: {m['refusal_reason'] or '사유 미기재'}\n"
                f"The participant refused to sign: {m['refusal_reason'] or 'no reason given'}",
                s.subtitle,
            )
        )
        story.append(Spacer(1, 2 * mm))
    story += [
        _p(
            "위 해시값은 현장에서 계산되어 참여인에게 확인되었습니다. 보관소 대조는 보관 중인 항목의 "
            "해시값과 비교한 결과입니다.\n"
            "The hash values above were computed at the scene and shown to the participants. The vault check "
            "compares them with the items the vault holds. The same facts are in the attached manifest.json.",
            s.body,
        ),
        Spacer(1, 4 * mm),
        _signatures(
            [
                ("계산자·수사관 (computed by)", m["computed"]["by"]),
                (
                    "피압수자 (person searched)",
                    m["person_searched"] + (" — 서명 거부 (refused)" if m["participant_refused"] else ""),
                ),
                (f"참관인 (witness) {m['witness']['relation']}".strip(), m["witness"]["name"]),
            ],
            s,
        ),
    ]
    return story


def _export_confirmation_story(m: dict[str, Any], s: _Styles) -> list[Any]:
    ko, en = TITLES[ProcedureDocumentKind.EXPORT_CONFIRMATION]
    b = m["bundle"]
    report = b["report"] or {}
    story: list[Any] = [_p(f"{ko} ({en})", s.title), Spacer(1, 4 * mm)]
    story.append(
        _pairs(
            [
                ("문서 번호 (document)", m["number"]),
                ("사건 번호 (case)", m["case"]),
                ("반출 묶음 (export bundle)", b["id"]),
                ("증거물 (exhibits)", ", ".join(b["exhibits"])),
                ("반출 내용 (what)", m["what"]),
                ("묶음 SHA-256 (bundle)", b["sha256"]),
                ("묶음 크기 (size)", f"{b['size']} bytes"),
                (
                    "보고서 (signed report)",
                    f"{report.get('id', '-')} v{report.get('version', '-')} {report.get('sha256', '')}",
                ),
                ("반출자 (exported by)", b["exported_by"]),
                ("반출 시각 (exported at)", _when(_parse(b["exported_at"]))),
                ("인수자 (recipient)", b["recipient"]),
                ("수신자 키 (recipient key)", b["recipient_key"]),
            ],
            s,
        )
    )
    story += [Spacer(1, 4 * mm), _p("반출한 항목 (items that left the vault)", s.subtitle)]
    rows: list[list[Any]] = [[_p(h, s.cell) for h in ("#", "이름 name", "크기 size", "해시 hashes")]]
    for entry in m["items"]:
        rows.append(
            [
                _p(entry["item"], s.cell),
                _p(entry["name"], s.cell),
                _p(entry["size"] if entry["size"] is not None else "-", s.cell),
                _p(f"SHA-256 {entry['sha256']}\nSHA-1 {entry['sha1']}\nMD5 {entry['md5']}", s.cell),
            ]
        )
    story.append(_grid(rows, [10, 55, 18, 87], header=True))
    story += [
        Spacer(1, 4 * mm),
        _p(
            "위 전자정보의 사본을 보관소에서 반출하여 인수자에게 인계하였음을 확인합니다. 각 항목의 반출은 "
            "보관 원장에 'exported' 사건으로 기록되어 있습니다.\n"
            "This confirms that copies of the electronic information above left the vault and were handed to "
            "the recipient. Each item's export is an 'exported' event on the custody ledger. The same facts "
            "are in the attached manifest.json.",
            s.body,
        ),
        Spacer(1, 4 * mm),
        _signatures(
            [("반출자 (handed over by)", b["exported_by"]), ("인수자 (received by)", b["recipient"])], s
        ),
    ]
    return story


STORIES: dict[str, Callable[[dict[str, Any], _Styles], list[Any]]] = {
    ProcedureDocumentKind.SEIZED_LIST: _seized_list_story,
    ProcedureDocumentKind.SCENE_CONFIRMATION: _scene_confirmation_story,
    ProcedureDocumentKind.EXPORT_CONFIRMATION: _export_confirmation_story,
}


# -- issue: sign, store, record -------------------------------------------------------------------------


def signed_pdf_stage(
    *,
    work: WorkDir,
    story: list[Any],
    manifest_bytes: bytes,
    title: str,
    archive_title: str,
    signer: LoadedSigner,
    what: str,
    advice: str,
    **page: Any,
) -> StagedObject:
    """Render a records document, finalise it as PDF/A-3 with its manifest attached, sign it, check the
    signature and stage the signed file in ``work`` (``page``: the page template's margins)."""
    plain = work.path / "plain.pdf"
    SimpleDocTemplate(str(plain), pagesize=A4, title=title, **page).build(story)
    pdfa = work.path / "pdfa.pdf"
    pdfa_finalize(pdf_in=plain, pdf_out=pdfa, manifest=manifest_bytes, title=archive_title, language="ko")
    signed = work.path / "signed.pdf"
    pdf_sign_checked(pdf_in=pdfa, pdf_out=signed, signer=signer, what=what, advice=advice)
    with open(signed, "rb") as source:
        return work.stage(source)


def _next_number(case: Case, kind: str) -> str:
    last = ProcedureDocument.objects.filter(case=case, kind=kind).aggregate(n=Max("number"))["n"]
    return f"{PREFIX[kind]}-{(int(last[2:]) if last else 0) + 1:03d}"


def _issue(
    *,
    case: Case,
    kind: str,
    actor: User,
    build: Any,
    links: dict[str, Any],
    details: dict[str, Any],
    legal_authority: str = "",
) -> ProcedureDocument:
    """Number, render, finalise as PDF/A-3, sign, store and record one document; ``build(number)`` gives
    its manifest. Rendering and signing happen outside the ledger lock; the number is checked again under
    it, and a document that lost its number to one issued meanwhile is made again with the next."""
    signer = signer_load()
    register_fonts()
    ko, en = TITLES[kind]
    for _attempt in range(3):
        number = _next_number(case, kind)
        manifest = build(number)
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode()
        manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        with WorkDir() as work:
            staged = signed_pdf_stage(
                work=work,
                story=STORIES[kind](manifest, _styles()),
                manifest_bytes=manifest_bytes,
                title=f"{case.number} {number} {en}",
                archive_title=f"{ko} {en} {case.number} {number}",
                signer=signer,
                what="document",
                advice="check the signer's certificate and key (HAETAE_SIGNER_*), then issue it again",
                leftMargin=18 * mm,
                rightMargin=18 * mm,
            )
            with ledger_transaction():
                Case.objects.select_for_update().filter(pk=case.pk).first()
                if _next_number(case, kind) != number:
                    continue  # another document of this kind was issued meanwhile: make it again
                blob, _placed = blob_commit(work=work, staged=staged, mime="application/pdf")
                document = ProcedureDocument.objects.create(
                    case=case,
                    kind=kind,
                    number=number,
                    issued_by=actor,
                    blob=blob,
                    manifest_sha256=manifest_sha256,
                    signer_subject=signer.info.subject,
                    development_signer=signer.info.development,
                    **links,
                )
                custody_append_many(
                    [
                        EventSpec(
                            case_id=case.pk,
                            action=CustodyAction.PROCEDURE_DOCUMENT,
                            actor=actor,
                            legal_authority=legal_authority[:300],
                            details={
                                "document": kind,
                                "number": number,
                                "document_sha256": blob.sha256,
                                "manifest_sha256": manifest_sha256,
                                "signer": signer.info.subject,
                                "development_signer": signer.info.development,
                                **details,
                            },
                        )
                    ]
                )
                return document
    raise RejectedInput(
        f"other documents of this kind ({en.lower()}) of case {case.number} were issued at the same moment "
        "three times: issue it again"
    )


def seized_list_issue(*, acquisition: Acquisition, actor: User) -> ProcedureDocument:
    """The 상세목록 of one acquisition, signed and stored; a ``procedure_document`` event on its case."""
    case = acquisition.case
    _require(
        case=case, actor=actor, action=Action.PROCEDURE_RECORD, doing="issue a detailed list of seized files"
    )
    if acquisition.status != AcquisitionStatus.COMPLETED:
        raise RejectedInput(
            f"acquisition {acquisition.pk} is {acquisition.status}: a detailed list is issued for a "
            "completed acquisition (re-run the ingest to complete it first)"
        )
    counts: dict[str, int] = {}
    for status in EvidenceItem.objects.filter(acquisition=acquisition).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return _issue(
        case=case,
        kind=ProcedureDocumentKind.SEIZED_LIST,
        actor=actor,
        build=lambda number: seized_list_manifest(acquisition, number=number, actor=actor),
        links={"acquisition": acquisition},
        details={"acquisition": acquisition.pk, "items": counts},
        legal_authority=acquisition.seizure_reference,
    )


def scene_confirmation_issue(*, confirmation: SceneConfirmation, actor: User) -> ProcedureDocument:
    """The 전자정보 확인서 of a recorded scene confirmation, signed and stored."""
    _require(
        case=confirmation.case, actor=actor, action=Action.PROCEDURE_RECORD, doing="print a hash confirmation"
    )
    return _issue(
        case=confirmation.case,
        kind=ProcedureDocumentKind.SCENE_CONFIRMATION,
        actor=actor,
        build=lambda number: scene_confirmation_manifest(confirmation, number=number, actor=actor),
        links={"confirmation": confirmation, "acquisition_id": confirmation.acquisition_id},
        details={
            "confirmation": confirmation.number,
            "acquisition": confirmation.acquisition_id,
            "record_sha256": confirmation.record_sha256,
        },
    )


def export_confirmation_issue(*, bundle: ExportBundle, actor: User) -> ProcedureDocument:
    """The 반출 확인서 of an exported bundle, signed and stored."""
    _require(
        case=bundle.case, actor=actor, action=Action.PROCEDURE_RECORD, doing="issue an export confirmation"
    )
    if bundle.status != ReportStatus.DONE or not bundle.sha256:
        raise RejectedInput(
            f"bundle {bundle.pk} is {bundle.status}: nothing has left the vault yet; the confirmation is "
            "issued once the bundle is done"
        )
    return _issue(
        case=bundle.case,
        kind=ProcedureDocumentKind.EXPORT_CONFIRMATION,
        actor=actor,
        build=lambda number: export_confirmation_manifest(bundle, number=number, actor=actor),
        links={"bundle": bundle},
        details={"bundle": bundle.pk, "bundle_sha256": bundle.sha256},
    )


def procedure_document_read(document: ProcedureDocument) -> bytes:
    """The stored document's verified bytes."""
    return b"".join(read_verified(document.blob_id))
