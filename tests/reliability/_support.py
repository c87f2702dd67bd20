"""Shared helpers for the reliability tests: modes, figures, gunicorn servers, raw HTTP, RSS.

Every server started here binds 127.0.0.1 on a port the kernel picks (``-b 127.0.0.1:0``; the
port is read back from gunicorn's log), runs in its own process group, and is always stopped:
SIGTERM to the master, then SIGKILL to the group if anything is left after a bounded wait.
"""

from __future__ import annotations

import functools
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("BACKCOACH_LONG", "").strip() not in {"", "0"}
MODE = "long" if LONG else "short"

FIGURES: list[tuple[str, dict[str, Any]]] = []
"""(category, figures) recorded by the tests, printed again at the end of the run."""


def pick(short: Any, long: Any) -> Any:
    return long if LONG else short


def figures(category: str, **values: Any) -> None:
    """Print one line of figures (shown with -s) and keep it for the end-of-run summary."""
    FIGURES.append((category, values))
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
    print(f"\n[reliability:{MODE}] {category}: {shown}", flush=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def percentile(values: Iterable[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


# ------------------------------------------------------------------------------------ gunicorn


class ServerError(RuntimeError):
    pass


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: parse after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def rss_kb(pid: int) -> int:
    """Resident set size of a process in kB (VmRSS from /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ServerError(f"no VmRSS for {pid}")


@functools.cache
def _supports(option: str) -> bool:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    try:
        help_text = subprocess.run([str(gunicorn), "--help"], capture_output=True, text=True, timeout=30,
                                   check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return option in help_text


class Gunicorn:
    """``gunicorn APP`` on 127.0.0.1 with a kernel-chosen port; a context manager."""

    def __init__(self, app: str, *, workers: int = 2, timeout: float = 3, threads: int | None = None,
                 env: dict[str, str] | None = None, extra: list[str] | None = None,
                 ready_timeout: float = 30.0) -> None:
        self.app, self.workers, self.timeout, self.threads = app, workers, timeout, threads
        self.env, self.extra, self.ready_timeout = env or {}, extra or [], ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="backcoach-rel-gunicorn-")
        self.log_path = Path(self._dir.name) / "gunicorn.log"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def __enter__(self) -> Self:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        if not gunicorn.exists():
            raise ServerError(f"gunicorn is not installed next to {sys.executable}")
        args = [str(gunicorn), "--workers", str(self.workers), "--timeout", str(self.timeout),
                "--graceful-timeout", "2", "--bind", "127.0.0.1:0", "--log-level", "info",
                "--error-logfile", str(self.log_path)]
        if _supports("--no-control-socket"):
            # gunicorn 24+ opens a control socket in ~/.gunicorn shared by every instance: keep
            # ours out of the way of other servers on this machine
            args.append("--no-control-socket")
        if self.threads:
            args += ["--threads", str(self.threads)]
        args += [*self.extra, self.app]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            if not self.port:
                match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
                if match:
                    self.port = int(match.group(1))
            if self.port and len(self.worker_pids()) >= self.workers:
                try:
                    if self.get("/health", timeout=2)[0] == 200:
                        # every worker imports the app lazily: warm both so timing starts level
                        for _ in range(self.workers * 2):
                            self.get("/health", timeout=5)
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise ServerError(f"gunicorn did not become ready in {self.ready_timeout} s:\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        return _children(self.proc.pid) if self.proc is not None else []

    def wait_workers(self, count: int | None = None, timeout: float = 15.0, exclude: Iterable[int] = ()) -> list[int]:
        """Wait until ``count`` live workers (none of ``exclude``) answer; return their pids."""
        count = count or self.workers
        excluded = set(exclude)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.worker_pids() if p not in excluded]
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise ServerError(f"fewer than {count} workers after {timeout} s: {self.worker_pids()}\n{self.tail()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        conn = self.connection(timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def post(self, body: bytes, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
        conn = self.connection(timeout)
        try:
            conn.request("POST", "/", body=body, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # the master stops its workers
                try:
                    proc.wait(timeout=6)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            # anything left in the group we created (the master, or workers orphaned by it)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._dir.cleanup()


# ------------------------------------------------------------------------------------ raw HTTP


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to 127.0.0.1:port, read the whole answer (until the server closes or the
    Content-Length is read); return (status, headers, body). Status 0 when nothing came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock, timeout)


def read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
        if time.monotonic() > deadline:
            raise TimeoutError("no complete response head")
    if b"\r\n\r\n" not in buffer:
        return 0, {}, buffer
    head, _, body = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        body += chunk
    return status, headers, body


def http_request(method: str, headers: list[tuple[str, str]], body: bytes, *, version: str = "HTTP/1.1",
                 content_length: bool = True) -> bytes:
    """A raw request; headers are sent exactly as given (names, case, duplicates)."""
    lines = [f"{method} / {version}", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers]
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 1000) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        part = body[i : i + size]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


# ------------------------------------------------------------------------------------ answers


def speech(raw: dict[str, Any] | None) -> str:
    """Plain text of a response envelope's speech."""
    ssml = (((raw or {}).get("response") or {}).get("outputSpeech") or {}).get("ssml", "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ssml)).strip()


ERROR_TEXT = "something went wrong on my side"
"""The skill's ErrorHandler apology (data/locales/en.yaml skill.error): never a graceful answer."""


def is_error_answer(raw: dict[str, Any] | None) -> bool:
    return ERROR_TEXT in speech(raw)


def loads(body: bytes) -> dict[str, Any]:
    return json.loads(body.decode("utf-8"))
