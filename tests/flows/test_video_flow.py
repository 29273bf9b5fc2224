"""A seized video and a deepfake model pack, end to end: ingest → every video detector in the registry →
frames stored and custody recorded → an operator imports and enables a frame pack → re-scan adds its
findings beside the old ones → verify still passes."""

from pathlib import Path

import numpy as np
import pytest

from access.models import Case
from detection import registry
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.packs import pack_enable, pack_import
from detection.services import detection_run
from evidence.choices import CustodyAction, DerivativeKind
from evidence.ingest import evidence_ingest
from evidence.models import CustodyEvent, Derivative, EvidenceItem
from evidence.sources import PathSource
from evidence.verify import vault_verify
from tests.detection import conftest as detection_fixtures
from tests.factories import UserFactory, make_video, tiny_model, write_pack

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]

fresh_registry = detection_fixtures.fresh_registry


def test_seized_video_through_the_video_detectors_and_a_model_pack(tmp_path: Path):
    investigator = UserFactory(username="det-park")
    case = Case.objects.create(number="2024-SEOUL-0777", title="Telegram channel clips")
    seized = tmp_path / "seized"
    seized.mkdir()
    white, black = np.full((64, 64, 3), 250, np.uint8), np.full((64, 64, 3), 5, np.uint8)
    (seized / "clip.mp4").write_bytes(make_video(seconds=4, fps=5, size=(64, 64), frames=[white, black]))
    evidence_ingest(case=case, sources=[PathSource(seized)], actor=investigator, source_label="phone")
    item = EvidenceItem.objects.get(case=case, original_name="clip.mp4")
    assert item.mime == "video/mp4"

    video_detectors = [d for name, d in sorted(registry.detectors().items()) if name.startswith("video")]
    assert {d.info.name for d in video_detectors} >= {"video", "video_pdq"}
    for detector in video_detectors:
        assert detection_run(item=item, detector=detector, actor=investigator).status == RunStatus.DONE
    frames = Derivative.objects.filter(source_id=item.blob_id, kind=DerivativeKind.FRAME)
    assert sorted(p or 0 for p in frames.values_list("position_ms", flat=True)) == [0, 1000, 2000, 3000]
    md5 = Annotation.objects.get(item=item, label="md5")  # flat frames: PDQ declines to hash them
    assert md5.details["frames_below_quality"] == 4 and not Annotation.objects.filter(item=item, label="pdq")
    assert Annotation.objects.get(item=item, label="video_metadata").details["duration_ms"] == 4000

    admin = UserFactory(username="admin-choi")
    path, _ = write_pack(tmp_path / "pack-1", granularity="frame")
    pack_import(path=path, actor=admin, enable=True)
    adapter = registry.detector_get("video:pack:brightness-test")
    detection_run(item=item, detector=adapter, actor=investigator)
    v1 = Annotation.objects.filter(item=item, detector_name="video:pack:brightness-test")
    assert v1.filter(details__scope="frame").count() == 4

    path, _ = write_pack(
        tmp_path / "pack-2", granularity="frame", version="2.0.0", model=tiny_model(weight=12)
    )
    new = pack_import(path=path, actor=admin).pack
    job = next(
        j
        for j in pack_enable(pack=new, actor=admin, rescan_case=case).jobs
        if j.detector_name.startswith("video")
    )
    assert job.total == 1
    detection_run(item=item, detector=registry.detector_get("video:pack:brightness-test"), job=job)
    versions = Annotation.objects.filter(
        item=item, detector_name="video:pack:brightness-test", details__scope="video"
    )
    assert sorted(a.detector_version.split("+")[0] for a in versions) == ["1.0.0", "2.0.0"]  # old stays

    analysed = CustodyEvent.objects.filter(item=item, action=CustodyAction.ANALYSED)
    assert analysed.count() == len(video_detectors) + 2
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).count() == 4
    assert vault_verify(case=case, actor=None).ok
