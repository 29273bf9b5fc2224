"""PDF/A-3b finalisation: XMP identification, output intent, /ID, the manifest as associated file."""

import json
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from exhibits.reports.pdfa import MANIFEST_NAME, manifest_extract, pdfa_finalize, srgb_profile
from haetae.errors import RejectedInput
from tests.factories import plain_pdf

MANIFEST = {"case": "2024-TEST-0001", "exhibits": [{"number": "E-001", "items": [{"sha256": "ab" * 32}]}]}
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


@pytest.fixture
def finalised(tmp_path: Path) -> Path:
    source = plain_pdf(tmp_path / "plain.pdf", ["사건 2024-TEST-0001 증거 보고서", "Exhibit report"])
    out = tmp_path / "pdfa.pdf"
    pdfa_finalize(
        pdf_in=source,
        pdf_out=out,
        manifest=json.dumps(MANIFEST).encode(),
        title="사건 2024-TEST-0001 증거 보고서",
        language="ko",
    )
    return out


def _xmp_value(xml: bytes, xpath: str) -> list[str]:
    root = etree.fromstring(xml)
    found = root.xpath(xpath, namespaces=NS)
    return [str(v.text if hasattr(v, "text") else v) for v in found]


def test_xmp_identifies_pdfa_3b_with_title_and_language(finalised: Path) -> None:
    with pikepdf.open(finalised) as pdf:
        stream = pdf.Root.Metadata
        assert stream.Type == "/Metadata" and stream.Subtype == "/XML"
        assert "/Filter" not in stream  # PDF/A: the metadata stream is not filtered
        xml = stream.read_bytes()
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == "사건 2024-TEST-0001 증거 보고서"
        assert meta["dc:language"] == {"ko"}
        assert str(pdf.Root.Lang) == "ko"
    assert _xmp_value(xml, "//dc:title/rdf:Alt/rdf:li") == ["사건 2024-TEST-0001 증거 보고서"]
    assert xml.startswith(b"<?xpacket begin=")


def test_information_dictionary_agrees_with_xmp(finalised: Path) -> None:
    with pikepdf.open(finalised) as pdf:
        info = pdf.docinfo
        meta = pdf.open_metadata()
        assert str(info.Title) == meta["dc:title"]
        assert str(info.Creator) == meta["xmp:CreatorTool"] == "Haetae"
        created = pikepdf.models.metadata.decode_pdf_date(str(info.CreationDate))
        assert created.isoformat() == meta["xmp:CreateDate"]
        modified = pikepdf.models.metadata.decode_pdf_date(str(info.ModDate))
        assert modified.isoformat() == meta["xmp:ModifyDate"]
        # reportlab's placeholders ("anonymous", "unspecified") and Producer are gone: only mirrored keys
        assert set(info.keys()) == {"/Title", "/Creator", "/CreationDate", "/ModDate"}


def test_srgb_output_intent_and_trailer_id(finalised: Path) -> None:
    with pikepdf.open(finalised) as pdf:
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1
        intent = intents[0]
        assert intent.Type == "/OutputIntent" and intent.S == "/GTS_PDFA1"
        assert str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
        profile = intent.DestOutputProfile
        assert int(profile.N) == 3

        # The same LittleCMS sRGB profile, but for the second it was made: its header's creation date-time
        # (bytes 24-35) and the MD5 profile ID over it (84-99) differ when the two builds straddle a second.
        def timeless(icc: bytes) -> bytes:
            return icc[:24] + icc[36:84] + icc[100:]

        assert timeless(profile.read_bytes()) == timeless(srgb_profile())
        assert profile.read_bytes()[12:20] == b"mntrRGB "
        ids = pdf.trailer.ID
        assert len(ids) == 2 and len(bytes(ids[0])) == 16 and len(bytes(ids[1])) == 16


def test_manifest_is_an_associated_file_with_its_bytes(finalised: Path) -> None:
    manifest = json.dumps(MANIFEST).encode()
    with pikepdf.open(finalised) as pdf:
        associated = pdf.Root.AF
        assert len(associated) == 1
        spec = associated[0]
        assert spec.Type == "/Filespec"
        assert str(spec.F) == str(spec.UF) == MANIFEST_NAME
        assert spec.AFRelationship == "/Data"
        embedded = spec.EF.F
        assert embedded.Type == "/EmbeddedFile"
        assert embedded.Subtype == "/application/json"
        assert embedded.read_bytes() == manifest
        assert int(embedded.Params.Size) == len(manifest)
        assert str(embedded.Params.ModDate).startswith("D:")
        # the same file spec is reachable through the EmbeddedFiles name tree (what viewers list)
        assert MANIFEST_NAME in pdf.attachments
        assert pdf.attachments[MANIFEST_NAME].obj.objgen == spec.objgen
    assert manifest_extract(finalised) == manifest


def test_text_survives_and_the_unused_standard_font_is_gone(tmp_path: Path, finalised: Path) -> None:
    import subprocess

    text = subprocess.run(
        ["pdftotext", str(finalised), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "사건 2024-TEST-0001 증거 보고서" in text
    assert "page 2 of 2" in text
    with pikepdf.open(finalised) as pdf:
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                assert "/FontFile2" in font.FontDescriptor  # only the embedded TrueType subset remains


def test_a_font_that_is_really_used_unembedded_is_refused(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    source = tmp_path / "helvetica.pdf"
    pdf = canvas.Canvas(str(source))
    pdf.drawString(60, 700, "Helvetica is not embedded by reportlab")
    pdf.save()
    with pytest.raises(RejectedInput, match=r"Helvetica.*embedded"):
        pdfa_finalize(pdf_in=source, pdf_out=tmp_path / "out.pdf", manifest=b"{}", title="t", language="en")
    assert not (tmp_path / "out.pdf").exists()


def test_not_a_pdf_and_missing_title_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is not a PDF")
    with pytest.raises(RejectedInput, match="not a readable PDF"):
        pdfa_finalize(pdf_in=junk, pdf_out=tmp_path / "o.pdf", manifest=b"{}", title="t", language="en")
    source = plain_pdf(tmp_path / "plain.pdf", ["x"])
    with pytest.raises(RejectedInput, match="title"):
        pdfa_finalize(pdf_in=source, pdf_out=tmp_path / "o.pdf", manifest=b"{}", title=" ", language="en")
    with pytest.raises(RejectedInput, match="language"):
        pdfa_finalize(pdf_in=source, pdf_out=tmp_path / "o.pdf", manifest=b"{}", title="t", language="")
