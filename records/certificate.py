"""The destruction certificate: a PDF/A-3 signed like reports (PAdES), Korean first then English.

It lists each item of the order with its hashes as recorded at seizure, what execution did (content
crypto-erased, or kept because another case still needs the same bytes), when the data key was destroyed
and the ciphertext removed, the derivatives removed, and the three people with the times of their steps.
The same facts go into the embedded manifest.json, so a reader can check them by machine. The signed PDF is
stored in the vault (a blob like a report) and its SHA-256 recorded on the case's custody chain.
"""

import hashlib
import json
from typing import Any
from xml.sax.saxutils import escape

from django.contrib.auth.models import User
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from evidence.vault import WorkDir, blob_commit, read_verified
from exhibits.reports.render import FONT, FONT_BOLD, register_fonts
from exhibits.reports.signing import signer_load
from haetae.db import ledger_transaction
from haetae.errors import RejectedInput
from haetae.toolkit import utc_iso
from records.documents import signed_pdf_stage
from records.models import DestructionOrder

OUTCOME_WORDS = {
    "erased": (
        "내용 암호 소거(데이터 키 파기 후 암호문 삭제)",
        "content crypto-erased (data key destroyed, then ciphertext removed)",
    ),
    "kept_shared": (
        "항목만 폐기 표시: 같은 내용을 다른 사건이 아직 필요로 하여 내용은 보존",
        "item marked destroyed; content kept because another case still needs the same bytes",
    ),
    "no_content": ("항목만 폐기 표시: 저장된 내용 없음", "item marked destroyed; it had no stored content"),
}


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def certificate_manifest(order: DestructionOrder) -> dict[str, Any]:
    """What the certificate states, as data (embedded as manifest.json)."""
    return {
        "kind": "haetae destruction certificate",
        "case": order.case.number,
        "order": order.number,
        "legal_basis": order.legal_basis,
        "reason": order.reason,
        "requested": {"by": _name(order.requested_by), "at": utc_iso(order.requested_at)},
        "authorised": {
            "by": _name(order.authorised_by),
            "at": utc_iso(order.authorised_at) if order.authorised_at else "",
        },
        "witnessed": {
            "by": _name(order.witnessed_by),
            "at": utc_iso(order.witnessed_at) if order.witnessed_at else "",
        },
        "executed": {
            "by": _name(order.executed_by),
            "at": utc_iso(order.executed_at) if order.executed_at else "",
        },
        "items": [
            {
                "item": entry.item_id,
                "original_path": entry.item.original_path,
                "sha256": entry.sha256,
                "md5": entry.md5,
                "sha1": entry.sha1,
                "size": entry.size,
                "outcome": entry.outcome,
                **entry.details,
            }
            for entry in order.entries.select_related("item").order_by("item_id")
        ],
    }


def _story(manifest: dict[str, Any]) -> list[Any]:
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5)
    cell = ParagraphStyle("cell", parent=body, fontSize=6.5, leading=8, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=21)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story: list[Any] = [
        p("전자증거 폐기 확인서 (Certificate of destruction of digital evidence)", title),
        Spacer(1, 4 * mm),
    ]
    people = [
        ("요청 (requested)", manifest["requested"]),
        ("승인 (authorised)", manifest["authorised"]),
        ("참관 (witnessed)", manifest["witnessed"]),
        ("집행 (executed)", manifest["executed"]),
    ]
    rows = [
        [p("사건 번호 (case)"), p(manifest["case"])],
        [p("폐기 명령 (order)"), p(manifest["order"])],
        [p("법적 근거 (legal basis)"), p(manifest["legal_basis"])],
        [p("사유 (reason)"), p(manifest["reason"] or "-")],
        *[[p(label), p(f"{who['by']} — {who['at']} UTC")] for label, who in people],
    ]
    table = Table(rows, colWidths=[45 * mm, 125 * mm])
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.3, "#888888"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [table, Spacer(1, 5 * mm)]
    story.append(
        p("폐기 항목 (items destroyed): 해시값은 압수 시 기록된 값입니다 (hashes as recorded at seizure).")
    )
    header = ["항목 item", "경로 path · 크기 size", "해시 hashes", "결과 outcome", "시각 when (UTC)"]
    item_rows: list[list[Any]] = [[p(h, cell) for h in header]]
    for entry in manifest["items"]:
        ko, en = OUTCOME_WORDS[entry["outcome"]]
        when = "\n".join(
            f"{label}: {entry[key]}"
            for key, label in (
                ("key_destroyed_at", "키 파기 key destroyed"),
                ("ciphertext_removed_at", "암호문 삭제 ciphertext removed"),
                ("object_absent_at", "객체 없음 object already absent"),
            )
            if entry.get(key)
        )
        derivatives = entry.get("derivatives") or []
        if derivatives:
            when += f"\n파생물 삭제 derivatives removed: {len(derivatives)}"
        item_rows.append(
            [
                p(str(entry["item"]), cell),
                p(
                    f"{entry['original_path']}\n{entry['size'] if entry['size'] is not None else '-'} bytes",
                    cell,
                ),
                p(
                    f"SHA-256 {entry['sha256'] or '-'}\nSHA-1 {entry['sha1'] or '-'}"
                    f"\nMD5 {entry['md5'] or '-'}",
                    cell,
                ),
                p(f"{ko}\n{en}", cell),
                p(when or "-", cell),
            ]
        )
    items = Table(item_rows, colWidths=[12 * mm, 40 * mm, 58 * mm, 35 * mm, 35 * mm], repeatRows=1)
    items.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.3, "#888888"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [items, Spacer(1, 5 * mm)]
    story.append(
        p(
            "원장은 모든 사건 기록을 보존합니다: 각 항목의 폐기 명령·승인·참관·폐기 사건은 "
            "보관 원장에 남고, manage.py verify는 폐기된 항목을 '폐기됨'으로 보고합니다. "
            "이 확인서의 내용은 첨부된 manifest.json에 기계가 읽을 수 있게 들어 있습니다.\n"
            "The ledger keeps every event: each item's ordered, authorised, witnessed and destroyed "
            "events remain on the custody ledger, and manage.py verify reports destroyed items as "
            "destroyed. The same facts are in the attached manifest.json."
        )
    )
    return story


def destruction_certificate_issue(*, order: DestructionOrder, actor: User) -> DestructionOrder:
    """Render, finalise as PDF/A-3, sign and store the certificate of an executed order; record its hash."""
    if order.executed_at is None:
        raise RejectedInput(f"destruction order {order.number} has not been executed: no certificate yet")
    signer = signer_load()
    register_fonts()
    manifest = certificate_manifest(order)
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode()
    with WorkDir() as work:
        staged = signed_pdf_stage(
            work=work,
            story=_story(manifest),
            manifest_bytes=manifest_bytes,
            title=f"{order.case.number} {order.number}",
            archive_title=f"Destruction certificate {order.case.number} {order.number}",
            signer=signer,
            what="certificate",
            advice="check the signer's certificate and key (HAETAE_SIGNER_*), then sign it again: the order "
            "page's button, POST …/certificate/reissue/, or manage.py destruction certificate --reissue",
        )
        with ledger_transaction():
            locked = DestructionOrder.objects.select_for_update().get(pk=order.pk)
            blob, _placed = blob_commit(work=work, staged=staged, mime="application/pdf")
            locked.certificate = blob
            locked.save(update_fields=["certificate"])
            custody_append_many(
                [
                    EventSpec(
                        case_id=locked.case_id,
                        action=CustodyAction.DESTROYED,
                        actor=actor,
                        legal_authority=locked.legal_basis[:300],
                        details={
                            "order": locked.number,
                            "step": "certified",
                            "certificate_sha256": blob.sha256,
                            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                            "signer": signer.info.subject,
                            "development_signer": signer.info.development,
                            "items": len(manifest["items"]),
                        },
                    )
                ]
            )
    return locked


def destruction_certificate_read(order: DestructionOrder) -> bytes:
    """The stored certificate's verified bytes."""
    if order.certificate_id is None:
        raise RejectedInput(
            f"destruction order {order.number} has no certificate yet (status {order.status}): it is issued "
            "when the order is carried out; if signing failed then, sign it again (the order page's button, "
            "POST …/certificate/reissue/, or manage.py destruction certificate --reissue)"
        )
    return b"".join(read_verified(order.certificate_id))
