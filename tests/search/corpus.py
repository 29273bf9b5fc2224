"""A fixed corpus for search tests: items with names and findings whose text both databases must find
exactly alike."""

from typing import Any

from django.utils import timezone

from detection.models import Annotation, DetectionRun, Detector
from detection.models.runs import RunStatus
from tests.factories import stored_item

# name → findings as (detector, label, category, details)
CORPUS: list[tuple[str, list[tuple[str, str, str, dict[str, Any]]]]] = [
    (
        "screenshot_001.png",
        [("ocr", "ocr_text", "extracted_text", {"text": "피해자가 텔레그램 방 3에서 사진을 봤다고 했다"})],
    ),
    (
        "chat_export.txt",
        [("metadata", "document_text", "extracted_text", {"text": "피해자의 학교 이름이 적힌 캡션"})],
    ),
    ("IMG_2031.jpg", [("metadata", "camera", "metadata", {"make": "Samsung", "model": "SM-S918N"})]),
    ("텔레그램방_캡처.png", [("ocr", "ocr_text", "extracted_text", {"text": "n번방 3번방 링크 공유"})]),
    (
        "photo.jpg",
        [
            (
                "generator-metadata",
                "generator_metadata",
                "ai_provenance",
                {"fields": {"prompt": "portrait of a woman, 졸업사진 style", "negative_prompt": "blurry"}},
            )
        ],
    ),
    (
        "notes.docx",
        [("metadata", "document_text", "extracted_text", {"text": "가해자는 피해 사실을 부인했다"})],
    ),
    ("IMG_30.jpg", [("ocr", "ocr_text", "extracted_text", {"text": "방 30 입장 <script>"})]),
]


def finding(item: Any, detector: str, label: str, category: str, details: dict[str, Any]) -> Annotation:
    """A finished run with one finding, as detection_run stores it (its listeners are tested apart)."""
    row, _ = Detector.objects.get_or_create(name=detector, version="1")
    run, _ = DetectionRun.objects.get_or_create(
        item=item,
        detector=row,
        defaults={"status": RunStatus.DONE, "input_sha256": item.blob_id, "finished_at": timezone.now()},
    )
    return Annotation.objects.create(
        run=run,
        item=item,
        label=label,
        category=category,
        details=details,
        detector_name=detector,
        detector_version="1",
        input_sha256=item.blob_id,
        ran_at=timezone.now(),
    )


def build_corpus(case: Any, actor: Any) -> list[Any]:
    """The corpus's items in order (item ids differ between runs; tests map them by position)."""
    items = []
    for index, (name, findings) in enumerate(CORPUS):
        item = stored_item(case=case, data=f"corpus {index} {name}".encode(), actor=actor, name=name)
        for detector, label, category, details in findings:
            finding(item, detector, label, category, details)
        items.append(item)
    return items
