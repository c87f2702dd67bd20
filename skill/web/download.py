"""A bounded HTTPS GET: one overall deadline, a size cap, no redirects, certifi's trust roots."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.parse

__all__ = ["DownloadError", "download", "quoted"]

MAX_QUOTED = 120
"""Characters of a (possibly attacker-controlled) value quoted in a message."""


class DownloadError(Exception):
    """The download did not complete: bad URL, network failure, deadline, HTTP status or size."""


def quoted(value: object) -> str:
    """The value's repr, cut to MAX_QUOTED characters, for a message."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "..."


def _shut(sock: socket.socket) -> None:
    """End whatever read the socket is in (called from the deadline timer)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_tls_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """One TLS context for every download, trusting certifi's bundle."""
    global _tls
    with _tls_lock:
        if _tls is None:
            try:
                import certifi

                _tls = ssl.create_default_context(cafile=certifi.where())
            except ImportError:  # pragma: no cover - certifi is a dependency
                _tls = ssl.create_default_context()
        return _tls


def download(
    url: str, timeout: float, *, max_bytes: int, accept: str = "*/*", allow_http: bool = False
) -> bytes:
    """GET ``url`` within ``timeout`` seconds in all and at most ``max_bytes``; any failure is a DownloadError."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DownloadError(f"cannot parse download URL {quoted(url)}") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise DownloadError(f"refusing to download over {scheme or 'no scheme'}: {quoted(url)}")
    if not parts.hostname:
        raise DownloadError(f"download URL has no host: {quoted(url)}")
    timeout = float(timeout)
    if not timeout > 0:
        raise DownloadError("download timeout must be positive")
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("download deadline passed")
        return left

    conn: http.client.HTTPConnection
    if scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=_tls_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    # Per-read timeouts alone let a peer that sends a byte a second hold the download for ever:
    # at the deadline the socket is shut, which ends any read under way.
    watchdog: threading.Timer | None = None
    try:
        conn.connect()
        sock = conn.sock  # kept: getresponse() drops conn.sock when the server closes
        watchdog = threading.Timer(remaining(), _shut, args=(sock,))
        watchdog.daemon = True
        watchdog.start()
        sock.settimeout(remaining())
        conn.request("GET", parts.path or "/", headers={
            "Accept": accept, "Connection": "close", "User-Agent": "back-coach-verifier",
        })
        sock.settimeout(remaining())
        response = conn.getresponse()
        remaining()
        if response.status != 200:
            raise DownloadError(f"got HTTP {response.status} from {quoted(url)}")
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise DownloadError(f"{quoted(url)} is larger than {max_bytes} bytes")
        data = bytearray()
        while len(data) <= max_bytes:
            sock.settimeout(remaining())
            chunk = response.read1(max_bytes + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise DownloadError(f"{quoted(url)} is larger than {max_bytes} bytes")
        remaining()
        return bytes(data)
    except DownloadError:
        raise
    except (TimeoutError, OSError) as exc:  # socket.timeout is TimeoutError since 3.10
        raise DownloadError(f"{type(exc).__name__}: {exc} for {quoted(url)}") from exc
    except Exception as exc:  # http.client.HTTPException and anything unexpected
        raise DownloadError(f"{type(exc).__name__} for {quoted(url)}") from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()
