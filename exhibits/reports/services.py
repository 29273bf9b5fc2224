"""Writes on reports: ask for one, generate it (render, PII scan, PDF/A-3, sign, store), open it (logged).

A report is identified by ``report_id``, stable for the same case, scope (exhibit numbers in order) and
language; each generation is a new ``version`` of it and never overwrites an earlier one. ``report_request``
creates the queued row; ``report_generate`` (run by ``exhibits.tasks.report_generate_task`` or synchronously
by ``manage.py report``) does the work with progress on the row, stores the signed PDF in the vault as an
encrypted blob (a plain vault object named by its SHA-256: not an evidence item and not a derivative of one)
and appends the case-level ``report_generated`` custody event carrying its SHA-256, in the same transaction
as the row's update. A failed generation marks the row failed with the reason and stores nothing.
``report_open`` records ``report_downloaded`` (committed before the first byte) and streams verified bytes.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.models import Case
from access.policy import POLICY, Action, case_access_role, role_may, shared_only
from evidence.choices import CustodyAction
from evidence.content import verified_stream
from evidence.custody import EventSpec, canonical_json, custody_append, custody_append_many
from evidence.ledger import checkpoint_create, checkpoint_latest
from evidence.models import Blob, CustodyEvent
from evidence.vault import StagedObject, WorkDir, blob_commit, object_path
from exhibits import manifest as manifest_builder
from exhibits.choices import ExhibitStatus, ReportLanguage, ReportStatus
from exhibits.models import Exhibit, Report
from exhibits.reports import data as data_builder
from exhibits.reports import pii, render
from exhibits.reports.pdfa import pdfa_finalize
from exhibits.reports.signing import pdf_sign_checked, signer_load
from exhibits.reports.types import SignerInfo
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, HaetaeError, NotFound, RejectedInput
from haetae.toolkit import task_queue_on_commit

logger = logging.getLogger(__name__)

REPORT_ID_MAX = 64
_CASE_PREFIX_MAX = REPORT_ID_MAX - len("-R-12345678-ko")
_SIGNER_ADVICE = "nothing was stored; check the signer's certificate and key (HAETAE_SIGNER_*)"

ProgressCallback = Callable[[int], None]


def report_id_for(*, case: Case, scope: Sequence[str], language: str) -> str:
    """``<case>-R-<8 hex>-<lang>``: the hex is SHA-256 of the case number and the scope, so the same case,
    exhibits (in order) and language always give the same id, and a case number too long to show whole
    (it is cut to fit 64 characters) still gives distinct ids."""
    digest = hashlib.sha256(canonical_json({"case": case.number, "scope": list(scope)})).hexdigest()[:8]
    return f"{case.number[:_CASE_PREFIX_MAX]}-R-{digest}-{language}"


def _role(*, case: Case, actor: AbstractBaseUser | AnonymousUser) -> str:
    role = case_access_role(user=actor, case_id=case.pk)
    if role is None:
        raise NotFound(f"no case {case.number} among your cases: ask its lead to add you to the team")
    return role


def _resolve_scope(*, case: Case, exhibit_numbers: Sequence[str] | None) -> list[Exhibit]:
    exhibits = Exhibit.objects.filter(case_id=case.pk)
    if exhibit_numbers is None:
        chosen = list(exhibits.exclude(status=ExhibitStatus.WITHDRAWN).order_by("sequence"))
        if not chosen:
            raise RejectedInput(
                f"case {case.number} has no exhibits to report on (none, or all withdrawn): draft one with "
                f"'manage.py create_exhibit {case.number} --items ID --description TEXT'"
            )
        return chosen
    numbers = list(dict.fromkeys(n.strip().upper() for n in exhibit_numbers if n and n.strip()))
    if not numbers:
        raise RejectedInput("exhibits: name at least one exhibit (E-001, …), or leave it out for all of them")
    found = {e.number: e for e in exhibits.filter(number__in=numbers)}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise RejectedInput(
            f"exhibits: case {case.number} has no exhibit {', '.join(missing)}; its exhibits are listed by "
            f"GET /api/v1/cases/{case.number}/exhibits/",
            details={"exhibits": missing},
        )
    withdrawn = [n for n in numbers if found[n].status == ExhibitStatus.WITHDRAWN]
    if withdrawn:
        raise RejectedInput(
            f"exhibits: {', '.join(withdrawn)} withdrawn; a withdrawn exhibit is not reported: leave it out",
            details={"exhibits": withdrawn},
        )
    return [found[n] for n in numbers]


def report_request(*, case: Case, exhibit_numbers: list[str] | None, language: str, actor: User) -> Report:
    """Create the queued report row (the next version of its report id); generation runs separately."""
    role = _role(case=case, actor=actor)
    if not role_may(role, Action.REPORT_REQUEST):
        allowed = ", ".join(sorted(str(r) for r in POLICY[Action.REPORT_REQUEST]))
        raise AccessDenied(
            f"your role on case {case.number} is {role}; only members with the role {allowed} generate "
            "reports"
            + (
                ": a prosecutor downloads the reports of exhibits shared with them"
                if shared_only(role)
                else ""
            )
        )
    if language not in ReportLanguage.values:
        raise RejectedInput(
            f"language: {language!r} is not a report language; use one of {', '.join(ReportLanguage.values)}",
            details={"language": [f"one of {', '.join(ReportLanguage.values)}"]},
        )
    with ledger_transaction():
        Case.objects.select_for_update(no_key=True).filter(pk=case.pk).first()  # versions one at a time
        exhibits = _resolve_scope(case=case, exhibit_numbers=exhibit_numbers)
        scope = [e.number for e in exhibits]
        report_id = report_id_for(case=case, scope=scope, language=language)
        last = Report.objects.filter(report_id=report_id).aggregate(last=Max("version"))["last"] or 0
        report = Report.objects.create(
            case=case,
            report_id=report_id,
            version=last + 1,
            language=language,
            scope=scope,
            requested_by=actor,
        )
        report.exhibits.set(exhibits)
    return report


REPORT_TASK = "exhibits.tasks.report_generate_task"


def report_enqueue(*, report: Report) -> None:
    """Queue generation on the ``reports`` queue once the current transaction commits."""
    task_queue_on_commit(REPORT_TASK, report.pk)


def report_queue(*, case: Case, exhibit_numbers: list[str] | None, language: str, actor: User) -> Report:
    """Ask for a report and queue its generation once committed: the one way a report job is queued."""
    with transaction.atomic():
        report = report_request(case=case, exhibit_numbers=exhibit_numbers, language=language, actor=actor)
        report_enqueue(report=report)
    return report


def _set_progress(report_pk: int, percent: int) -> None:
    Report.objects.filter(pk=report_pk, status=ReportStatus.RUNNING).update(progress=max(0, min(99, percent)))


def _claim(report: Report) -> Report | None:
    """Mark the row running; None when there is nothing to do (already done or failed: regenerate instead).

    A row found ``running`` is taken over: that is a redelivered task whose worker died midway, and since
    nothing is stored before the final transaction, starting again is safe.
    """
    with ledger_transaction():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status in (ReportStatus.DONE, ReportStatus.FAILED):
            return None
        locked.status = ReportStatus.RUNNING
        locked.progress = 1
        locked.error = ""
        locked.save(update_fields=["status", "progress", "error"])
    return locked


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, HaetaeError):
        return exc.message
    return (
        f"report generation failed unexpectedly ({type(exc).__name__}: {exc}); nothing was stored. Ask for "
        "the report again; if it fails the same way, give this message to the operator (the worker's log has "
        "the details)"
    )


def _mark_failed(report: Report, message: str) -> Report:
    with ledger_transaction():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.DONE:
            return locked  # a redelivered copy of the task lost the race to store: the stored one stands
        locked.status = ReportStatus.FAILED
        locked.error = message
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "error", "finished_at"])
    return locked


def _report_title(report: Report) -> str:
    if report.language == ReportLanguage.KO:
        return f"사건 {report.case.number} 증거 보고서 {report.report_id} 제{report.version}판"
    return f"Case {report.case.number} exhibit report {report.report_id} version {report.version}"


def report_generate(*, report: Report, on_progress: ProgressCallback | None = None) -> Report:
    """Generate, sign and store the queued report; returns the row, ``done`` or ``failed`` with the reason."""
    claimed = _claim(report)
    if claimed is None:
        return Report.objects.get(pk=report.pk)
    report = claimed

    def progress(percent: int) -> None:
        _set_progress(report.pk, percent)
        if on_progress is not None:
            on_progress(percent)

    try:
        with WorkDir() as work:  # inside the vault (0700), removed afterwards; a dead worker's is recovered
            return _generate(report=report, work=work, progress=progress)
    except HaetaeError as exc:  # refused (PII, configuration, integrity): the message says what to do
        logger.warning("report %s v%s refused: %s", report.report_id, report.version, exc.message)
        return _mark_failed(report, _failure_message(exc))
    except Exception as exc:
        logger.exception("report %s v%s failed", report.report_id, report.version)
        return _mark_failed(report, _failure_message(exc))


def _generate(*, report: Report, work: WorkDir, progress: ProgressCallback) -> Report:
    case = report.case
    position = {number: index for index, number in enumerate(report.scope)}
    exhibits = sorted(report.exhibits.all(), key=lambda exhibit: position.get(exhibit.number, len(position)))
    signer = signer_load()  # first: a signing misconfiguration fails before any work is done
    _checkpoint_ledger()  # so the custody table can name the signed checkpoint of every event so far
    progress(2)
    data = data_builder.report_data(case=case, exhibits=exhibits, language=report.language)
    plain = work.path / "report-plain.pdf"
    with open(plain, "wb") as out:
        rendered = render.report_render(
            data=data,
            out=out,
            report_id=report.report_id,
            version=report.version,
            signer=signer.info,
            progress=lambda percent: progress(5 + int(percent) * 70 // 100),
        )
    progress(76)
    manifest = manifest_builder.exhibit_manifest(case=case, exhibits=exhibits)
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode()
    # The report's text and the manifest embedded in it are both generated text a court receives.
    pii.pii_scan(case=case, texts=[rendered.text, manifest_bytes.decode()])
    progress(82)
    pdfa = work.path / "report-pdfa.pdf"
    pdfa_finalize(
        pdf_in=plain,
        pdf_out=pdfa,
        manifest=manifest_bytes,
        title=_report_title(report),
        language=report.language,
    )
    progress(88)
    signed = work.path / "report-signed.pdf"
    pdf_sign_checked(pdf_in=pdfa, pdf_out=signed, signer=signer, what="report", advice=_SIGNER_ADVICE)
    progress(94)
    with open(signed, "rb") as source:
        staged = work.stage(source)
    return _store(
        report=report,
        work=work,
        staged=staged,
        page_count=rendered.page_count,
        signer_info=signer.info,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        included=data.included.as_json(),
    )


def _checkpoint_ledger() -> None:
    """Sign the ledger's tree head now unless the newest checkpoint already covers every event."""
    newest = checkpoint_latest()
    last_seq = CustodyEvent.objects.aggregate(last=Max("seq"))["last"]
    if last_seq is not None and (newest is None or newest.tree_size <= last_seq):
        checkpoint_create()


def _store(
    *,
    report: Report,
    work: WorkDir,
    staged: StagedObject,
    page_count: int,
    signer_info: SignerInfo,
    manifest_sha256: str,
    included: dict[str, Any],
) -> Report:
    sha256 = staged.digests.sha256
    placed = False
    try:
        with ledger_transaction():
            locked = Report.objects.select_for_update().get(pk=report.pk)
            if locked.status != ReportStatus.RUNNING:
                raise RejectedInput(
                    f"report {locked.report_id} v{locked.version} became {locked.status} while it was being "
                    "generated (another worker finished it): this copy is discarded"
                )
            _blob, placed = blob_commit(work=work, staged=staged, mime="application/pdf")
            locked.status = ReportStatus.DONE
            locked.progress = 100
            locked.error = ""
            locked.sha256 = sha256
            locked.size = staged.digests.size
            locked.page_count = page_count
            locked.signer_subject = signer_info.subject
            locked.development_signer = signer_info.development
            locked.finished_at = timezone.now()
            locked.save()
            details = {
                **_report_ref(locked),
                "language": locked.language,
                "exhibits": list(locked.scope),
                "size": staged.digests.size,
                "md5": staged.digests.md5,
                "sha1": staged.digests.sha1,
                "pages": page_count,
                "manifest_sha256": manifest_sha256,
                "signer": signer_info.subject,
                "signer_certificate_sha256": signer_info.certificate_sha256,
                "development_signer": signer_info.development,
                # what went into it: items, blurred thumbnails (derivative SHA-256s), re-hashes
                "included": included,
            }
            generated = EventSpec(
                case_id=locked.case_id,
                action=CustodyAction.REPORT_GENERATED,
                actor=locked.requested_by,
                sha256_after=sha256,
                details=details,
            )
            custody_append_many([generated])
    except BaseException:
        # The object was renamed into the vault but its row rolled back: take it out again (report PDFs
        # are unique, signed at a moment, so no other row can be sharing it).
        if placed and not Blob.objects.filter(sha256=sha256).exists():
            object_path(sha256).unlink(missing_ok=True)
        raise
    return locked


def _report_ref(report: Report) -> dict[str, Any]:
    """How custody details name a report: its id and version."""
    return {"report_id": report.report_id, "version": report.version}


def _prosecutor_may_read(report: Report) -> bool:
    statuses = set(report.exhibits.values_list("status", flat=True))
    return bool(statuses) and statuses == {ExhibitStatus.SHARED}


def report_open(*, report: Report, actor: User, purpose: str = "") -> Iterator[bytes]:
    """Check who asks, record ``report_downloaded`` (committed first), then iterate the verified PDF bytes."""
    case = report.case
    role = _role(case=case, actor=actor)
    if not role_may(role, Action.REPORT_DOWNLOAD):
        raise AccessDenied(
            f"your role on case {case.number} is {role}; reports carry blurred previews of evidence and are "
            "downloaded by the lead, investigators and (for shared exhibits) the prosecutor"
        )
    if shared_only(role) and not _prosecutor_may_read(report):
        raise AccessDenied(
            f"report {report.report_id} v{report.version} covers exhibits not shared with you "
            f"({', '.join(report.scope)}): prosecutors download reports of shared exhibits only; ask the "
            "case lead to share them"
        )
    if report.status != ReportStatus.DONE or not report.sha256:
        detail = {
            ReportStatus.QUEUED: "is queued: wait for it to be generated",
            ReportStatus.RUNNING: f"is being generated ({report.progress} %): wait for it to finish",
            ReportStatus.FAILED: f"failed ({report.error}): ask for the report again",
        }.get(ReportStatus(report.status), "has no PDF")
        raise RejectedInput(f"report {report.report_id} v{report.version} {detail}")
    sha256 = report.sha256
    with transaction.atomic():
        downloaded = custody_append(
            case_id=case.pk,
            action=CustodyAction.REPORT_DOWNLOADED,
            actor=actor,
            actor_role=role,
            purpose=(purpose or "").strip(),
            sha256_before=sha256,
            sha256_after=sha256,
            details=_report_ref(report),
        )
    return verified_stream(
        sha256,
        case_id=case.pk,
        item_id=None,
        actor=actor,
        source="report read",
        **_report_ref(report),
        download_event=downloaded.seq,
    )
