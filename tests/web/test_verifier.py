"""The Alexa request verifier against a locally generated CA chain; no network."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from skill.web.verifier import RequestVerifier, VerificationError, _download, normalise_cert_url
from tests.web import certs
from tests.web.certs import GOOD_URL, NOW, SKILL_ID, envelope, pki, signed


class Clock:
    """A settable clock for the verifier."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Fetch:
    """An injected downloader: a dict lookup that counts calls."""

    def __init__(self, chains: dict[str, bytes] | Callable[[str], bytes | None] | None = None,
                 delay: float = 0.0) -> None:
        self.chains = chains if chains is not None else {}
        self.delay = delay
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, url: str, timeout: float) -> bytes:
        assert 0 < timeout <= 2.0
        with self._lock:
            self.calls.append(url)
        if self.delay:
            time.sleep(self.delay)
        chain = self.chains(url) if callable(self.chains) else self.chains.get(url)
        if chain is None:
            raise OSError(f"404 for {url}")
        return chain


def make(chain: bytes | None = None, *, clock: Clock | None = None, fetch: Fetch | None = None,
         **options) -> tuple[RequestVerifier, Fetch]:
    fetch = fetch or Fetch(lambda url: chain if chain is not None else pki().chain)
    verifier = RequestVerifier(roots=[pki().root], clock=clock or Clock(), fetch=fetch, **options)
    return verifier, fetch


def refused(verifier: RequestVerifier, headers, body, *fragments: str) -> str:
    with pytest.raises(VerificationError) as caught:
        verifier.verify(headers, body)
    reason = str(caught.value)
    for fragment in fragments:
        assert fragment in reason, reason
    return reason


# --------------------------------------------------------------------------------------------
# The happy path


def test_valid_request_passes_and_returns_the_envelope():
    verifier, fetch = make(skill_ids={SKILL_ID})
    headers, body = signed(envelope())
    result = verifier.verify(headers, body)
    assert result == json.loads(body)
    assert fetch.calls == [GOOD_URL]


@pytest.mark.parametrize("case", [str.lower, str.upper, lambda name: name])
def test_header_names_are_case_insensitive(case):
    verifier, _ = make()
    headers, body = signed(envelope())
    assert verifier.verify({case(k): v for k, v in headers.items()}, body)


@pytest.mark.parametrize("url", [
    GOOD_URL,
    "https://s3.amazonaws.com:443/echo.api/echo-api-cert-12.pem",
    "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-12.pem",
    "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-12.pem",
    "https://s3.amazonaws.com/echo.api/./echo-api-cert-12.pem",
])
def test_amazon_url_variants_that_must_pass(url):
    assert normalise_cert_url(url) == GOOD_URL
    verifier, fetch = make()
    headers, body = signed(envelope(), url=url)
    assert verifier.verify(headers, body)
    assert fetch.calls == [GOOD_URL]  # the normalised URL is what gets downloaded


def test_boundary_timestamps_pass():
    verifier, _ = make()
    for skew in (-150, 150):
        headers, body = signed(envelope(timestamp=NOW + timedelta(seconds=skew)))
        assert verifier.verify(headers, body)


def test_skill_id_from_context_only_is_accepted():
    verifier, _ = make(skill_ids=[SKILL_ID])
    data = envelope()
    del data["session"]
    headers, body = signed(data)
    assert verifier.verify(headers, body)


def test_default_roots_come_from_certifi_and_load_without_network():
    verifier = RequestVerifier()
    assert verifier._trust_store() is not None


def test_configuration_errors_are_caught_at_construction():
    with pytest.raises(TypeError):
        RequestVerifier(skill_ids=SKILL_ID)
    with pytest.raises(ValueError):
        RequestVerifier(download_timeout=5.0)
    with pytest.raises(ValueError):
        RequestVerifier(roots=[])


# --------------------------------------------------------------------------------------------
# Headers and signature


@pytest.mark.parametrize("header", ["Signature-256", "SignatureCertChainUrl"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_or_empty_header_is_refused(header, value):
    verifier, fetch = make()
    headers, body = signed(envelope())
    if value is None:
        del headers[header]
        expected = "missing"
    else:
        headers[header] = value
        expected = "empty"
    refused(verifier, headers, body, header, expected)
    assert fetch.calls == []


def test_only_the_legacy_sha1_signature_header_is_refused():
    verifier, _ = make()
    headers, body = signed(envelope())
    headers["Signature"] = headers.pop("Signature-256")
    refused(verifier, headers, body, "Signature-256 is missing")


@pytest.mark.parametrize("value", ["not base64!!", "abc", "YWJj\nZGVm", "====", "YQ==YQ=="])
def test_malformed_base64_is_refused_before_downloading(value):
    verifier, fetch = make()
    headers, body = signed(envelope())
    headers["Signature-256"] = value
    refused(verifier, headers, body, "base64")
    assert fetch.calls == []


def test_tampered_body_is_refused():
    verifier, _ = make()
    headers, body = signed(envelope())
    tampered = body.replace(b"StartRoutineIntent", b"AMAZON.StopIntent")
    assert tampered != body
    refused(verifier, headers, tampered, "does not match")


def test_signature_from_another_key_is_refused():
    verifier, _ = make()
    headers, body = signed(envelope(), private_key=pki().other_key)
    refused(verifier, headers, body, "does not match")


def test_signature_of_wrong_length_is_refused():
    verifier, _ = make()
    headers, body = signed(envelope())
    headers["Signature-256"] = "AAAA"
    refused(verifier, headers, body, "Signature-256")


# --------------------------------------------------------------------------------------------
# SignatureCertChainUrl


BAD_URLS = {
    "http": ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "scheme"),
    "ftp": ("ftp://s3.amazonaws.com/echo.api/echo-api-cert.pem", "scheme"),
    "no scheme": ("//s3.amazonaws.com/echo.api/echo-api-cert.pem", "scheme"),
    "wrong host": ("https://notamazon.com/echo.api/echo-api-cert.pem", "host"),
    "suffix host": ("https://s3.amazonaws.com.evil.com/echo.api/echo-api-cert.pem", "host"),
    "trailing-dot host": ("https://s3.amazonaws.com./echo.api/echo-api-cert.pem", "host"),
    "ip host": ("https://52.216.0.1/echo.api/echo-api-cert.pem", "host"),
    "path case": ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "path"),
    "dot-dot escape": ("https://s3.amazonaws.com/echo.api/../invalid.pem", "path"),
    "double slash": ("https://s3.amazonaws.com//echo.api/echo-api-cert.pem", "path"),
    "directory only": ("https://s3.amazonaws.com/echo.api/", "path"),
    "prefix without slash": ("https://s3.amazonaws.com/echo.apix/cert.pem", "path"),
    "missing path": ("https://s3.amazonaws.com", "path"),
    "port 563": ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port"),
    "port 80": ("https://s3.amazonaws.com:80/echo.api/echo-api-cert.pem", "port"),
    "bad port": ("https://s3.amazonaws.com:abc/echo.api/echo-api-cert.pem", "parsed"),
    "userinfo": ("https://user:pw@s3.amazonaws.com/echo.api/echo-api-cert.pem", "user info"),
    "userinfo host": ("https://s3.amazonaws.com@evil.com/echo.api/echo-api-cert.pem", "user info"),
    "query": ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem?x=1", "query"),
    "query trick": ("https://evil.com/?https://s3.amazonaws.com/echo.api/cert.pem", "host"),
    "fragment trick": ("https://evil.com#@s3.amazonaws.com/echo.api/cert.pem", "host"),
    "path in query": ("https://s3.amazonaws.com/evil/?/echo.api/cert.pem", "query"),
    "percent dot-dot": ("https://s3.amazonaws.com/echo.api/%2e%2e/invalid.pem", "percent"),
    "backslash": ("https://s3.amazonaws.com\\@evil.com/echo.api/cert.pem", "backslash"),
    "embedded tab": ("https://s3.amazon\taws.com/echo.api/echo-api-cert.pem", "control"),
    "not a URL": ("echo.api/echo-api-cert.pem", "scheme"),
}


@pytest.mark.parametrize("name", list(BAD_URLS))
def test_bad_certificate_url_is_refused_without_downloading(name):
    url, fragment = BAD_URLS[name]
    verifier, fetch = make(fetch=Fetch(lambda _url: pki().chain))  # would serve a valid chain
    headers, body = signed(envelope(), url=url)
    refused(verifier, headers, body, "certificate URL", fragment)
    assert fetch.calls == []


def test_valid_url_then_invalid_url_with_the_same_chain_is_refused():
    verifier, fetch = make(fetch=Fetch(lambda _url: pki().chain))
    headers, body = signed(envelope())
    assert verifier.verify(headers, body)
    # Variants of the very URL that is cached, then every other bad URL.
    same_file = [
        GOOD_URL.replace("https://", "http://"),
        GOOD_URL.replace("amazonaws.com/", "amazonaws.com:563/"),
        GOOD_URL.replace("/echo.api/", "/EcHo.aPi/"),
        GOOD_URL + "?x=1",
        GOOD_URL.replace("https://", "https://user@"),
        GOOD_URL.replace("s3.amazonaws.com", "s3.amazonaws.com.evil.com"),
        GOOD_URL.replace("/echo.api/", "/echo.api/../"),
    ]
    for url in same_file + [url for url, _fragment in BAD_URLS.values()]:
        bad_headers = dict(headers, SignatureCertChainUrl=url)
        refused(verifier, bad_headers, body, "certificate URL")
    assert fetch.calls == [GOOD_URL]
    assert list(verifier._cache) == [GOOD_URL]


# --------------------------------------------------------------------------------------------
# Certificate chain


@pytest.mark.parametrize("chain_name, fragment", [
    ("expired_chain", "expired"),
    ("self_signed_chain", "does not validate"),
    ("wrong_san_chain", "lacks echo-api.amazon.com"),
    ("untrusted_chain", "does not validate"),
])
def test_bad_chain_is_refused_and_not_cached(chain_name, fragment):
    verifier, fetch = make(getattr(pki(), chain_name))
    headers, body = signed(envelope())
    refused(verifier, headers, body, fragment)
    refused(verifier, headers, body, fragment)
    assert fetch.calls == [GOOD_URL, GOOD_URL]  # failures are never cached
    assert len(verifier._cache) == 0


def test_chain_is_checked_at_the_clock_time_not_the_wall_clock():
    # Valid at NOW; a verifier whose clock is two years later must refuse it.
    later = Clock(NOW + timedelta(days=730))
    verifier, _ = make(clock=later)
    headers, body = signed(envelope(timestamp=later.now))
    refused(verifier, headers, body, "expired")


def test_chain_without_the_intermediate_is_refused():
    verifier, _ = make(certs.pem(pki().leaf))
    headers, body = signed(envelope())
    refused(verifier, headers, body, "does not validate")


@pytest.mark.parametrize("payload, fragment", [
    (b"", "not PEM"),
    (b"hello", "not PEM"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not PEM"),
    (b"x" * (64 * 1024 + 1), "larger than"),
])
def test_garbage_download_is_refused(payload, fragment):
    verifier, _ = make(payload)
    headers, body = signed(envelope())
    refused(verifier, headers, body, fragment)


@pytest.mark.parametrize("error", [
    OSError("boom"), TimeoutError(), ValueError("x"), RuntimeError(),
])
def test_download_errors_become_verification_errors(error):
    def fetch(url: str, timeout: float) -> bytes:
        raise error

    verifier = RequestVerifier(roots=[pki().root], clock=Clock(), fetch=fetch)
    headers, body = signed(envelope())
    refused(verifier, headers, body, "download failed", type(error).__name__)


# --------------------------------------------------------------------------------------------
# Body, timestamp, skill id


@pytest.mark.parametrize("body, fragment", [
    (b"hello", "not JSON"),
    (b"", "not JSON"),
    (b"[1, 2]", "not an object"),
    (b'{"request": {"timestamp": "2026-11-22T08:00:00Z"', "not JSON"),
    (b'\xff\xfe{"request": {}}', "not UTF-8"),
    ("{\"a\": \"caf\u00e9\"}".encode("latin-1"), "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "not JSON"),
    (b'{"version": "1.0"}', "no request object"),
    (b'{"request": {"type": "LaunchRequest"}}', "timestamp is missing"),
    (b'{"request": {"timestamp": 1795334400000}}', "timestamp is missing"),
    (b'{"request": {"timestamp": "yesterday"}}', "not ISO 8601"),
])
def test_bad_body_is_refused_before_downloading(body, fragment):
    verifier, fetch = make()
    headers, _ = signed(envelope())
    headers["Signature-256"] = certs.sign(body)
    refused(verifier, headers, body, fragment)
    assert fetch.calls == []


@pytest.mark.parametrize("skew, fragment", [(-151, "151 s old"), (151, "151 s in the future")])
def test_timestamp_outside_150_seconds_is_refused(skew, fragment):
    verifier, fetch = make()
    headers, body = signed(envelope(timestamp=NOW + timedelta(seconds=skew)))
    refused(verifier, headers, body, fragment, "limit 150 s")
    assert fetch.calls == []


@pytest.mark.parametrize("request_type", [
    "AlexaSkillEvent.SkillEnabled", "AlexaHouseholdListEvent.ItemsCreated",
])
def test_skill_events_get_an_hour(request_type):
    verifier, _ = make()
    for minutes in (30, 61):
        headers, body = signed(
            envelope(timestamp=NOW - timedelta(minutes=minutes), request_type=request_type))
        if minutes == 30:
            assert verifier.verify(headers, body)
    refused(verifier, headers, body, "3660 s old", "for skill events")


def test_ordinary_request_does_not_get_the_event_tolerance():
    verifier, _ = make()
    stale = envelope(timestamp=NOW - timedelta(minutes=30), request_type="LaunchRequest")
    headers, body = signed(stale)
    refused(verifier, headers, body, "1800 s old", "limit 150 s")


def test_wrong_skill_id_is_refused():
    verifier, fetch = make(skill_ids={SKILL_ID})
    headers, body = signed(envelope(application_id="amzn1.ask.skill.someone-else"))
    refused(verifier, headers, body, "applicationId", "not this skill's")
    assert fetch.calls == []


def test_mismatched_session_and_context_skill_ids_are_refused():
    verifier, _ = make(skill_ids={SKILL_ID})
    data = envelope()
    data["session"]["application"]["applicationId"] = "amzn1.ask.skill.someone-else"
    headers, body = signed(data)
    refused(verifier, headers, body, "not this skill's")


def test_missing_skill_id_is_refused_when_ids_are_configured():
    verifier, _ = make(skill_ids={SKILL_ID})
    data = envelope()
    del data["session"], data["context"]
    headers, body = signed(data)
    refused(verifier, headers, body, "no applicationId")


# --------------------------------------------------------------------------------------------
# Cache


def test_cache_reuses_a_chain_and_stays_bounded():
    size = 4
    verifier, fetch = make(cache_size=size)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(size + 5)]
    for url in urls:
        headers, body = signed(envelope(), url=url)
        assert verifier.verify(headers, body)
        assert len(verifier._cache) <= size
    assert len(fetch.calls) == size + 5
    assert list(verifier._cache) == urls[-size:]  # least recently used went first

    # A repeated URL is served from the cache; using it makes it most recent.
    headers, body = signed(envelope(), url=urls[-size])
    verifier.verify(headers, body)
    verifier.verify(headers, body)
    assert len(fetch.calls) == size + 5
    assert list(verifier._cache)[-1] == urls[-size]

    # An evicted URL is downloaded again.
    headers, body = signed(envelope(), url=urls[0])
    verifier.verify(headers, body)
    assert len(fetch.calls) == size + 6
    assert len(verifier._cache) == size


def test_cache_expires_after_ttl_on_the_injected_clock():
    clock = Clock()
    verifier, fetch = make(clock=clock, cache_ttl=600)
    for offset, downloads in [(0, 1), (599, 1), (601, 2), (900, 2)]:
        clock.now = NOW + timedelta(seconds=offset)
        headers, body = signed(envelope(timestamp=clock.now))
        assert verifier.verify(headers, body)
        assert len(fetch.calls) == downloads, offset


def test_cache_never_outlives_the_leaf_certificate():
    clock = Clock()
    verifier, fetch = make(pki().short_lived_chain, clock=clock, cache_ttl=3600)
    headers, body = signed(envelope())
    assert verifier.verify(headers, body)
    clock.now = NOW + timedelta(minutes=11)  # leaf expired at NOW + 10 min; TTL not yet over
    headers, body = signed(envelope(timestamp=clock.now))
    refused(verifier, headers, body, "expired")
    assert len(fetch.calls) == 2
    assert len(verifier._cache) == 0


def test_cache_size_zero_disables_caching():
    verifier, fetch = make(cache_size=0)
    headers, body = signed(envelope())
    verifier.verify(headers, body)
    verifier.verify(headers, body)
    assert len(fetch.calls) == 2


def test_concurrent_verification_from_8_threads():
    verifier, _ = make(fetch=Fetch(lambda _url: pki().chain, delay=0.01), cache_size=3)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(6)]
    requests = [signed(envelope(), url=url) for url in urls]
    bad_headers, bad_body = signed(envelope(), private_key=pki().other_key)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for round_ in range(15):
                headers, body = requests[(index + round_) % len(requests)]
                assert verifier.verify(headers, body)["request"]["timestamp"]
                with pytest.raises(VerificationError):
                    verifier.verify(bad_headers, bad_body)
                assert len(verifier._cache) <= 3
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(verifier._cache) <= 3


# --------------------------------------------------------------------------------------------
# Never anything but VerificationError


@pytest.mark.parametrize("headers, body", [
    (None, b"{}"),
    ({"Signature-256": b"\xff", "SignatureCertChainUrl": GOOD_URL}, b"{}"),
    ({"Signature-256": 5, "SignatureCertChainUrl": GOOD_URL}, b"{}"),
    ({"Signature-256": "YWJj", "SignatureCertChainUrl": GOOD_URL}, "a str body"),
    ({"Signature-256": "YWJj", "SignatureCertChainUrl": GOOD_URL}, None),
])
def test_odd_inputs_raise_only_verification_error(headers, body):
    verifier, _ = make()
    with pytest.raises(VerificationError):
        verifier.verify(headers, body)


def test_a_broken_clock_is_a_verification_error():
    verifier = RequestVerifier(roots=[pki().root], clock=lambda: "now", fetch=Fetch())
    headers, body = signed(envelope())
    refused(verifier, headers, body, "clock")


# --------------------------------------------------------------------------------------------
# The default downloader, against a local server


class _Server:
    """http.server on 127.0.0.1 in a thread; GET /slow waits up to 5 s, GET /big is 100 KB."""

    def __init__(self) -> None:
        self.release = threading.Event()
        release = self.release

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/trickle":
                    # The status line and headers one byte at a time, 0.1 s apart, until released:
                    # each byte would reset a per-read timeout, so only an overall deadline ends it.
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                        if release.wait(0.1):
                            return
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return
                    return
                if self.path == "/slow":
                    release.wait(5)
                payload = {"/big": b"x" * 100_000, "/chain.pem": pki().chain}.get(self.path, b"ok")
                self.send_response(200 if self.path != "/redirect" else 302)
                if self.path == "/redirect":
                    self.send_header("Location", "/chain.pem")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = _Server()
    yield running
    running.close()


def test_default_download_honours_the_timeout(server):
    started = time.monotonic()
    with pytest.raises(VerificationError, match="download failed"):
        _download(f"{server.base}/slow", 0.5, _allow_http=True)
    assert time.monotonic() - started < 1.5


def test_one_deadline_covers_the_status_line_and_headers(server):
    started = time.monotonic()
    with pytest.raises(VerificationError, match="download failed"):
        _download(f"{server.base}/trickle", 0.5, _allow_http=True)
    assert time.monotonic() - started < 1.5


def test_default_download_reads_caps_and_refuses(server):
    assert _download(f"{server.base}/chain.pem", 1.0, _allow_http=True) == pki().chain
    with pytest.raises(VerificationError, match="larger than"):
        _download(f"{server.base}/big", 1.0, _allow_http=True)
    with pytest.raises(VerificationError, match="HTTP 302"):
        _download(f"{server.base}/redirect", 1.0, _allow_http=True)
    with pytest.raises(VerificationError, match="refusing to download over http"):
        _download(f"{server.base}/chain.pem", 1.0)
