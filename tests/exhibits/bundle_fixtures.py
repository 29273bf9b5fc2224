"""Fixtures for the bundle tests: approved exhibits, a really signed PDF (pyHanko, throwaway certificate)
stored in the vault as a Report, recipient keys, and the PII scan (the report helper's, when present)."""

import datetime
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import Group, User
from django.db import transaction
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from reportlab.pdfgen import canvas

from access.choices import CaseMemberRole, GlobalRole
from evidence.vault import WorkDir, blob_commit
from exhibits import bundles
from exhibits.choices import ReportStatus
from exhibits.models import Exhibit, Report
from exhibits.services import exhibit_approve, exhibit_create, exhibit_share
from tests.factories_access import jpeg_bytes
from tests.factories_cases import Team, item, team


@dataclass
class SigningCert:
    key_pem: bytes
    cert_pem: bytes
    sha256: str


def make_signing_cert(
    tmp: Path, common_name: str = "Haetae Test Agency Signer", key_type: str = "rsa"
) -> tuple[Path, Path, str]:
    """A throwaway self-signed RSA or EC certificate and key as PEM; returns the paths and its SHA-256."""
    tmp.mkdir(parents=True, exist_ok=True)
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key_type == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp / "signer.key", tmp / "signer.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, cert.fingerprint(hashes.SHA256()).hex()


def signed_pdf(tmp: Path, text: str = "Exhibit report E-001", key_type: str = "rsa") -> tuple[bytes, str]:
    """A one-page PDF signed with pyHanko (PAdES B-B) by a throwaway certificate; (bytes, cert SHA-256)."""
    plain = io.BytesIO()
    page = canvas.Canvas(plain)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    key_path, cert_path, fingerprint = make_signing_cert(tmp, key_type=key_type)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    assert signer is not None
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(plain.getvalue())),
        signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer,
        output=out,
    )
    return out.getvalue(), fingerprint


def store_report(*, exhibits: list[Exhibit], pdf: bytes, actor: User) -> Report:
    """A done Report whose PDF is a vault object, as the sign helper's report_generate leaves it."""
    case = exhibits[0].case
    with WorkDir() as work:
        staged = work.stage(io.BytesIO(pdf))
        with transaction.atomic():
            blob_commit(work=work, staged=staged, mime="application/pdf")
            report = Report.objects.create(
                case=case,
                report_id=f"RPT-{case.number}-test",
                version=Report.objects.filter(case=case).count() + 1,
                language="en",
                scope=[e.number for e in exhibits],
                status=ReportStatus.DONE,
                sha256=staged.digests.sha256,
                size=len(pdf),
                requested_by=actor,
                signer_subject="CN=Haetae Test Agency Signer",
                development_signer=True,
            )
            report.exhibits.set(exhibits)
    return report


@dataclass
class Scenario:
    t: Team
    supervisor: User
    prosecutor: User
    exhibits: list[Exhibit]
    report: Report
    cert_sha256: str
    items: list[Any]


def scenario(tmp: Path) -> Scenario:
    """A case with two exhibits approved and shared: a photo and a 2.5 MB file spanning three chunks."""
    t = team()
    supervisor = t.member(CaseMemberRole.INVESTIGATOR)
    supervisor.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    photo = item(t, data=jpeg_bytes("astronaut"), name="astronaut.jpg")
    big = item(t, data=os.urandom(2 * 1024 * 1024 + 512 * 1024), name="capture 01.bin")
    first = exhibit_create(
        case=t.case, item_ids=[photo.pk], description="Photo posted in the room", actor=t.lead
    )
    second = exhibit_create(case=t.case, item_ids=[big.pk, photo.pk], description="Capture", actor=t.lead)
    for exhibit in (first, second):
        exhibit_approve(exhibit=exhibit, actor=supervisor)
    first = exhibit_share(exhibit=first, actor=t.lead)
    second = exhibit_share(exhibit=second, actor=t.lead)
    pdf, fingerprint = signed_pdf(tmp)
    report = store_report(exhibits=[first, second], pdf=pdf, actor=t.lead)
    return Scenario(t, supervisor, prosecutor, [first, second], report, fingerprint, [photo, big])


def x25519_pair(tmp: Path, form: str = "pem") -> tuple[Path, Path]:
    """(private key file, public key file) in ``form``: pem, raw or base64."""
    private = x25519.X25519PrivateKey.generate()
    if form == "pem":
        priv = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pub = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        priv = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        pub = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if form == "base64":
            import base64

            priv, pub = base64.b64encode(priv) + b"\n", base64.b64encode(pub) + b"\n"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "recipient.key").write_bytes(priv)
    (tmp / "recipient.pub").write_bytes(pub)
    return tmp / "recipient.key", tmp / "recipient.pub"


@pytest.fixture
def pii_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records what the bundle hands to the PII scan, which still runs."""
    from exhibits.reports.pii import pii_scan as real_scan

    calls: list[list[str]] = []

    def scan(*, case: Any, texts: Any) -> None:
        texts = list(texts)
        calls.append(texts)
        real_scan(case=case, texts=texts)

    monkeypatch.setattr(bundles, "_pii_scan", scan)
    return calls
