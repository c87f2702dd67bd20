"""7. Storage: per-call cost of SqliteStore.load and .update in one process and with two
worker processes at once, and the in-process turn with a SqliteStore against store=None."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import INFO, Report, Settings, median, ms, percentile
from bench.machine import describe_records, profile_lines, quiet_logs
from bench.servers import is_error_answer

NAME = "7 storage (SQLite)"
ROUTINES = ("desk-break", "neck-and-shoulders", "lower-back-relief")


def _change(i: int) -> Any:
    def change(record: Any) -> None:
        record.last_routine = ROUTINES[i % len(ROUTINES)]
        record.pace = 1.0 + (i % 3) * 0.25

    return change


def _exercise(
    path: str, users: list[str], count: int, start: Any = None
) -> tuple[list[float], list[float], float]:
    """count x (load, update) over users, round robin; per-call seconds."""
    from skill.storage import SqliteStore

    store = SqliteStore(Path(path))
    for user in users:  # connection open and rows present before timing
        store.load(user)
    if start is not None:
        start.wait(30)
    loads: list[float] = []
    updates: list[float] = []
    deadline = time.monotonic() + 120
    began = time.perf_counter()
    for i in range(count):
        if time.monotonic() > deadline:
            break
        user = users[i % len(users)]
        t0 = time.perf_counter()
        store.load(user)
        t1 = time.perf_counter()
        store.update(user, _change(i))
        t2 = time.perf_counter()
        loads.append(t1 - t0)
        updates.append(t2 - t1)
    return loads, updates, time.perf_counter() - began


def _worker(path: str, users: list[str], count: int, start: Any, out: Any) -> None:
    try:
        out.put(_exercise(path, users, count, start))
    except BaseException as exc:  # noqa: BLE001 - report, never hang the parent
        out.put(exc)


def _two_processes(path: str, count: int) -> tuple[list[float], list[float], float]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(path, [f"amzn1.ask.account.P{p}U{u}" for u in range(50)], count, start, out),
            daemon=True,
        )
        for p in range(2)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    start.set()
    loads: list[float] = []
    updates: list[float] = []
    spans: list[float] = []
    try:
        for _ in procs:
            result = out.get(timeout=180)
            if isinstance(result, BaseException):
                raise RuntimeError(f"worker failed: {result!r}")
            loads += result[0]
            updates += result[1]
            spans.append(result[2])
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    return loads, updates, max(spans)


def _fs(path: str) -> str:
    try:
        done = subprocess.run(
            ["df", "-T", path], check=False, capture_output=True, text=True, timeout=10
        )
        return done.stdout.splitlines()[1].split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def run(settings: Settings) -> Report:
    from bench import turn
    from bench.envelopes import conversation
    from skill.alexa.builder import build_skill, invoke
    from skill.storage import SqliteStore

    report = Report(NAME)
    count = settings.pick(300, 1500)
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        single = os.path.join(tmp, "single.sqlite3")
        loads, updates, span1 = _exercise(
            single, [f"amzn1.ask.account.S{u}" for u in range(50)], count
        )
        shared = os.path.join(tmp, "shared.sqlite3")
        SqliteStore(Path(shared)).load("amzn1.ask.account.init")  # create the file before the race
        loads2, updates2, span2 = _two_processes(shared, count)

        envelopes = conversation()
        rounds = settings.pick(15, 41)
        per_batch = settings.pick(10, 20)
        with quiet_logs() as records:
            plain = build_skill(store=None)
            stored = build_skill(store=SqliteStore(Path(tmp) / "turns.sqlite3"))
            broken = [k for k in turn.KINDS if is_error_answer(invoke(stored, envelopes[k]))]
            why = describe_records(records)
            by_kind: dict[str, tuple[float, float]] = {}
            for kind in turn.KINDS:
                a: list[float] = []
                b: list[float] = []
                for _ in range(rounds):
                    a.append(turn._batch(invoke, stored, envelopes[kind], per_batch))
                    b.append(turn._batch(invoke, plain, envelopes[kind], per_batch))
                by_kind[kind] = (median(a), median(b))
            profile = profile_lines(
                lambda: [
                    invoke(stored, envelopes[k])
                    for _ in range(settings.pick(10, 30))
                    for k in turn.KINDS
                ],
                top=12,
                sort="tottime",
            )
        fs = _fs(tmp)

    report.row(f"load, 1 process: median {ms(median(loads))}", "-", "-", "report", INFO)
    report.row(f"update, 1 process: median {ms(median(updates))}", "-", "-", "report", INFO)
    report.row(
        f"load, 2 processes: median {ms(median(loads2))}",
        ms(median(loads)),
        f"{median(loads2) / median(loads):.2f}x",
        "report",
        INFO,
    )
    report.row(
        f"update, 2 processes: median {ms(median(updates2))}",
        ms(median(updates)),
        f"{median(updates2) / median(updates):.2f}x",
        "report",
        INFO,
    )
    turn_sql = median([a for a, _ in by_kind.values()])
    turn_none = median([b for _, b in by_kind.values()])
    report.row(
        f"turn, SqliteStore: median {ms(turn_sql)}" + (" (ERROR ANSWER)" if broken else ""),
        f"store=None: {ms(turn_none)}",
        f"{turn_sql / turn_none:.2f}x",
        "report",
        "FAIL" if broken else INFO,
    )
    report.note(
        f"SQLite file in a temporary directory on {fs} (journal WAL, synchronous FULL as the store sets); "
        f"{count} rounds of load + update over 50 users, per process."
    )
    report.note(
        f"  1 process : load median {ms(median(loads))} p99 {ms(percentile(loads, 99))}; "
        f"update median {ms(median(updates))} p99 {ms(percentile(updates, 99))}"
    )
    report.note(
        f"  2 processes (50 users each, same file, started together): load median {ms(median(loads2))} "
        f"p99 {ms(percentile(loads2, 99))}; update median {ms(median(updates2))} "
        f"p99 {ms(percentile(updates2, 99))}"
    )
    report.note(
        f"  load+update rounds per second: 1 process {count / span1:.0f}, "
        f"2 processes together {2 * count / span2:.0f}"
    )
    report.note(
        f"in-process turn, same envelopes and method as benchmark 1 ({rounds} rounds x {per_batch}); "
        "turn figure = median over the kinds' medians:"
    )
    for kind, (a, b) in by_kind.items():
        report.note(
            f"    {kind:<14} SqliteStore {ms(a):>10}   store=None {ms(b):>10}   +{ms(a - b)}"
        )
    if broken:
        report.note(f"error answers with SqliteStore for: {', '.join(broken)} ({why})")
    report.note("profile of the turns with SqliteStore, self time, top 12:")
    report.details += profile
    return report
