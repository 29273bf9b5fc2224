"""A case ready for a report: real ingest, real detectors, sealed identities, approved exhibits."""

import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.utils import timezone

from access.choices import CaseMemberRole
from access.models import Case
from access.services import case_create, legal_authority_record
from detection.registry import detector_get
from detection.services import detection_run
from evidence.ingest import PathSource, evidence_ingest
from evidence.ledger import checkpoint_create
from evidence.models import EvidenceItem
from exhibits.models import Exhibit
from exhibits.reports.data import ReportData, report_data
from exhibits.reports.render import RenderResult, report_render
from exhibits.reports.types import SignerInfo
from exhibits.services import exhibit_approve, exhibit_create
from parties.models import Person
from parties.services.people import Identity, person_record
from tests.factories_access import jpeg_bytes
from tests.factories_cases import case_opener, new_user

PICTURES = ("astronaut", "coffee", "chelsea")
VICTIM = Identity(
    name="Kim Ji-woo",
    birth_date="2008-03-14",
    contact="010-2345-6789",
    identifiers=(("instagram", "@jiwoo.kim.08"),),
)
VICTIM_KO = Identity(name="박서연", birth_date="2009-11-02", contact="seoyeon@example.kr")
SIGNER = SignerInfo(subject="CN=Haetae development signer", development=True, certificate_sha256="ab" * 32)


@dataclass
class ReportCase:
    case: Case
    lead: User
    supervisor: User
    items: dict[str, EvidenceItem]
    exhibits: list[Exhibit]
    victims: list[Person]


def report_case(
    folder: Path, *, detectors: tuple[str, ...] = ("c2pa", "jpeg-forensics", "nudenet")
) -> ReportCase:
    """A case with three photographs ingested from ``folder``, detectors run, two victims, two exhibits."""
    lead = case_opener(first_name="Min-jun", last_name="Lee")
    case = case_create(
        number=f"2024-SEOUL-R{Case.objects.count() + 1:03d}",
        title="Deepfake distribution channel",
        actor=lead,
        unit="서울청 사이버수사대",
        jurisdiction="서울중앙지방검찰청",
        offences=["sc-14-2-distribute"],
    )
    supervisor = new_user(first_name="Hye-jin", last_name="Choi")
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    from access.models import CaseMember

    CaseMember.objects.create(case=case, user=supervisor, role=CaseMemberRole.INVESTIGATOR)
    legal_authority_record(
        case=case,
        actor=lead,
        number="2024-12345",
        court="서울중앙지방법원",
        scope="the suspect's phone and cloud accounts",
        issued_at=timezone.now() - timedelta(days=2),
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PICTURES:
        path = folder / f"{name}.jpg"
        path.write_bytes(jpeg_bytes(name))
        paths.append(path)
    result = evidence_ingest(
        case=case,
        sources=[PathSource(p) for p in paths],
        actor=lead,
        source_label="seized phone (Galaxy S23), DCIM folder",
        seizure_reference="2024-12345",
        seal_numbers=["SEAL-0042"],
        location="Seoul Mapo-gu, suspect's residence",
        participants=["W-1 (suspect's landlord)", "Officer Park"],
    )
    items = {Path(o.path).stem: EvidenceItem.objects.get(pk=o.id) for o in result.items if o.id is not None}
    for name in detectors:
        plugin = detector_get(name)
        for item in items.values():
            detection_run(item=item, detector=plugin, actor=lead)
    victims = [
        person_record(case=case, kind="victim", actor=lead, identity=VICTIM, is_minor=True),
        person_record(case=case, kind="victim", actor=lead, identity=VICTIM_KO),
    ]
    first = exhibit_create(
        case=case,
        item_ids=[items["astronaut"].pk, items["coffee"].pk],
        description="Two images posted in the channel, depicting V-1 (manipulated face).",
        opinion="The face of V-1 appears pasted onto another body; the lighting does not match.",
        actor=lead,
    )
    second = exhibit_create(
        case=case,
        item_ids=[items["chelsea"].pk],
        description="An image of a cat sent with the same message; context for E-001.",
        actor=lead,
    )
    exhibit_approve(exhibit=first, actor=supervisor, note="checked against the seizure record")
    checkpoint_create()
    return ReportCase(
        case=case,
        lead=lead,
        supervisor=supervisor,
        items=items,
        exhibits=[Exhibit.objects.get(pk=first.pk), Exhibit.objects.get(pk=second.pk)],
        victims=victims,
    )


def render_to(
    path: Path, data: ReportData, *, report_id: str = "RPT-TEST-0001", **kwargs: Any
) -> RenderResult:
    with path.open("wb") as out:
        return report_render(
            data=data, out=out, report_id=report_id, version=kwargs.pop("version", 1), signer=SIGNER, **kwargs
        )


def render_case(built: ReportCase, path: Path, language: str = "en", **kwargs: Any) -> RenderResult:
    data = report_data(case=built.case, exhibits=built.exhibits, language=language)
    return render_to(path, data, **kwargs)


def pdf_text(path: Path, *pages: int, layout: bool = True) -> str:
    """pdftotext's reading of the PDF (or of some pages): laid out as on the page, or (``layout`` False) in
    the order it was drawn, where a table cell's lines follow each other."""
    args = ["pdftotext", "-layout" if layout else "-raw", "-enc", "UTF-8"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(path: Path) -> list[str]:
    """Each page's text (pdftotext separates pages with form feeds)."""
    return pdf_text(path).split("\f")[:-1]
