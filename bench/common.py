"""Shared pieces: result rows, statistics, timing, free ports, servers and subprocesses."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (bench/ sits at the top level)."""
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent

ERROR_SPEECH = "something went wrong"
"""The skill's error-handler answer: a response containing it is not a real answer."""

PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "INFO"


@dataclass
class Row:
    """One line of the table."""

    benchmark: str
    figure: str
    baseline: str = "-"
    ratio: str = "-"
    budget: str = "-"
    result: str = INFO


@dataclass
class Report:
    """What one benchmark hands back: table rows and detail lines."""

    name: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def row(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(self.name, *args, **kwargs)
        self.rows.append(row)
        return row

    def note(self, line: str = "") -> None:
        self.details.append(line)

    def skip(self, why: str) -> Report:
        self.rows.append(Row(self.name, f"skipped: {why}", result=SKIP))
        self.note(f"SKIPPED: {why}")
        return self


@dataclass(frozen=True)
class Settings:
    """How hard to run: --quick shrinks repetitions and durations."""

    quick: bool

    def pick(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full


# ---------------------------------------------------------------------------- statistics


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    value = seconds * 1000
    if value < 1:
        return f"{value:.3f} ms"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def ratio(value: float, base: float) -> float:
    return value / base if base else float("inf")


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# --------------------------------------------------------------------------- logging quiet


@contextlib.contextmanager
def quiet_logs() -> Iterator[list[logging.LogRecord]]:
    """Swallow log output (the records are still created, as in production) and collect
    warnings and errors so a benchmark can say what went wrong."""
    captured: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING and len(captured) < 50:
                captured.append(record)

    root = logging.getLogger()
    handler = _Keep(level=logging.WARNING)
    saved = root.handlers[:]
    root.handlers = [handler]
    try:
        yield captured
    finally:
        root.handlers = saved


def describe_records(records: list[logging.LogRecord]) -> str:
    """The first problem the skill logged, in one line."""
    for record in records:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            return f"{record.getMessage()}: {type(exc).__name__}: {exc}"
    return records[0].getMessage() if records else ""


# ------------------------------------------------------------------------------ machine


def machine() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    tools = []
    for name, args in (("wrk", ["wrk", "--version"]), ("espeak-ng", ["espeak-ng", "--version"])):
        path = shutil.which(name)
        if path is None:
            tools.append(f"{name}: not installed")
            continue
        with contextlib.suppress(Exception):
            out = subprocess.run(args, check=False, capture_output=True, text=True, timeout=10)
            first = (out.stdout or out.stderr).strip().splitlines()
            tools.append(first[0] if first else name)
    return [
        f"nproc: {os.cpu_count()}   CPU: {cpu}   memory: {mem}",
        f"Python {platform.python_version()} ({sys.executable})   {platform.platform()}",
        "tools: " + "; ".join(tools),
    ]


# -------------------------------------------------------------------------------- ports


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------ servers


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: the repository importable, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCOACH_")}
    env["PYTHONPATH"] = str(ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(extra)
    return env


class ServerError(RuntimeError):
    pass


class Gunicorn:
    """A gunicorn server on a free 127.0.0.1 port, always stopped on exit (context manager)."""

    def __init__(
        self,
        app: str,
        *,
        workers: int,
        threads: int = 4,
        env: dict[str, str] | None = None,
        name: str = "server",
    ) -> None:
        self.app = app
        self.workers = workers
        self.threads = threads
        self.env = bench_env(**(env or {}))
        self.name = name
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Gunicorn:
        gunicorn = VENV_BIN / "gunicorn"
        if not gunicorn.exists():
            raise ServerError(f"gunicorn is not installed in {VENV_BIN}")
        for _attempt in range(3):  # a free port may be taken between probing and binding
            self.port = free_port()
            cmd = [
                str(gunicorn),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "256",
                "--log-level",
                "warning",
                self.app,
            ]
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(
                    cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
                )
            if self._wait_ready(timeout=60):
                return self
            self.stop()
        raise ServerError(f"{self.name} did not start; its log says:\n{self.tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "health", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= self.workers:
                        return True
            except urllib.error.HTTPError as exc:  # a route exists but not /health: still up
                if exc.code in (404, 405) and len(self.worker_pids()) >= self.workers:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids: list[int] = []
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in (task / "children").read_text().split()]
        return sorted(pids)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the session we started: master and workers
            proc.wait(timeout=5)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self.log.unlink()


def post_json(
    url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, Any] | None]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def speech_of(response: dict[str, Any] | None) -> str:
    """The SSML (or text) of a response envelope, for sanity checks."""
    body = (response or {}).get("response") or {}
    speech = body.get("outputSpeech") or {}
    return str(speech.get("ssml") or speech.get("text") or "")


def is_error_answer(response: dict[str, Any] | None) -> bool:
    return response is None or ERROR_SPEECH in speech_of(response).lower()


# ------------------------------------------------------------------------------ profiling


def profile_lines(
    fn: Callable[[], Any], *, top: int = 8, only: str | None = None, sort: str = "tottime"
) -> list[str]:
    """Run fn under cProfile; the top functions with their share of the total time.
    `only` keeps functions whose file path contains it (e.g. '/skill/')."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt or 1e-12  # type: ignore[attr-defined]
    entries = []
    for (path, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if only and only not in path:
            continue
        entries.append(
            (tottime if sort == "tottime" else cumtime, calls, tottime, cumtime, path, line, func)
        )
    entries.sort(reverse=True)
    lines = [f"    {'self%':>6} {'cum%':>6} {'calls':>8}  function"]
    for _key, calls, tottime, cumtime, path, line, func in entries[:top]:
        where = _short_path(path)
        lines.append(
            f"    {100 * tottime / total:5.1f}% {100 * cumtime / total:5.1f}% {calls:8d}  {func} ({where}:{line})"
        )
    return lines


def _short_path(path: str) -> str:
    for marker in ("/site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path.rsplit("/", 2)[-1] if "/" in path else path


# ------------------------------------------------------------------------- machine load


def cpu_snapshot() -> list[int]:
    """The aggregate 'cpu' line of /proc/stat (user nice system idle iowait irq softirq steal)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu "):
                return [int(x) for x in line.split()[1:9]]
    return [0] * 8


def cpu_usage(before: list[int], after: list[int]) -> tuple[float, float]:
    """(busy share, steal share) of all cores between two snapshots."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta) or 1
    idle = delta[3] + delta[4]
    return (total - idle - delta[7]) / total, delta[7] / total


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def paired_ratio(mine: list[float], base: list[float]) -> float:
    """Median over rounds of mine/base measured in the same round (robust to drift)."""
    return median([a / b for a, b in zip(mine, base, strict=True) if b])
