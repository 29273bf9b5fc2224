"""Generator metadata detector: metadata written by the fixtures in each tool's format is found and parsed."""

import json
import pickle

import numpy as np
import pytest

from detection.detectors.genmeta import GeneratorMetadataDetector, parse_a1111
from detection.models import Annotation
from detection.services import detection_run
from detection.subject import Subject
from tests.detection.provenance_media import (
    A1111_PARAMETERS,
    AI_SOURCE_TYPE,
    COMFY_PROMPT,
    COMFY_WORKFLOW,
    NOVELAI_COMMENT,
    comfy_chunks,
    encode,
    jpeg_insert_segment,
    photo,
    png_with_text,
    stealth_png,
    user_comment_unicode,
    with_exif,
    xmp_packet,
)
from tests.detection.test_pickle_reader import DFL_LIKE, Payload
from tests.factories import CaseFactory, UserFactory, stored_item

SMALL = photo("chelsea", half=True)
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def _analyze(data: bytes, fmt: str = "PNG"):
    return GeneratorMetadataDetector().analyze(Subject.from_bytes(data, mime=MIME[fmt]))


def _generators(findings) -> dict[str, dict]:
    return {f.details["generator_id"]: f.details for f in findings if f.label == "generator_metadata"}


def test_a1111_parameters_are_parsed():
    parsed = parse_a1111(A1111_PARAMETERS)
    assert parsed is not None
    assert parsed["prompt"] == "portrait photo of an astronaut, detailed, 8k"
    assert parsed["negative_prompt"] == "blurry, lowres"
    settings = parsed["settings"]
    assert settings["Seed"] == "1234567890" and settings["Model"] == "v1-5-pruned-emaonly"
    assert settings["Sampler"] == "DPM++ 2M Karras" and settings["Version"] == "v1.9.4"
    assert settings["Lora hashes"] == "face: 0123abcd, style: 4567ef01"  # a quoted value keeps its commas
    assert parse_a1111("just a caption\nwith two lines") is None


@pytest.mark.parametrize("compressed", [False, True])
def test_a1111_png_text_chunk(compressed):
    data = png_with_text(
        SMALL, {"parameters": A1111_PARAMETERS}, compressed=frozenset({"parameters"} if compressed else ())
    )
    details = _generators(_analyze(data))["a1111"]
    assert details["where"] == ["PNG text 'parameters'"]
    assert details["fields"]["settings"]["Seed"] == "1234567890"
    assert "AUTOMATIC1111" in details["generator"] and "v1.9.4" in details["generator"]
    assert details["raw_length"] == len(A1111_PARAMETERS.encode())


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a1111_exif_user_comment_in_jpeg_and_webp(fmt):
    data = with_exif(SMALL, fmt, exif_ifd={0x9286: user_comment_unicode(A1111_PARAMETERS)})
    details = _generators(_analyze(data, fmt))["a1111"]
    assert details["where"] == ["EXIF UserComment"]
    assert details["fields"]["prompt"] == "portrait photo of an astronaut, detailed, 8k"


def test_comfyui_prompt_and_workflow():
    details = _generators(_analyze(png_with_text(SMALL, comfy_chunks())))["comfyui"]
    fields = details["fields"]
    assert fields["models"] == ["sd_xl_base_1.0.safetensors"]
    assert fields["prompts"] == ["an astronaut on the moon"]
    assert fields["seeds"] == [987654321]
    assert "KSampler" in fields["node_types"] and fields["workflow_nodes"] == 2
    assert details["where"] == ["PNG text 'prompt'", "PNG text 'workflow'"]


def test_comfyui_webp_exif():
    tags = {0x010F: "workflow:" + json.dumps(COMFY_WORKFLOW), 0x0110: "prompt:" + json.dumps(COMFY_PROMPT)}
    details = _generators(_analyze(with_exif(SMALL, "WEBP", tags=tags), "WEBP"))["comfyui"]
    assert details["fields"]["models"] == ["sd_xl_base_1.0.safetensors"]
    assert "EXIF Model 'prompt:'" in details["where"]


def test_a_text_chunk_named_prompt_that_is_not_a_graph_is_not_comfyui():
    findings = _analyze(png_with_text(SMALL, {"prompt": "a caption someone typed"}))
    assert "comfyui" not in _generators(findings)
    assert [f.label for f in findings] == ["generator_metadata_none"]


def test_invokeai_formats():
    metadata = {
        "positive_prompt": "astronaut",
        "seed": 7,
        "model": {"model_name": "sdxl"},
        "app_version": "3.4.0",
    }
    legacy = {
        "model": "stable diffusion",
        "model_weights": "sd-1.5",
        "image": {"prompt": [{"prompt": "cat"}]},
    }
    data = png_with_text(
        SMALL,
        {
            "invokeai_metadata": json.dumps(metadata),
            "invokeai_graph": "{}",
            "sd-metadata": json.dumps(legacy),
            "Dream": '"a cat" -s 50 -S 12345 -W 512 -H 512 -C 7.5 -A k_lms',
        },
    )
    hits = [f.details for f in _analyze(data) if f.label == "generator_metadata"]
    assert {h["generator_id"] for h in hits} == {"invokeai"}
    by_where = {h["where"][0]: h for h in hits}
    assert by_where["PNG text 'invokeai_metadata'"]["fields"]["seed"] == "7"
    assert "PNG text 'invokeai_graph'" in by_where["PNG text 'invokeai_metadata'"]["where"]
    assert json.loads(by_where["PNG text 'sd-metadata'"]["fields"]["image"])["prompt"][0]["prompt"] == "cat"
    assert by_where["PNG text 'Dream'"]["fields"]["command"].startswith('"a cat" -s 50')


def test_novelai():
    chunks = {
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V3 7BCCAA2C",
        "Description": "1girl, astronaut suit, space",
        "Title": "AI generated image",
        "Comment": json.dumps(NOVELAI_COMMENT),
    }
    details = _generators(_analyze(png_with_text(SMALL, chunks)))["novelai"]
    fields = details["fields"]
    assert fields["source"] == "NovelAI Diffusion V3 7BCCAA2C"
    assert fields["comment"]["seed"] == "42424242" and fields["comment"]["uc"] == "lowres, bad anatomy"
    assert "PNG text 'Comment'" in details["where"]


def test_fooocus_json_scheme():
    parameters = {
        "Prompt": "astronaut",
        "Base Model": "juggernautXL_v8.safetensors",
        "Seed": "99",
        "Version": "Fooocus v2.5.5",
    }
    data = png_with_text(SMALL, {"parameters": json.dumps(parameters), "fooocus_scheme": "fooocus"})
    details = _generators(_analyze(data))["fooocus"]
    assert details["fields"]["Base Model"] == "juggernautXL_v8.safetensors"
    assert "Fooocus v2.5.5" in details["generator"]


def test_fooocus_a1111_scheme_is_named_fooocus():
    text = A1111_PARAMETERS.replace("Version: v1.9.4", "Version: Fooocus v2.5.5")
    data = png_with_text(SMALL, {"parameters": text, "fooocus_scheme": "a1111"})
    assert "fooocus" in _generators(_analyze(data))


def test_swarmui():
    params = {
        "sui_image_params": {"prompt": "astronaut", "model": "flux1-dev", "seed": 5, "swarm_version": "0.9.2"}
    }
    details = _generators(_analyze(png_with_text(SMALL, {"parameters": json.dumps(params)})))["swarmui"]
    assert details["fields"]["model"] == "flux1-dev" and details["fields"]["swarm_version"] == "0.9.2"


@pytest.mark.parametrize("as_element", [False, True])
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_iptc_digital_source_type_in_xmp(fmt, as_element):
    data = encode(
        SMALL, fmt, quality=90, xmp=xmp_packet(AI_SOURCE_TYPE, "Some Editor 2.0", as_element=as_element)
    )
    findings = _analyze(data, fmt)
    (declared,) = [f for f in findings if f.label == "declared_generative_ai"]
    assert declared.category == "ai_provenance"
    assert declared.details["fields"]["digital_source_type"]["term"] == "trainedAlgorithmicMedia"
    (software,) = [f for f in findings if f.label == "saved_by_software"]
    assert software.details["fields"]["software"] == "Some Editor 2.0"


def test_png_xmp_with_a_capture_source_type_is_not_called_ai():
    xmp = xmp_packet("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture").decode()
    findings = _analyze(png_with_text(SMALL, {"XML:com.adobe.xmp": xmp}))
    labels = [f.label for f in findings]
    assert "declared_source_type" in labels and "declared_generative_ai" not in labels
    assert "generator_metadata_none" in labels


def test_exif_software():
    findings = _analyze(with_exif(SMALL, "JPEG", tags={0x0131: "Adobe Photoshop 25.0 (Windows)"}), "JPEG")
    assert {f.label for f in findings} == {"saved_by_software", "generator_metadata_none"}
    findings = _analyze(with_exif(SMALL, "JPEG", tags={0x0131: "Midjourney v6"}), "JPEG")
    assert _generators(findings)["generator_software"]["fields"]["software"] == "Midjourney v6"


def test_deepfacelab_app15_is_read_without_unpickling():
    data = jpeg_insert_segment(encode(SMALL, "JPEG", quality=90), 0xEF, pickle.dumps(DFL_LIKE, protocol=4))
    details = _generators(_analyze(data, "JPEG"))["deepfacelab"]
    read = details["fields"]["data"]
    assert read["face_type"] == "whole_face" and read["source_filename"] == "00042.png"
    assert read["landmarks"]["array_shape"] == [68, 2] and len(read["landmarks"]["values"]) == 68
    assert details["fields"]["segment_length"] > 0 and "unexpected_callables" not in details["fields"]


def test_a_malicious_app15_pickle_is_reported_not_executed(tmp_path):
    marker = tmp_path / "executed"
    hostile = pickle.dumps({"face_type": "whole_face", "landmarks": Payload(str(marker))}, protocol=2)
    data = jpeg_insert_segment(encode(SMALL, "JPEG", quality=90), 0xEF, hostile)
    findings = _analyze(data, "JPEG")
    assert not marker.exists()
    (hostile_finding,) = [f for f in findings if f.label == "pickle_code_reference"]
    assert hostile_finding.category == "suspicious_content"
    assert hostile_finding.details["fields"]["unexpected_callables"] in (["posix.system"], ["nt.system"])
    assert hostile_finding.details["fields"]["data"]["landmarks"]["would_call"].endswith(".system")
    assert "never open it" in hostile_finding.details["note"]


def test_an_app15_segment_that_is_not_a_pickle_is_reported_as_unknown():
    data = jpeg_insert_segment(encode(SMALL, "JPEG", quality=90), 0xEF, b"Ducky\x00not a pickle")
    (unknown,) = [f for f in _analyze(data, "JPEG") if f.label == "unknown_app15_segment"]
    assert "error" in unknown.details["fields"]


def test_a_clean_file_reports_absence_as_not_probative():
    (finding,) = _analyze(encode(SMALL, "PNG"))
    assert finding.label == "generator_metadata_none" and finding.category == "not_probative"
    assert "not probative" in finding.details["note"]


@pytest.mark.django_db
def test_detection_run_keeps_the_prompt_in_the_annotation_details():
    data = png_with_text(SMALL, {"parameters": A1111_PARAMETERS})
    item = stored_item(case=CaseFactory(), data=data, actor=UserFactory(), name="g.png", mime="image/png")
    detection_run(item=item, detector=GeneratorMetadataDetector())
    annotation = Annotation.objects.get(item=item, label="generator_metadata")
    assert annotation.details["fields"]["prompt"].startswith("portrait photo")
    assert annotation.detector_name == "generator-metadata"


def test_a1111_text_in_a_jpeg_comment():
    data = encode(SMALL, "JPEG", quality=90, comment=A1111_PARAMETERS.encode())
    assert _generators(_analyze(data, "JPEG"))["a1111"]["where"] == ["JPEG comment"]


@pytest.mark.django_db
def test_hostile_text_in_metadata_is_stored_not_refused():
    """NUL and a lone surrogate (PostgreSQL's jsonb refuses both) must not make the run fail for ever."""
    hostile = {"face_type": "whole_face", "source_filename": "a\x00b\ud800.png"}
    data = jpeg_insert_segment(encode(SMALL, "JPEG", quality=90), 0xEF, pickle.dumps(hostile, protocol=4))
    item = stored_item(case=CaseFactory(), data=data, actor=UserFactory(), name="h.jpg", mime="image/jpeg")
    run = detection_run(item=item, detector=GeneratorMetadataDetector())
    assert run.status == "done", run.error
    stored = Annotation.objects.get(item=item, label="generator_metadata")
    assert stored.details["fields"]["data"]["source_filename"] == "a\\x00b?.png"


@pytest.mark.parametrize("compressed", [True, False])
def test_novelai_stealth_metadata_in_alpha_bits(compressed):
    """NovelAI hides its metadata in the alpha channel too; it survives stripping of the text chunks."""
    hidden = {"Software": "NovelAI", "Source": "NovelAI Diffusion V4", "Comment": json.dumps(NOVELAI_COMMENT)}
    data = stealth_png(SMALL, json.dumps(hidden), compressed=compressed)
    details = _generators(_analyze(data))["novelai"]
    signature = "stealth_pngcomp" if compressed else "stealth_pnginfo"
    assert details["where"][0] == f"pixel least-significant bits '{signature}'"
    assert details["fields"]["comment"]["seed"] == "42424242"


@pytest.mark.parametrize("channels", ["alpha", "rgb"])
def test_a1111_stealth_parameters_in_pixel_bits(channels):
    data = stealth_png(SMALL, A1111_PARAMETERS, compressed=channels == "rgb", channels=channels)
    details = _generators(_analyze(data))["a1111"]
    assert details["fields"]["settings"]["Seed"] == "1234567890"
    assert details["where"][0].startswith("pixel least-significant bits 'stealth_")


@pytest.mark.parametrize("alpha", [200, 201, None])
def test_ordinary_transparency_is_not_read_as_hidden_metadata(alpha):
    from skimage import data as skdata

    rgba = skdata.logo() if alpha is None else np.dstack([SMALL, np.full(SMALL.shape[:2], alpha, np.uint8)])
    assert [f.label for f in _analyze(encode(rgba, "PNG"))] == ["generator_metadata_none"]


def test_malformed_exif_is_reported_and_the_rest_still_read(monkeypatch):
    from PIL import Image

    def broken(self):
        raise SyntaxError("not a TIFF file (header b'XX\\x00*')")

    monkeypatch.setattr(Image.Image, "getexif", broken)
    findings = _analyze(png_with_text(SMALL, {"parameters": A1111_PARAMETERS}))
    by_label = {f.label: f for f in findings}
    assert "a1111" in _generators(findings)
    assert by_label["metadata_unreadable"].details["problems"] == [
        "EXIF: SyntaxError: not a TIFF file (header b'XX\\x00*')"
    ]


def test_midjourney_description():
    job = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    chunks = {
        "Description": f"astronaut portrait, studio light --ar 2:3 --v 6.1 Job ID: {job}",
        "Author": "someone",
    }
    fields = _generators(_analyze(png_with_text(SMALL, chunks)))["midjourney"]["fields"]
    assert fields == {
        "prompt": "astronaut portrait, studio light",
        "parameters": "--ar 2:3 --v 6.1",
        "job_id": job,
        "author": "someone",
    }
