"""A local web site, served by the test itself on 127.0.0.1, for captures: images, a redirect, a slow
resource, a huge resource, an infinite scroll, a page that never finishes loading, and a refusal."""

import base64
import hashlib
import http.server
import io
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image
from skimage import data

from tests.certificates import certificate, key_pem
from tests.tsa import make_ca

TEXT = "Reported post 2024-0917: channel invitation"
GREEN = (0, 200, 0)
HUGE_BYTES = 24 * 1024 * 1024


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


PHOTO = _png(Image.fromarray(data.astronaut()).resize((128, 128)))
SWATCH = _png(Image.new("RGB", (64, 64), (10, 20, 200)))

PAGES = {
    "/index.html": f"""<!doctype html><html><head><title>Reported</title></head>
<body style="margin:0;background:#fff">
<div id="block" style="width:400px;height:300px;background:rgb{GREEN}"></div>
<h1>{TEXT}</h1><img src="/photo.png" width="128" height="128"><img src="/swatch.png">
</body></html>""",
    "/slow.html": """<!doctype html><html><body><p>slow page</p><img src="/slow.png"></body></html>""",
    "/huge.html": """<!doctype html><html><body><p>huge page</p>
<script>fetch('/huge.bin').then(r => r.arrayBuffer()).catch(() => null)</script></body></html>""",
    "/scroll.html": """<!doctype html><html><body><div id="feed"></div><script>
let n = 0;
function more() { for (let i = 0; i < 10; i++) { const p = document.createElement('p');
  p.style.height = '120px'; p.textContent = 'post ' + (n++);
  document.getElementById('feed').appendChild(p); } }
more(); window.addEventListener('scroll', () => {
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 200) more(); });
</script></body></html>""",
    "/never.html": """<!doctype html><html><body><p>never finishes</p><img src="/hang.png"></body></html>""",
}


@dataclass
class Site:
    """The running site: its base URL and the paths it was asked for."""

    base: str = ""
    requested: list[str] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None
    stop_hanging: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.base + path


SiteT = TypeVar("SiteT", bound=Site)


def _handler(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            site.requested.append(self.path)
            if self.path in PAGES:
                self._send(PAGES[self.path].encode(), "text/html; charset=utf-8")
            elif self.path == "/photo.png":
                self._send(PHOTO, "image/png")
            elif self.path == "/swatch.png":
                self._send(SWATCH, "image/png")
            elif self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/index.html")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/slow.png":
                time.sleep(1.0)
                self._send(SWATCH, "image/png")
            elif self.path == "/huge.bin":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(HUGE_BYTES))
                self.end_headers()
                chunk = b"\0" * 65536
                try:
                    for _ in range(HUGE_BYTES // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass
            elif self.path == "/hang.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"\x89PNG")
                self.wfile.flush()
                site.stop_hanging.wait(60)
            else:
                self._send(b"not here", "text/plain", 404)

    return Handler


def _serving(running: SiteT, server: http.server.ThreadingHTTPServer, scheme: str) -> Iterator[SiteT]:
    """Serve ``running`` from ``server`` on a thread while the test runs; then stop it."""
    server.daemon_threads = True
    running.server = server
    running.base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield running
    finally:
        running.stop_hanging.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    """The site on a free port of 127.0.0.1, stopped after the test."""
    running = Site()
    yield from _serving(running, http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(running)), "http")


@dataclass
class HttpsSite(Site):
    """The same site over TLS, with a certificate for 127.0.0.1 from a CA of the test's own making; ``pin``
    is the base64 SHA-256 of the leaf's public key (what HAETAE_CAPTURE_ACCEPT_SPKI takes)."""

    pin: str = ""
    chain: list[x509.Certificate] = field(default_factory=list)


def tls_server_context(
    folder: Path, *, ca_name: str, host: str
) -> tuple[ssl.SSLContext, x509.Certificate, x509.Certificate]:
    """A server context presenting a leaf for ``host`` (a DNS name or an IP address) and the CA of the
    test's own making (``ca_name``) that issued it; the leaf; the CA certificate. Files go in ``folder``."""
    ca_key, ca_cert = make_ca(ca_name)
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt_name = x509.DNSName(host)
    leaf = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]),
        key.public_key(),
        signed_by=ca_key,
        issuer=ca_cert.subject,
        valid_days=1,
        extensions=[(x509.SubjectAlternativeName([alt_name]), False)],
    )
    chain_file, key_file = folder / "chain.pem", folder / "key.pem"
    chain_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    key_file.write_bytes(key_pem(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    return context, leaf, ca_cert


def _tls_context(folder: Path) -> tuple[ssl.SSLContext, str, list[x509.Certificate]]:
    """A server context presenting a leaf for IP 127.0.0.1 and its CA; the leaf's SPKI pin; the chain."""
    context, leaf, ca_cert = tls_server_context(folder, ca_name="Haetae test site CA", host="127.0.0.1")
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return context, base64.b64encode(hashlib.sha256(spki).digest()).decode(), [leaf, ca_cert]


@pytest.fixture
def https_site(tmp_path: Path) -> Iterator[HttpsSite]:
    """The site over https on a free port of 127.0.0.1 (certificate for 127.0.0.1, not publicly trusted)."""
    context, pin, chain = _tls_context(tmp_path)
    running = HttpsSite(pin=pin, chain=chain)

    class TlsServer(http.server.ThreadingHTTPServer):
        """Each connection's handshake in its own thread: a browser's idle preconnection must not hold up
        the listener (as a TLS-wrapped listening socket would, handshaking in accept)."""

        def finish_request(self, request: Any, client_address: Any) -> None:
            try:
                tls = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            super().finish_request(tls, client_address)

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that went away mid-answer (the browser closing) is no failure of the site

    yield from _serving(running, TlsServer(("127.0.0.1", 0), _handler(running)), "https")
