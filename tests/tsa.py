"""A real RFC 3161 timestamp authority on 127.0.0.1 for tests: OpenSSL's ``ts -reply`` behind http.server.

``LocalAuthority`` generates a CA and a TSA certificate (extendedKeyUsage critical timeStamping) at test
time, writes OpenSSL's TSA configuration, and answers every POST of an ``application/timestamp-query`` by
running ``openssl ts -reply`` on it. Nothing is canned: each reply is signed by OpenSSL for the query it
got. ``tsa_authority`` is the fixture; ``LocalAuthority.other_ca()`` makes an unrelated CA for wrong-anchor
tests, and ``stop()`` makes the authority unreachable for failure tests.
"""

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.certificates import certificate, key_pem

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
POLICY_OID = "1.3.6.1.4.1.99999.1.1"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Haetae test authority"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA certificate and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    cert = certificate(
        _name(common_name),
        key.public_key(),
        signed_by=key,
        extensions=[(x509.BasicConstraints(ca=True, path_length=None), True), (usage, True)],
    )
    return key, cert


def make_tsa_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A TSA signing certificate issued by the CA: extendedKeyUsage timeStamping, critical (RFC 3161 §2.3)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(
        _name(common_name),
        key.public_key(),
        signed_by=ca_key,
        issuer=ca_cert.subject,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
    )
    return key, cert


_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = yes
ess_cert_id_alg = sha256
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    authority: "LocalAuthority"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        query = self.rfile.read(length)
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_error(415, "expected application/timestamp-query")
            return
        try:
            reply = self.authority.reply(query)
        except subprocess.CalledProcessError as exc:
            self.send_error(500, exc.stderr.decode(errors="replace")[:200])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class LocalAuthority:
    """A running TSA: its URL, its CA (the trust anchor) and TSA certificate files, and the queries it got."""

    directory: Path
    url: str = ""
    ca_file: Path = field(init=False)
    tsa_file: Path = field(init=False)
    queries: list[bytes] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        ca_key, ca_cert = make_ca("Haetae test TSA root")
        tsa_key, tsa_cert = make_tsa_certificate(ca_key, ca_cert, "Haetae test TSA")
        self.ca_file = self.directory / "ca.pem"
        self.tsa_file = self.directory / "tsa.pem"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.tsa_file.write_bytes(tsa_cert.public_bytes(serialization.Encoding.PEM))
        (self.directory / "chain.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        (self.directory / "tsa.key").write_bytes(key_pem(tsa_key))
        (self.directory / "serial").write_text("01\n")
        (self.directory / "tsa.cnf").write_text(_CONFIG.format(dir=self.directory, policy=POLICY_OID))

    def reply(self, query: bytes) -> bytes:
        """OpenSSL's signed reply to one query (serialised: OpenSSL updates its serial file)."""
        with self._lock:
            self.queries.append(query)
            config = str(self.directory / "tsa.cnf")
            completed = subprocess.run(
                [
                    OPENSSL,
                    "ts",
                    "-reply",
                    "-config",
                    config,
                    "-queryfile",
                    "/dev/stdin",
                    "-out",
                    "/dev/stdout",
                ],
                input=query,
                capture_output=True,
                check=True,
                timeout=30,
            )
        return completed.stdout

    def start(self) -> "LocalAuthority":
        handler = type("Handler", (_Handler,), {"authority": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def other_ca(self) -> Path:
        """A CA certificate unrelated to this authority (a wrong trust anchor)."""
        _, cert = make_ca("Some other root")
        path = self.directory / "other-ca.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path


@pytest.fixture
def tsa_authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    """A fresh authority on 127.0.0.1, stopped after the test."""
    authority = LocalAuthority(tmp_path / "tsa").start()
    try:
        yield authority
    finally:
        authority.stop()


@pytest.fixture
def tsa_configured(tsa_authority: LocalAuthority, settings: object) -> LocalAuthority:
    """The authority configured as the installation's TSA (HAETAE_TSA_URL, HAETAE_TSA_CERT_FILE)."""
    settings.HAETAE_TSA_URL = [tsa_authority.url]  # type: ignore[attr-defined]
    settings.HAETAE_TSA_CERT_FILE = str(tsa_authority.ca_file)  # type: ignore[attr-defined]
    return tsa_authority
