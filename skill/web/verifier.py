"""Verification of requests sent to the skill by Alexa, with `cryptography` alone; one module: one ordered security check.

Amazon requires a web-service skill to check every request before acting on it:

* ``SignatureCertChainUrl`` points at a PEM chain on ``https://s3.amazonaws.com/echo.api/...``
  (scheme and host in any case, path case-sensitive after normalising ``.`` and ``..``,
  port 443 if a port is given);
* the chain leads to a trusted root, is valid now and the leaf names ``echo-api.amazon.com``;
* ``Signature-256`` is the base64 RSA PKCS#1 v1.5 signature of the raw body with SHA-256;
* ``request.timestamp`` is within 150 s of now (one hour for skill events).

Every failure raises :class:`VerificationError` (the web layer answers HTTP 400). The cheap
checks (headers, URL, base64, JSON, timestamp, skill id) run before anything is downloaded.
Downloaded chains (``skill.web.download``) are cached only after they validate, keyed by the
normalised URL, in a cachetools ``TLRUCache`` bounded in size (least recently used first) and in
time (``cache_ttl`` and never past the chain's ``not_valid_after``); the URL rules are checked
before the cache on every request. Trust comes from a root store (certifi's bundle by default);
no certificate is pinned.

This replaces ``ask-sdk-webservice-support``'s RequestVerifier, which cannot be imported on
OpenSSL 3.0.10+ (oscrypto), has an unbounded cache and no download timeout.

Why one module of about 430 lines: it is the single ordered procedure above, each step with the
reasons it refuses; the transport (``download``) and the id reader (``skill.alexa.envelope``)
are already elsewhere, and splitting the steps would scatter one security check over files.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import threading
import urllib.parse
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cachetools import TLRUCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as _ChainError

from skill.alexa.envelope import application_ids
from skill.web.download import DownloadError, download, quoted

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


class VerificationError(Exception):
    """Why a request was refused; str(error) is the reason, for the log only."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
            f"certificate URL has control, space or non-ASCII characters: {quoted(url)}"
        )
    if "\\" in url:
        raise VerificationError(f"certificate URL contains a backslash: {quoted(url)}")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise VerificationError(f"certificate URL cannot be parsed: {quoted(url)}") from exc
    if parts.scheme.lower() != CERT_URL_SCHEME:
        raise VerificationError(f"certificate URL scheme is not https: {quoted(url)}")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise VerificationError(f"certificate URL carries user info: {quoted(url)}")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError(f"certificate URL host is not {CERT_URL_HOST}: {quoted(url)}")
    if port is not None and port != CERT_URL_PORT:
        raise VerificationError(f"certificate URL port is not {CERT_URL_PORT}: {quoted(url)}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise VerificationError(f"certificate URL has a query or fragment: {quoted(url)}")
    if "%" in parts.path:
        raise VerificationError(f"certificate URL path has percent-escapes: {quoted(url)}")
    path = posixpath.normpath(parts.path) if parts.path else ""
    if not path.startswith(CERT_URL_PATH_PREFIX) or len(path) <= len(CERT_URL_PATH_PREFIX):
        raise VerificationError(
            f"certificate URL path does not start with {CERT_URL_PATH_PREFIX}: {quoted(url)}"
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
        raise VerificationError(f"request.timestamp is not ISO 8601: {quoted(stamp)}") from exc
    kind = request.get("type")
    return moment, kind if isinstance(kind, str) else ""


# --------------------------------------------------------------------------------------------
# Download


def _download(url: str, timeout: float, *, _allow_http: bool = False) -> bytes:
    """The chain at ``url`` within ``timeout`` (at most 2 s) and 64 KB; https only (``_allow_http`` is for the local-server test)."""
    try:
        return download(
            url, min(float(timeout), MAX_DOWNLOAD_TIMEOUT), max_bytes=MAX_CHAIN_BYTES,
            accept="application/x-pem-file, */*", allow_http=_allow_http,
        )
    except DownloadError as exc:
        raise VerificationError(f"certificate download failed: {exc}") from exc


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
    """A validated chain's leaf key and when it stops being usable."""

    key: RSAPublicKey
    expires: datetime


def _until_expiry(_url: str, entry: _Entry, _now: datetime) -> datetime:
    """The cache's time to use: the entry's own expiry, fixed when its chain was validated."""
    return entry.expires


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
        self._cache: TLRUCache[str, _Entry] = TLRUCache(self._cache_size, _until_expiry, timer=self._now)

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
        ids = application_ids(envelope)
        if not ids:
            raise VerificationError("request carries no applicationId")
        for app_id in ids:
            if not isinstance(app_id, str) or app_id not in self._skill_ids:
                raise VerificationError(f"applicationId {quoted(app_id)} is not this skill's")

    # ---- certificate chain and cache ----------------------------------------------------------

    def _leaf_key(self, url: str, now: datetime) -> RSAPublicKey:
        cached = self._cache_get(url)
        if cached is not None:
            return cached
        try:
            data = self._fetch(url, self._timeout)
        except VerificationError:
            raise
        except Exception as exc:  # injected fetchers may raise anything
            raise VerificationError(
                f"certificate download failed ({type(exc).__name__}) for {quoted(url)}"
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
                f"signing certificate subjectAltName {quoted(names)} lacks {ECHO_API_DOMAIN}"
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

    def _cache_get(self, url: str) -> RSAPublicKey | None:
        """The cached key for ``url`` if it has not expired; a hit becomes the most recently used."""
        with self._lock:
            entry = self._cache.pop(url, None)
            if entry is None:
                return None
            # Put back rather than read, so the cache also iterates least recently used first.
            self._cache[url] = entry
            return entry.key

    def _cache_put(self, url: str, entry: _Entry) -> None:
        """Keep a validated chain's key until its expiry; the least recently used goes first when full."""
        if self._cache_size == 0 or self._ttl <= timedelta(0):
            return
        with self._lock:
            self._cache[url] = entry
