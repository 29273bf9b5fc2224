"""PAdES signatures on reports: the agency's signer from settings (or a development one), signing, checking.

``signer_load`` reads the agency's certificate and key (PEM) named by ``HAETAE_SIGNER_CERT_FILE`` and
``HAETAE_SIGNER_KEY_FILE`` (``HAETAE_SIGNER_KEY_PASSPHRASE_FILE`` when the key is encrypted,
``HAETAE_SIGNER_CHAIN_FILE`` for the issuing CA certificates). Without them it uses a self-signed
*development* signer, made under ``DATA_DIR/keys/`` on first use and flagged ``development=True`` so that
every report it signs says on its cover that it is not for court.

``pdf_sign`` adds one PAdES signature (ETSI.CAdES.detached, SHA-256) as an incremental update: baseline B-B,
or B-T with a timestamp when ``HAETAE_SIGNER_TSA_URL`` names a timestamp authority; without one nothing
touches the network. ``pdf_signature_check`` validates with pyHanko against the configured trust anchors
(or the ones given), with revocation checking soft (an offline court laptop cannot fetch CRLs).
"""

import fcntl
import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers import constants as signer_constants
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from exhibits.reports.types import SignerInfo
from haetae.errors import IntegrityFailure, RejectedInput

__all__ = [
    "DEV_SIGNER_COMMON_NAME",
    "LoadedSigner",
    "SignatureCheck",
    "SignerInfo",
    "pdf_sign",
    "pdf_sign_checked",
    "pdf_signature_check",
    "signer_load",
]

DEV_SIGNER_COMMON_NAME = "Haetae development signer — not for court"
DEVELOPMENT_SIGNER_REFUSED = (
    "no report signer is configured and this is a production deployment: the development signer's key lies "
    "unencrypted in the data directory, so it is refused here. Set HAETAE_SIGNER_CERT_FILE and "
    "HAETAE_SIGNER_KEY_FILE to the agency's certificate and key (docs/reports-signing.md), or, for a trial "
    "installation only, HAETAE_ALLOW_DEVELOPMENT_SIGNER=1"
)
DEV_SIGNER_KEY_NAME = "report-signer-dev.key"
DEV_SIGNER_CERT_NAME = "report-signer-dev.crt"
DEV_SIGNER_VALID_DAYS = 5 * 365
SIGNATURE_FIELD = "HaetaeSignature"
SIGNATURE_REASON = "Haetae exhibit report: integrity of the report and its embedded manifest"
# A signing key may be marked for digital signatures or for non-repudiation (content commitment); either does.
_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


@dataclass(frozen=True)
class LoadedSigner:
    """A signer ready to sign: what the cover shows (``info``), the key material and the trust anchors."""

    info: SignerInfo
    signer: signers.SimpleSigner = field(repr=False)
    trust_roots: tuple[asn1_x509.Certificate, ...] = field(repr=False)
    tsa_url: str = ""


@dataclass(frozen=True)
class SignatureCheck:
    """The result of validating a report's signature; ``ok`` only if intact, valid, trusted and whole-file."""

    ok: bool
    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    signer_subject: str = ""
    certificate_sha256: str = ""
    signing_time: datetime | None = None
    subfilter: str = ""
    problems: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "signed": self.signed,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "covers_whole_file": self.covers_whole_file,
            "signer_subject": self.signer_subject,
            "certificate_sha256": self.certificate_sha256,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "subfilter": self.subfilter,
            "problems": list(self.problems),
        }


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "").strip()


def _read(path: str, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RejectedInput(
            f"{setting} names {path}, which cannot be read ({exc.strerror}): fix the path or the file's "
            "permissions for the user the workers run as"
        ) from None


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _check_certificate(cert: x509.Certificate, *, setting: str) -> None:
    now = datetime.now(UTC)
    if cert.not_valid_after_utc < now:
        raise RejectedInput(
            f"the signing certificate in {setting} ({_subject(cert)}) expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d}: install the agency's renewed certificate"
        )
    if cert.not_valid_before_utc > now:
        raise RejectedInput(
            f"the signing certificate in {setting} ({_subject(cert)}) is valid only from "
            f"{cert.not_valid_before_utc:%Y-%m-%d}: check the server's clock or the certificate"
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise RejectedInput(
            f"the certificate in {setting} ({_subject(cert)}) is not for signing (its key usage has neither "
            "digitalSignature nor nonRepudiation): ask the CA for a document-signing certificate"
        )


def _trust_roots(cert: x509.Certificate, chain: list[x509.Certificate]) -> list[x509.Certificate]:
    """The configured anchors: self-signed certificates of the chain; else its last certificate; else the
    signer's own certificate (self-signed, like the development signer's)."""
    roots = [c for c in chain if c.issuer == c.subject]
    if roots:
        return roots
    if chain:
        return [chain[-1]]
    return [cert]


def _as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _build(
    *,
    key_pem: bytes,
    passphrase: bytes | None,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    development: bool,
) -> LoadedSigner:
    signing_key = load_private_key_from_pemder_data(key_pem, passphrase=passphrase)
    signer = signers.SimpleSigner(
        signing_cert=_as_asn1(cert),
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore.from_certs([_as_asn1(c) for c in chain]),
    )
    info = SignerInfo(
        subject=_subject(cert),
        development=development,
        certificate_sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )
    roots = tuple(_as_asn1(c) for c in _trust_roots(cert, chain))
    return LoadedSigner(
        info=info, signer=signer, trust_roots=roots, tsa_url=_setting("HAETAE_SIGNER_TSA_URL")
    )


def signer_load() -> LoadedSigner:
    """The agency's signer from settings, or the development signer (created on first use) without them."""
    cert_file = _setting("HAETAE_SIGNER_CERT_FILE")
    key_file = _setting("HAETAE_SIGNER_KEY_FILE")
    if not cert_file and not key_file:
        if not getattr(settings, "HAETAE_ALLOW_DEVELOPMENT_SIGNER", False):
            raise RejectedInput(DEVELOPMENT_SIGNER_REFUSED)
        return _development_signer()
    if not cert_file or not key_file:
        given, missing = (
            ("HAETAE_SIGNER_CERT_FILE", "HAETAE_SIGNER_KEY_FILE")
            if cert_file
            else ("HAETAE_SIGNER_KEY_FILE", "HAETAE_SIGNER_CERT_FILE")
        )
        raise RejectedInput(
            f"{given} is set but {missing} is not: set both (the agency's PEM certificate and its key), or "
            "neither to sign with the development signer"
        )
    certs = x509.load_pem_x509_certificates(_read(cert_file, "HAETAE_SIGNER_CERT_FILE"))
    cert = certs[0]
    chain = certs[1:]
    chain_file = _setting("HAETAE_SIGNER_CHAIN_FILE")
    if chain_file:
        chain += x509.load_pem_x509_certificates(_read(chain_file, "HAETAE_SIGNER_CHAIN_FILE"))
    _check_certificate(cert, setting="HAETAE_SIGNER_CERT_FILE")
    passphrase_file = _setting("HAETAE_SIGNER_KEY_PASSPHRASE_FILE")
    passphrase = (
        _read(passphrase_file, "HAETAE_SIGNER_KEY_PASSPHRASE_FILE").rstrip(b"\r\n")
        if passphrase_file
        else None
    )
    key_pem = _read(key_file, "HAETAE_SIGNER_KEY_FILE")
    try:
        key = serialization.load_pem_private_key(key_pem, password=passphrase)
    except TypeError:
        raise RejectedInput(
            "the key in HAETAE_SIGNER_KEY_FILE is encrypted: name the file holding its passphrase in "
            "HAETAE_SIGNER_KEY_PASSPHRASE_FILE"
            if passphrase is None
            else "the key in HAETAE_SIGNER_KEY_FILE is not encrypted: unset HAETAE_SIGNER_KEY_PASSPHRASE_FILE"
        ) from None
    except ValueError:
        raise RejectedInput(
            "the key in HAETAE_SIGNER_KEY_FILE cannot be read: either it is not a PEM private key or the "
            "passphrase in HAETAE_SIGNER_KEY_PASSPHRASE_FILE is wrong"
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        raise RejectedInput(
            "the key in HAETAE_SIGNER_KEY_FILE is EdDSA, which PDF signatures allow only in PDF 2.0; reports "
            "are PDF/A-3 (PDF 1.7): use an RSA (3072 bits or more) or ECDSA (P-256/P-384) certificate and key"
        )
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise RejectedInput(
            "the key in HAETAE_SIGNER_KEY_FILE does not belong to the certificate in HAETAE_SIGNER_CERT_FILE "
            f"({_subject(cert)}): install the matching pair"
        )
    return _build(key_pem=key_pem, passphrase=passphrase, cert=cert, chain=chain, development=False)


def _dev_dir() -> Path:
    return Path(settings.DATA_DIR) / "keys"


def _write_private(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(path)


def _development_signer() -> LoadedSigner:
    """The self-signed development signer under DATA_DIR/keys/, made once (under a lock) and reused."""
    directory = _dev_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path = directory / DEV_SIGNER_KEY_NAME
    cert_path = directory / DEV_SIGNER_CERT_NAME
    lock_fd = os.open(directory / "report-signer-dev.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)  # two workers starting at once make one signer, not two
        if not (key_path.exists() and cert_path.exists()):
            _development_signer_create(key_path=key_path, cert_path=cert_path)
    finally:
        os.close(lock_fd)
    key_pem = key_path.read_bytes()
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return _build(key_pem=key_pem, passphrase=None, cert=cert, chain=[], development=True)


def _development_signer_create(*, key_path: Path, cert_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Haetae (development installation)"),
            x509.NameAttribute(NameOID.COMMON_NAME, DEV_SIGNER_COMMON_NAME),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=DEV_SIGNER_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))


class _PdfA3Signer(signers.PdfSigner):
    """A PAdES signer that keeps the document at PDF 1.7, the base of PDF/A-3.

    pyHanko declares ISO/TS 32002 (a PDF 2.0 extension) and raises the catalog's /Version to 2.0 whenever the
    key is ECDSA; PAdES itself (the ESIC extension, PDF 1.7) already covers ECDSA, and a PDF/A-3 file must
    not claim PDF 2.0. Keys that only PDF 2.0 knows (EdDSA) are refused by ``signer_load``.
    """

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))
        pdf_out.register_extension(signer_constants.ESIC_EXTENSION_1)


def pdf_sign(*, pdf_in: Path, pdf_out: Path, signer: LoadedSigner) -> None:
    """Sign ``pdf_in`` into ``pdf_out`` with one invisible PAdES signature over the whole file."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=SIGNATURE_REASON,
    )
    timestamper = timestamps.HTTPTimeStamper(signer.tsa_url) if signer.tsa_url else None
    pdf_signer = _PdfA3Signer(
        metadata,
        signer=signer.signer,
        timestamper=timestamper,
        new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD),
    )
    temp = pdf_out.with_name(f".{pdf_out.name}.partial")
    try:
        with open(pdf_in, "rb") as source, open(temp, "wb") as out:
            pdf_signer.sign_pdf(IncrementalPdfFileWriter(source, strict=False), output=out)
        temp.replace(pdf_out)
    finally:
        temp.unlink(missing_ok=True)


def pdf_sign_checked(*, pdf_in: Path, pdf_out: Path, signer: LoadedSigner, what: str, advice: str) -> None:
    """Sign as ``pdf_sign`` does, then validate the result at once: a signature that does not verify is never
    stored (IntegrityFailure "the freshly signed <what> does not validate (<problems>): <advice>")."""
    pdf_sign(pdf_in=pdf_in, pdf_out=pdf_out, signer=signer)
    check = pdf_signature_check(pdf_out, trust_roots=list(signer.trust_roots))
    if not check.ok:
        raise IntegrityFailure(
            f"the freshly signed {what} does not validate ({'; '.join(check.problems)}): {advice}"
        )


def pdf_signature_check(
    path: Path, *, trust_roots: list[asn1_x509.Certificate] | None = None
) -> SignatureCheck:
    """Validate the PDF's signatures with pyHanko; ``trust_roots`` default to the configured signer's."""
    roots = list(signer_load().trust_roots) if trust_roots is None else list(trust_roots)
    try:
        with open(path, "rb") as handle:
            reader = PdfFileReader(handle, strict=False)
            embedded = list(reader.embedded_signatures)
            if not embedded:
                return SignatureCheck(ok=False, signed=False, problems=("the PDF carries no signature",))
            checks = [_check_one(sig, roots) for sig in embedded]
    except (PdfError, OSError, ValueError, KeyError) as exc:
        return SignatureCheck(
            ok=False, signed=False, problems=(f"the file cannot be read as a signed PDF: {exc}",)
        )
    # A report carries one signature; with several, the last one (over the whole file) decides.
    last = checks[-1]
    problems = tuple(p for check in checks for p in check.problems)
    return SignatureCheck(
        ok=all(check.ok for check in checks),
        signed=True,
        intact=last.intact,
        valid=last.valid,
        trusted=last.trusted,
        covers_whole_file=last.covers_whole_file,
        signer_subject=last.signer_subject,
        certificate_sha256=last.certificate_sha256,
        signing_time=last.signing_time,
        subfilter=last.subfilter,
        problems=problems,
    )


def _check_one(embedded: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]) -> SignatureCheck:
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    name = embedded.field_name
    subfilter = str(embedded.sig_object.get("/SubFilter", ""))
    try:
        status = validate_pdf_signature(embedded, context, key_usage_settings=_KEY_USAGE)
    except (PdfError, ValueError) as exc:  # pyHanko's validation errors are ValueErrors
        return SignatureCheck(
            ok=False,
            signed=True,
            subfilter=subfilter,
            problems=(f"signature {name}: cannot be validated: {exc}",),
        )
    cert = status.signing_cert
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    problems = []
    if not status.intact:
        problems.append(
            f"signature {name}: the signed bytes changed after signing (digest mismatch): this is not the "
            "file that was signed"
        )
    elif not status.valid:
        problems.append(f"signature {name}: the cryptographic signature does not verify")
    if not status.trusted:
        problems.append(
            f"signature {name}: the signer's certificate ({cert.subject.human_friendly}) does not chain to a "
            "trusted certificate: obtain the agency's CA certificate and validate against it"
        )
    if not whole:
        problems.append(f"signature {name}: does not cover the whole file (content was added after signing)")
    return SignatureCheck(
        ok=bool(status.intact and status.valid and status.trusted and whole),
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=whole,
        signer_subject=x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string(),
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        signing_time=status.signer_reported_dt,
        subfilter=subfilter,
        problems=tuple(problems),
    )
