"""report_data: what each section holds, constant queries per batch, blurred small thumbnails, re-hashing."""

import io
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from evidence.models import Derivative
from evidence.vault import object_path
from exhibits.models import Exhibit
from exhibits.reports import data as report_data_module
from exhibits.reports.data import THUMBNAIL_PX, report_data
from exhibits.services import exhibit_create
from haetae.errors import IntegrityFailure, RejectedInput
from tests.factories import jpeg_bytes, report_case, stored_item, team

pytestmark = pytest.mark.django_db


def test_sections_hold_acquisition_hashes_findings_provenance_and_custody(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=("c2pa", "nudenet"))
    data = report_data(case=built.case, exhibits=built.exhibits, language="en")
    assert data.cover.scope == ["E-001", "E-002"] and data.cover.item_count == 3
    assert data.cover.examiner.name == "Min-jun Lee"
    assert [r.name for r in data.cover.reviewers] == ["Hye-jin Choi"]
    assert data.cover.generated_at.utcoffset() is not None and data.cover.time_zone == "Asia/Seoul"
    sections = list(data.exhibits)
    assert [s.number for s in sections] == ["E-001", "E-002"]
    astronaut = sections[0].items[0]
    assert astronaut.original_name == "astronaut.jpg"
    acquisition = astronaut.acquisition
    assert acquisition.seal_numbers == ["SEAL-0042"] and acquisition.seizure_reference == "2024-12345"
    assert "W-1 (suspect's landlord)" in acquisition.participants
    assert any("2024-12345" in authority for authority in acquisition.legal_authorities)
    blob = built.items["astronaut"].blob
    assert blob is not None
    assert [(h.algorithm, h.value) for h in astronaut.hashes] == [
        ("SHA-256", blob.sha256),
        ("MD5", blob.md5),
        ("SHA-1", blob.sha1),
    ]
    assert all(h.tool.startswith("haetae") for h in astronaut.hashes)
    nudenet = [f for f in astronaut.findings if f.detector == "nudenet"]
    assert nudenet and all(f.model_sha256 and "threshold" in f.threshold for f in nudenet)
    assert all(f.error_rate.startswith("not validated") for f in nudenet)
    assert [p.absent for p in astronaut.provenance] == [True]  # c2pa_none: stated, not a finding
    assert not any(f.detector == "c2pa" for f in astronaut.findings)
    actions = [row.action for row in astronaut.custody]
    assert actions[:2] == ["acquired", "stored"] and "exhibited" in actions and "analysed" in actions
    signed = [row for row in astronaut.custody if row.checkpoint is not None]
    assert signed and signed[0].checkpoint is not None and len(signed[0].checkpoint.signature) == 128
    # The preview derivative made for the report is listed, not yet signed.
    assert astronaut.custody[-1].action == "derived" and astronaut.custody[-1].checkpoint is None
    assert sections[0].opinion.startswith("The face of V-1") and sections[1].opinion == ""
    assert ("nudenet", nudenet[0].version, nudenet[0].error_rate) in data.detectors
    certificate = list(data.hash_certificate)
    assert len(certificate) == 9 and all(row.matches for row in certificate)
    assert set(data.included.rehashed) == {i.blob_id for i in built.items.values()}
    assert data.included.exhibits == ["E-001", "E-002"]


def test_thumbnails_are_small_copies_of_the_blurred_derivative(tmp_path: Path) -> None:
    t = team()
    photo = stored_item(case=t.case, data=jpeg_bytes("astronaut"), actor=t.lead, name="a.jpg")
    text = stored_item(case=t.case, data=b"chat export", actor=t.lead, name="chat.txt", mime="text/plain")
    exhibit = exhibit_create(case=t.case, item_ids=[photo.pk, text.pk], description="two", actor=t.lead)
    section = next(report_data(case=t.case, exhibits=[exhibit], language="en").exhibits)
    picture, document = section.items
    derivative = Derivative.objects.get(source_id=photo.blob_id)
    assert derivative.kind == "preview_blurred"
    assert picture.thumbnail is not None and picture.thumbnail_sha256 == derivative.blob_id
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert max(thumb.size) <= THUMBNAIL_PX
    assert document.thumbnail is None and "text/plain" in document.thumbnail_note


def test_queries_do_not_grow_with_the_number_of_exhibits(tmp_path: Path, monkeypatch) -> None:
    built = report_case(tmp_path / "seized", detectors=("c2pa",))
    ids = [i.pk for i in built.items.values()]
    for n in range(6):
        exhibit_create(case=built.case, item_ids=ids[n % 3 :], description=f"set {n}", actor=built.lead)
    list(report_data(case=built.case, exhibits=built.exhibits, language="en").exhibits)  # previews made

    def queries(exhibits: list[Exhibit]) -> int:
        data = report_data(case=built.case, exhibits=exhibits, language="en")
        with CaptureQueriesContext(connection) as captured:
            list(data.exhibits)
        return len(captured)

    every = list(Exhibit.objects.filter(case=built.case).order_by("sequence"))
    assert len(every) == 8
    assert queries(every[:2]) == queries(every)  # one batch either way
    monkeypatch.setattr(report_data_module, "BATCH", 2)
    assert queries(every) == 4 * queries(every[:2])  # a constant number per batch


def test_a_damaged_original_refuses_the_hash_certificate(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=())
    coffee = built.items["coffee"]
    path = object_path(coffee.blob_id or "")
    raw = bytearray(path.read_bytes())
    raw[-40] ^= 0x01
    path.write_bytes(bytes(raw))
    data = report_data(case=built.case, exhibits=built.exhibits, language="en")
    with pytest.raises(IntegrityFailure) as caught:
        list(data.hash_certificate)
    assert f"item {coffee.pk} of exhibit E-001" in caught.value.message
    assert "manage.py verify" in caught.value.message


def test_bad_requests_are_refused_clearly() -> None:
    t, other = team(), team()
    item = stored_item(case=other.case, data=b"x", actor=other.lead, name="x.txt", mime="text/plain")
    foreign = exhibit_create(case=other.case, item_ids=[item.pk], description="theirs", actor=other.lead)
    with pytest.raises(RejectedInput, match="is not in case"):
        report_data(case=t.case, exhibits=[foreign], language="en")
    with pytest.raises(RejectedInput, match="has no exhibits"):
        report_data(case=t.case, exhibits=Exhibit.objects.filter(case=t.case), language="en")
    with pytest.raises(RejectedInput, match="use ko or en"):
        report_data(case=other.case, exhibits=[foreign], language="fr")


def test_findings_cite_the_newest_measured_validation_of_their_detector(tmp_path: Path) -> None:
    from detection.validation import validation_statement
    from tests.factories import UserFactory
    from tests.factories.detection import measured_validation

    built = report_case(tmp_path / "seized", detectors=("nudenet",))
    admin = UserFactory(username="operator", is_superuser=True)
    older = measured_validation(detector_name="nudenet", folder=tmp_path / "set", actor=admin)
    newest = measured_validation(detector_name="nudenet", folder=tmp_path / "set", actor=admin)
    assert older.pk != newest.pk  # several validations per version are kept

    data = report_data(case=built.case, exhibits=built.exhibits, language="en")
    findings = [f for s in data.exhibits for i in s.items for f in i.findings if f.detector == "nudenet"]
    assert findings and all(f.measured for f in findings)
    assert all(f.error_rate.startswith(validation_statement(newest)) for f in findings)
    assert "not validated" not in findings[0].error_rate.split(". Its authors state")[0]
    assert (
        f"set SHA-256 {newest.set_sha256}" in findings[0].error_rate and "(95 % CI " in findings[0].error_rate
    )
    assert ("nudenet", findings[0].version, findings[0].error_rate) in data.detectors


def test_item_timestamps_include_exif_capture_times_with_their_zone(data_dir) -> None:
    from tests.search.corpus import finding

    t = team()
    photo = stored_item(case=t.case, data=jpeg_bytes("astronaut"), actor=t.lead, name="a.jpg")
    finding(photo, "metadata", "capture_time", "metadata", {"iso": "2024-05-01T10:00:00-05:00"})
    finding(photo, "metadata", "digitised_time", "metadata", {"local": "2024-05-01T12:00:00"})
    exhibit = exhibit_create(case=t.case, item_ids=[photo.pk], description="one", actor=t.lead)
    item = next(report_data(case=t.case, exhibits=[exhibit], language="en").exhibits).items[0]
    times = {name: moment.isoformat() for name, moment in item.file_times}
    assert times["capture"] == "2024-05-02T00:00:00+09:00"  # 10:00 in New York, in the report's zone
    assert times["digitised_zone_unknown"] == "2024-05-01T12:00:00+09:00"


def test_an_exhibits_timeline_merges_its_items_points_in_order_across_zones(data_dir) -> None:
    """The court report's timeline of an exhibit's items: their points only, on one axis in UTC order
    whatever zone each was written in, custody left to each item's chain, words in the report's language."""
    from datetime import UTC, datetime

    from evidence.models import EvidenceItem
    from parties.choices import LinkConfidence
    from parties.models import ItemChannelLink
    from tests.factories import channel
    from tests.search.corpus import finding

    t = team()
    first = stored_item(case=t.case, data=jpeg_bytes("astronaut"), actor=t.lead, name="a.jpg")
    second = stored_item(case=t.case, data=jpeg_bytes("camera"), actor=t.lead, name="b.jpg")
    other = stored_item(case=t.case, data=jpeg_bytes("coffee"), actor=t.lead, name="c.jpg")
    EvidenceItem.objects.filter(pk=first.pk).update(file_modified_at=datetime(2024, 4, 30, 10, 0, tzinfo=UTC))
    finding(first, "metadata", "capture_time", "metadata", {"iso": "2024-05-01T23:30:00+09:00"})
    finding(second, "metadata", "capture_time", "metadata", {"iso": "2024-05-01T10:00:00-05:00"})
    finding(second, "metadata", "digitised_time", "metadata", {"local": "2024-05-01T12:00:00"})
    finding(other, "metadata", "capture_time", "metadata", {"iso": "2024-05-01T00:00:00+00:00"})
    ItemChannelLink.objects.create(
        item=first,
        channel=channel(t),
        confidence=LinkConfidence.CONFIRMED,
        posted_at=datetime(2024, 5, 1, 14, 45, tzinfo=UTC),
    )
    exhibit = exhibit_create(case=t.case, item_ids=[second.pk, first.pk], description="two", actor=t.lead)

    section = next(report_data(case=t.case, exhibits=[exhibit], language="en").exhibits)
    dated = [(row.kind, row.item_id, row.at.isoformat()) for row in section.timeline if row.at.year == 2024]
    assert dated == [
        ("file modified (file system)", first.pk, "2024-04-30T19:00:00+09:00"),
        ("digitised time (EXIF)", second.pk, "2024-05-01T12:00:00+09:00"),  # no zone: placed in Seoul
        ("capture time (EXIF)", first.pk, "2024-05-01T23:30:00+09:00"),
        ("posted in a channel", first.pk, "2024-05-01T23:45:00+09:00"),
        ("capture time (EXIF)", second.pk, "2024-05-02T00:00:00+09:00"),  # 10:00 in New York
    ]
    assert {row.item_id for row in section.timeline} == {first.pk, second.pk}  # not the third item's
    assert not any(row.kind == "custody event" for row in section.timeline)
    by_kind = {row.kind: row for row in section.timeline}
    assert by_kind["file modified (file system)"].trust == "weak"
    assert "not a capture time" in by_kind["file modified (file system)"].time_source
    assert by_kind["digitised time (EXIF)"].zone_known is False
    assert by_kind["taken into the vault"].trust == "recorded"

    korean = next(report_data(case=t.case, exhibits=[exhibit], language="ko").exhibits)
    assert [row.kind for row in korean.timeline if row.at.year == 2024][:2] == [
        "파일 수정 (파일 시스템)",
        "디지털화 시각 (EXIF)",
    ]
    assert {row.trust for row in korean.timeline} <= {"기록", "증명", "주장", "약함"}
