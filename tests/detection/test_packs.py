"""Model packs: manifest checks, import (directory, zip), SHA-256 on import and at load, enable, re-scan."""

import json
import math
import stat

import numpy as np
import pytest

from detection import registry
from detection.models import Annotation, ModelPack, ScanJob
from detection.models.runs import JobKind, RunStatus
from detection.packs import (
    PackDetector,
    manifest_check,
    models_dir,
    pack_disable,
    pack_enable,
    pack_import,
    packs_refresh,
    preprocess,
    score_from_output,
)
from detection.registry import DetectorInfo, Finding
from detection.services import detection_run
from detection.subject import Subject
from haetae.errors import IntegrityFailure, RejectedInput
from tests.factories import (
    CaseFactory,
    UserFactory,
    encode,
    make_video,
    manifest_for,
    stored_item,
    tiny_model,
    write_pack,
)

pytestmark = pytest.mark.usefixtures("fresh_registry")


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _expected(rgb: np.ndarray, weight: float = 8.0, bias: float = -4.0) -> float:
    """What the tiny model scores: sigmoid(weight · mean pixel / 255 + bias), after an 8×8 resize."""
    from PIL import Image

    small = np.asarray(Image.fromarray(rgb).resize((8, 8), Image.Resampling.BILINEAR), dtype=np.float32)
    return _sigmoid(weight * float((small / 255).mean()) + bias)


# --- manifest ---


def test_a_good_manifest_passes():
    manifest = manifest_check(manifest_for(tiny_model()))
    assert (manifest.name, manifest.granularity, manifest.size, manifest.head) == (
        "brightness-test",
        "image",
        (8, 8),
        "sigmoid",
    )
    assert manifest.validation_summary() == "not validated"


def test_every_bad_field_is_named_at_once():
    bad = manifest_for(
        tiny_model(),
        name="Bad Name!",
        sha256="not-a-hash",
        granularity="body",
        preprocessing={"size": [224], "layout": "CHW", "colour_order": "rgb", "std": [1, 0, 1]},
        output={"head": "relu", "index": -1},
        threshold=1.5,
        calibration={"method": "platt", "a": "1"},
        validation={"metrics": {"auc": "high"}},
        licence="",
    )
    del bad["task"]
    with pytest.raises(RejectedInput) as caught:
        manifest_check(bad)
    fields = {e.split(":")[0] for e in caught.value.details["errors"]}
    assert fields == {
        "name",
        "sha256",
        "task",
        "licence",
        "granularity",
        "preprocessing.size",
        "preprocessing.colour_order",
        "preprocessing.layout",
        "preprocessing.std",
        "output.head",
        "output.index",
        "threshold",
        "calibration.a",
        "calibration.b",
        "validation.dataset",
        "validation.metrics",
    }
    assert "manifest.json has 16 problem(s)" in caught.value.message


@pytest.mark.parametrize("value", [None, [], "pack"])
def test_a_manifest_that_is_not_an_object_is_refused(value):
    with pytest.raises(RejectedInput, match="must be a JSON object"):
        manifest_check(value)


def test_validation_metrics_reach_the_model_card():
    manifest = manifest_check(
        manifest_for(
            tiny_model(),
            validation={
                "dataset": "FF++ c23 test split",
                "metrics": {"auc": 0.91, "eer": 0.17},
                "notes": "frames",
            },
        )
    )
    assert manifest.validation_summary() == "dataset FF++ c23 test split; auc=0.91, eer=0.17; frames"


# --- scoring and preprocessing ---


def test_heads_and_calibrations():
    sigmoid = manifest_check(manifest_for(tiny_model()))
    assert score_from_output(np.array([0.0]), sigmoid) == (0.0, 0.5)
    softmax = manifest_check(manifest_for(tiny_model(), output={"head": "softmax", "index": 1}))
    raw, score = score_from_output(np.array([0.0, 1.0]), softmax)
    assert raw == 1.0 and score == pytest.approx(math.e / (1 + math.e))
    hot = manifest_check(
        manifest_for(
            tiny_model(),
            output={"head": "softmax", "index": 1},
            calibration={"method": "temperature", "t": 2},
        )
    )
    assert score_from_output(np.array([0.0, 1.0]), hot)[1] == pytest.approx(_sigmoid(0.5))
    platt = manifest_check(manifest_for(tiny_model(), calibration={"method": "platt", "a": 2.0, "b": -1.0}))
    assert score_from_output(np.array([1.5]), platt)[1] == pytest.approx(_sigmoid(2.0))
    probability = manifest_check(manifest_for(tiny_model(), output={"head": "probability", "index": 0}))
    assert score_from_output(np.array([0.8]), probability)[1] == pytest.approx(0.8)


def test_preprocessing_follows_colour_order_layout_and_normalisation():
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red
    nchw = manifest_check(manifest_for(tiny_model(), preprocessing={"size": [2, 2]}))
    batch = preprocess(rgb, nchw)
    assert batch.shape == (1, 3, 2, 2) and batch.dtype == np.float32
    assert batch[0, 0].min() == 1.0 and batch[0, 2].max() == 0.0
    bgr = manifest_check(
        manifest_for(
            tiny_model(),
            preprocessing={
                "size": [2, 2],
                "colour_order": "BGR",
                "layout": "NHWC",
                "mean": [0.5, 0.5, 0.5],
                "std": [0.5, 0.5, 0.5],
            },
        )
    )
    batch = preprocess(rgb, bgr)
    assert batch.shape == (1, 2, 2, 3)
    assert batch[0, 0, 0].tolist() == [-1.0, -1.0, 1.0]  # B, G, R after (x - 0.5) / 0.5


# --- import ---


@pytest.mark.django_db
def test_import_a_directory_stores_the_model_read_only(tmp_path, data_dir):
    user = UserFactory()
    path, manifest = write_pack(tmp_path / "pack")
    result = pack_import(path=path, actor=user)
    pack = result.pack
    assert result.created and not pack.enabled
    assert (pack.name, pack.version, pack.sha256) == ("brightness-test", "1.0.0", manifest["sha256"])
    stored = models_dir() / f"{manifest['sha256']}.onnx"
    assert pack.file_path == str(stored) and stored.parent == data_dir / "models"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    assert stored.read_bytes() == (path / "model.onnx").read_bytes()
    assert pack.imported_by == user and pack.manifest == manifest
    assert [p.name for p in models_dir().iterdir()] == [stored.name]  # no temporary file left

    again = pack_import(path=path, actor=user)
    assert not again.created and again.pack.pk == pack.pk


@pytest.mark.django_db
def test_import_a_zip(tmp_path):
    path, _ = write_pack(tmp_path / "pack", as_zip=True)
    assert path.suffix == ".zip"
    assert pack_import(path=path, actor=None).created


@pytest.mark.django_db
def test_a_model_that_does_not_match_its_manifest_hash_is_refused(tmp_path):
    path, _ = write_pack(tmp_path / "pack")
    (path / "model.onnx").write_bytes(tiny_model(weight=9.0))  # swapped after the manifest was written
    with pytest.raises(IntegrityFailure, match=r"manifest\.json says"):
        pack_import(path=path, actor=None)
    assert not ModelPack.objects.exists()
    assert list(models_dir().iterdir()) == []


@pytest.mark.django_db
def test_a_bad_manifest_is_refused_with_its_fields(tmp_path):
    path, _ = write_pack(tmp_path / "pack", granularity="body", threshold="high")
    with pytest.raises(RejectedInput) as caught:
        pack_import(path=path, actor=None)
    assert caught.value.details["errors"] == [
        "granularity: must be one of face, image, frame; got 'body'",
        "threshold: required, a number 0–1 applied to the calibrated score; got 'high'",
    ]
    assert not ModelPack.objects.exists()


@pytest.mark.django_db
def test_invalid_json_and_missing_files_are_refused(tmp_path):
    path, _ = write_pack(tmp_path / "pack")
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(RejectedInput, match="not valid JSON"):
        pack_import(path=path, actor=None)
    (path / "manifest.json").unlink()
    with pytest.raises(RejectedInput, match=r"lacks manifest\.json"):
        pack_import(path=path, actor=None)
    with pytest.raises(RejectedInput, match="does not exist"):
        pack_import(path=tmp_path / "nowhere", actor=None)
    (path / "manifest.json").write_text(" " * 1_000_001)
    with pytest.raises(RejectedInput, match="over 1 MB"):
        pack_import(path=path, actor=None)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RejectedInput, match="neither a directory nor a zip"):
        pack_import(path=tmp_path / "notes.txt", actor=None)


@pytest.mark.django_db
def test_a_model_whose_input_differs_from_the_manifest_is_refused(tmp_path):
    path, _ = write_pack(tmp_path / "pack", preprocessing={"size": [16, 16]})
    with pytest.raises(RejectedInput, match=r"preprocessing.size/layout: model input 'pixels' has shape"):
        pack_import(path=path, actor=None)
    path, _ = write_pack(tmp_path / "nhwc", preprocessing={"layout": "NHWC"})
    with pytest.raises(RejectedInput, match="axis 3 should be 3"):
        pack_import(path=path, actor=None)
    path, _ = write_pack(tmp_path / "index", output={"head": "sigmoid", "index": 3})
    with pytest.raises(RejectedInput, match=r"output\.index: 3 is beyond"):
        pack_import(path=path, actor=None)
    assert not ModelPack.objects.exists()


@pytest.mark.django_db
def test_a_model_that_gives_no_finite_score_is_refused(tmp_path):
    path, _ = write_pack(tmp_path / "pack", model=tiny_model(weight=float("nan")))
    with pytest.raises(RejectedInput, match="non-finite score on a grey test picture"):
        pack_import(path=path, actor=None)


@pytest.mark.django_db
def test_bytes_that_are_not_onnx_are_refused(tmp_path):
    path, _ = write_pack(tmp_path / "pack", model=b"this is not a model")
    with pytest.raises(RejectedInput, match="cannot be loaded by onnxruntime"):
        pack_import(path=path, actor=None)


@pytest.mark.django_db
def test_same_version_with_another_model_is_refused(tmp_path):
    first, _ = write_pack(tmp_path / "a")
    pack_import(path=first, actor=None)
    second, _ = write_pack(tmp_path / "b", model=tiny_model(weight=2.0))
    with pytest.raises(RejectedInput, match="with another model; give the new one a new version"):
        pack_import(path=second, actor=None)
    third, _ = write_pack(tmp_path / "c", threshold=0.9)  # same model, different manifest
    with pytest.raises(RejectedInput, match="with another manifest"):
        pack_import(path=third, actor=None)


# --- enable, run, tamper ---


def _image_item(rgb: np.ndarray, case=None):
    return stored_item(
        case=case or CaseFactory(),
        data=encode(rgb, "PNG"),
        actor=UserFactory(),
        name="x.png",
        mime="image/png",
    )


@pytest.mark.django_db
def test_enabled_pack_runs_as_a_detector_with_provenance(tmp_path):
    path, manifest = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None, enable=True).pack
    assert pack.enabled
    detector = registry.detector_get("pack:brightness-test")
    assert (detector.info.version, detector.info.model_sha256) == ("1.0.0", manifest["sha256"])
    assert detector.info.parameters["threshold"] == "0.5"
    assert detector.info.parameters["manifest_sha256"]  # the manifest it was imported with
    assert "video:pack:brightness-test" not in registry.detectors()  # an image pack is not frame-capable

    bright = np.full((32, 32, 3), 230, dtype=np.uint8)
    item = _image_item(bright)
    run = detection_run(item=item, detector=detector)
    assert run.status == RunStatus.DONE, run.error
    (annotation,) = Annotation.objects.filter(item=item)
    assert annotation.label == "bright_picture" and annotation.category == "model_pack"
    assert annotation.score == pytest.approx(_expected(bright), abs=1e-5)
    assert annotation.details["above_threshold"] is True and annotation.details["input"] == "whole picture"
    assert annotation.model_sha256 == manifest["sha256"] and annotation.detector_version == "1.0.0"

    dark = np.full((32, 32, 3), 20, dtype=np.uint8)
    item = _image_item(dark)
    detection_run(item=item, detector=detector)
    annotation = Annotation.objects.get(item=item)
    assert annotation.score == pytest.approx(_expected(dark), abs=1e-5)
    assert annotation.details["above_threshold"] is False  # kept: a low score is a result too


@pytest.mark.django_db
def test_a_swapped_model_file_is_refused_at_load(tmp_path):
    path, _ = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None, enable=True).pack
    stored = models_dir() / f"{pack.sha256}.onnx"
    stored.chmod(0o644)
    stored.write_bytes(tiny_model(weight=-8.0, bias=4.0))  # a model that says the opposite

    detector = PackDetector.for_pack(pack)
    with pytest.raises(IntegrityFailure, match="the file was replaced or damaged"):
        detector.load()
    item = _image_item(np.full((8, 8, 3), 200, dtype=np.uint8))
    with pytest.raises(IntegrityFailure):
        detection_run(item=item, detector=registry.detector_get("pack:brightness-test"))
    assert not Annotation.objects.filter(item=item).exists()
    with pytest.raises(IntegrityFailure):
        pack_enable(pack=pack, actor=None)

    restored = pack_import(path=path, actor=None)  # re-import from the original source puts it right
    assert restored.restored and not restored.created
    PackDetector.for_pack(pack).load()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444

    stored.unlink()
    with pytest.raises(IntegrityFailure, match="is missing"):
        PackDetector.for_pack(pack).load()
    assert pack_import(path=path, actor=None).restored
    assert not pack_import(path=path, actor=None).restored


@pytest.mark.django_db
def test_enabling_a_new_version_replaces_the_old_offers_and_queues_rescans(tmp_path):
    admin = UserFactory()
    case = CaseFactory()
    items = [_image_item(np.full((16, 16, 3), v, dtype=np.uint8), case=case) for v in (40, 220)]
    stored_item(case=case, data=b"notes", actor=admin, name="n.txt", mime="text/plain")
    v1, _ = write_pack(tmp_path / "v1")
    old = pack_import(path=v1, actor=admin, enable=True).pack
    for item in items:
        detection_run(item=item, detector=registry.detector_get("pack:brightness-test"))
    assert Annotation.objects.count() == 2

    v2, _ = write_pack(tmp_path / "v2", model=tiny_model(weight=10.0), version="2.0.0")
    new = pack_import(path=v2, actor=admin).pack
    result = pack_enable(pack=new, actor=admin)
    old.refresh_from_db()
    assert new.enabled and not old.enabled and result.replaced == old
    assert result.offer["detectors"] == ["pack:brightness-test"] and result.offer["replaces"] == "1.0.0"
    assert result.offer["items_in_vault"] == 2 and result.jobs == []
    assert registry.detector_get("pack:brightness-test").info.version == "2.0.0"

    queued = pack_enable(pack=new, actor=admin, rescan_case=case)
    (job,) = queued.jobs
    assert (job.kind, job.case, job.detector_name, job.total, job.requested_by) == (
        JobKind.RESCAN,
        case,
        "pack:brightness-test",
        2,
        admin,
    )
    vault_job = pack_enable(pack=new, actor=admin, rescan_all=True).jobs[0]
    assert vault_job.case is None and ScanJob.objects.filter(kind=JobKind.RESCAN).count() == 2

    for item in items:  # what the re-scan runner does for each item
        detection_run(item=item, detector=registry.detector_get("pack:brightness-test"), job=job)
    versions = sorted(Annotation.objects.values_list("detector_version", flat=True))
    assert versions == ["1.0.0", "1.0.0", "2.0.0", "2.0.0"]  # old annotations stay

    with pytest.raises(RejectedInput, match="not both"):
        pack_enable(pack=new, actor=admin, rescan_case=case, rescan_all=True)
    pack_disable(pack=new, actor=admin)
    assert new.disabled_by == admin and not new.enabled
    assert "pack:brightness-test" not in registry.detectors()


@pytest.mark.django_db
def test_packs_refresh_notices_a_change_made_elsewhere(tmp_path):
    path, _ = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None).pack
    packs_refresh()
    assert "pack:brightness-test" not in registry.detectors()
    ModelPack.objects.filter(pk=pack.pk).update(enabled=True)  # as another process would
    assert packs_refresh() is True
    assert "pack:brightness-test" in registry.detectors()
    assert packs_refresh() is False


@pytest.mark.django_db
def test_a_pack_whose_stored_manifest_was_edited_is_not_registered(tmp_path, caplog):
    path, _ = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None, enable=True).pack
    ModelPack.objects.filter(pk=pack.pk).update(manifest={**pack.manifest, "threshold": 7})
    registry.reset()
    assert "pack:brightness-test" not in registry.detectors()
    assert "threshold: required, a number 0–1" in caplog.text


class BrightSquareFaces:
    """A real (tiny) region detector for face-pack tests: the bounding box of the bright pixels, as "face"."""

    def __init__(self) -> None:
        self.info = DetectorInfo(name="test-faces", version="1", media_types=frozenset({"image"}))

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        ys, xs = np.nonzero(subject.upright.mean(axis=2) > 200)
        if not len(xs):
            return []
        x, y = int(xs.min()), int(ys.min())
        region = {"x": x, "y": y, "w": int(xs.max()) - x + 1, "h": int(ys.max()) - y + 1}
        return [Finding(label="face", category="face", score=1.0, region=region)]


@pytest.mark.django_db
def test_face_pack_scores_face_crops_and_falls_back_to_the_whole_image(tmp_path):
    path, _ = write_pack(tmp_path / "pack", granularity="face", preprocessing={"face_margin": 0.0})
    pack_import(path=path, actor=None, enable=True)
    detector = registry.detector_get("pack:brightness-test")
    picture = np.full((64, 64, 3), 10, dtype=np.uint8)
    picture[16:32, 24:40] = 240  # the "face"

    item = _image_item(picture)
    detection_run(item=item, detector=BrightSquareFaces())
    face = Annotation.objects.get(item=item, label="face")
    detection_run(item=item, detector=detector)
    scored = Annotation.objects.get(item=item, label="bright_picture")
    assert scored.region == {"x": 24, "y": 16, "w": 16, "h": 16}
    assert scored.details["input"].startswith(f"face annotation {face.pk} (test-faces 1)")
    assert scored.score == pytest.approx(_expected(picture[16:32, 24:40]), abs=1e-5)

    Annotation.objects.filter(pk=face.pk).update(region={"x": 500, "y": 500, "w": 10, "h": 10})
    outside = PackDetector.for_pack(ModelPack.objects.get()).analyze(Subject.for_item(item))
    assert (
        outside[0].details["input"]
        == f"whole image: face annotation {face.pk} (test-faces 1) lies outside the picture"
    )

    bare = _image_item(picture)  # no face detector has run on this one
    detection_run(item=bare, detector=detector)
    whole = Annotation.objects.get(item=bare)
    assert whole.region is None and "no face annotations" in whole.details["input"]
    assert whole.score == pytest.approx(_expected(picture), abs=1e-5)
    assert (whole.score or 0.0) < (scored.score or 0.0)


@pytest.mark.django_db
def test_frame_pack_runs_on_video_frames_through_the_adapter(tmp_path):
    white, black = np.full((64, 64, 3), 250, np.uint8), np.full((64, 64, 3), 5, np.uint8)
    video = make_video(seconds=3, fps=5, size=(64, 64), frames=[white, black])
    item = stored_item(case=CaseFactory(), data=video, actor=UserFactory(), name="v.mp4", mime="video/mp4")
    still = _image_item(white)

    path, manifest = write_pack(tmp_path / "pack", granularity="frame", threshold=0.6)
    pack = pack_import(path=path, actor=None).pack
    result = pack_enable(pack=pack, actor=None, rescan_all=True)
    assert result.offer["detectors"] == ["pack:brightness-test", "video:pack:brightness-test"]
    assert result.offer["items_in_vault"] == 2
    assert {(j.detector_name, j.total) for j in result.jobs} == {
        ("pack:brightness-test", 1),  # the still image
        ("video:pack:brightness-test", 1),  # the video
    }
    adapter = registry.detector_get("video:pack:brightness-test")
    assert adapter.info.model_sha256 == manifest["sha256"]
    assert adapter.info.version.startswith("1.0.0+video")

    run = detection_run(item=item, detector=adapter)
    assert run.status == RunStatus.DONE, run.error
    frames = Annotation.objects.filter(item=item, details__scope="frame").order_by("time_start_ms")
    assert [a.time_start_ms for a in frames] == [0, 1000, 2000]
    assert [a.details["above_threshold"] for a in frames] == [True, False, True]
    (summary,) = Annotation.objects.filter(item=item, details__scope="video")
    assert summary.details["frames"] == 3 and summary.details["frames_above_threshold"] == 2
    assert (summary.time_start_ms, summary.time_end_ms) == (0, 2000)
    assert summary.score == pytest.approx(max(a.score or 0.0 for a in frames))

    detection_run(item=still, detector=registry.detector_get("pack:brightness-test"))  # stills too
    assert Annotation.objects.get(item=still).details["granularity"] == "frame"


@pytest.mark.django_db
def test_manifest_is_kept_verbatim(tmp_path):
    path, manifest = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None).pack
    assert json.dumps(pack.manifest, sort_keys=True) == json.dumps(manifest, sort_keys=True)
