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
