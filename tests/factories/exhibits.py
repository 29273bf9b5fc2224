"""Exhibits taken through the real services, reports ready to render, report signers and signed PDFs,
bundle scenarios."""

import ctypes
import ctypes.util
import io
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from access.choices import CaseMemberRole, GlobalRole
from access.models import Case, CaseMember
from access.services import case_create, legal_authority_record
from detection.registry import detector_get
from detection.services import detection_run
from evidence.ingest import PathSource, evidence_ingest
from evidence.ledger import checkpoint_create
from evidence.models import EvidenceItem
from evidence.vault import WorkDir, blob_commit
from exhibits import bundles
from exhibits.choices import ReportStatus
from exhibits.models import Exhibit, Report
from exhibits.reports.data import ReportData, report_data
from exhibits.reports.render import RenderResult, report_render
from exhibits.reports.types import SignerInfo
from exhibits.services import exhibit_approve, exhibit_create, exhibit_share, exhibit_withdraw
from parties.models import Person
from parties.services.people import Identity, person_record
from tests.certificates import certificate, key_pem
from tests.factories.access import Team, case_opener, new_user, supervisor, team
from tests.factories.evidence import item
from tests.factories.media import jpeg_bytes


def exhibit_to(
    t: Team,
    items: Sequence[EvidenceItem],
    status: str = "shared",
    description: str = "Photos posted in the room",
    approver: User | None = None,
) -> Exhibit:
    """An exhibit of ``items`` drafted by the lead and taken through the services to ``status``
    (draft, approved, shared or withdrawn)."""
    exhibit = exhibit_create(
        case=t.case, item_ids=[i.pk for i in items], description=description, actor=t.lead
    )
    if status == "draft":
        return exhibit
    exhibit = exhibit_approve(exhibit=exhibit, actor=approver or supervisor(t))
    if status == "approved":
        return exhibit
    exhibit = exhibit_share(exhibit=exhibit, actor=t.lead)
    if status == "shared":
        return exhibit
    assert status == "withdrawn", status
    return exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="the wrong photo")


PICTURES = ("astronaut", "coffee", "chelsea")


VICTIM = Identity(
    name="Kim Ji-woo",
    birth_date="2008-03-14",
    contact="010-2345-6789",
    identifiers=(("instagram", "@jiwoo.kim.08"),),
)


VICTIM_KO = Identity(name="박서연", birth_date="2009-11-02", contact="seoyeon@example.kr")


SIGNER = SignerInfo(subject="CN=Haetae development signer", development=True, certificate_sha256="ab" * 32)


@dataclass
class ReportCase:
    case: Case
    lead: User
    supervisor: User
    items: dict[str, EvidenceItem]
    exhibits: list[Exhibit]
    victims: list[Person]


def report_case(
    folder: Path, *, detectors: tuple[str, ...] = ("c2pa", "jpeg-forensics", "nudenet")
) -> ReportCase:
    """A case with three photographs ingested from ``folder``, detectors run, two victims, two exhibits."""
    lead = case_opener(first_name="Min-jun", last_name="Lee")
    case = case_create(
        number=f"2024-SEOUL-R{Case.objects.count() + 1:03d}",
        title="Deepfake distribution channel",
        actor=lead,
        unit="서울청 사이버수사대",
        jurisdiction="서울중앙지방검찰청",
        offences=["sc-14-2-distribute"],
    )
    supervisor = new_user(first_name="Hye-jin", last_name="Choi")
    supervisor.groups.add(Group.objects.get(name="supervisor"))

    CaseMember.objects.create(case=case, user=supervisor, role=CaseMemberRole.INVESTIGATOR)
    legal_authority_record(
        case=case,
        actor=lead,
        number="2024-12345",
        court="서울중앙지방법원",
        scope="the suspect's phone and cloud accounts",
        issued_at=timezone.now() - timedelta(days=2),
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PICTURES:
        path = folder / f"{name}.jpg"
        path.write_bytes(jpeg_bytes(name))
        paths.append(path)
    result = evidence_ingest(
        case=case,
        sources=[PathSource(p) for p in paths],
        actor=lead,
        source_label="seized phone (Galaxy S23), DCIM folder",
        seizure_reference="2024-12345",
        seal_numbers=["SEAL-0042"],
        location="Seoul Mapo-gu, suspect's residence",
        participants=["W-1 (suspect's landlord)", "Officer Park"],
    )
    items = {Path(o.path).stem: EvidenceItem.objects.get(pk=o.id) for o in result.items if o.id is not None}
    for name in detectors:
        plugin = detector_get(name)
        for stored in items.values():
            detection_run(item=stored, detector=plugin, actor=lead)
    victims = [
        person_record(case=case, kind="victim", actor=lead, identity=VICTIM, is_minor=True),
        person_record(case=case, kind="victim", actor=lead, identity=VICTIM_KO),
    ]
    first = exhibit_create(
        case=case,
        item_ids=[items["astronaut"].pk, items["coffee"].pk],
        description="Two images posted in the channel, depicting V-1 (manipulated face).",
        opinion="The face of V-1 appears pasted onto another body; the lighting does not match.",
        actor=lead,
    )
    second = exhibit_create(
        case=case,
        item_ids=[items["chelsea"].pk],
        description="An image of a cat sent with the same message; context for E-001.",
        actor=lead,
    )
    exhibit_approve(exhibit=first, actor=supervisor, note="checked against the seizure record")
    checkpoint_create()
    return ReportCase(
        case=case,
        lead=lead,
        supervisor=supervisor,
        items=items,
        exhibits=[Exhibit.objects.get(pk=first.pk), Exhibit.objects.get(pk=second.pk)],
        victims=victims,
    )


def render_to(
    path: Path, data: ReportData, *, report_id: str = "RPT-TEST-0001", **kwargs: Any
) -> RenderResult:
    with path.open("wb") as out:
        return report_render(
            data=data, out=out, report_id=report_id, version=kwargs.pop("version", 1), signer=SIGNER, **kwargs
        )


def render_case(built: ReportCase, path: Path, language: str = "en", **kwargs: Any) -> RenderResult:
    data = report_data(case=built.case, exhibits=built.exhibits, language=language)
    return render_to(path, data, **kwargs)


def pdf_text(path: Path, *pages: int, layout: bool = True) -> str:
    """pdftotext's reading of the PDF (or of some pages): laid out as on the page, or (``layout`` False) in
    the order it was drawn, where a table cell's lines follow each other."""
    args = ["pdftotext", "-layout" if layout else "-raw", "-enc", "UTF-8"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(path: Path) -> list[str]:
    """Each page's text (pdftotext separates pages with form feeds)."""
    return pdf_text(path).split("\f")[:-1]


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
    cert = certificate(
        _name(common_name),
        key.public_key(),
        signed_by=key,
        valid_days=365,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (_usage(signing=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
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
    usage = (
        _usage(signing=True)
        if signing_usage
        else x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    )
    cert = certificate(
        _name(common_name),
        key.public_key(),
        signed_by=ca.key,
        issuer=ca.cert.subject,
        valid_days=valid_days,
        not_before=None if valid_days > 0 else datetime.now(UTC) - timedelta(days=30),
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (usage, True),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False),
        ],
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
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            # Django first: importing any tests.factories module loads the models beside it.
            "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'haetae.settings'); "
            "django.setup(); from tests.factories.exhibits import _nss_import; _nss_import()",
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
    cert = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
        key.public_key(),
        signed_by=key,
        extensions=[(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)],
    )
    key_path, cert_path = tmp / "signer.key", tmp / "signer.crt"
    key_path.write_bytes(key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, cert.fingerprint(hashes.SHA256()).hex()


def one_page_pdf(text: str) -> bytes:
    """A PDF of one page with ``text`` on it."""
    plain = io.BytesIO()
    page = canvas.Canvas(plain)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return plain.getvalue()


def pades_signed(pdf: bytes, *, key: Path, cert: Path) -> bytes:
    """``pdf`` signed with pyHanko (PAdES B-B) by the key and certificate in these PEM files."""
    signer = signers.SimpleSigner.load(str(key), str(cert))
    assert signer is not None
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer,
        output=out,
    )
    return out.getvalue()


def signed_pdf(tmp: Path, text: str = "Exhibit report E-001", key_type: str = "rsa") -> tuple[bytes, str]:
    """A one-page PDF signed with pyHanko (PAdES B-B) by a throwaway certificate; (bytes, cert SHA-256)."""
    key_path, cert_path, fingerprint = make_signing_cert(tmp, key_type=key_type)
    return pades_signed(one_page_pdf(text), key=key_path, cert=cert_path), fingerprint


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
