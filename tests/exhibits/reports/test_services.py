"""Report services: request (roles, scope, versions), generate (store, custody, failure), open (logged).

The whole pipeline runs for real (``report_data``, ``report_render``, ``pii_scan``, ``exhibit_manifest``,
PDF/A, signing); the ``pipeline`` fixture only records how the services called them.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.models import Blob, CustodyEvent, EvidenceItem
from evidence.previews import preview_blurred_derivative
from evidence.vault import object_path
from exhibits.choices import ExhibitStatus, ReportStatus
from exhibits.models import Exhibit, Report
from exhibits.reports import services
from exhibits.reports.pdfa import manifest_extract
from exhibits.reports.services import report_generate, report_id_for, report_open, report_request
from exhibits.reports.signing import pdf_signature_check
from exhibits.reports.types import SignerInfo
from exhibits.services import exhibit_create, exhibit_update, exhibit_withdraw
from exhibits.tasks import report_generate_task
from haetae.errors import AccessDenied, NotFound, RejectedInput
from parties.services.people import Identity, person_record
from tests.factories import (
    PICTURES,
    Team,
    item,
    jpeg_bytes,
    make_ca,
    make_signer,
    new_user,
    pdfsig,
    team,
    use_signer,
)

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY_NAME = "김지수"  # V-1's sealed name: any text holding it is refused by the PII scan


@pytest.fixture
def pipeline(monkeypatch) -> dict[str, Any]:
    """Record the calls the services make to the real parts of the pipeline (which still run)."""
    from exhibits import manifest as manifest_module
    from exhibits.reports import data as data_module
    from exhibits.reports import pii as pii_module
    from exhibits.reports import render as render_module

    calls: dict[str, Any] = {}
    real_data, real_render, real_pii = (
        data_module.report_data,
        render_module.report_render,
        pii_module.pii_scan,
    )

    def report_data(*, case: Any, exhibits: Any, language: str, **kwargs: Any) -> Any:
        calls["data"] = (case.number, [e.number for e in exhibits], language)
        return real_data(case=case, exhibits=exhibits, language=language, **kwargs)

    def report_render(*, signer: SignerInfo, **kwargs: Any) -> Any:
        calls["signer"] = signer
        return real_render(signer=signer, **kwargs)

    def pii_scan(*, case: Any, texts: Any) -> None:
        calls["pii"] = list(texts)
        real_pii(case=case, texts=calls["pii"])

    monkeypatch.setattr(data_module, "report_data", report_data)
    monkeypatch.setattr(render_module, "report_render", report_render)
    monkeypatch.setattr(pii_module, "pii_scan", pii_scan)
    calls["manifest"] = manifest_module.exhibit_manifest
    return calls


def name_the_victim(t: Team) -> None:
    """Put V-1's sealed name into exhibit E-001's description (what the PII scan must catch)."""
    exhibit = Exhibit.objects.get(case=t.case, number="E-001")
    exhibit_update(exhibit=exhibit, actor=t.lead, description=f"photo of {IDENTITY_NAME} from the room")


@pytest.fixture
def case_team() -> Team:
    t = team()
    person_record(case=t.case, kind="victim", actor=t.lead, identity=Identity(name=IDENTITY_NAME))
    for n in range(3):
        photo = item(t, data=jpeg_bytes(PICTURES[n]), name=f"photo-{n}.jpg")
        # Made now, as the evidence list would: generating a report then adds only the report to the vault.
        preview_blurred_derivative(item=photo)
        exhibit_create(
            case=t.case,
            item_ids=[photo.pk],
            description=f"exhibit {n}",
            actor=t.lead,
        )
    return t


def _vault_objects(root: Path) -> set[str]:
    return {p.name for p in (root / "objects").rglob("*") if p.is_file()}


# --- request ---


def test_request_creates_queued_versions_with_a_stable_id(case_team: Team) -> None:
    t = case_team
    first = report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    assert first.status == ReportStatus.QUEUED and first.version == 1
    assert first.scope == ["E-001", "E-002", "E-003"]
    assert list(first.exhibits.order_by("sequence").values_list("number", flat=True)) == first.scope
    assert first.report_id == report_id_for(case=t.case, scope=first.scope, language="ko")
    assert first.report_id.startswith(f"{t.case.number}-R-") and first.report_id.endswith("-ko")
    again = report_request(
        case=t.case, exhibit_numbers=["E-001", "E-002", "E-003"], language="ko", actor=t.lead
    )
    assert (again.report_id, again.version) == (first.report_id, 2)
    english = report_request(case=t.case, exhibit_numbers=None, language="en", actor=t.lead)
    assert english.report_id != first.report_id and english.version == 1
    some = report_request(case=t.case, exhibit_numbers=["e-002"], language="ko", actor=t.member())
    assert some.scope == ["E-002"] and some.report_id != first.report_id
    reordered = report_request(case=t.case, exhibit_numbers=["E-003", "E-001"], language="ko", actor=t.lead)
    assert reordered.scope == ["E-003", "E-001"]


def test_request_without_exhibits_leaves_withdrawn_ones_out(case_team: Team) -> None:
    t = case_team
    exhibit_withdraw(
        exhibit=Exhibit.objects.get(case=t.case, number="E-002"), actor=t.lead, reason="duplicate"
    )
    report = report_request(case=t.case, exhibit_numbers=None, language="en", actor=t.lead)
    assert report.scope == ["E-001", "E-003"]
    with pytest.raises(RejectedInput, match="E-002 withdrawn"):
        report_request(case=t.case, exhibit_numbers=["E-001", "E-002"], language="en", actor=t.lead)


def test_request_refusals(case_team: Team) -> None:
    t = case_team
    with pytest.raises(RejectedInput, match="no exhibit E-009"):
        report_request(case=t.case, exhibit_numbers=["E-001", "E-009"], language="ko", actor=t.lead)
    with pytest.raises(RejectedInput, match="not a report language"):
        report_request(case=t.case, exhibit_numbers=None, language="fr", actor=t.lead)
    for role in (CaseMemberRole.PROSECUTOR, CaseMemberRole.ANALYST, CaseMemberRole.VICTIM_SUPPORT):
        with pytest.raises(
            AccessDenied, match="only members with the role investigator, lead, supervisor generate reports"
        ):
            report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.member(role))
    with pytest.raises(NotFound):
        report_request(case=t.case, exhibit_numbers=None, language="ko", actor=new_user())
    empty = team()
    with pytest.raises(RejectedInput, match="has no exhibits to report on"):
        report_request(case=empty.case, exhibit_numbers=None, language="ko", actor=empty.lead)
    assert Report.objects.count() == 0


# --- generate ---


def test_generate_stores_signed_pdfa_in_the_vault_with_a_custody_event(
    case_team: Team, pipeline, settings, tmp_path: Path
) -> None:
    t = case_team
    items_before = EvidenceItem.objects.count()
    report = report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    seen: list[int] = []
    done = report_generate(report=report, on_progress=seen.append)
    assert done.status == ReportStatus.DONE, done.error
    assert done.progress == 100 and done.error == "" and done.finished_at is not None
    assert done.page_count and done.page_count >= 3 and done.size and len(done.sha256) == 64
    assert seen == sorted(seen) and seen[0] >= 1 and seen[-1] < 100
    assert pipeline["data"] == (t.case.number, ["E-001", "E-002", "E-003"], "ko")
    # stored as an encrypted vault blob, not as evidence
    blob = Blob.objects.get(sha256=done.sha256)
    assert blob.mime == "application/pdf" and blob.size == done.size
    assert b"%PDF" not in object_path(done.sha256).read_bytes()[:4096]
    assert EvidenceItem.objects.count() == items_before
    event = CustodyEvent.objects.get(action=CustodyAction.REPORT_GENERATED)
    assert event.case_id == t.case.pk and event.item_id is None and event.actor_id == t.lead.pk
    assert event.sha256_after == done.sha256
    assert event.details["report_id"] == done.report_id and event.details["version"] == 1
    assert event.details["exhibits"] == ["E-001", "E-002", "E-003"]
    assert event.details["development_signer"] is True
    # what report_open serves is the signed PDF/A with the manifest, and it validates
    out = tmp_path / "report.pdf"
    out.write_bytes(b"".join(report_open(report=done, actor=t.lead, purpose="court filing")))
    assert pdf_signature_check(out).ok
    embedded = json.loads(manifest_extract(out))
    assert embedded["case"]["number"] == t.case.number
    assert [e["number"] for e in embedded["exhibits"]] == ["E-001", "E-002", "E-003"]
    # the PII scan saw the report's text and the manifest
    assert len(pipeline["pii"]) == 2 and t.case.number in pipeline["pii"][1]


def test_development_signer_reaches_the_cover(case_team: Team, pipeline, tmp_path: Path) -> None:
    t = case_team
    done = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="en", actor=t.lead)
    )
    assert pipeline["signer"].development is True
    assert done.development_signer is True and "Haetae development signer" in done.signer_subject
    out = tmp_path / "dev.pdf"
    out.write_bytes(b"".join(report_open(report=done, actor=t.lead)))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "development certificate — not for court" in text.lower()


def test_agency_signer_is_recorded(case_team: Team, pipeline, settings, tmp_path: Path) -> None:
    use_signer(settings, make_signer(make_ca(), tmp_path / "agency"))
    t = case_team
    done = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="en", actor=t.lead)
    )
    assert done.status == ReportStatus.DONE, done.error
    assert done.development_signer is False and "Seoul Police Evidence Unit" in done.signer_subject
    assert pipeline["signer"].development is False
    out = tmp_path / "agency.pdf"
    out.write_bytes(b"".join(report_open(report=done, actor=t.lead)))
    verdict = pdfsig(out, "-nocert", home=tmp_path)
    assert verdict.field("Signature Validation") == "Signature is Valid."


def test_exhibits_reach_the_report_in_the_order_asked_for(case_team: Team, pipeline) -> None:
    t = case_team
    report = report_request(case=t.case, exhibit_numbers=["E-003", "E-001"], language="en", actor=t.lead)
    assert report_generate(report=report).status == ReportStatus.DONE
    assert pipeline["data"][1] == ["E-003", "E-001"]


def test_regenerating_adds_a_version(case_team: Team, pipeline) -> None:
    t = case_team
    first = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    second = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    assert second.report_id == first.report_id and first.version == 1
    assert second.version == 2 and first.sha256 != second.sha256
    assert Blob.objects.filter(sha256__in=[first.sha256, second.sha256]).count() == 2
    assert CustodyEvent.objects.filter(action=CustodyAction.REPORT_GENERATED).count() == 2
    # a finished report is not generated again
    assert report_generate(report=first).sha256 == first.sha256
    assert CustodyEvent.objects.filter(action=CustodyAction.REPORT_GENERATED).count() == 2


def test_pii_refusal_marks_failed_and_stores_nothing(case_team: Team, pipeline, settings) -> None:
    t = case_team
    name_the_victim(t)
    objects_before = _vault_objects(Path(settings.VAULT_DIR))
    blobs_before = Blob.objects.count()
    failed = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    assert failed.status == ReportStatus.FAILED
    assert "the name of V-1" in failed.error and IDENTITY_NAME not in failed.error
    assert failed.sha256 == "" and failed.finished_at is not None
    assert Blob.objects.count() == blobs_before
    assert _vault_objects(Path(settings.VAULT_DIR)) == objects_before
    assert not CustodyEvent.objects.filter(action=CustodyAction.REPORT_GENERATED).exists()
    assert not list((Path(settings.VAULT_DIR) / "tmp").glob("w-*"))  # the work directory is gone
    with pytest.raises(RejectedInput, match=r"failed .*ask for the report again"):
        report_open(report=failed, actor=t.lead)


def test_unexpected_error_is_reported_with_what_to_do(case_team: Team, pipeline, monkeypatch) -> None:
    t = case_team

    def broken(**_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sys.modules["exhibits.reports.render"], "report_render", broken)
    failed = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    assert failed.status == ReportStatus.FAILED
    assert "OSError: disk full" in failed.error and "nothing was stored" in failed.error


def test_failure_in_the_final_transaction_takes_the_object_back_out(
    case_team: Team, pipeline, monkeypatch, settings
) -> None:
    t = case_team
    objects_before = _vault_objects(Path(settings.VAULT_DIR))

    def ledger_down(_specs: Any) -> None:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "custody_append_many", ledger_down)
    failed = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    assert failed.status == ReportStatus.FAILED and "ledger unavailable" in failed.error
    assert _vault_objects(Path(settings.VAULT_DIR)) == objects_before
    assert not Blob.objects.filter(mime="application/pdf").exists()


def test_misconfigured_signer_fails_before_rendering(case_team: Team, pipeline, settings) -> None:
    settings.HAETAE_SIGNER_CERT_FILE = "/nonexistent/agency.crt"
    t = case_team
    failed = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    assert failed.status == ReportStatus.FAILED
    assert "HAETAE_SIGNER_CERT_FILE is set but HAETAE_SIGNER_KEY_FILE is not" in failed.error
    assert "data" not in pipeline


def test_celery_task_generates(case_team: Team, pipeline) -> None:
    t = case_team
    report = report_request(case=t.case, exhibit_numbers=["E-001"], language="en", actor=t.lead)
    outcome = report_generate_task.apply(args=[report.pk]).get()
    assert (
        outcome["status"] == ReportStatus.DONE
        and outcome["sha256"] == Report.objects.get(pk=report.pk).sha256
    )
    from haetae.celery import app

    assert app.amqp.router.route({}, report_generate_task.name)["queue"].name == "reports"


def test_a_row_left_running_by_a_dead_worker_is_taken_over(case_team: Team, pipeline) -> None:
    t = case_team
    report = report_request(case=t.case, exhibit_numbers=None, language="en", actor=t.lead)
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, progress=40)
    assert report_generate(report=report).status == ReportStatus.DONE


# --- open ---


def test_open_records_the_download_before_the_bytes(case_team: Team, pipeline) -> None:
    t = case_team
    done = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    stream = report_open(report=done, actor=t.lead, purpose="send to prosecutor")
    event = CustodyEvent.objects.get(action=CustodyAction.REPORT_DOWNLOADED)  # before any byte was read
    assert event.purpose == "send to prosecutor" and event.sha256_before == event.sha256_after == done.sha256
    assert event.details == {"report_id": done.report_id, "version": 1}
    assert b"".join(stream).startswith(b"%PDF-")


def test_prosecutor_opens_only_reports_of_shared_exhibits(case_team: Team, pipeline) -> None:
    t = case_team
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    done = report_generate(
        report=report_request(case=t.case, exhibit_numbers=["E-001"], language="ko", actor=t.lead)
    )
    with pytest.raises(AccessDenied, match="not shared with you"):
        report_open(report=done, actor=prosecutor)
    Exhibit.objects.filter(case=t.case, number="E-001").update(status=ExhibitStatus.SHARED)
    assert b"".join(report_open(report=done, actor=prosecutor, purpose="trial")).startswith(b"%PDF-")
    for role in (CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR):
        with pytest.raises(AccessDenied, match="blurred previews"):
            report_open(report=done, actor=t.member(role))
    with pytest.raises(NotFound):
        report_open(report=done, actor=new_user())


def test_open_refuses_a_report_not_yet_done(case_team: Team) -> None:
    t = case_team
    queued = report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    with pytest.raises(RejectedInput, match="is queued: wait for it"):
        report_open(report=queued, actor=t.lead)


def test_damaged_vault_object_is_an_incident(case_team: Team, pipeline) -> None:
    from haetae.errors import IntegrityFailure

    t = case_team
    done = report_generate(
        report=report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    )
    path = object_path(done.sha256)
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure):
        b"".join(report_open(report=done, actor=t.lead))
    incident = CustodyEvent.objects.get(action=CustodyAction.INCIDENT)
    assert incident.details["report_id"] == done.report_id and incident.item_id is None


# --- command ---


def test_report_command_writes_the_signed_pdf(case_team: Team, pipeline, tmp_path: Path, capsys) -> None:
    t = case_team
    out = tmp_path / "case.pdf"
    call_command(
        "report",
        t.case.number,
        "--out",
        str(out),
        "--exhibits",
        "E-001,E-003",
        "--lang",
        "en",
        "--actor",
        t.lead.username,
        "--json",
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["exhibits"] == ["E-001", "E-003"] and payload["version"] == 1
    assert pipeline["data"][1] == ["E-001", "E-003"]
    assert payload["development_signer"] is True and payload["pages"] == Report.objects.get().page_count
    assert hashlib.sha256(out.read_bytes()).hexdigest() == payload["sha256"]
    assert pdf_signature_check(out).ok
    assert CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED).count() == 1


def test_report_command_refusal_exits_1_with_the_message(
    case_team: Team, pipeline, tmp_path: Path, capsys
) -> None:
    t = case_team
    out = tmp_path / "case.pdf"
    with pytest.raises(SystemExit) as exited:
        call_command(
            "report", t.case.number, "--out", str(out), "--exhibits", "E-042", "--actor", t.lead.username
        )
    assert exited.value.code == 1
    assert "no exhibit E-042" in capsys.readouterr().err
    name_the_victim(t)
    with pytest.raises(SystemExit) as exited:
        call_command("report", t.case.number, "--out", str(out), "--actor", t.lead.username)
    assert exited.value.code == 1
    assert "the name of V-1" in capsys.readouterr().err
    assert not out.exists()


def test_enqueue_runs_the_task_once_the_request_commits(case_team: Team, pipeline) -> None:
    from django.db import transaction

    from haetae.celery import app

    t = case_team
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the embedded default (no broker): the task runs in-process
    try:
        with transaction.atomic():
            report = report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
            services.report_enqueue(report=report)
            assert Report.objects.get(pk=report.pk).status == ReportStatus.QUEUED  # nothing before commit
        assert Report.objects.get(pk=report.pk).status == ReportStatus.DONE
    finally:
        app.conf.task_always_eager = saved


def test_a_copy_that_loses_the_race_to_store_leaves_the_stored_report_alone(
    case_team: Team, pipeline, monkeypatch, settings
) -> None:
    t = case_team
    report = report_request(case=t.case, exhibit_numbers=None, language="ko", actor=t.lead)
    scan = sys.modules["exhibits.reports.pii"].pii_scan

    def other_worker_finishes_first(*, case, texts):
        scan(case=case, texts=texts)
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.DONE, sha256="ab" * 32, progress=100)

    monkeypatch.setattr(sys.modules["exhibits.reports.pii"], "pii_scan", other_worker_finishes_first)
    objects_before = _vault_objects(Path(settings.VAULT_DIR))
    outcome = report_generate(report=report)
    assert outcome.status == ReportStatus.DONE and outcome.sha256 == "ab" * 32 and outcome.error == ""
    assert _vault_objects(Path(settings.VAULT_DIR)) == objects_before
    assert not CustodyEvent.objects.filter(action=CustodyAction.REPORT_GENERATED).exists()
