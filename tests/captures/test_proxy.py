"""The capture's guarding proxy, driven without a browser: the address rule, the limits, the addresses."""

import http.client
import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from captures.choices import CaptureStatus
from captures.models import Capture
from captures.proxy import REFUSAL_HEADER, GuardProxy, address_refusal
from captures.services import captures_recover_interrupted
from tests.factories import team


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"x" * (200_000 if self.path == "/big" else 10)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(proxy: GuardProxy, url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
    try:
        with opener.open(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def guard(**overrides: Any) -> GuardProxy:
    options: dict[str, Any] = {"allow_private": False, "max_requests": 10, "max_bytes": 10**6, "timeout": 5}
    return GuardProxy(**{**options, **overrides})


def test_addresses_that_are_refused() -> None:
    assert "loopback" in address_refusal("127.0.0.1") and "loopback" in address_refusal("::1")
    unspecified = "0.0.0.0"  # noqa: S104 - an address checked, not bound
    for private in ("10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "100.64.0.1", "fc00::1"):
        assert address_refusal(private), private
    assert address_refusal(unspecified) and address_refusal("224.0.0.1")
    assert address_refusal("93.184.216.34") == ""


def test_loopback_is_refused_without_the_operators_leave(origin: str) -> None:
    with guard() as proxy:
        status, body = fetch(proxy, origin + "/page")
    assert status == 403 and b"loopback" in body
    assert proxy.log.refused and proxy.log.addresses == {}


def test_a_refusal_is_marked_as_the_proxys_own(origin: str) -> None:
    with guard() as proxy:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(origin + "/page", timeout=5)
    assert "loopback" in refused.value.headers[REFUSAL_HEADER]


def test_allowed_requests_go_to_the_checked_address_and_are_counted(origin: str) -> None:
    with guard(allow_private=True) as proxy:
        status, body = fetch(proxy, origin + "/page")
    assert (status, body) == (200, b"x" * 10)
    assert proxy.log.addresses == {origin.removeprefix("http://"): "127.0.0.1"}
    assert proxy.log.requests == 1 and proxy.log.bytes_received > 10


def test_the_request_and_byte_limits_stop_the_page(origin: str) -> None:
    with guard(allow_private=True, max_requests=1) as proxy:
        assert fetch(proxy, origin + "/page")[0] == 200
        assert fetch(proxy, origin + "/page")[0] == 429
    assert "HAETAE_CAPTURE_MAX_RESOURCES" in proxy.log.limit_hit
    with guard(allow_private=True, max_bytes=50_000) as proxy:
        try:
            body = fetch(proxy, origin + "/big")[1]
        except (http.client.HTTPException, OSError) as cut:  # cut off: nothing, or a part
            body = getattr(cut, "partial", b"")
    assert len(body) < 200_000 and "HAETAE_CAPTURE_MAX_BYTES" in proxy.log.limit_hit


@pytest.mark.django_db
def test_a_capture_left_running_by_a_dead_process_is_recorded_as_failed() -> None:
    t = team()
    capture = Capture.objects.create(
        case=t.case,
        url="https://example.org/",
        requested_by=t.lead,
        status=CaptureStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
    )
    (stopped,) = captures_recover_interrupted()
    assert stopped.pk == capture.pk and stopped.status == CaptureStatus.FAILED
    assert "interrupted" in stopped.reason
