"""Metadata detector: EXIF camera, capture time with offset, GPS, XMP, IPTC; document text and properties."""

import io

import pytest
from PIL import Image

from detection.detectors.metadata import MetadataDetector, exif_time
from detection.subject import Subject
from tests.factories import docx_bytes, encode, photo, plain_pdf

PIXELS = photo("chelsea")


def _analyze(data: bytes, mime: str):
    return {f.label: f for f in MetadataDetector().analyze(Subject.from_bytes(data, mime=mime))}


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    exif[0x0110] = "SM-S918N"
    exif[0x0131] = "G998NKSU1AUA1"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:05:01 23:30:00"
    exif_ifd[0x9011] = "+09:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (37.0, 33.0, 36.0)
    gps[3], gps[4] = "E", (126.0, 58.0, 48.0)
    out = io.BytesIO()
    Image.fromarray(PIXELS).save(out, format="JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


def test_camera_software_capture_time_and_gps():
    found = _analyze(_jpeg_with_exif(), "image/jpeg")
    assert found["camera"].details["make"] == "Samsung" and found["camera"].details["model"] == "SM-S918N"
    assert found["software"].details["software"] == "G998NKSU1AUA1"
    capture = found["capture_time"].details
    assert capture["iso"] == "2024-05-01T23:30:00+09:00" and capture["utc"] == "2024-05-01T14:30:00Z"
    gps = found["gps_position"].details
    assert gps["latitude"] == pytest.approx(37.56) and gps["longitude"] == pytest.approx(126.98)


def test_capture_time_without_offset_is_local_only():
    found = exif_time("2024:05:01 23:30:00", "")
    assert found["local"] == "2024-05-01T23:30:00" and "utc" not in found and "unknown" in found["note"]
    assert "problem" in exif_time("yesterday", "+09:00")


def test_xmp_and_iptc_text():
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">한빛고 2학년 단체방</rdf:li></rdf:Alt>'
        "</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    iptc_caption = "졸업사진 유출".encode()
    iptc = b"\x1c\x02\x78" + len(iptc_caption).to_bytes(2, "big") + iptc_caption
    app13 = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + len(iptc).to_bytes(4, "big") + iptc
    jpeg = encode(PIXELS, "JPEG", xmp=xmp)
    # APP13 right after SOI: Pillow reads IPTC from the Photoshop resource block.
    jpeg = jpeg[:2] + b"\xff\xed" + (len(app13) + 2).to_bytes(2, "big") + app13 + jpeg[2:]
    found = _analyze(jpeg, "image/jpeg")
    assert "한빛고 2학년 단체방" in found["xmp"].details["fields"].values()
    assert found["iptc"].details["fields"]["caption"] == "졸업사진 유출"


def test_malformed_exif_is_reported_and_the_rest_read():
    jpeg = encode(PIXELS, "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff")
    found = _analyze(jpeg, "image/jpeg")
    assert "capture_time" not in found  # nothing invented; whatever Pillow could not read is not a value


def test_pdf_text_layer(tmp_path):
    path = plain_pdf(tmp_path / "doc.pdf", ["Statement of the victim", "Telegram room 3"], pages=2)
    found = _analyze(path.read_bytes(), "application/pdf")
    text = found["document_text"].details["text"]
    assert "Statement of the victim" in text and found["document_text"].details["pages"] == 2


def test_docx_body_and_properties():
    data = docx_bytes(["피해자의 진술서", "텔레그램 방 3 링크"], creator="수사관 김", title="진술")
    found = _analyze(data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert found["document_text"].details["text"] == "피해자의 진술서\n텔레그램 방 3 링크"
    assert found["document_properties"].details["fields"]["creator"] == "수사관 김"


def test_docx_bomb_part_is_not_read():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b" " * (40 * 1024 * 1024) + b"</a>")
    found = _analyze(
        out.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "document_text" not in found


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("가해자 계정 목록".encode(), "utf-8"),
        ("가해자 계정 목록".encode("cp949"), "cp949"),
        ("가해자 계정 목록".encode("utf-16"), "utf-16"),
    ],
)
def test_plain_text_encodings(data, encoding):
    details = _analyze(data, "text/plain")["document_text"].details
    assert details["text"] == "가해자 계정 목록" and details["encoding"] == encoding


def test_html_visible_text_only():
    page = (
        "<html><head><title>단체방</title><script>var secret='x'</script></head>"
        "<body><p>피해자 사진 <b>유포</b></p><style>p{}</style></body></html>"
    ).encode()
    found = _analyze(page, "text/html")
    assert found["document_text"].details["text"] == "피해자 사진 유포"
    assert found["document_properties"].details["fields"]["title"] == "단체방"


def test_a_file_that_is_not_its_type_is_reported():
    found = _analyze(b"%PDF-1.7 not really", "application/pdf")
    assert "metadata_unreadable" in found or "document_text" not in found


def test_exif_of_an_image_over_the_pixel_bound_is_still_read(settings):
    settings.HAETAE_MAX_IMAGE_PIXELS = 10_000  # below the photo (135,300 pixels): never decoded here
    found = _analyze(_jpeg_with_exif(), "image/jpeg")
    assert found["camera"].details["model"] == "SM-S918N"


def test_a_file_that_is_not_an_image_is_undecodable():
    from detection.subject import UndecodableMedia

    with pytest.raises(UndecodableMedia):
        _analyze(b"not an image at all", "image/jpeg")
