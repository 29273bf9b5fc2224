"""The explicit-content detector: NudeNet's real 320n.onnx on scikit-image's photos, and its parts."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from detection import registry
from detection.detectors import nudity
from detection.detectors.nudity import LABELS, Geometry, NudityDetector, category_of, letterbox, nms
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.services import detection_run
from detection.subject import Subject
from haetae.errors import IntegrityFailure
from tests.factories import CaseFactory, UserFactory, astronaut, encode, stored_item

# Where the astronaut's face is (x0, y0, x1, y1), from dlib and NudeNet alike, in the 512 × 512 photo.
FACE = (173, 82, 273, 179)


@pytest.fixture(scope="module")
def detector() -> NudityDetector:
    found = NudityDetector()
    found.load()
    return found


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _corners(region: dict[str, int], scale: float = 1.0) -> tuple[int, int, int, int]:
    return (
        round(region["x"] / scale),
        round(region["y"] / scale),
        round((region["x"] + region["w"]) / scale),
        round((region["y"] + region["h"]) / scale),
    )


@pytest.mark.django_db
def test_astronaut_through_the_real_model_gives_a_face_and_no_exposure():
    user = UserFactory()
    item = stored_item(
        case=CaseFactory(), data=encode(astronaut(), "PNG"), actor=user, name="a.png", mime="image/png"
    )

    run = detection_run(item=item, detector=registry.detector_get("nudenet"))

    assert run.status == RunStatus.DONE, run.error
    annotations = list(Annotation.objects.filter(item=item))
    assert {a.category for a in annotations} == {"face"}
    assert not [a for a in annotations if a.category == "exposed"]
    face = max(annotations, key=lambda a: a.score or 0)
    assert face.label == "FACE_FEMALE" and face.details["nudenet_label"] == "FACE_FEMALE"
    assert face.score is not None and face.score > 0.5
    assert _iou(_corners(face.region), FACE) > 0.8
    assert face.model_sha256 == nudity.MODEL_SHA256
    assert face.parameters["colour_order"] == "RGB"


def test_labels_map_to_three_categories():
    categories = {label: category_of(label) for label in LABELS}
    assert categories["FEMALE_BREAST_EXPOSED"] == "exposed"
    assert categories["BUTTOCKS_COVERED"] == "covered"
    assert categories["FACE_MALE"] == categories["FACE_FEMALE"] == "face"
    assert set(categories.values()) == {"exposed", "covered", "face"}
    assert sum(c == "exposed" for c in categories.values()) == 9


def test_the_network_is_fed_rgb():
    red = np.zeros((40, 40, 3), dtype=np.uint8)
    red[..., 0] = 255
    tensor, _ = letterbox(red)
    assert tensor.shape == (3, 320, 320)
    assert tensor[0, 0, 0] == pytest.approx(1.0) and tensor[2, 0, 0] == 0.0


def test_colour_order_what_each_order_does_on_the_astronaut(detector):
    """The network was trained on RGB; fed BGR (NudeNet's wrapper, upstream issue #203) it is less sure
    of the same face. The detector's score is the RGB one."""
    tensor, _ = letterbox(astronaut())
    outputs = {}
    for order, channels in (("rgb", tensor), ("bgr", tensor[::-1])):
        (out,) = detector.session.run(None, {detector.input_name: np.ascontiguousarray(channels)[None]})
        outputs[order] = float(out[0, 4 + LABELS.index("FACE_FEMALE")].max())
    (boxes,) = detector.detect([astronaut()])
    assert boxes[0].score == pytest.approx(outputs["rgb"], abs=1e-6)
    assert outputs["rgb"] > outputs["bgr"] + 0.05  # measured: 0.81 against 0.72


def test_same_boxes_as_nudenets_wrapper_given_rgb(detector):
    """NudeNet's wrapper swaps channels twice for an ndarray, so an RGB array reaches the network as RGB."""
    from nudenet import NudeDetector
    from skimage import data

    reference = NudeDetector()
    for image in (astronaut(), data.coffee(), np.repeat(data.camera()[:, :, None], 3, axis=2)):
        theirs = sorted((d["class"], tuple(d["box"])) for d in reference.detect(image.copy()))
        ours = sorted((b.label, (b.x, b.y, b.w, b.h)) for b in detector.detect([image])[0])
        assert [label for label, _ in ours] == [label for label, _ in theirs]
        for (_, (x, y, w, h)), (_, (tx, ty, tw, th)) in zip(ours, theirs, strict=True):
            assert _iou((x, y, x + w, y + h), (tx, ty, tx + tw, ty + th)) > 0.95


def test_nms_keeps_what_opencv_keeps():
    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 200, size=(300, 2))
    sizes = rng.uniform(5, 80, size=(300, 2))
    boxes = np.hstack([corners, corners + sizes])
    scores = rng.uniform(0.25, 1.0, size=300)

    ours = nms(boxes, scores, iou_threshold=0.45)

    xywh = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in boxes]
    theirs = cv2.dnn.NMSBoxes(xywh, scores.tolist(), 0.0, 0.45)
    assert 10 < len(ours) < 300
    assert sorted(ours.tolist()) == sorted(np.asarray(theirs).ravel().tolist())


def test_decode_maps_network_boxes_back_to_image_pixels():
    # A 640 × 320 image is scaled by one half: network (100, 50) is image (200, 100).
    _, geometry = letterbox(np.zeros((320, 640, 3), dtype=np.uint8))
    assert geometry == Geometry(width=640, height=320, scale_x=2.0, scale_y=2.0)
    output = np.zeros((4 + len(LABELS), 3), dtype=np.float32)
    output[:4, 0] = [100, 50, 20, 10]  # centre x, centre y, width, height
    output[4 + LABELS.index("FEET_COVERED"), 0] = 0.9
    output[:4, 1] = [315, 5, 30, 30]  # partly outside: clipped to the image
    output[4 + LABELS.index("FACE_MALE"), 1] = 0.6
    output[4 + LABELS.index("FACE_MALE"), 2] = 0.2  # below the threshold
    boxes = nudity.postprocess(output, geometry)
    assert [(b.label, b.x, b.y, b.w, b.h) for b in boxes] == [
        ("FEET_COVERED", 180, 90, 40, 20),
        ("FACE_MALE", 600, 0, 40, 40),
    ]


@pytest.mark.django_db
def test_exif_orientation_is_applied_before_detection():
    """Stored sideways with orientation 6 ("rotate 90° clockwise to view"): the face is found upright."""
    user = UserFactory()
    sideways = np.ascontiguousarray(np.rot90(astronaut(), k=1))  # what a camera held sideways stores
    item = stored_item(
        case=CaseFactory(),
        data=encode(sideways, "JPEG", quality=92, orientation=6),
        actor=user,
        name="sideways.jpg",
        mime="image/jpeg",
    )
    detection_run(item=item, detector=registry.detector_get("nudenet"))
    face = Annotation.objects.filter(item=item, category="face").order_by("-score").first()
    assert face is not None
    assert _iou(_corners(face.region), FACE) > 0.8


def test_large_jpeg_is_decoded_reduced_and_boxes_are_in_full_size_pixels(detector):
    from PIL import Image

    big = np.asarray(Image.fromarray(astronaut()).resize((2560, 2560), Image.Resampling.BILINEAR))
    subject = Subject.from_bytes(encode(big, "JPEG", quality=92), mime="image/jpeg")
    rgb, full = nudity.upright_for_detection(subject)
    assert full == (2560, 2560) and rgb.shape[:2] == (640, 640)  # DCT scaling by 1/4
    findings = detector.analyze(subject)
    face = max(findings, key=lambda f: f.score or 0)
    assert face.details["image_width"] == 2560
    assert _iou(_corners(face.region, scale=5.0), FACE) > 0.8


@pytest.mark.django_db
def test_undecodable_jpeg_fails_the_run_with_a_message():
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=b"\xff\xd8\xff garbage", actor=user, name="x.jpg")
    run = detection_run(item=item, detector=registry.detector_get("nudenet"))
    assert run.status == RunStatus.FAILED
    assert "cannot decode" in run.error


def test_a_changed_model_file_is_refused_at_load(tmp_path: Path, monkeypatch):
    forged = tmp_path / "320n.onnx"
    forged.write_bytes(nudity.model_path().read_bytes()[:-1] + b"\x00")
    monkeypatch.setattr(nudity, "model_path", lambda: forged)
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        NudityDetector().load()


def test_registered_through_the_entry_point_with_one_intra_op_thread(settings):
    registry.reset()
    found = registry.detectors()["nudenet"]
    assert isinstance(found, NudityDetector)
    settings.HAETAE_ONNX_THREADS = 1  # what Celery worker processes use
    fresh = NudityDetector()
    fresh.load()
    assert fresh.session.get_session_options().intra_op_num_threads == 1


@pytest.mark.parametrize("orientation", [1, 6])
def test_same_pixels_and_boxes_whichever_detector_decoded_the_photo_first(detector, orientation):
    """NudeNet sees the subject's shared reduced decode (libjpeg's 1/4 draft, turned upright): exactly
    those pixels, and the same boxes whether or not another detector decoded the full image before."""
    import io

    from PIL import Image, ImageOps

    big = np.asarray(Image.fromarray(astronaut()).resize((2560, 2560), Image.Resampling.BILINEAR))
    stored = np.ascontiguousarray(np.rot90(big, k=1)) if orientation == 6 else big
    data = encode(stored, "JPEG", quality=92, orientation=orientation)
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (640, 640))
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))

    alone = Subject.from_bytes(data, mime="image/jpeg")
    after_full = Subject.from_bytes(data, mime="image/jpeg")
    _ = after_full.pixels, after_full.upright  # what faces and the watermark decoder leave behind

    seen, size = nudity.upright_for_detection(after_full)
    assert np.array_equal(seen, expected) and size == (2560, 2560)
    boxes = [(f.label, f.score, f.region) for f in detector.analyze(alone)]
    assert boxes == [(f.label, f.score, f.region) for f in detector.analyze(after_full)]
    (model,) = detector.detect([expected], full_sizes=[(2560, 2560)])
    assert boxes == [(b.label, b.score, {"x": b.x, "y": b.y, "w": b.w, "h": b.h}) for b in model]
    assert any(label == "FACE_FEMALE" for label, _, _ in boxes)
