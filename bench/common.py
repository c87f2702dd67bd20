"""Shared pieces every benchmark uses: the repository's paths, result rows and reports, statistics and formatting.

Servers and requests are in servers.py; the machine, profiles and captured logs in machine.py.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (bench/ sits at the top level)."""
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent

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


def paired_ratio(mine: list[float], base: list[float]) -> float:
    """Median over rounds of mine/base measured in the same round (robust to drift)."""
    return median([a / b for a, b in zip(mine, base, strict=True) if b])
