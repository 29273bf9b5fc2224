"""C2PA detector: a manifest signed in the test with a throwaway CA — valid, trusted, tampered, stripped."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from detection.detectors.c2pa import C2paDetector
from detection.models import Annotation
from detection.models.runs import RunStatus
from detection.services import detection_run
from detection.subject import Subject, UndecodableMedia
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.detection.provenance_media import (
    AI_SOURCE_TYPE,
    c2pa_sign,
    encode,
    jpeg_flip_scan_byte,
    jpeg_segments,
    jpeg_strip_app11,
    make_test_ca,
    photo,
    tiny_mp4,
)
from tests.factories import CaseFactory, UserFactory, stored_item


@pytest.fixture(scope="module")
def ca():
    return make_test_ca()


@pytest.fixture(scope="module")
def signed_jpeg(ca) -> bytes:
    return c2pa_sign(encode(photo(half=True), "JPEG", quality=90), ca=ca)


def _analyze(data: bytes, *, mime: str = "image/jpeg", anchors: str | None = None):
    detector = C2paDetector(trust_anchors_pem=anchors or "")
    return detector, detector.analyze(Subject.from_bytes(data, mime=mime))


def _by_label(findings):
    return {f.label: f for f in findings}


def test_signed_asset_without_trust_anchors_is_valid_but_not_trusted(signed_jpeg):
    _detector, findings = _analyze(signed_jpeg)
    found = _by_label(findings)
    state = found["c2pa_valid"]
    assert state.details["state"] == "valid"
    assert "signingCredential.untrusted" in state.details["failure_codes"]
    assert "no trust anchors are configured" in state.details["note"]
    assert state.details["signer"]["common_name"] == "Test Image Generator"
    assert state.details["claim_generator"].startswith("haetae-test-generator 1.0")
    assert state.details["digital_source_types"][0]["value"] == AI_SOURCE_TYPE
    assert state.details["digital_source_types"][0]["generative_ai"] is True
    assert {"action": "c2pa.created", "digitalSourceType": AI_SOURCE_TYPE} in state.details["actions"]
    declared = found["c2pa_declares_generative_ai"]
    assert declared.details["state"] == "valid"
    assert declared.details["digital_source_types"][0]["term"] == "trainedAlgorithmicMedia"


def test_the_test_ca_as_trust_anchor_makes_it_trusted(ca, signed_jpeg):
    detector, findings = _analyze(signed_jpeg, anchors=ca.root_pem)
    trusted = _by_label(findings)["c2pa_trusted"]
    assert trusted.details["failure_codes"] == []
    assert detector.info.version.startswith("1+anchors.")
    assert detector.info.parameters["trust_anchors_sha256"] != "none configured"


def test_a_different_ca_as_anchor_leaves_it_untrusted(signed_jpeg):
    other = make_test_ca("Some Other Root")
    _detector, findings = _analyze(signed_jpeg, anchors=other.root_pem)
    state = _by_label(findings)["c2pa_valid"]
    assert "does not chain to a configured anchor" in state.details["note"]


def test_one_changed_image_byte_makes_it_invalid(ca, signed_jpeg):
    tampered = jpeg_flip_scan_byte(signed_jpeg)
    assert len(tampered) == len(signed_jpeg) and tampered != signed_jpeg
    _detector, findings = _analyze(tampered, anchors=ca.root_pem)
    invalid = _by_label(findings)["c2pa_invalid"]
    assert "assertion.dataHash.mismatch" in invalid.details["failure_codes"]
    assert "changed after signing" in invalid.details["note"]
    # The AI declaration is still reported, tied to the invalid state it hangs on.
    assert _by_label(findings)["c2pa_declares_generative_ai"].details["state"] == "invalid"


def test_stripped_manifest_reads_none_and_not_probative(ca, signed_jpeg):
    stripped = jpeg_strip_app11(signed_jpeg)
    assert 0xEB in {m for m, _s, _e in jpeg_segments(signed_jpeg)}
    assert 0xEB not in {m for m, _s, _e in jpeg_segments(stripped)}
    _detector, findings = _analyze(stripped, anchors=ca.root_pem)
    (none,) = findings
    assert none.label == "c2pa_none" and none.category == "not_probative"
    assert "not probative" in none.details["note"] and "authenticity" in none.details["note"]


def test_signed_png_is_read_too(ca):
    signed = c2pa_sign(encode(photo("coffee", half=True), "PNG"), ca=ca, mime="image/png")
    _detector, findings = _analyze(signed, mime="image/png", anchors=ca.root_pem)
    assert "c2pa_trusted" in _by_label(findings)


def test_manifest_elsewhere_is_not_fetched(ca):
    url = "http://127.0.0.1:9/manifests/generated.c2pa"  # the discard port: nothing would answer
    remote = c2pa_sign(encode(photo(half=True), "JPEG", quality=90), ca=ca, remote_url=url)
    _detector, findings = _analyze(remote, anchors=ca.root_pem)
    (finding,) = findings
    assert finding.label == "c2pa_remote_not_fetched"
    assert finding.details["remote_manifest_url"] == url


def test_unsupported_format_is_not_checked():
    _detector, findings = _analyze(encode(photo(half=True), "BMP"), mime="image/bmp")
    (finding,) = findings
    assert (finding.label, finding.category) == ("c2pa_not_checked", "not_probative")
    assert "image/bmp" in finding.details["reason"]


def test_damaged_jpeg_is_undecodable():
    with pytest.raises(UndecodableMedia):
        _analyze(b"\xff\xd8\xff\xe0 this is not a JPEG")


def test_trust_anchors_come_from_the_setting(settings, tmp_path, ca, signed_jpeg):
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(ca.root_pem)
    settings.HAETAE_C2PA_TRUST_ANCHORS = str(anchors)
    detector = C2paDetector()
    findings = detector.analyze(Subject.from_bytes(signed_jpeg, mime="image/jpeg"))
    assert "c2pa_trusted" in _by_label(findings)


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_a_bad_trust_anchor_setting_stops_the_detector_with_a_message(settings, tmp_path, content):
    path = tmp_path / "anchors.pem"
    if content is not None:
        path.write_text(content)
    settings.HAETAE_C2PA_TRUST_ANCHORS = str(path)
    detector = C2paDetector()
    with pytest.raises(ImproperlyConfigured, match="HAETAE_C2PA_TRUST_ANCHORS"):
        detector.load()


@pytest.mark.django_db
def test_detection_run_stores_the_state_with_provenance(ca, signed_jpeg):
    user = UserFactory()
    item = stored_item(case=CaseFactory(), data=signed_jpeg, actor=user, name="gen.jpg", mime="image/jpeg")
    detector = C2paDetector(trust_anchors_pem=ca.root_pem)
    run = detection_run(item=item, detector=detector)
    assert run.status == RunStatus.DONE
    labels = set(Annotation.objects.filter(item=item).values_list("label", flat=True))
    assert labels == {"c2pa_trusted", "c2pa_declares_generative_ai"}
    annotation = Annotation.objects.get(item=item, label="c2pa_trusted")
    assert annotation.detector_version == detector.info.version
    assert annotation.parameters["remote_manifest_fetch"] is False
    event = CustodyEvent.objects.get(item=item, action=CustodyAction.ANALYSED)
    assert event.details["labels"] == ["c2pa_declares_generative_ai", "c2pa_trusted"]


@pytest.mark.django_db
def test_a_signed_video_is_read_in_place_from_the_vault(ca):
    """Videos are not loaded into memory: the SDK reads them through the vault's authenticated reader."""
    signed = c2pa_sign(tiny_mp4(), ca=ca, mime="video/mp4")
    item = stored_item(
        case=CaseFactory(), data=signed, actor=UserFactory(), name="clip.mp4", mime="video/mp4"
    )
    run = detection_run(item=item, detector=C2paDetector(trust_anchors_pem=ca.root_pem))
    assert run.status == RunStatus.DONE, run.error
    assert Annotation.objects.filter(item=item, label="c2pa_trusted").exists()
