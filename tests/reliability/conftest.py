"""Reliability suite: repeat every figure the tests printed in one block at the end of the run."""

from __future__ import annotations

from tests.reliability._support import FIGURES, MODE, _fmt


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    terminalreporter.section(f"reliability figures ({MODE} mode)")
    for category, values in FIGURES:
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
        terminalreporter.write_line(f"{category}: {shown}")
