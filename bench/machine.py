"""What the machine and this process are doing: a description of the machine, CPU use and load, profiles, captured logs."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT

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


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"



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

