"""3. Cold start: a new Python process to the first Lambda response, the project's handler
against the trivial ASK SDK skill's; and where the import time goes (python -X importtime)."""

from __future__ import annotations

import compileall
import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, Report, Settings, median, ms, paired_ratio, verdict
from bench.servers import bench_env, is_error_answer

NAME = "3 cold start"
MAX_RATIO = 1.5

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from {module} import lambda_handler
t1 = time.perf_counter()
event = json.loads(open(sys.argv[1], encoding="utf-8").read())
answer = lambda_handler(event, None)
t2 = time.perf_counter()
sys.stdout.write(json.dumps({{"import": t1 - t0, "first": t2 - t1, "answer": answer}}) + "\\n")
sys.stdout.flush()
"""

_PROFILE = """
import cProfile, json, pstats, sys
from bench.machine import profile_lines
event = json.loads(open(sys.argv[1], encoding="utf-8").read())
def first():
    from skill.lambda_function import lambda_handler
    lambda_handler(event, None)
print("\\n".join(profile_lines(first, top=16, sort="cumtime", only="/skill/")))
"""

PROJECT = "skill.lambda_function"
BASELINE = "bench.baseline"


def _once(module: str, event: Path, env: dict[str, str]) -> tuple[float, dict]:
    """Seconds from spawning the process to reading its first response line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-c", _CHILD.format(module=module), str(event)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        elapsed = time.perf_counter() - start
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    if not line:
        raise RuntimeError(f"{module}: no response; stderr: {err[-800:]}")
    return elapsed, json.loads(line)


def import_costs(env: dict[str, str], top: int = 10) -> tuple[list[str], list[str]]:
    """Top cumulative and top self import times for the Lambda handler's module."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", f"import {PROJECT}"],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    entries = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        entries.append((int(parts[0]), int(parts[1]), parts[2].rstrip()))
    by_cum = sorted(entries, key=lambda e: e[1], reverse=True)[:top]
    by_self = sorted(entries, key=lambda e: e[0], reverse=True)[:top]
    cum = [f"    {c / 1000:8.1f} ms  {name.strip()}" for _s, c, name in by_cum]
    own = [f"    {s / 1000:8.1f} ms  {name.strip()}" for s, _c, name in by_self]
    return cum, own


def run(settings: Settings) -> Report:
    from bench.envelopes import conversation
    from skill.simulator.envelopes import DEFAULT_APPLICATION

    report = Report(NAME)
    runs = settings.pick(5, 15)
    env = bench_env(BACKCOACH_SKILL_ID=DEFAULT_APPLICATION, BACKCOACH_STORAGE="none")
    # A deployed package carries byte code (pip compiles what it installs, as it did for the SDK
    # here); without this, PYTHONDONTWRITEBYTECODE would make every child compile skill/ anew.
    for package in ("skill", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        event = Path(tmp) / "launch.json"
        event.write_text(conversation()["launch"], encoding="utf-8")
        # one discarded run each: byte-code caches written, files in the page cache
        _, first = _once(PROJECT, event, env)
        _once(BASELINE, event, env)
        mine: list[float] = []
        base: list[float] = []
        inside: list[tuple[float, float]] = []
        base_inside: list[tuple[float, float]] = []
        for _ in range(runs):
            t, out = _once(PROJECT, event, env)
            mine.append(t)
            inside.append((out["import"], out["first"]))
            t, out = _once(BASELINE, event, env)
            base.append(t)
            base_inside.append((out["import"], out["first"]))
        cum, own = import_costs(env)
        profile = subprocess.run(
            [PYTHON, "-c", _PROFILE, str(event)],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.splitlines()
    m, b = median(mine), median(base)
    r = paired_ratio(mine, base)
    broken = is_error_answer(first["answer"])
    report.row(
        f"Lambda handler: {ms(m)}" + (" (ERROR ANSWER)" if broken else ""),
        ms(b),
        f"{r:.2f}x",
        f"<= {MAX_RATIO:g}x",
        verdict(r <= MAX_RATIO and not broken),
    )
    report.note(
        f"median of {runs} new processes each (interleaved, after one discarded run each): "
        "spawn -> first response line on stdout; same launch envelope; "
        "BACKCOACH_STORAGE=none, BACKCOACH_SKILL_ID = the envelope's application id; "
        "skill/ and bench/ byte-compiled first, as pip does for the SDK and the Lambda package."
    )
    report.note(
        f"  project : {ms(m)}  (inside the process: import {ms(median([i for i, _ in inside]))}, "
        f"first call {ms(median([f for _, f in inside]))}; the rest is interpreter start-up)"
    )
    report.note(
        f"  baseline: {ms(b)}  (import {ms(median([i for i, _ in base_inside]))}, "
        f"first call {ms(median([f for _, f in base_inside]))}) = bench.baseline.lambda_handler, "
        "SkillBuilder + one trivial handler"
    )
    report.note(
        "top 10 cumulative import times, python -X importtime -c 'import skill.lambda_function':"
    )
    report.details += cum
    report.note("top 10 self import times (the modules that are slow themselves):")
    report.details += own
    report.note(
        "first call after import (build_skill + first turn), cumulative, project code, top 16:"
    )
    report.details += profile
    return report
