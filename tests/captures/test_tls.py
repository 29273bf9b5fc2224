"""The TLS certificate chain a capture records: read by OpenSSL from the server's address."""

import base64
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from captures.browser import tls_chain
from tests.captures.site import tls_server_context


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, x509.Certificate, x509.Certificate]]:
    """A TLS server on 127.0.0.1 presenting a leaf for site.test and its CA."""
    context, leaf, ca_cert = tls_server_context(tmp_path, ca_name="Haetae test web CA", host="site.test")
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], leaf, ca_cert
    stop.set()
    thread.join(timeout=2)
    listener.close()


def test_the_chain_the_server_presents_is_recorded_leaf_first(
    tls_server: tuple[int, x509.Certificate, x509.Certificate],
) -> None:
    port, leaf, ca_cert = tls_server
    found = tls_chain("site.test", "127.0.0.1", port, 10)
    assert found["host"] == "site.test" and found["address"] == f"127.0.0.1:{port}"
    certificates = [x509.load_pem_x509_certificate(pem.encode()) for pem in found["chain_pem"]]
    assert certificates == [leaf, ca_cert]


def test_a_server_without_tls_gives_a_reason_not_a_chain() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert "chain_pem" not in tls_chain("site.test", "127.0.0.1", port, 5)


def test_certificate_pins_are_warned_about_and_a_malformed_one_named(settings: Any) -> None:
    from haetae.checks import trusted_time_and_capture_settings

    settings.HAETAE_TSA_URL = []
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = False
    settings.HAETAE_CAPTURE_ACCEPT_SPKI = []
    assert trusted_time_and_capture_settings() == []
    good = base64.b64encode(b"\x01" * 32).decode()
    settings.HAETAE_CAPTURE_ACCEPT_SPKI = [good]
    (warning,) = trusted_time_and_capture_settings()
    assert warning.id == "haetae.W012" and "Not usable" not in warning.msg
    settings.HAETAE_CAPTURE_ACCEPT_SPKI = [good, "not-a-pin"]
    (warning,) = trusted_time_and_capture_settings()
    assert "'not-a-pin' is not a base64 SHA-256" in warning.msg


def test_the_browser_is_told_the_pins_and_nothing_without_them() -> None:
    from captures.browser import spki_args

    assert spki_args(()) == []
    assert spki_args(("a", "b")) == ["--ignore-certificate-errors-spki-list=a,b"]
