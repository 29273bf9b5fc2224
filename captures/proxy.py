"""The capture's gatekeeper: a local HTTP proxy every connection of the capturing browser goes through.

Chromium is started with this proxy for every scheme and with loopback no longer exempt, so each request,
each redirect hop and each subresource reaches the network only here. The proxy resolves the host itself,
refuses private, loopback, link-local and reserved addresses (unless the operator allows them), and connects
to the address it checked, so a name that resolves differently a second time (DNS rebinding) cannot slip
past. It also enforces the capture's limits on the number of requests and the bytes received, and records
the address each host was reached at (what the WARC's ``WARC-IP-Address`` names). HTTPS goes through as a
CONNECT tunnel: its content is recorded from the browser, its address and limits here.
"""

import ipaddress
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_HEADER_LIMIT = 64 * 1024
# Marks the proxy's own refusals, so that a refusal is never recorded as if the site had sent it.
REFUSAL_HEADER = "X-Haetae-Proxy-Refusal"
_CHUNK = 64 * 1024


def address_refusal(ip: str) -> str:
    """Why an address may not be captured without the operator's leave ('' if it may)."""
    address = ipaddress.ip_address(ip)
    if address.is_loopback:
        return f"{ip} is a loopback address"
    # Anything not globally reachable: private, link-local (cloud metadata), shared (CGNAT), reserved, …
    if not address.is_global or address.is_multicast:
        return f"{ip} is a private or reserved address"
    return ""


@dataclass
class ProxyLog:
    """What the proxy saw and refused during one capture."""

    addresses: dict[str, str] = field(default_factory=dict)  # "host:port" → the IP connected to
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    bytes_received: int = 0
    limit_hit: str = ""


class GuardProxy:
    """A threaded forward proxy on 127.0.0.1 with the address rule and the capture's limits."""

    def __init__(self, *, allow_private: bool, max_requests: int, max_bytes: int, timeout: float) -> None:
        self.allow_private = allow_private
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.log = ProxyLog()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="capture-proxy", daemon=True)

    def __enter__(self) -> "GuardProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _limit(self, reason: str) -> None:
        with self._lock:
            if not self.log.limit_hit:
                self.log.limit_hit = reason

    def _count_request(self) -> bool:
        with self._lock:
            self.log.requests += 1
            if self.log.requests > self.max_requests:
                if not self.log.limit_hit:
                    self.log.limit_hit = (
                        f"more than {self.max_requests} requests (HAETAE_CAPTURE_MAX_RESOURCES)"
                    )
                return False
        return True

    def _count_bytes(self, amount: int) -> bool:
        with self._lock:
            self.log.bytes_received += amount
            if self.log.bytes_received > self.max_bytes:
                if not self.log.limit_hit:
                    self.log.limit_hit = f"more than {self.max_bytes} bytes (HAETAE_CAPTURE_MAX_BYTES)"
                return False
        return True

    def _resolve(self, host: str, port: int) -> tuple[str, str]:
        """The address to connect to, or ('', why not)."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return "", f"{host} does not resolve ({exc.strerror or exc})"
        for info in infos:
            ip = str(info[4][0])
            why = address_refusal(ip)
            if why and not self.allow_private:
                with self._lock:
                    self.log.refused.append(f"{host}:{port}: {why} (HAETAE_CAPTURE_ALLOW_PRIVATE is off)")
                return "", why
            with self._lock:
                self.log.addresses[f"{host}:{port}"] = ip
            return ip, ""
        return "", f"{host} has no address"

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(self.timeout)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(_CHUNK)
                if not chunk:
                    return
                head += chunk
                if len(head) > _HEADER_LIMIT:
                    return
            header, _, rest = head.partition(b"\r\n\r\n")
            lines = header.decode("latin-1").split("\r\n")
            method, target, version = [*lines[0].split(" "), "", "", ""][:3]
            if not self._count_request():
                self._refuse(client, 429, "capture limit reached")
                return
            if method == "CONNECT":
                host, _, port_text = target.rpartition(":")
                self._tunnel(client, host.strip("[]"), int(port_text or 443))
            else:
                self._forward(client, method, target, version, lines[1:], rest)
        except (OSError, ValueError):
            pass
        finally:
            client.close()

    def _refuse(self, client: socket.socket, status: int, why: str) -> None:
        body = why.encode()
        client.sendall(
            f"HTTP/1.1 {status} Refused\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            f"{REFUSAL_HEADER}: {why}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    def _tunnel(self, client: socket.socket, host: str, port: int) -> None:
        ip, why = self._resolve(host, port)
        if not ip:
            self._refuse(client, 403, why)
            return
        upstream = socket.create_connection((ip, port), timeout=self.timeout)
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(client, upstream)

    def _forward(
        self, client: socket.socket, method: str, target: str, version: str, headers: list[str], rest: bytes
    ) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            self._refuse(client, 400, "only http:// and CONNECT are proxied")
            return
        port = parts.port or 80
        ip, why = self._resolve(parts.hostname, port)
        if not ip:
            self._refuse(client, 403, why)
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        kept = [
            line
            for line in headers
            if line.split(":", 1)[0].strip().lower() not in ("proxy-connection", "connection", "keep-alive")
        ]
        request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""]).encode(
            "latin-1"
        )
        upstream = socket.create_connection((ip, port), timeout=self.timeout)
        with upstream:
            upstream.sendall(request + rest)
            self._pipe(client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy both ways until either side closes, the limits are reached, or the capture ends."""
        deadline = time.monotonic() + self.timeout
        sockets = [client, upstream]
        while not self._stopped.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select(sockets, [], [], 0.2)
            for source in readable:
                data = source.recv(_CHUNK)
                if not data:
                    return
                if source is upstream:
                    if not self._count_bytes(len(data)):
                        return
                    client.sendall(data)
                else:
                    upstream.sendall(data)
        if time.monotonic() >= deadline:
            self._limit(f"a connection stayed open past {self.timeout:g} s (HAETAE_CAPTURE_TIMEOUT_SECONDS)")
