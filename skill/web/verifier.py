"""Verification of requests sent to the skill by Alexa, with the `cryptography` package alone.

Amazon requires a web-service skill to check every request before acting on it:

* ``SignatureCertChainUrl`` points at a PEM chain on ``https://s3.amazonaws.com/echo.api/...``
  (scheme and host in any case, path case-sensitive after normalising ``.`` and ``..``,
  port 443 if a port is given);
* the chain leads to a trusted root, is valid now and the leaf names ``echo-api.amazon.com``;
* ``Signature-256`` is the base64 RSA PKCS#1 v1.5 signature of the raw body with SHA-256;
* ``request.timestamp`` is within 150 s of now (one hour for skill events).

Every failure raises :class:`VerificationError` (the web layer answers HTTP 400). The cheap
checks (headers, URL, base64, JSON, timestamp, skill id) run before anything is downloaded.
Downloaded chains are cached only after they validate, keyed by the normalised URL, bounded in
size (LRU) and in time (``cache_ttl`` and never past the chain's ``not_valid_after``); the URL
rules are checked before the cache on every request. Trust comes from a root store (certifi's
bundle by default); no certificate is pinned.

This replaces ``ask-sdk-webservice-support``'s RequestVerifier, which cannot be imported on
OpenSSL 3.0.10+ (oscrypto), has an unbounded cache and no download timeout.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import posixpath
import socket
import ssl
import threading
import time
import urllib.parse
import warnings
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as _ChainError

__all__ = ["RequestVerifier", "VerificationError"]

SIGNATURE_HEADER = "Signature-256"
CERT_URL_HEADER = "SignatureCertChainUrl"
ECHO_API_DOMAIN = "echo-api.amazon.com"
CERT_URL_SCHEME = "https"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PORT = 443
CERT_URL_PATH_PREFIX = "/echo.api/"
SKILL_EVENT_PREFIXES = ("AlexaSkillEvent.", "AlexaHouseholdListEvent.")

MAX_DOWNLOAD_TIMEOUT = 2.0
MAX_CHAIN_BYTES = 64 * 1024
_MAX_LOGGED = 120  # characters of an attacker-controlled value quoted in a reason


class VerificationError(Exception):
    """Why a request was refused; str(error) is the reason, for the log only."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_LOGGED else text[:_MAX_LOGGED] + "..."


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Headers and URL


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    try:
        items = list(headers.items())
    except Exception as exc:  # a broken mapping is a bad request, not a crash
        raise VerificationError(f"cannot read the request headers: {type(exc).__name__}") from exc
    for key, value in items:
        if isinstance(key, str) and key.lower() == wanted:
            if isinstance(value, bytes):
                try:
                    value = value.decode("ascii")
                except UnicodeDecodeError as exc:
                    raise VerificationError(f"header {name} is not ASCII") from exc
            if not isinstance(value, str) or not value.strip():
                raise VerificationError(f"header {name} is empty")
            return value.strip()
    raise VerificationError(f"header {name} is missing")


def normalise_cert_url(url: str) -> str:
    """Apply Amazon's SignatureCertChainUrl rules; return the URL to fetch and cache by.

    Raises VerificationError for anything but https://s3.amazonaws.com[:443]/echo.api/<file>.
    """
    if any(ord(ch) <= 0x20 or ord(ch) >= 0x7F for ch in url):
        raise VerificationError(
            f"certificate URL has control, space or non-ASCII characters: {_quote(url)}"
        )
    if "\\" in url:
        raise VerificationError(f"certificate URL contains a backslash: {_quote(url)}")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise VerificationError(f"certificate URL cannot be parsed: {_quote(url)}") from exc
    if parts.scheme.lower() != CERT_URL_SCHEME:
        raise VerificationError(f"certificate URL scheme is not https: {_quote(url)}")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise VerificationError(f"certificate URL carries user info: {_quote(url)}")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError(f"certificate URL host is not {CERT_URL_HOST}: {_quote(url)}")
    if port is not None and port != CERT_URL_PORT:
        raise VerificationError(f"certificate URL port is not {CERT_URL_PORT}: {_quote(url)}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise VerificationError(f"certificate URL has a query or fragment: {_quote(url)}")
    if "%" in parts.path:
        raise VerificationError(f"certificate URL path has percent-escapes: {_quote(url)}")
    path = posixpath.normpath(parts.path) if parts.path else ""
    if not path.startswith(CERT_URL_PATH_PREFIX) or len(path) <= len(CERT_URL_PATH_PREFIX):
        raise VerificationError(
            f"certificate URL path does not start with {CERT_URL_PATH_PREFIX}: {_quote(url)}"
        )
    return f"{CERT_URL_SCHEME}://{CERT_URL_HOST}{path}"


# --------------------------------------------------------------------------------------------
# Envelope


def _parse_envelope(body: bytes) -> dict[str, Any]:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise VerificationError(f"request body is not bytes but {type(body).__name__}")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError("request body is not UTF-8") from exc
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(f"request body is not JSON: {type(exc).__name__}") from exc
    if not isinstance(envelope, dict):
        raise VerificationError(f"request body is JSON {type(envelope).__name__}, not an object")
    return envelope


def _request_time(envelope: Mapping[str, Any]) -> tuple[datetime, str]:
    request = envelope.get("request")
    if not isinstance(request, dict):
        raise VerificationError("request envelope has no request object")
    stamp = request.get("timestamp")
    if not isinstance(stamp, str) or not stamp:
        raise VerificationError("request.timestamp is missing or not a string")
    try:
        moment = _aware(datetime.fromisoformat(stamp))
    except (ValueError, OverflowError) as exc:
        raise VerificationError(f"request.timestamp is not ISO 8601: {_quote(stamp)}") from exc
    kind = request.get("type")
    return moment, kind if isinstance(kind, str) else ""


def _application_ids(envelope: Mapping[str, Any]) -> list[Any]:
    found: list[Any] = []
    for path in (("session", "application", "applicationId"),
                 ("context", "System", "application", "applicationId")):
        node: Any = envelope
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            found.append(node)
    return found


# --------------------------------------------------------------------------------------------
# Download


def _shut(sock: socket.socket) -> None:
    """End whatever read the socket is in (called from the deadline timer)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _download(url: str, timeout: float, *, _allow_http: bool = False) -> bytes:
    """GET ``url`` with an overall deadline of ``timeout`` seconds and a 64 KB cap.

    Only https (``_allow_http`` exists for the local-server test). Redirects are refused.
    Every failure is a VerificationError.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationError(f"cannot parse download URL {_quote(url)}") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (_allow_http and scheme == "http"):
        raise VerificationError(f"refusing to download over {scheme or 'no scheme'}: {_quote(url)}")
    if not parts.hostname:
        raise VerificationError(f"download URL has no host: {_quote(url)}")
    timeout = min(float(timeout), MAX_DOWNLOAD_TIMEOUT)
    if not timeout > 0:
        raise VerificationError("download timeout must be positive")
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
            "Accept": "application/x-pem-file, */*", "Connection": "close",
            "User-Agent": "back-coach-verifier",
        })
        sock.settimeout(remaining())
        response = conn.getresponse()
        remaining()
        if response.status != 200:
            raise VerificationError(
                f"certificate download got HTTP {response.status} from {_quote(url)}"
            )
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > MAX_CHAIN_BYTES:
            raise VerificationError(f"certificate chain is larger than {MAX_CHAIN_BYTES} bytes")
        data = bytearray()
        while len(data) <= MAX_CHAIN_BYTES:
            sock.settimeout(remaining())
            chunk = response.read1(MAX_CHAIN_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > MAX_CHAIN_BYTES:
            raise VerificationError(f"certificate chain is larger than {MAX_CHAIN_BYTES} bytes")
        remaining()
        return bytes(data)
    except VerificationError:
        raise
    except (TimeoutError, OSError) as exc:  # socket.timeout is TimeoutError since 3.10
        raise VerificationError(
            f"certificate download failed ({type(exc).__name__}: {exc}) for {_quote(url)}"
        ) from exc
    except Exception as exc:  # http.client.HTTPException and anything unexpected
        raise VerificationError(
            f"certificate download failed ({type(exc).__name__}) for {_quote(url)}"
        ) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()


_tls_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _tls
    with _tls_lock:
        if _tls is None:
            try:
                import certifi

                _tls = ssl.create_default_context(cafile=certifi.where())
            except ImportError:  # pragma: no cover - certifi is a dependency
                _tls = ssl.create_default_context()
        return _tls


# --------------------------------------------------------------------------------------------
# Trust store


_default_roots_lock = threading.Lock()
_default_roots: list[x509.Certificate] | None = None


def default_roots() -> list[x509.Certificate]:
    """The certifi bundle, parsed once; certificates `cryptography` cannot read are skipped."""
    global _default_roots
    with _default_roots_lock:
        if _default_roots is None:
            import certifi

            with open(certifi.where(), "rb") as handle:
                bundle = handle.read()
            roots = []
            marker = b"-----END CERTIFICATE-----"
            for block in bundle.split(marker):
                start = block.find(b"-----BEGIN CERTIFICATE-----")
                if start < 0:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        roots.append(x509.load_pem_x509_certificate(block[start:] + marker))
                    except ValueError:
                        continue
            if not roots:
                raise RuntimeError(f"no usable root certificates in {certifi.where()}")
            _default_roots = roots
        return _default_roots


# --------------------------------------------------------------------------------------------
# Verifier


@dataclass(frozen=True)
class _Entry:
    key: RSAPublicKey
    expires: datetime


class RequestVerifier:
    """Checks Alexa's signature, certificate chain, timestamp and (optionally) skill id."""

    def __init__(
        self,
        *,
        skill_ids: Collection[str] | None = None,
        roots: Sequence[x509.Certificate] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        fetch: Callable[[str, float], bytes] | None = None,
        download_timeout: float = 2.0,
        cache_size: int = 32,
        cache_ttl: float = 3600.0,
        tolerance: float = 150.0,
        event_tolerance: float = 3600.0,
    ) -> None:
        if isinstance(skill_ids, str):
            raise TypeError("skill_ids must be a collection of ids, not one string")
        if not 0 < download_timeout <= MAX_DOWNLOAD_TIMEOUT:
            raise ValueError(f"download_timeout must be in (0, {MAX_DOWNLOAD_TIMEOUT}] seconds")
        if cache_size < 0 or cache_ttl < 0 or tolerance < 0 or event_tolerance < 0:
            raise ValueError("cache_size, cache_ttl and tolerances must not be negative")
        if roots is not None and len(roots) == 0:
            raise ValueError("roots must not be empty (None means the certifi bundle)")
        self._skill_ids = frozenset(skill_ids) if skill_ids is not None else None
        self._roots = list(roots) if roots is not None else None
        self._store: Store | None = None
        self._clock = clock
        self._fetch = fetch if fetch is not None else _download
        self._timeout = float(download_timeout)
        self._cache_size = int(cache_size)
        self._ttl = timedelta(seconds=cache_ttl)
        self._tolerance = timedelta(seconds=tolerance)
        self._event_tolerance = timedelta(seconds=event_tolerance)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Entry] = OrderedDict()

    # ---- public ---------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Check everything; return the parsed request envelope or raise VerificationError."""
        try:
            return self._verify(headers, body)
        except VerificationError:
            raise
        except Exception as exc:  # last line of defence: a bad request must never be a 500
            reason = f"verification failed unexpectedly: {type(exc).__name__}"
            raise VerificationError(reason) from exc

    # ---- steps ----------------------------------------------------------------------------

    def _verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        signature_b64 = _header(headers, SIGNATURE_HEADER)
        url = normalise_cert_url(_header(headers, CERT_URL_HEADER))
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VerificationError(f"header {SIGNATURE_HEADER} is not valid base64") from exc
        if not signature:
            raise VerificationError(f"header {SIGNATURE_HEADER} decodes to nothing")
        envelope = _parse_envelope(body)
        now = self._now()
        self._check_timestamp(envelope, now)
        self._check_skill_id(envelope)
        key = self._leaf_key(url, now)
        try:
            key.verify(signature, bytes(body), PKCS1v15(), SHA256())
        except InvalidSignature as exc:
            reason = "Signature-256 does not match the body and certificate"
            raise VerificationError(reason) from exc
        except ValueError as exc:
            raise VerificationError(f"Signature-256 cannot be checked: {exc}") from exc
        return envelope

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime):
            raise VerificationError("clock did not return a datetime")
        return _aware(now)

    def _check_timestamp(self, envelope: Mapping[str, Any], now: datetime) -> None:
        moment, kind = _request_time(envelope)
        is_event = kind.startswith(SKILL_EVENT_PREFIXES)
        limit = self._event_tolerance if is_event else self._tolerance
        try:
            skew = moment - now
        except OverflowError as exc:
            raise VerificationError("request.timestamp is out of range") from exc
        if abs(skew) > limit:
            direction = "in the future" if skew > timedelta(0) else "old"
            raise VerificationError(
                f"request.timestamp is {abs(skew).total_seconds():.0f} s {direction}; "
                f"limit {limit.total_seconds():.0f} s{' for skill events' if is_event else ''}"
            )

    def _check_skill_id(self, envelope: Mapping[str, Any]) -> None:
        if self._skill_ids is None:
            return
        ids = _application_ids(envelope)
        if not ids:
            raise VerificationError("request carries no applicationId")
        for app_id in ids:
            if not isinstance(app_id, str) or app_id not in self._skill_ids:
                raise VerificationError(f"applicationId {_quote(app_id)} is not this skill's")

    # ---- certificate chain and cache ----------------------------------------------------------

    def _leaf_key(self, url: str, now: datetime) -> RSAPublicKey:
        cached = self._cache_get(url, now)
        if cached is not None:
            return cached
        try:
            data = self._fetch(url, self._timeout)
        except VerificationError:
            raise
        except Exception as exc:  # injected fetchers may raise anything
            raise VerificationError(
                f"certificate download failed ({type(exc).__name__}) for {_quote(url)}"
            ) from exc
        if not isinstance(data, (bytes, bytearray)):
            raise VerificationError("certificate download returned no bytes")
        if len(data) > MAX_CHAIN_BYTES:
            raise VerificationError(f"certificate chain is larger than {MAX_CHAIN_BYTES} bytes")
        key, expires = self._validate_chain(bytes(data), now)
        self._cache_put(url, _Entry(key, min(now + self._ttl, expires)))
        return key

    def _validate_chain(self, data: bytes, now: datetime) -> tuple[RSAPublicKey, datetime]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise VerificationError(f"certificate chain is not PEM: {exc}") from exc
        if not certs:
            raise VerificationError("certificate chain is empty")
        leaf, intermediates = certs[0], certs[1:]
        if leaf.not_valid_before_utc > now:
            raise VerificationError(
                f"signing certificate is not valid before {leaf.not_valid_before_utc}"
            )
        if leaf.not_valid_after_utc < now:
            raise VerificationError(f"signing certificate expired at {leaf.not_valid_after_utc}")
        try:
            san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
            names = [n.lower() for n in san.value.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound as exc:
            raise VerificationError("signing certificate has no subjectAltName") from exc
        except ValueError as exc:
            raise VerificationError(f"signing certificate extensions are malformed: {exc}") from exc
        if ECHO_API_DOMAIN not in names:
            raise VerificationError(
                f"signing certificate subjectAltName {_quote(names)} lacks {ECHO_API_DOMAIN}"
            )
        public_key = leaf.public_key()
        if not isinstance(public_key, RSAPublicKey):
            raise VerificationError("signing certificate key is not RSA")
        try:
            verifier = (
                PolicyBuilder().store(self._trust_store()).time(now)
                .build_server_verifier(DNSName(ECHO_API_DOMAIN))
            )
            chain = verifier.verify(leaf, intermediates)
        except _ChainError as exc:
            raise VerificationError(f"certificate chain does not validate: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise VerificationError(f"certificate chain cannot be checked: {exc}") from exc
        expires = min(cert.not_valid_after_utc for cert in chain)
        return public_key, expires

    def _trust_store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store(self._roots if self._roots is not None else default_roots())
            return self._store

    def _cache_get(self, url: str, now: datetime) -> RSAPublicKey | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            if entry.expires <= now:
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return entry.key

    def _cache_put(self, url: str, entry: _Entry) -> None:
        if self._cache_size == 0 or self._ttl <= timedelta(0):
            return
        with self._lock:
            self._cache[url] = entry
            self._cache.move_to_end(url)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
