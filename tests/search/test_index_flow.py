"""The index kept in step with real ingest and detection: a file's name is searchable once its batch
commits, its document text once the metadata detector's findings land; a destroyed item leaves it."""

from pathlib import Path

import pytest

from access.selectors import case_get_for
from detection.detectors.metadata import MetadataDetector
from detection.services import detection_run
from evidence.ingest import PathSource, evidence_ingest
from evidence.models import EvidenceItem
from search.models import IndexEntry
from search.services import case_search
from tests.factories import team

pytestmark = pytest.mark.django_db


def test_ingest_then_metadata_findings_are_searchable(data_dir, tmp_path: Path, settings) -> None:
    settings.HAETAE_DETECT_ON_INGEST = False  # the detector is run below, one item, as the pipeline would
    folder = tmp_path / "seized" / "phone"
    folder.mkdir(parents=True)
    (folder / "단체방_대화.txt").write_text("가해자가 보낸 링크: 텔레그램 방 3\n", encoding="utf-8")
    t = team()
    evidence_ingest(case=t.case, sources=[PathSource(tmp_path / "seized")], actor=t.lead)
    item = EvidenceItem.objects.get(case=t.case, original_name="단체방_대화.txt")
    case = case_get_for(user=t.lead, number=t.case.number)

    def hits(query: str) -> list[tuple[int, str]]:
        page = case_search(case=case, user=t.lead, query=query)
        return [(hit["item"], hit["field"]) for hit in page.results]

    assert hits("단체방") == [(item.pk, "name")]
    assert hits("가해자") == []
    detection_run(item=item, detector=MetadataDetector(), actor=t.lead)
    assert hits("가해자") == [(item.pk, "document")]
    assert hits("텔레그램 방 3") == [(item.pk, "document")]
    assert IndexEntry.objects.filter(item=item).count() == 2


@pytest.mark.ocr
@pytest.mark.django_db(transaction=True)  # detection after ingest collects the runs as each batch commits
def test_text_read_by_ocr_during_ingest_is_searchable(data_dir, tmp_path: Path, settings, eager) -> None:
    """`manage.py ingest` with detection after ingest (the embedded default, ``eager``: the detection pool
    records the runs in batches): the screenshot's Korean text is found by search, as the run's listener
    indexes it."""
    from django.core.management import call_command

    from tests.factories import screenshot

    settings.HAETAE_DETECT_ON_INGEST = True
    folder = tmp_path / "seized"
    folder.mkdir()
    (folder / "chat.png").write_bytes(screenshot(["피해자가 텔레그램 방 3에서 사진을 봤다고 했다"]))
    t = team()
    call_command("ingest", t.case.number, str(folder), "--actor", t.lead.username, "--json")
    item = EvidenceItem.objects.get(case=t.case, original_name="chat.png")
    assert item.detection_runs.filter(detector__name="ocr", status="done").exists()
    page = case_search(case=case_get_for(user=t.lead, number=t.case.number), user=t.lead, query="피해자")
    assert {(hit["item"], hit["field"]) for hit in page.results} == {(item.pk, "ocr")}
