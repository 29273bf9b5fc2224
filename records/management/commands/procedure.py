"""manage.py procedure seized-list|scene-record|scene-print|mark|unmark|dispose|export-confirmation|
document|list: the Korean procedure records (docs/korean-procedure.md)."""

from datetime import datetime
from pathlib import Path
from typing import Any

from access.models import Case
from access.policy import Action
from access.selectors import case_for_command
from evidence.models import Acquisition
from exhibits.models import ExportBundle
from haetae.cli import HaetaeCommand, id_list
from haetae.errors import NotFound, UsageError
from haetae.toolkit import utc_iso
from records.documents import (
    export_confirmation_issue,
    procedure_document_read,
    scene_confirmation_issue,
    seized_list_issue,
)
from records.models import ProcedureDocument, SceneConfirmation, UnrelatedDisposal, UnrelatedMark
from records.procedure import (
    scene_confirmation_record,
    unrelated_dispose,
    unrelated_mark,
    unrelated_unmark,
)
from records.selectors import (
    procedure_document_get,
    procedure_documents,
    scene_confirmation_get,
    unrelated_disposals,
    unrelated_marks,
)


def document_json(document: ProcedureDocument) -> dict[str, Any]:
    return {
        "case": document.case.number,
        "number": document.number,
        "kind": document.kind,
        "acquisition": document.acquisition_id,
        "confirmation": document.confirmation.number if document.confirmation else None,
        "bundle": document.bundle_id,
        "issued_by": document.issued_by.get_username(),
        "issued_at": utc_iso(document.issued_at),
        "sha256": document.blob_id,
        "manifest_sha256": document.manifest_sha256,
        "development_signer": document.development_signer,
    }


def confirmation_json(confirmation: SceneConfirmation) -> dict[str, Any]:
    return {
        "case": confirmation.case.number,
        "number": confirmation.number,
        "acquisition": confirmation.acquisition_id,
        "hashes": confirmation.hashes,
        "computed_at": utc_iso(confirmation.computed_at),
        "participant_refused": confirmation.participant_refused,
        "record_sha256": confirmation.record_sha256,
    }


def mark_json(mark: UnrelatedMark) -> dict[str, Any]:
    return {
        "id": mark.pk,
        "item": mark.item_id,
        "status": mark.status,
        "reason": mark.reason,
        "marked_by": mark.marked_by.get_username(),
        "marked_at": utc_iso(mark.marked_at),
        "sha256": mark.sha256,
        "disposal": mark.disposal.number if mark.disposal else None,
        "outcome": mark.outcome,
    }


def disposal_json(disposal: UnrelatedDisposal) -> dict[str, Any]:
    return {
        "case": disposal.case.number,
        "number": disposal.number,
        "kind": disposal.kind,
        "done_by": disposal.done_by.get_username(),
        "done_at": utc_iso(disposal.done_at),
        "person_refused": disposal.person_refused,
        "items": [
            {"item": m.item_id, "sha256": m.sha256, "outcome": m.outcome}
            for m in disposal.marks.order_by("item_id")
        ],
    }


def _hash_option(value: str) -> dict[str, str]:
    parts = value.rsplit(":", 2)
    if len(parts) != 3:
        raise UsageError(f"--hash {value!r}: write NAME:ALGORITHM:VALUE, e.g. phone.E01:SHA-256:ab12…")
    return {"name": parts[0], "algorithm": parts[1], "value": parts[2]}


class Command(HaetaeCommand):
    """Korean procedure records (docs/korean-procedure.md): the detailed list of seized files
    (상세목록), the hash confirmation taken at the scene (전자정보 확인서), items unrelated to the warrant and
    their return or deletion (선별압수), and the confirmation of an export (반출 확인서). Each is a custody
    event; documents are signed PDF/A-3 files kept in the vault."""

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        seized = sub.add_parser("seized-list", help="issue the 상세목록 of an acquisition")
        seized.add_argument("case")
        seized.add_argument("acquisition", type=int)
        seized.add_argument("--out", help="write the signed PDF here")
        record = sub.add_parser("scene-record", help="record a hash confirmation made at the scene")
        record.add_argument("case")
        record.add_argument("--subject", required=True, help="what was hashed (image or files, device)")
        record.add_argument(
            "--hash", action="append", default=[], metavar="NAME:ALGORITHM:VALUE", help="repeat per hash"
        )
        record.add_argument("--computed-by", required=True, help="who computed the hashes (a name)")
        record.add_argument("--computed-at", default="", help="ISO 8601 time with its offset (default: now)")
        record.add_argument("--acquisition", type=int, default=None)
        record.add_argument("--tool", default="")
        record.add_argument("--place", default="")
        record.add_argument("--person-searched", default="")
        record.add_argument("--witness-name", default="")
        record.add_argument("--witness-relation", default="", help="the witness's relation (참관인)")
        record.add_argument("--refused", action="store_true", help="the participant refused to sign")
        record.add_argument("--refusal-reason", default="")
        scene = sub.add_parser("scene-print", help="issue the 전자정보 확인서 of a recorded confirmation")
        scene.add_argument("case")
        scene.add_argument("confirmation", help="e.g. H-001")
        scene.add_argument("--out")
        mark = sub.add_parser("mark", help="mark items unrelated to the warrant")
        mark.add_argument("case")
        mark.add_argument("--items", required=True, help="comma-separated item ids")
        mark.add_argument("--reason", required=True)
        unmark = sub.add_parser("unmark", help="withdraw a mark made by mistake")
        unmark.add_argument("case")
        unmark.add_argument("mark", type=int, help="the mark's id (procedure list)")
        unmark.add_argument("--reason", required=True)
        dispose = sub.add_parser("dispose", help="record the return or deletion of unrelated items")
        dispose.add_argument("case")
        dispose.add_argument("--items", required=True, help="comma-separated item ids (marked unrelated)")
        dispose.add_argument("--kind", required=True, choices=["returned", "deleted"])
        dispose.add_argument("--person-searched", required=True)
        dispose.add_argument("--confirmation", default="", help="how the person searched confirmed it")
        dispose.add_argument("--refused", action="store_true", help="the person searched refused to confirm")
        dispose.add_argument("--refusal-reason", default="")
        dispose.add_argument("--handover", default="", help="what was handed back, on what, to whom")
        export = sub.add_parser("export-confirmation", help="issue the 반출 확인서 of an export bundle")
        export.add_argument("case")
        export.add_argument("bundle", type=int)
        export.add_argument("--out")
        document = sub.add_parser("document", help="write an issued document (L-001, C-001, X-001)")
        document.add_argument("case")
        document.add_argument("number")
        document.add_argument("--out", required=True)
        listing = sub.add_parser("list", help="the case's procedure documents, confirmations and marks")
        listing.add_argument("case")
        for step in sub.choices.values():
            self.add_actor_and_json(
                step, actor_help="who acts (recorded on the custody events)", required=True
            )

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        actor = self.get_actor(options["actor"])
        write = verb in ("seized-list", "scene-record", "scene-print", "export-confirmation")
        action = {
            "mark": Action.UNRELATED_MARK,
            "unmark": Action.UNRELATED_MARK,
            "dispose": Action.UNRELATED_DISPOSE,
        }.get(verb, Action.PROCEDURE_RECORD if write else Action.PROCEDURE_READ)
        case = case_for_command(user=actor, number=options["case"], action=action, doing=action.label)
        payload: dict[str, Any]
        if verb == "seized-list":
            acquisition = Acquisition.objects.filter(case=case, pk=options["acquisition"]).first()
            if acquisition is None:
                raise NotFound(f"case {case.number} has no acquisition {options['acquisition']}")
            payload = self._document(seized_list_issue(acquisition=acquisition, actor=actor), options)
        elif verb == "scene-record":
            computed_at = self._time(options["computed_at"])
            confirmation = scene_confirmation_record(
                case=case,
                actor=actor,
                subject=options["subject"],
                hashes=[_hash_option(value) for value in options["hash"]],
                computed_by=options["computed_by"],
                computed_at=computed_at,
                acquisition_id=options["acquisition"],
                tool=options["tool"],
                place=options["place"],
                person_searched=options["person_searched"],
                witness_name=options["witness_name"],
                witness_relation=options["witness_relation"],
                participant_refused=options["refused"],
                refusal_reason=options["refusal_reason"],
            )
            payload = confirmation_json(confirmation)
        elif verb == "scene-print":
            confirmation = scene_confirmation_get(case=case, number=options["confirmation"])
            payload = self._document(
                scene_confirmation_issue(confirmation=confirmation, actor=actor), options
            )
        elif verb == "mark":
            marks = unrelated_mark(
                case=case, actor=actor, item_ids=id_list(options["items"]), reason=options["reason"]
            )
            payload = {"case": case.number, "marks": [mark_json(m) for m in marks]}
        elif verb == "unmark":
            mark = UnrelatedMark.objects.filter(case=case, pk=options["mark"]).first()
            if mark is None:
                raise NotFound(f"case {case.number} has no mark {options['mark']}: see 'procedure list'")
            payload = mark_json(unrelated_unmark(mark=mark, actor=actor, reason=options["reason"]))
        elif verb == "dispose":
            disposal = unrelated_dispose(
                case=case,
                actor=actor,
                item_ids=id_list(options["items"]),
                kind=options["kind"],
                person_searched=options["person_searched"],
                confirmation=options["confirmation"],
                person_refused=options["refused"],
                refusal_reason=options["refusal_reason"],
                handover=options["handover"],
            )
            payload = disposal_json(disposal)
        elif verb == "export-confirmation":
            bundle = ExportBundle.objects.filter(case=case, pk=options["bundle"]).first()
            if bundle is None:
                raise NotFound(f"case {case.number} has no export bundle {options['bundle']}")
            payload = self._document(export_confirmation_issue(bundle=bundle, actor=actor), options)
        elif verb == "document":
            payload = self._document(procedure_document_get(case=case, number=options["number"]), options)
        else:
            payload = self._listing(case)
        if options["json"]:
            self.emit_json(payload)
        else:
            self.stdout.write(self._line(verb, payload))

    def _time(self, text: str) -> datetime | None:
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"--computed-at {text!r}: give an ISO 8601 time, e.g. 2024-05-02T14:30+09:00"
            ) from None
        if moment.tzinfo is None:
            raise UsageError(f"--computed-at {text!r}: give the offset too (e.g. +09:00)")
        return moment

    def _document(self, document: ProcedureDocument, options: dict[str, Any]) -> dict[str, Any]:
        if options.get("out"):
            Path(options["out"]).write_bytes(procedure_document_read(document))
        return {**document_json(document), "out": options.get("out") or None}

    def _listing(self, case: Case) -> dict[str, Any]:
        return {
            "case": case.number,
            "documents": [document_json(d) for d in procedure_documents(case=case)],
            "confirmations": [
                confirmation_json(c) for c in SceneConfirmation.objects.filter(case=case).order_by("number")
            ],
            "marks": [mark_json(m) for m in unrelated_marks(case=case)],
            "disposals": [disposal_json(d) for d in unrelated_disposals(case=case)],
        }

    def _line(self, verb: str, payload: dict[str, Any]) -> str:
        if "marks" in payload and verb == "mark":
            return (
                f"marked {len(payload['marks'])} item(s) of case {payload['case']} unrelated to the warrant"
            )
        if verb == "list":
            return (
                f"case {payload['case']}: {len(payload['documents'])} document(s), "
                f"{len(payload['confirmations'])} scene confirmation(s), {len(payload['marks'])} mark(s), "
                f"{len(payload['disposals'])} return(s) or deletion(s)"
            )
        if verb == "dispose":
            count = len(payload["items"])
            return f"{payload['number']} ({payload['kind']}): {count} item(s), the vault's copy erased"
        if verb == "unmark":
            return f"mark {payload['id']} on item {payload['item']} withdrawn"
        if verb == "scene-record":
            return f"scene confirmation {payload['number']} of case {payload['case']} recorded"
        where = f", written to {payload['out']}" if payload.get("out") else ""
        head = f"{payload['number']} ({payload['kind']}) of case {payload['case']}"
        return f"{head}: sha256 {payload['sha256']}{where}"
