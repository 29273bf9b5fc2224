"""Report-signing test helpers: a throwaway CA and signer, a plain reportlab PDF, pdfsig's verdict."""

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_PATH = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
FONT_NAME = "NanumGothicTest"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Agency"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class TestCA:
    key: CertificateIssuerPrivateKeyTypes
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def make_ca(common_name: str = "Test Agency Root CA") -> TestCA:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TestCA(key=key, cert=cert)


@dataclass
class SignerFiles:
    cert: Path
    key: Path
    passphrase: Path | None
    chain: Path
    certificate: x509.Certificate


def make_signer(
    ca: TestCA,
    directory: Path,
    *,
    common_name: str = "Seoul Police Evidence Unit",
    passphrase: bytes | None = b"correct horse battery staple",
    rsa_key: bool = False,
    valid_days: int = 90,
    signing_usage: bool = True,
) -> SignerFiles:
    """A signing certificate issued by ``ca`` with its key (encrypted when a passphrase is given), as PEM."""
    directory.mkdir(parents=True, exist_ok=True)
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=3072)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1) if valid_days > 0 else now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _usage(signing=True)
            if signing_usage
            else x509.KeyUsage(False, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    key_path = directory / "signer.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    key_path.chmod(0o600)
    cert_path = directory / "signer.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain_path = directory / "chain.pem"
    chain_path.write_bytes(ca.pem)
    passphrase_path = None
    if passphrase:
        passphrase_path = directory / "passphrase.txt"
        passphrase_path.write_bytes(passphrase + b"\n")
    return SignerFiles(
        cert=cert_path, key=key_path, passphrase=passphrase_path, chain=chain_path, certificate=cert
    )


def use_signer(settings, files: SignerFiles) -> None:
    """Point the signer settings at ``files`` (pytest-django's ``settings`` fixture)."""
    settings.HAETAE_SIGNER_CERT_FILE = str(files.cert)
    settings.HAETAE_SIGNER_KEY_FILE = str(files.key)
    settings.HAETAE_SIGNER_KEY_PASSPHRASE_FILE = str(files.passphrase) if files.passphrase else ""
    settings.HAETAE_SIGNER_CHAIN_FILE = str(files.chain)
    settings.HAETAE_SIGNER_TSA_URL = ""


def plain_pdf(path: Path, lines: list[str], *, pages: int = 2) -> Path:
    """A plain reportlab PDF, text in an embedded TrueType font (NanumGothic), ``pages`` pages."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    pdf = canvas.Canvas(str(path))
    for page in range(1, pages + 1):
        pdf.setFont(FONT_NAME, 12)
        y = 780
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 18
        pdf.drawString(60, 40, f"page {page} of {pages}")
        pdf.showPage()
    pdf.save()
    return path


@dataclass
class PdfsigVerdict:
    returncode: int
    output: str

    def field(self, name: str) -> str:
        """The value pdfsig prints after ``  - <name>: `` (first signature)."""
        for line in self.output.splitlines():
            stripped = line.strip()
            if stripped.startswith(f"- {name}:"):
                return stripped.split(":", 1)[1].strip()
        return ""


def pdfsig(path: Path, *options: str, home: Path) -> PdfsigVerdict:
    """Run poppler's pdfsig on ``path`` and keep what it printed.

    ``home`` is the HOME it runs with: without ``~/.pki/nssdb`` there, NSS starts with no certificate
    database, so pdfsig trusts no CA at all (the state of a fresh machine), whatever this machine's user has.
    """
    env = {**os.environ, "HOME": str(home)}
    result = subprocess.run(
        ["pdfsig", *options, str(path)], capture_output=True, text=True, timeout=60, env=env
    )
    return PdfsigVerdict(returncode=result.returncode, output=result.stdout + result.stderr)


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
