"""Report-signing test helpers: a throwaway CA and signer, a plain reportlab PDF, pdfsig's verdict."""

import ctypes
import ctypes.util
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
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
    key_kind: str = "ec",
    valid_days: int = 90,
    signing_usage: bool = True,
) -> SignerFiles:
    """A signing certificate issued by ``ca`` with its key (encrypted when a passphrase is given), as PEM."""
    directory.mkdir(parents=True, exist_ok=True)
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if key_kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    elif key_kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = ec.generate_private_key(ec.SECP256R1())
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


def nss_trust_db(directory: Path, ca_pem: bytes) -> str:
    """An NSS database (what ``certutil -N`` + ``certutil -A -t C,C,C`` make) trusting ``ca_pem``; returns
    the ``sql:`` name to give pdfsig's ``-nssdir``. Built through libnss3 in a child process, because
    certutil (libnss3-tools) is not installed here and NSS keeps process-wide state."""
    directory.mkdir(parents=True, exist_ok=True)
    pem_path = directory / "ca.pem"
    pem_path.write_bytes(ca_pem)
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.factories_signing import _nss_import; _nss_import()",
            str(directory),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo,
    )
    assert result.returncode == 0, result.stderr
    return f"sql:{directory}"


def _nss_import() -> None:
    """Child-process side of ``nss_trust_db``: create the database, import ca.pem, trust it as a CA."""
    directory = Path(sys.argv[1])
    nss = ctypes.CDLL(ctypes.util.find_library("nss3") or "libnss3.so")

    class SECItem(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("data", ctypes.c_char_p), ("len", ctypes.c_uint)]

    class CERTCertTrust(ctypes.Structure):
        _fields_ = [("ssl", ctypes.c_uint), ("email", ctypes.c_uint), ("object_signing", ctypes.c_uint)]

    der = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    nss.NSS_InitReadWrite.argtypes = [ctypes.c_char_p]
    nss.PK11_GetInternalKeySlot.restype = ctypes.c_void_p
    nss.PK11_NeedUserInit.argtypes = [ctypes.c_void_p]
    nss.PK11_InitPin.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    nss.CERT_GetDefaultCertDB.restype = ctypes.c_void_p
    nss.CERT_NewTempCertificate.restype = ctypes.c_void_p
    nss.CERT_NewTempCertificate.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(SECItem),
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
    ]
    nss.PK11_ImportCert.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
        ctypes.c_int,
    ]
    nss.CERT_ChangeCertTrust.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(CERTCertTrust)]
    nss.CERT_DestroyCertificate.argtypes = [ctypes.c_void_p]
    nss.PK11_FreeSlot.argtypes = [ctypes.c_void_p]
    if nss.NSS_InitReadWrite(f"sql:{directory}".encode()) != 0:
        raise SystemExit("NSS_InitReadWrite failed")
    slot = nss.PK11_GetInternalKeySlot()
    if nss.PK11_NeedUserInit(slot) and nss.PK11_InitPin(slot, None, b"") != 0:
        raise SystemExit("PK11_InitPin failed")
    item = SECItem(0, der, len(der))
    cert = nss.CERT_NewTempCertificate(nss.CERT_GetDefaultCertDB(), ctypes.byref(item), None, 0, 1)
    if not cert or nss.PK11_ImportCert(slot, cert, 0, b"Test Agency Root CA", 0) != 0:
        raise SystemExit("importing the CA certificate failed")
    # certutil's "C,C,C": a valid CA, trusted to issue certificates, for every use (pdfsig checks email).
    valid_ca, trusted_ca, trusted_client_ca = 1 << 3, 1 << 4, 1 << 7
    flags = valid_ca | trusted_ca | trusted_client_ca
    trust = CERTCertTrust(flags, flags, flags)
    if nss.CERT_ChangeCertTrust(nss.CERT_GetDefaultCertDB(), cert, ctypes.byref(trust)) != 0:
        raise SystemExit("setting the CA's trust failed")
    nss.CERT_DestroyCertificate(cert)
    nss.PK11_FreeSlot(slot)
    nss.NSS_Shutdown()
