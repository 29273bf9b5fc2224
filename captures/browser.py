"""One page captured by headless Chromium: WARC/WACZ, full-page screenshot, rendered DOM, network facts.

``page_capture`` touches no database (Playwright's sync API runs an event loop in the calling thread, where
Django refuses ORM calls); ``captures.services`` stores what it returns. Every connection goes through
``captures.proxy.GuardProxy`` (the address rule and the limits). Every response the browser received is
written to a WARC (a request and a response record each, with WARC-Target-URI, WARC-Date and
WARC-IP-Address), packaged as WACZ by the ``wacz`` tool and validated by it before anything is kept.
"""

import datetime
import io
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

import haetae
from captures.proxy import REFUSAL_HEADER, GuardProxy, address_refusal

NOT_HTTPS = "not https"
_WACZ = [sys.executable, "-m", "wacz"]
# Packing and validating are local work on what was already received: bounded apart from the page's time.
PACKAGING_TIMEOUT_SECONDS = 300
# Headers describing the transfer, not the content: the WARC holds the decoded body the browser used.
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# Without these, Chromium keeps trying to reach Google's hosts (and a closed network refuses them); the
# portal's browser tests start it with the same.
CHROMIUM_OFFLINE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_CHROMIUM_ARGS = [
    *CHROMIUM_OFFLINE_ARGS,
    "--proxy-bypass-list=<-loopback>",  # loopback goes through the proxy (and its address rule) too
]


class CaptureFailed(Exception):
    """The page could not be captured; the message says why (kept as the capture's reason)."""


@dataclass(frozen=True)
class CaptureLimits:
    """The operator's limits on one capture (settings ``HAETAE_CAPTURE_*``)."""

    chromium: str
    timeout_seconds: float
    max_bytes: int
    max_resources: int
    max_redirects: int
    scroll_steps: int
    allow_private: bool
    accept_spki: tuple[
        str, ...
    ] = ()  # pins of certificates accepted without a public CA (HAETAE_CAPTURE_ACCEPT_SPKI)


@dataclass
class PageCapture:
    """What one capture found; ``files`` are the paths of the files to keep, by role."""

    url: str
    final_url: str = ""
    resolved_ip: str = ""
    status_code: int | None = None
    user_agent: str = ""
    started_at: str = ""
    finished_at: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tls: Any = NOT_HTTPS
    redirects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    accepted_spki: list[str] = field(default_factory=list)
    resources: int = 0
    bytes_received: int = 0
    files: dict[str, Path] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """The capture's facts as plain data (capture.json, the Capture row, the command's JSON)."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "resolved_ip": self.resolved_ip,
            "status_code": self.status_code,
            "user_agent": self.user_agent,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "headers": self.headers,
            "tls": self.tls,
            "redirects": self.redirects,
            "notes": self.notes,
            "refused": self.refused,
            "accepted_spki": self.accepted_spki,
            "resources": self.resources,
            "bytes_received": self.bytes_received,
            "tool": f"haetae {haetae.__version__}",
        }


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def url_check(url: str) -> str:
    """Why ``url`` cannot be captured at all ('' if it can be tried)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// address"
    if parts.username or parts.password:
        return f"{url!r} carries a user name or password; give the address without them"
    return ""


def spki_args(pins: tuple[str, ...]) -> list[str]:
    """Chromium's switch accepting exactly these certificates' keys despite certificate errors (or none)."""
    return [f"--ignore-certificate-errors-spki-list={','.join(pins)}"] if pins else []


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def tls_chain(host: str, ip: str, port: int, timeout: float) -> Any:
    """The certificate chain the server presents (PEM, leaf first), by OpenSSL from the same address."""
    try:
        completed = subprocess.run(
            ["openssl", "s_client", "-connect", f"{ip}:{port}", "-servername", host, "-showcerts"],
            input=b"",
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"the certificate chain could not be read ({exc})"}
    text = completed.stdout.decode("latin-1")
    chain, current, inside = [], [], False
    for line in text.splitlines():
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            inside, current = True, [line]
        elif line.startswith("-----END CERTIFICATE-----") and inside:
            chain.append("\n".join([*current, line]) + "\n")
            inside = False
        elif inside:
            current.append(line)
    return {"host": host, "address": f"{ip}:{port}", "chain_pem": chain} if chain else {"error": "no chain"}


@dataclass
class _Seen:
    response: Any
    at: datetime.datetime


def _warc_write(
    out: Path, seen: list[_Seen], addresses: dict[str, str], budget: int, notes: list[str]
) -> tuple[int, int]:
    """Write every response (and its request) to a gzipped WARC; returns (responses, body bytes kept)."""
    kept_bytes, written = 0, 0
    with out.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(
                out.name,
                {"software": f"haetae {haetae.__version__} (Chromium via Playwright)", "format": "WARC/1.1"},
            )
        )
        for entry in seen:
            response, request = entry.response, entry.response.request
            url = response.url
            if not url.startswith(("http://", "https://")):
                continue
            refusal = response.headers.get(REFUSAL_HEADER.lower())
            if refusal:  # the proxy answered, not the site: nothing of it goes into the archive
                notes.append(f"{url}: not fetched ({refusal})")
                continue
            body = b""
            if not 300 <= response.status < 400:
                length = int(response.headers.get("content-length") or 0)
                if kept_bytes + length > budget:
                    notes.append(f"{url}: body not kept ({length} bytes would pass HAETAE_CAPTURE_MAX_BYTES)")
                else:
                    try:
                        body = response.body()
                    except Exception as exc:
                        notes.append(f"{url}: body not available from the browser ({type(exc).__name__})")
                if kept_bytes + len(body) > budget:
                    notes.append(
                        f"{url}: body not kept ({len(body)} bytes would pass HAETAE_CAPTURE_MAX_BYTES)"
                    )
                    body = b""
            kept_bytes += len(body)
            date = datetime_to_iso_date(entry.at.replace(tzinfo=None))
            warc_headers = {"WARC-Date": date}
            ip = addresses.get(_host_port(url))
            if ip:
                warc_headers["WARC-IP-Address"] = ip
            pairs = [
                (item["name"], item["value"])
                for item in response.headers_array()
                if item["name"].lower() not in _TRANSFER_HEADERS
            ]
            pairs.append(("Content-Length", str(len(body))))
            http_headers = StatusAndHeaders(
                f"{response.status} {response.status_text or 'OK'}", pairs, protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
            writer.write_record(record)
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            posted = request.post_data_buffer or b""
            request_headers = StatusAndHeaders(
                f"{request.method} {target} HTTP/1.1",
                [(item["name"], item["value"]) for item in request.headers_array()],
                is_http_request=True,
            )
            request_record = writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(posted),
                http_headers=request_headers,
                warc_headers_dict={
                    **warc_headers,
                    "WARC-Concurrent-To": record.rec_headers["WARC-Record-ID"],
                },
            )
            writer.write_record(request_record)
            written += 1
    return written, kept_bytes


def _wacz(warc: Path, out: Path, url: str) -> None:
    """Package the WARC as WACZ with the ``wacz`` tool and validate it; CaptureFailed if either fails."""
    steps = [
        (
            "made",
            [
                *_WACZ,
                "create",
                "-o",
                str(out),
                "--detect-pages",
                "-t",
                "--url",
                url,
                "--title",
                url,
                str(warc),
            ],
        ),
        ("validated", [*_WACZ, "validate", "-f", str(out)]),
    ]
    for done, command in steps:
        try:
            completed = subprocess.run(
                command, capture_output=True, timeout=PACKAGING_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise CaptureFailed(
                f"the WACZ could not be {done} within {PACKAGING_TIMEOUT_SECONDS} s"
            ) from None
        if completed.returncode != 0 or not out.exists():
            said = completed.stderr.decode(errors="replace")[-300:]
            raise CaptureFailed(f"the WACZ could not be {done}: {said}")


def page_capture(url: str, *, out_dir: Path, limits: CaptureLimits) -> PageCapture:
    """Capture ``url`` into ``out_dir``; raises CaptureFailed saying why when nothing can be kept."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    why = url_check(url)
    if why:
        raise CaptureFailed(why)
    result = PageCapture(url=url, started_at=_iso(_now()), accepted_spki=list(limits.accept_spki))
    parts = urlsplit(url)
    try:
        first_ip = socket.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM)[0][4][0]
    except OSError as exc:
        raise CaptureFailed(f"{parts.hostname} does not resolve ({exc.strerror or exc})") from None
    if address_refusal(str(first_ip)) and not limits.allow_private:
        raise CaptureFailed(
            f"{parts.hostname} resolves to {address_refusal(str(first_ip))}: refused (an operator may allow "
            "private addresses with HAETAE_CAPTURE_ALLOW_PRIVATE=1)"
        )
    if not Path(limits.chromium).exists():
        raise CaptureFailed(f"Chromium is not installed at {limits.chromium} (HAETAE_CHROMIUM)")
    out_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + limits.timeout_seconds
    timeout_ms = limits.timeout_seconds * 1000
    seen: list[_Seen] = []
    with GuardProxy(
        allow_private=limits.allow_private,
        max_requests=limits.max_resources,
        max_bytes=limits.max_bytes,
        timeout=limits.timeout_seconds,
    ) as proxy:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=limits.chromium,
                args=[*_CHROMIUM_ARGS, *spki_args(limits.accept_spki)],
                proxy={"server": proxy.url, "bypass": ""},
                timeout=timeout_ms,
            )
            try:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, accept_downloads=False, service_workers="block"
                )
                page = context.new_page()
                page.set_default_timeout(timeout_ms)
                page.on("response", lambda response: seen.append(_Seen(response, _now())))
                result.user_agent = page.evaluate("navigator.userAgent")
                main = None
                try:
                    main = page.goto(url, wait_until="load", timeout=timeout_ms)
                except PlaywrightTimeout:
                    result.notes.append(
                        f"the page did not finish loading within {limits.timeout_seconds:g} s "
                        "(HAETAE_CAPTURE_TIMEOUT_SECONDS): captured as it stood"
                    )
                except PlaywrightError as exc:
                    message = str(exc).splitlines()[0]
                    raise CaptureFailed(
                        f"the site could not be loaded: {message}"
                        + (f" ({'; '.join(proxy.log.refused)})" if proxy.log.refused else "")
                    ) from None
                if page.url in ("", "about:blank"):
                    raise CaptureFailed(
                        f"the site did not answer within {limits.timeout_seconds:g} s: nothing to capture"
                    )
                refusal = main.headers.get(REFUSAL_HEADER.lower()) if main is not None else None
                if refusal:
                    raise CaptureFailed(
                        f"the page was refused: {refusal} (an operator may allow private addresses with "
                        "HAETAE_CAPTURE_ALLOW_PRIVATE=1)"
                    )
                if main is not None:
                    hops, request = [], main.request.redirected_from
                    while request is not None:
                        hops.append(request.url)
                        request = request.redirected_from
                    result.redirects = list(reversed(hops))
                    if len(hops) > limits.max_redirects:
                        raise CaptureFailed(
                            f"{len(hops)} redirects, more than {limits.max_redirects} "
                            "(HAETAE_CAPTURE_MAX_REDIRECTS)"
                        )
                    result.status_code = main.status
                    result.headers = {
                        k: v for k, v in main.all_headers().items() if k.lower() != "set-cookie"
                    }
                _scroll(page, steps=limits.scroll_steps, deadline=deadline, notes=result.notes)
                _settle(page, deadline=deadline, notes=result.notes)
                result.final_url = page.url
                remaining_ms = max(1000.0, (deadline - time.monotonic()) * 1000)
                page.screenshot(path=str(out_dir / "screenshot.png"), full_page=True, timeout=remaining_ms)
                (out_dir / "dom.html").write_text(page.content(), encoding="utf-8")
                (out_dir / "dom.txt").write_text(page.inner_text("body"), encoding="utf-8")
                warc = out_dir / "warc" / "data.warc.gz"
                warc.parent.mkdir()
                result.resources, result.bytes_received = _warc_write(
                    warc, seen, dict(proxy.log.addresses), limits.max_bytes, result.notes
                )
            finally:
                browser.close()
        result.refused = list(proxy.log.refused)
        if proxy.log.limit_hit:
            result.notes.append(f"limit reached: {proxy.log.limit_hit}")
        result.resolved_ip = proxy.log.addresses.get(_host_port(result.final_url), "")
    warc = out_dir / "warc" / "data.warc.gz"
    final = urlsplit(result.final_url)
    if final.scheme == "https" and result.resolved_ip:
        result.tls = tls_chain(
            final.hostname or "", result.resolved_ip, final.port or 443, limits.timeout_seconds
        )
    result.finished_at = _iso(_now())
    _wacz(warc, out_dir / "capture.wacz", result.final_url)
    warc.unlink()
    warc.parent.rmdir()
    (out_dir / "capture.json").write_text(
        json.dumps(result.facts(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    result.files = {
        "wacz": out_dir / "capture.wacz",
        "screenshot": out_dir / "screenshot.png",
        "dom_html": out_dir / "dom.html",
        "dom_text": out_dir / "dom.txt",
        "facts": out_dir / "capture.json",
    }
    return result


def _scroll(page: Any, *, steps: int, deadline: float, notes: list[str]) -> None:
    """Scroll to the bottom a screen at a time, giving lazy content a moment; stops at the step limit."""
    for step in range(steps):
        if time.monotonic() > deadline:
            notes.append("scrolling stopped at the time limit")
            return
        at_bottom = page.evaluate(
            "() => { const before = document.scrollingElement.scrollHeight;"
            " window.scrollBy(0, window.innerHeight);"
            " return window.innerHeight + window.scrollY >= before - 2; }"
        )
        page.wait_for_timeout(150)
        if at_bottom and page.evaluate(
            "() => window.innerHeight + window.scrollY >= document.scrollingElement.scrollHeight - 2"
        ):
            return
        if step == steps - 1:
            notes.append(
                f"the page kept growing: scrolling stopped after {steps} screens "
                "(HAETAE_CAPTURE_SCROLL_STEPS)"
            )


def _settle(page: Any, *, deadline: float, notes: list[str]) -> None:
    """Wait, within the time limit, until the page has fetched nothing for half a second.

    The load event does not wait for what scripts fetch. Without this, a resource still arriving when the
    page is archived is missing from the WARC with no word said, and a page-weight limit it would have hit
    goes unrecorded.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    remaining_ms = (deadline - time.monotonic()) * 1000
    if remaining_ms < 500:
        return
    try:
        page.wait_for_load_state("networkidle", timeout=remaining_ms)
    except PlaywrightTimeout:
        notes.append("the page was still fetching at the time limit (HAETAE_CAPTURE_TIMEOUT_SECONDS)")


def capture_limits_from_settings(settings: Any) -> CaptureLimits:
    """The limits configured for this installation."""
    return CaptureLimits(
        chromium=settings.HAETAE_CHROMIUM,
        timeout_seconds=float(settings.HAETAE_CAPTURE_TIMEOUT_SECONDS),
        max_bytes=int(settings.HAETAE_CAPTURE_MAX_BYTES),
        max_resources=int(settings.HAETAE_CAPTURE_MAX_RESOURCES),
        max_redirects=int(settings.HAETAE_CAPTURE_MAX_REDIRECTS),
        scroll_steps=int(settings.HAETAE_CAPTURE_SCROLL_STEPS),
        allow_private=bool(settings.HAETAE_CAPTURE_ALLOW_PRIVATE),
        accept_spki=tuple(getattr(settings, "HAETAE_CAPTURE_ACCEPT_SPKI", ())),
    )


__all__ = [
    "NOT_HTTPS",
    "CaptureFailed",
    "CaptureLimits",
    "PageCapture",
    "capture_limits_from_settings",
    "page_capture",
    "spki_args",
    "tls_chain",
    "url_check",
]
