"""python -m bench [--quick] [--only N ...]: run the benchmarks, print the table, exit 1 on FAIL."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

from bench.common import FAIL, SKIP, Report, Row, Settings
from bench.machine import loadavg, machine

MODULES = ("turn", "web", "cold", "nlu", "speech", "memory", "storage")
"""In order; `--only 2` or `--only http` picks some."""

COLUMNS = ("benchmark", "figure", "baseline", "ratio", "budget", "result")


def _table(rows: list[Row]) -> list[str]:
    cells = [COLUMNS] + [
        (r.benchmark, r.figure, r.baseline, r.ratio, r.budget, r.result) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, c in enumerate(cells):
        lines.append(" | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return lines


def _select(only: list[str] | None) -> list[str]:
    if not only:
        return list(MODULES)
    chosen = []
    for item in only:
        if item.isdigit() and 1 <= int(item) <= len(MODULES):
            chosen.append(MODULES[int(item) - 1])
        elif item in MODULES:
            chosen.append(item)
        else:
            sys.exit(
                f"bench: unknown benchmark {item!r}; use 1-{len(MODULES)} or one of {', '.join(MODULES)}"
            )
    return [m for m in MODULES if m in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions, ~5 s HTTP runs (< 2 min)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="N", help="benchmark numbers or names: " + ", ".join(MODULES)
    )
    args = parser.parse_args(argv)
    os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    settings = Settings(quick=args.quick)
    started = time.monotonic()
    print(f"Back Coach benchmarks ({'quick' if args.quick else 'full'})", flush=True)
    for line in machine():
        print("  " + line)
    print(flush=True)
    reports: list[Report] = []
    for name in _select(args.only):
        module = importlib.import_module(f"bench.{name}")
        t0 = time.monotonic()
        load = loadavg()
        print(f"running {module.NAME} ...", file=sys.stderr, flush=True)
        try:
            report = module.run(settings)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            report = Report(module.NAME)
            report.row(f"crashed: {type(exc).__name__}: {exc}"[:100], result=FAIL)
            report.details += traceback.format_exc().rstrip().splitlines()
        report.note(f"({time.monotonic() - t0:.1f} s; load average before: {load})")
        reports.append(report)
        print(f"  done in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    rows = [row for report in reports for row in report.rows]
    print("\n".join(_table(rows)))
    print()
    for report in reports:
        print(f"== {report.name}")
        for line in report.details:
            print("  " + line if line else "")
        print()
    failed = [r for r in rows if r.result == FAIL]
    skipped = [r for r in rows if r.result == SKIP]
    print(
        f"{len(rows) - len(failed) - len(skipped)} ok, {len(failed)} failed, {len(skipped)} skipped "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
