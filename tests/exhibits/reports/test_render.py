"""The report PDF, checked with poppler's own tools: every section, page X of Y and the report ID on every
page, hashes, custody with checkpoints, the labels, embedded fonts, and a thumbnail that is blurred."""

import io
import json
import re
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image

from evidence.custody import canonical_json
from evidence.models import Checkpoint, CustodyEvent, Derivative
from exhibits.reports.data import report_data
from exhibits.reports.render import report_render
from tests.factories import (
    SIGNER,
    VICTIM,
    VICTIM_KO,
    jpeg_bytes,
    pdf_pages,
    pdf_text,
    render_case,
    report_case,
)

pytestmark = pytest.mark.django_db

FACES = cv2.CascadeClassifier(
    cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
)


def faces_in(picture: Image.Image) -> int:
    """Faces OpenCV's stock frontal-face detector finds at 512 pixels (as in tests/evidence/test_previews)."""
    grey = np.asarray(picture.convert("L").resize((512, 512), Image.Resampling.BICUBIC))
    return len(FACES.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5))


def detail(picture: Image.Image) -> float:
    """Mean absolute Laplacian at 256 pixels: edges and texture."""
    pixels = np.asarray(picture.convert("L").resize((256, 256), Image.Resampling.BICUBIC), dtype=np.float64)
    return float(np.abs(cv2.Laplacian(pixels, cv2.CV_64F)).mean())


def squash(text: str) -> str:
    """pdftotext breaks long values across table lines: compare without any whitespace."""
    return re.sub(r"\s+", "", text)


def test_english_report_has_every_section_on_numbered_pages(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized")
    pdf = tmp_path / "report.pdf"
    progress: list[int] = []
    result = render_case(
        built, pdf, "en", report_id="RPT-2024-SEOUL-0001", version=3, progress=progress.append
    )
    pages = pdf_pages(pdf)
    assert result.page_count == len(pages) >= 5
    with pikepdf.open(pdf) as opened:  # qpdf reads the joined file without complaint
        assert opened.check_pdf_syntax() == []
        assert len(opened.pages) == result.page_count and str(opened.Root.Lang) == "en"
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)} · RPT-2024-SEOUL-0001 v3" in page
    text = pdf_text(pdf)
    flat = squash(pdf_text(pdf, layout=False))  # in drawing order: a value broken over lines stays whole
    for heading in (
        "Digital evidence examination report",
        "SIGNED WITH A DEVELOPMENT CERTIFICATE — NOT FOR COURT",
        "Exhibit list",
        "Exhibit E-001",
        "Exhibit E-002",
        "Source and acquisition",
        "Hash values",
        "File metadata",
        "Detector findings",
        "Provenance (C2PA Content Credentials)",
        "Investigator's opinion",
        "Chain of custody",
        "Hash certificate",
        "Declaration",
        "Limitations and method",
        "Timeline of the exhibit's items",
    ):
        assert heading in text, heading
    assert "taken into the vault" in text and "Haetae's clock at ingest" in text  # the exhibit timeline
    case = built.case
    for fact in (
        case.number,
        "서울청 사이버수사대",
        "Min-jun Lee",
        "Hye-jin Choi",
        "2024-12345",
        "SEAL-0042",
    ):
        assert fact in text, fact
    assert "+09:00" in text  # times in Asia/Seoul with the offset
    assert "investigative lead — not a conclusion" in text
    assert "not probative" in text
    assert "not validated" in text
    assert "902(14)" in text and "해시값 확인서" in text
    assert re.search(r"back from the vault at\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+09:00", text)
    assert "The face of V-1 appears pasted onto another body" in text
    for item in built.items.values():
        blob = item.blob
        assert blob is not None
        for value in (blob.sha256, blob.md5, blob.sha1):
            assert value in flat
    # Every custody event of every exhibited item, with its hash and the checkpoint that includes it.
    checkpoint = Checkpoint.objects.get()
    events = CustodyEvent.objects.filter(item__in=built.items.values(), seq__lt=checkpoint.tree_size)
    missing = [(e.seq, e.action) for e in events if e.leaf_hash not in flat]
    assert not missing
    assert checkpoint.root_hash in flat and checkpoint.signature in flat
    # The ledger key's id, so that a reader compares it with the key a bundle verifier is anchored by.
    assert checkpoint.key_id and checkpoint.key_id in flat
    # The hash certificate re-read every original: nine rows (three items, three algorithms) that match.
    assert len(re.findall(r"\bmatch\b", text.split("Hash certificate")[-1])) >= 9
    assert "MISMATCH" not in text
    # Nobody's identity: only pseudonyms.
    for identity in (VICTIM, VICTIM_KO):
        assert identity.name not in text and identity.contact not in text and identity.birth_date not in text
    assert "Exhibit E-001" in result.text  # the text for the PII scan holds every value shown
    for value in (
        "The face of V-1",
        "Two images posted",
        "astronaut.jpg",
        "DCIM folder",
        "SEAL-0042",
        "Min-jun",
    ):
        assert value in result.text, value
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)


def test_korean_report_and_embedded_fonts(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=("c2pa",))
    pdf = tmp_path / "report-ko.pdf"
    result = render_case(built, pdf, "ko", report_id="RPT-KO-1")
    pages = pdf_pages(pdf)
    for number, page in enumerate(pages, start=1):
        assert f"{len(pages)}쪽 중 {number}쪽" in page and "RPT-KO-1 v1" in page
    text = pdf_text(pdf)
    for heading in (
        "디지털 증거 분석 보고서",
        "증거물 목록",
        "해시값 확인서",
        "보관 이력",
        "한계 및 방법",
        "수사관 의견",
        "증거물 항목의 타임라인",
    ):
        assert heading in text, heading
    assert "보관소에 수집됨" in text  # the timeline's kinds in Korean
    assert "수사 단서" in text and "결론 아님" in text
    assert "개발용 인증서로 서명됨" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows, fonts
    assert all("NanumGothic" in row[0] for row in rows), fonts
    # pdffonts columns: name type encoding emb sub uni object ID — "emb" is yes for every font.
    assert all(row[-5] == "yes" for row in rows), fonts
    assert result.page_count == len(pages)


def test_thumbnail_is_the_blurred_derivative_and_shows_no_face(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=())
    pdf = tmp_path / "report.pdf"
    data = report_data(case=built.case, exhibits=built.exhibits[:1], language="en")
    with pdf.open("wb") as out:
        report_render(data=data, out=out, report_id="RPT-THUMB", version=1, signer=SIGNER)
    astronaut = built.items["astronaut"]
    derivative = Derivative.objects.get(source_id=astronaut.blob_id, kind="preview_blurred")
    assert data.included.thumbnails[astronaut.pk] == derivative.blob_id
    included = data.included.as_json()
    assert included["originals_embedded"] is False
    assert included["thumbnails"]["derivatives"][str(astronaut.pk)] == derivative.blob_id
    assert json.loads(canonical_json(included)) == included  # survives the ledger's JSON round trip
    # Find the page that holds the astronaut's preview and render it.
    pages = pdf_pages(pdf)
    number = next(
        i for i, page in enumerate(pages, start=1) if f"item {astronaut.pk} · astronaut.jpg" in page
    )
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-f",
            str(number),
            "-l",
            str(number),
            "-png",
            str(pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    rendered = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    # The preview is the largest coloured block on the page (text is black, grey or thin red lines).
    pixels = np.asarray(rendered).astype(int)
    coloured = ((pixels.max(axis=2) - pixels.min(axis=2)) > 25).astype(np.uint8)
    coloured = cv2.morphologyEx(coloured, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(coloured)
    assert count > 1, "no coloured preview found on the page"
    x, y, w, h, _ = max(stats[1:], key=lambda row: row[cv2.CC_STAT_AREA])
    assert w > 150 and h > 150  # 40 mm at 150 dpi is 236 pixels
    region = rendered.crop((x, y, x + w, y + h))
    assert 0.6 < region.width / region.height < 1.6  # the square astronaut, not a stray coloured glyph
    original = Image.open(io.BytesIO(jpeg_bytes("astronaut"))).convert("RGB")
    assert faces_in(original) == 1  # the detector finds the astronaut's face in the original ...
    assert faces_in(region) == 0  # ... but not in the report's thumbnail
    assert faces_in(rendered) == 0  # nor anywhere on the page
    assert detail(region) < detail(original) / 10


def test_missing_fonts_are_explained(tmp_path: Path, settings) -> None:
    from exhibits.reports.render import register_fonts
    from haetae.errors import RejectedInput

    settings.HAETAE_REPORT_FONT_DIR = tmp_path
    with pytest.raises(RejectedInput, match=r"install fonts-nanum .* HAETAE_REPORT_FONT_DIR"):
        register_fonts()


def test_many_small_parts_join_into_one_numbered_document(tmp_path: Path, monkeypatch) -> None:
    from exhibits.reports import render

    built = report_case(tmp_path / "seized", detectors=())
    one = render_case(built, tmp_path / "whole.pdf", "en")
    # Every exhibit, list table and certificate slice in a part of its own: the joins are what is tested.
    monkeypatch.setattr(render, "PART_EXHIBITS", 1)
    monkeypatch.setattr(render, "LIST_ROWS_PER_TABLE", 1)
    monkeypatch.setattr(render, "LIST_TABLES_PER_PART", 1)
    monkeypatch.setattr(render, "CERTIFICATE_ROWS_PER_PART", 2)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    pdf = tmp_path / "parts.pdf"
    many = render_case(built, pdf, "en", report_id="RPT-PARTS")
    pages = pdf_pages(pdf)
    assert many.page_count == len(pages) > one.page_count
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)} · RPT-PARTS v1" in page
    with pikepdf.open(pdf) as opened:
        assert opened.check_pdf_syntax() == []
    text = pdf_text(pdf)
    assert "Exhibit E-001" in text and "Exhibit E-002" in text and "Limitations and method" in text
    assert len(re.findall(r"\bmatch\b", text.split("Hash certificate")[-1])) >= 9
    assert not list(scratch.iterdir())  # the temporary parts are gone


def test_korean_findings_read_as_words_and_validation_is_quoted_once_full_width(tmp_path: Path) -> None:
    from detection.models import Detector

    built = report_case(tmp_path / "seized", detectors=("c2pa", "jpeg-forensics"))
    pdf = tmp_path / "report-ko.pdf"
    render_case(built, pdf, "ko", report_id="RPT-KO-2")
    text = pdf_text(pdf, layout=False)
    findings, _, limitations = text.partition("이 보고서의 탐지기 버전")
    # Labels in Korean with the code the manifest carries; no English prose in the findings tables.
    assert "JPEG 품질 (jpeg_quality)" in squash(findings) or "JPEG품질(jpeg_quality)" in squash(findings)
    assert "기재됨" in findings or "검증되지 않음" in findings
    jpeg = Detector.objects.get(name="jpeg-forensics")
    assert jpeg.validation and squash(jpeg.validation) not in squash(findings)
    # Quoted once, under the detectors used, where it has the page's width.
    assert squash(jpeg.validation) in squash(limitations)
    assert "원문(영어)" in limitations


def test_a_measured_validation_is_cited_in_the_findings_and_quoted_under_detectors_used(
    tmp_path: Path,
) -> None:
    from tests.factories import UserFactory
    from tests.factories.detection import measured_validation

    built = report_case(tmp_path / "seized", detectors=("nudenet",))
    admin = UserFactory(username="operator", is_superuser=True)
    validation = measured_validation(detector_name="nudenet", folder=tmp_path / "set", actor=admin)
    pdf = tmp_path / "report.pdf"
    render_case(built, pdf, "en", report_id="RPT-VAL-1")
    text = pdf_text(pdf, layout=False)
    findings, _, limitations = text.partition("Detector versions in this report")
    assert "measuredinHaetae" in squash(findings)
    assert "validatedon2images" in squash(limitations)
    assert squash(validation.set_sha256) in squash(limitations)
