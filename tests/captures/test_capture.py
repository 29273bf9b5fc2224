"""Capturing the local test site with Debian's Chromium: WACZ, WARC records, screenshot, DOM text, limits."""

import io
import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from access.choices import CaseMemberRole
from captures.choices import CaptureStatus
from captures.models import Capture
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from evidence.vault import read_verified
from tests.captures.site import GREEN, PHOTO, TEXT, HttpsSite, Site, https_site, site
from tests.commands import command_run
from tests.factories import custody_actions, team

__all__ = ["https_site", "site"]

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


@pytest.fixture(autouse=True)
def capture_settings(settings: Any) -> None:
    """Short limits, and the local site allowed (the operator's switch for closed networks and tests)."""
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = True
    settings.HAETAE_CAPTURE_TIMEOUT_SECONDS = 8
    settings.HAETAE_CAPTURE_MAX_BYTES = 4 * 1024 * 1024
    settings.HAETAE_CAPTURE_MAX_RESOURCES = 50
    settings.HAETAE_CAPTURE_SCROLL_STEPS = 4
    if not Path(settings.HAETAE_CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {settings.HAETAE_CHROMIUM}: run scripts/sysdeps.sh --test")


def run_capture(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = command_run("capture", *args, "--json")
    return code, json.loads(out) if out else {"stderr": err}


def stored(item_id: int) -> bytes:
    item = EvidenceItem.objects.get(pk=item_id)
    assert item.blob_id is not None
    return b"".join(read_verified(item.blob_id))


def files_of(outcome: dict[str, Any]) -> dict[str, bytes]:
    return {entry["name"]: stored(entry["id"]) for entry in outcome["files"]}


def warc_records(wacz: bytes) -> list[Any]:
    """Every record of every WARC in the WACZ, read by warcio (bodies read in full)."""
    records = []
    with zipfile.ZipFile(io.BytesIO(wacz)) as archive:
        for name in archive.namelist():
            if name.startswith("archive/") and name.endswith((".warc", ".warc.gz")):
                for record in ArchiveIterator(io.BytesIO(archive.read(name))):
                    records.append((record, record.content_stream().read()))
    return records


def test_a_page_is_captured_with_every_file_and_the_wacz_validates(site: Site, tmp_path: Path) -> None:
    t = team()
    code, payload = run_capture(t.case.number, site.url("/index.html"), "--actor", t.lead.username)
    assert code == 0, payload
    (outcome,) = payload["captures"]
    assert outcome["status"] == "captured" and outcome["resolved_ip"] == "127.0.0.1"
    files = files_of(outcome)
    assert set(files) == {"capture.wacz", "screenshot.png", "dom.html", "dom.txt", "capture.json"}

    # The WACZ passes the wacz tool's own validation, and warcio reads every record.
    wacz = tmp_path / "capture.wacz"
    wacz.write_bytes(files["capture.wacz"])
    checked = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(wacz)], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    records = warc_records(files["capture.wacz"])
    responses = {
        r.rec_headers["WARC-Target-URI"]: (r, body) for r, body in records if r.rec_type == "response"
    }
    requests = {r.rec_headers["WARC-Target-URI"] for r, _ in records if r.rec_type == "request"}
    assert set(responses) >= {site.url("/index.html"), site.url("/photo.png"), site.url("/swatch.png")}
    assert set(responses) <= requests
    photo_record, photo_body = responses[site.url("/photo.png")]
    assert photo_body == PHOTO  # the bytes the site served
    assert photo_record.rec_headers["WARC-IP-Address"] == "127.0.0.1"
    assert photo_record.rec_headers["WARC-Date"].startswith("20")
    assert TEXT.encode() in responses[site.url("/index.html")][1]

    # The screenshot shows the page: the green block at the top left; the DOM text is the page's text.
    shot = Image.open(io.BytesIO(files["screenshot.png"])).convert("RGB")
    assert shot.getpixel((100, 100)) == GREEN and shot.width == 1280
    assert TEXT in files["dom.txt"].decode()
    facts = json.loads(files["capture.json"])
    assert facts["final_url"] == site.url("/index.html") and facts["tls"] == "not https"
    assert (
        facts["headers"]["content-type"].startswith("text/html") and "HeadlessChrome" in facts["user_agent"]
    )
    assert facts["started_at"] <= facts["finished_at"]

    capture = Capture.objects.get(pk=outcome["capture"])
    assert capture.status == CaptureStatus.CAPTURED and capture.acquisition_id == outcome["acquisition"]
    actions = custody_actions(case=t.case)
    assert CustodyAction.CAPTURE_REQUESTED in actions and CustodyAction.CAPTURE_COMPLETED in actions
    assert CustodyAction.ACQUISITION_COMPLETED in actions


def test_a_redirect_is_followed_and_recorded(site: Site) -> None:
    t = team()
    code, payload = run_capture(t.case.number, site.url("/redirect"), "--actor", t.lead.username)
    assert code == 0, payload
    (outcome,) = payload["captures"]
    assert outcome["final_url"] == site.url("/index.html")
    facts = json.loads(files_of(outcome)["capture.json"])
    assert facts["redirects"] == [site.url("/redirect")]
    statuses = {
        r.rec_headers["WARC-Target-URI"]: r.http_headers.get_statuscode()
        for r, _ in warc_records(files_of(outcome)["capture.wacz"])
        if r.rec_type == "response"
    }
    assert statuses[site.url("/redirect")] == "302"


def test_loopback_is_refused_unless_the_operator_allows_it(site: Site, settings: Any) -> None:
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = False
    t = team()
    code, payload = run_capture(t.case.number, site.url("/index.html"), "--actor", t.lead.username)
    assert code == 1
    (outcome,) = payload["captures"]
    assert outcome["status"] == "failed" and "loopback" in outcome["reason"]
    assert "HAETAE_CAPTURE_ALLOW_PRIVATE" in outcome["reason"]
    assert site.requested == []  # nothing reached the site
    assert CustodyEvent.objects.filter(case=t.case, action=CustodyAction.CAPTURE_FAILED).count() == 1


def test_a_site_that_is_down_is_a_recorded_failure(settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    t = team()
    code, payload = run_capture(t.case.number, f"http://127.0.0.1:{port}/gone", "--actor", t.lead.username)
    assert code == 1
    (outcome,) = payload["captures"]
    assert outcome["status"] == "failed" and "could not be loaded" in outcome["reason"]
    assert outcome["files"] == [] and outcome["acquisition"] is None


def test_a_page_that_never_finishes_loading_is_captured_as_it_stood(site: Site, settings: Any) -> None:
    settings.HAETAE_CAPTURE_TIMEOUT_SECONDS = 4
    t = team()
    code, payload = run_capture(t.case.number, site.url("/never.html"), "--actor", t.lead.username)
    assert code == 0, payload
    facts = json.loads(files_of(payload["captures"][0])["capture.json"])
    assert any("did not finish loading" in note for note in facts["notes"])
    assert "never finishes" in files_of(payload["captures"][0])["dom.txt"].decode()


def test_a_huge_resource_stops_at_the_page_weight_limit(site: Site) -> None:
    t = team()
    code, payload = run_capture(t.case.number, site.url("/huge.html"), "--actor", t.lead.username)
    assert code == 0, payload
    files = files_of(payload["captures"][0])
    facts = json.loads(files["capture.json"])
    assert any("HAETAE_CAPTURE_MAX_BYTES" in note for note in facts["notes"]), facts["notes"]
    assert len(files["capture.wacz"]) < 4 * 1024 * 1024


def test_an_infinite_scroll_stops_at_the_scroll_limit_with_what_it_loaded(site: Site) -> None:
    t = team()
    code, payload = run_capture(t.case.number, site.url("/scroll.html"), "--actor", t.lead.username)
    assert code == 0, payload
    files = files_of(payload["captures"][0])
    facts = json.loads(files["capture.json"])
    assert any("kept growing" in note for note in facts["notes"]), facts["notes"]
    assert "post 15" in files["dom.txt"].decode()  # loaded by scrolling, beyond the first ten


def test_a_slow_resource_is_waited_for(site: Site) -> None:
    t = team()
    code, payload = run_capture(t.case.number, site.url("/slow.html"), "--actor", t.lead.username)
    assert code == 0, payload
    uris = {
        r.rec_headers["WARC-Target-URI"]
        for r, _ in warc_records(files_of(payload["captures"][0])["capture.wacz"])
    }
    assert site.url("/slow.png") in uris


def test_usage_errors_exit_2_and_roles_are_checked(site: Site) -> None:
    t = team()
    code, payload = run_capture(t.case.number, "ftp://example.org/x", "--actor", t.lead.username)
    assert code == 2 and "http://" in payload["stderr"]
    auditor = t.member(CaseMemberRole.AUDITOR)
    code, payload = run_capture(t.case.number, site.url("/index.html"), "--actor", auditor.username)
    assert code == 1 and "ask for captures" in payload["stderr"]
    assert site.requested == [] and not Capture.objects.exists()


def test_an_https_page_is_captured_with_the_chain_its_server_presented(
    https_site: HttpsSite, settings: Any
) -> None:
    """End to end over TLS: the browser accepts the test site's certificate only by its pin (no public CA
    signed it), the WARC holds what the site served, and capture.json the chain the server presented."""
    from cryptography import x509

    settings.HAETAE_CAPTURE_ACCEPT_SPKI = [https_site.pin]
    t = team()
    code, payload = run_capture(t.case.number, https_site.url("/index.html"), "--actor", t.lead.username)
    assert code == 0, payload
    (outcome,) = payload["captures"]
    assert outcome["status"] == "captured" and outcome["final_url"] == https_site.url("/index.html")
    assert outcome["resolved_ip"] == "127.0.0.1"
    files = files_of(outcome)
    facts = json.loads(files["capture.json"])
    assert facts["tls"]["address"] == f"127.0.0.1:{https_site.url('').rsplit(':', 1)[1]}"
    chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in facts["tls"]["chain_pem"]]
    assert chain == https_site.chain  # leaf first, then its CA, as the server presented them
    assert facts["accepted_spki"] == [https_site.pin]
    responses = {
        r.rec_headers["WARC-Target-URI"]: body
        for r, body in warc_records(files["capture.wacz"])
        if r.rec_type == "response"
    }
    assert responses[https_site.url("/photo.png")] == PHOTO
    assert TEXT in files["dom.txt"].decode()
    shot = Image.open(io.BytesIO(files["screenshot.png"])).convert("RGB")
    assert shot.getpixel((100, 100)) == GREEN
    assert Capture.objects.get(pk=outcome["capture"]).status == CaptureStatus.CAPTURED


def test_an_https_page_whose_certificate_is_not_accepted_is_a_recorded_failure(
    https_site: HttpsSite, settings: Any
) -> None:
    settings.HAETAE_CAPTURE_ACCEPT_SPKI = []  # the same site, its certificate not pinned: refused
    t = team()
    code, payload = run_capture(t.case.number, https_site.url("/index.html"), "--actor", t.lead.username)
    assert code == 1
    (outcome,) = payload["captures"]
    assert outcome["status"] == "failed" and "CERT" in outcome["reason"].upper()
    assert Capture.objects.get(pk=outcome["capture"]).status == CaptureStatus.FAILED
