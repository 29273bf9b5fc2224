"""PAdES signing and checking: the agency's signer from settings, the development signer, pyHanko and pdfsig.

A throwaway CA issues the signer here. pdfsig (poppler, NSS) runs without an NSS database, so it knows
no CA: it reports the signature itself ("Signature is Valid.") and, separately, that the certificate's
issuer is not trusted; ``-nocert`` makes it check the signature alone. Given an NSS database that trusts
the test CA (built as ``certutil`` would), it reports "Certificate is Trusted.".
"""

import hashlib
import json
import stat
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_cert_from_pemder

from exhibits.reports.pdfa import manifest_extract, pdfa_finalize
from exhibits.reports.signing import (
    DEV_SIGNER_CERT_NAME,
    DEV_SIGNER_COMMON_NAME,
    DEV_SIGNER_KEY_NAME,
    pdf_sign,
    pdf_signature_check,
    signer_load,
)
from haetae.errors import RejectedInput
from tests.factories import (
    flip_byte,
    make_ca,
    make_signer,
    nss_trust_db,
    pdfsig,
    plain_pdf,
    use_signer,
)

MANIFEST = json.dumps({"case": "2024-TEST-0001", "exhibits": ["E-001"]}).encode()


@pytest.fixture(scope="module")
def ca():
    return make_ca()


@pytest.fixture
def agency(ca, tmp_path: Path, settings):
    files = make_signer(ca, tmp_path / "agency")
    use_signer(settings, files)
    return files


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME without an NSS database: pdfsig trusts no CA."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


def _pdfa(tmp_path: Path) -> Path:
    source = plain_pdf(tmp_path / "plain.pdf", ["사건 2024-TEST-0001 증거 보고서", "Exhibit report"])
    out = tmp_path / "pdfa.pdf"
    pdfa_finalize(pdf_in=source, pdf_out=out, manifest=MANIFEST, title="Exhibit report", language="en")
    return out


@pytest.fixture
def signed(agency, tmp_path: Path) -> Path:
    out = tmp_path / "signed.pdf"
    pdf_sign(pdf_in=_pdfa(tmp_path), pdf_out=out, signer=signer_load())
    return out


def test_agency_signer_from_settings(agency) -> None:
    signer = signer_load()
    assert signer.info.development is False
    assert "CN=Seoul Police Evidence Unit" in signer.info.subject
    der = agency.certificate.public_bytes(serialization.Encoding.DER)
    assert signer.info.certificate_sha256 == hashlib.sha256(der).hexdigest()
    assert [root.subject.native["common_name"] for root in signer.trust_roots] == ["Test Agency Root CA"]


def test_signature_validates_with_pyhanko_trusting_the_ca(signed: Path, agency) -> None:
    check = pdf_signature_check(signed)  # trust anchors: the configured chain's root
    assert check.ok, check.problems
    assert check.signed and check.intact and check.valid and check.trusted and check.covers_whole_file
    assert check.subfilter == "/ETSI.CAdES.detached"
    assert check.certificate_sha256 == signer_load().info.certificate_sha256
    assert check.signing_time is not None
    explicit = pdf_signature_check(signed, trust_roots=[load_cert_from_pemder(str(agency.chain))])
    assert explicit.ok


def test_signature_is_untrusted_without_the_ca(signed: Path) -> None:
    alone = pdf_signature_check(signed, trust_roots=[])
    assert alone.intact and alone.valid and not alone.trusted and not alone.ok
    assert any("does not chain to a trusted certificate" in p for p in alone.problems)
    other_ca = make_ca("Some Other Root CA")
    stranger = pdf_signature_check(signed, trust_roots=[load_cert_from_pemder_bytes(other_ca.pem)])
    assert not stranger.trusted and not stranger.ok


def load_cert_from_pemder_bytes(pem: bytes):
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    _, _, der = asn1_pem.unarmor(pem)
    return asn1_x509.Certificate.load(der)


def test_signature_validates_with_pdfsig(signed: Path, home: Path) -> None:
    verdict = pdfsig(signed, home=home)
    assert verdict.returncode == 0, verdict.output
    assert verdict.field("Signature Validation") == "Signature is Valid."
    assert verdict.field("Signature Type") == "ETSI.CAdES.detached"
    assert verdict.field("Signing Hash Algorithm") == "SHA-256"
    assert verdict.field("Signer Certificate Common Name") == "Seoul Police Evidence Unit"
    assert "Total document signed" in verdict.output
    # pdfsig's NSS database does not hold the test CA: it says so, apart from the signature's validity.
    assert verdict.field("Certificate Validation") == "Certificate issuer isn't Trusted."
    signature_only = pdfsig(signed, "-nocert", home=home)
    assert signature_only.field("Signature Validation") == "Signature is Valid."
    assert signature_only.field("Certificate Validation") == ""


def test_signed_file_is_still_pdfa_with_its_manifest(signed: Path) -> None:
    with pikepdf.open(signed) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert "/Filter" not in pdf.Root.Metadata
        info = pdf.docinfo
        # the signer's incremental update writes Producer and ModDate into both, consistently
        assert str(info.Producer) == meta["pdf:Producer"]
        assert str(info.Title) == meta["dc:title"]
        assert str(info.Creator) == meta["xmp:CreatorTool"]
        created = pikepdf.models.metadata.decode_pdf_date(str(info.CreationDate))
        assert created.isoformat() == meta["xmp:CreateDate"]
        modified = pikepdf.models.metadata.decode_pdf_date(str(info.ModDate))
        assert modified.isoformat() == meta["xmp:ModifyDate"]
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        assert pdf.Root.AF[0].AFRelationship == "/Data"
        field = pdf.Root.AcroForm.Fields[0]
        assert field.FT == "/Sig" and int(field.F) & 4  # printable, as PDF/A wants of annotations
        assert len(pdf.trailer.ID) == 2
    assert manifest_extract(signed) == MANIFEST


def _assert_pdf_1_7(path: Path) -> None:
    """PDF/A-3 is based on PDF 1.7: neither the header nor the catalog may claim PDF 2.0."""
    assert path.read_bytes()[:9] == b"%PDF-1.7\n"
    with pikepdf.open(path) as pdf:
        assert pdf.Root.get("/Version") in (None, "/1.7")
        extensions = pdf.Root.get("/Extensions", pikepdf.Dictionary())
        assert "/ISO_" not in extensions  # ISO/TS 32002 is a PDF 2.0 extension
        assert extensions["/ESIC"].BaseVersion == "/1.7"  # PAdES's own extension of PDF 1.7


def test_ecdsa_signature_keeps_the_file_at_pdf_1_7(signed: Path) -> None:
    _assert_pdf_1_7(signed)


def test_eddsa_key_is_refused(ca, settings, tmp_path: Path) -> None:
    use_signer(settings, make_signer(ca, tmp_path / "ed", key_kind="ed25519"))
    with pytest.raises(RejectedInput, match=r"EdDSA.*RSA"):
        signer_load()


def _offset(path: Path, marker: bytes) -> int:
    data = path.read_bytes()
    offset = data.find(marker)
    assert offset > 0, marker
    return offset


def test_one_flipped_byte_in_the_signed_content_is_refused_by_both(signed: Path, home: Path) -> None:
    # A byte of the XMP packet (plain text, inside the signed range): the file still parses.
    flip_byte(signed, _offset(signed, b"Exhibit report") + 3)
    check = pdf_signature_check(signed)
    assert not check.ok and not check.intact
    assert any("changed after signing" in p for p in check.problems)
    verdict = pdfsig(signed, "-nocert", home=home)
    assert verdict.field("Signature Validation") == "Digest Mismatch."


def test_one_flipped_byte_in_the_embedded_manifest_is_refused_by_both(signed: Path, home: Path) -> None:
    with pikepdf.open(signed) as pdf:
        raw = pdf.Root.AF[0].EF.F.read_raw_bytes()  # the stream as stored (compressed)
    flip_byte(signed, _offset(signed, raw[:32]) + 10)
    assert not pdf_signature_check(signed).intact
    assert pdfsig(signed, "-nocert", home=home).field("Signature Validation") == "Digest Mismatch."


def test_one_flipped_byte_in_the_signature_itself_is_refused_by_both(signed: Path, home: Path) -> None:
    with pikepdf.open(signed) as pdf:
        contents = bytes(pdf.Root.AcroForm.Fields[0].V.Contents)
    # The signature value sits at the end of the DER SignerInfo; flip a hex digit inside it.
    start = _offset(signed, b"/Contents <") + len(b"/Contents <")
    signature_hex_end = start + len(contents.rstrip(b"\x00")) * 2
    offset = signature_hex_end - 8
    data = bytearray(signed.read_bytes())
    data[offset] = ord("0") if data[offset] != ord("0") else ord("1")
    signed.write_bytes(bytes(data))
    check = pdf_signature_check(signed)
    assert not check.ok and not (check.intact and check.valid)
    verdict = pdfsig(signed, "-nocert", home=home)
    assert verdict.field("Signature Validation") != "Signature is Valid.", verdict.output


def test_rsa_agency_key_without_passphrase(ca, tmp_path: Path, settings, home: Path) -> None:
    use_signer(settings, make_signer(ca, tmp_path / "rsa", key_kind="rsa", passphrase=None))
    out = tmp_path / "rsa.pdf"
    pdf_sign(pdf_in=_pdfa(tmp_path), pdf_out=out, signer=signer_load())
    assert pdf_signature_check(out).ok
    assert pdfsig(out, "-nocert", home=home).field("Signature Validation") == "Signature is Valid."
    _assert_pdf_1_7(out)


def test_development_signer_is_made_once_reused_and_flagged(settings, tmp_path: Path, home: Path) -> None:
    keys = Path(settings.DATA_DIR) / "keys"
    assert not (keys / DEV_SIGNER_KEY_NAME).exists()
    first = signer_load()
    assert first.info.development is True
    assert f"CN={DEV_SIGNER_COMMON_NAME}" in first.info.subject
    for name in (DEV_SIGNER_KEY_NAME, DEV_SIGNER_CERT_NAME):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    key_before = (keys / DEV_SIGNER_KEY_NAME).read_bytes()
    second = signer_load()
    assert second.info == first.info  # same certificate: reused, not made again
    assert (keys / DEV_SIGNER_KEY_NAME).read_bytes() == key_before
    out = tmp_path / "dev.pdf"
    pdf_sign(pdf_in=_pdfa(tmp_path), pdf_out=out, signer=second)
    _assert_pdf_1_7(out)
    check = pdf_signature_check(out)  # trusts the development certificate itself, nothing else
    assert check.ok and check.signer_subject == first.info.subject
    verdict = pdfsig(out, home=home)
    assert verdict.field("Signature Validation") == "Signature is Valid."
    assert verdict.field("Signer Certificate Common Name") == DEV_SIGNER_COMMON_NAME
    assert verdict.field("Certificate Validation") == "Certificate issuer is unknown."


def test_half_configured_signer_is_refused(agency, settings) -> None:
    settings.HAETAE_SIGNER_KEY_FILE = ""
    with pytest.raises(
        RejectedInput, match="HAETAE_SIGNER_CERT_FILE is set but HAETAE_SIGNER_KEY_FILE is not"
    ):
        signer_load()


def test_wrong_or_missing_passphrase_is_refused(agency, settings, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    settings.HAETAE_SIGNER_KEY_PASSPHRASE_FILE = str(wrong)
    with pytest.raises(RejectedInput, match="passphrase in HAETAE_SIGNER_KEY_PASSPHRASE_FILE is wrong"):
        signer_load()
    settings.HAETAE_SIGNER_KEY_PASSPHRASE_FILE = ""
    with pytest.raises(RejectedInput, match="is encrypted: name the file holding its passphrase"):
        signer_load()
    settings.HAETAE_SIGNER_KEY_PASSPHRASE_FILE = str(tmp_path / "absent.txt")
    with pytest.raises(RejectedInput, match=r"absent.txt, which cannot be read"):
        signer_load()


def test_key_of_another_certificate_is_refused(ca, agency, settings, tmp_path: Path) -> None:
    other = make_signer(ca, tmp_path / "other", common_name="Someone Else")
    settings.HAETAE_SIGNER_KEY_FILE = str(other.key)
    with pytest.raises(RejectedInput, match="does not belong to the certificate"):
        signer_load()


def test_expired_or_non_signing_certificate_is_refused(ca, settings, tmp_path: Path) -> None:
    use_signer(settings, make_signer(ca, tmp_path / "old", valid_days=-1))
    with pytest.raises(RejectedInput, match="expired on"):
        signer_load()
    use_signer(settings, make_signer(ca, tmp_path / "tls", signing_usage=False))
    with pytest.raises(RejectedInput, match="is not for signing"):
        signer_load()


def test_unsigned_and_unreadable_files_are_reported(tmp_path: Path, agency) -> None:
    unsigned = pdf_signature_check(_pdfa(tmp_path))
    assert not unsigned.ok and not unsigned.signed
    assert unsigned.problems == ("the PDF carries no signature",)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really")
    broken = pdf_signature_check(junk)
    assert not broken.ok and broken.problems[0].startswith("the file cannot be read as a signed PDF")


def test_pdfsig_trusts_the_signer_once_its_ca_is_in_the_nss_database(
    signed: Path, ca, home: Path, tmp_path: Path
) -> None:
    nssdir = nss_trust_db(tmp_path / "nssdb", ca.pem)
    verdict = pdfsig(signed, "-nssdir", nssdir, home=home)
    assert verdict.field("Signature Validation") == "Signature is Valid."
    assert verdict.field("Certificate Validation") == "Certificate is Trusted."
    flip_byte(signed, _offset(signed, b"Exhibit report") + 3)
    tampered = pdfsig(signed, "-nssdir", nssdir, home=home)
    assert tampered.field("Signature Validation") == "Digest Mismatch."


def test_production_settings_refuse_the_unencrypted_development_signer(settings, data_dir: Path) -> None:
    from exhibits.reports.signing import signer_load

    settings.HAETAE_ALLOW_DEVELOPMENT_SIGNER = False
    settings.HAETAE_SIGNER_CERT_FILE = settings.HAETAE_SIGNER_KEY_FILE = ""
    with pytest.raises(RejectedInput, match=r"production deployment.*HAETAE_SIGNER_CERT_FILE"):
        signer_load()
    assert not list((data_dir / "keys").glob("report-signer-dev*.key"))  # no key was made either


@pytest.mark.parametrize(
    ("environment", "allowed"),
    [
        ({}, True),  # the embedded default: SQLite, a trial installation
        ({"DATABASE_URL": "postgres://haetae@127.0.0.1:5432/haetae"}, False),
        ({"DATABASE_URL": "postgres://haetae@127.0.0.1:5432/haetae", "HAETAE_DEBUG": "1"}, True),
        (
            {
                "DATABASE_URL": "postgres://haetae@127.0.0.1:5432/haetae",
                "HAETAE_ALLOW_DEVELOPMENT_SIGNER": "1",
            },
            True,
        ),
    ],
)
def test_development_signer_is_allowed_only_outside_production(
    environment: dict, allowed: bool, tmp_path
) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAETAE_", "DATABASE_URL"))}
    env.update(environment, HAETAE_DATA_DIR=str(tmp_path))
    shown = subprocess.run(
        [sys.executable, "-c", "import haetae.settings as s; print(s.HAETAE_ALLOW_DEVELOPMENT_SIGNER)"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == str(allowed)
