"""Load: two gunicorn workers, verification off, SQLite memory in a temp file, many users each
running realistic conversations; then every user's stored record is checked against what the
client knows they did (tests/reliability/_traffic.py).

Short: ~8 s at 16 connections (sync workers). Long (BACKCOACH_LONG=1): 60 s at 64 connections,
for sync workers and for the README's production flags (gthread, --threads 4), with worker RSS
required flat (after <= before * 1.10 + 5 MB, before = after a warm-up).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from skill.storage import SqliteStore
from tests.reliability._support import Gunicorn, figures, percentile, pick, rss_kb
from tests.reliability._traffic import Stats, check_records, make_users, run

USERS = 200
CONNECTIONS = pick(16, 64)
WARMUP = pick(1.0, 5.0)
DURATION = pick(7.0, 60.0)
WORKER_KINDS = pick(["sync"], ["sync", "gthread"])


@pytest.mark.parametrize("kind", WORKER_KINDS)
def test_load_many_users_no_errors_flat_memory_and_exact_records(kind):
    with tempfile.TemporaryDirectory(prefix="backcoach-rel-load-") as folder:
        db = Path(folder) / "memory.sqlite3"
        env = {"BACKCOACH_VERIFY": "0", "BACKCOACH_STORAGE": "sqlite", "BACKCOACH_SQLITE_PATH": str(db),
               "BACKCOACH_SKILL_ID": ""}
        threads = 4 if kind == "gthread" else None
        with Gunicorn("skill.web:create_app()", workers=2, timeout=10, threads=threads, env=env) as server:
            pids = server.wait_workers(2)
            rss_boot = {pid: rss_kb(pid) for pid in pids}
            users = make_users(USERS, f"load-{kind}")
            stats = Stats()
            rss_before: dict[int, int] = {}
            elapsed = run(server.port, users, stats, connections=CONNECTIONS, warmup=WARMUP, duration=DURATION,
                          on_measure=lambda: rss_before.update({p: rss_kb(p) for p in pids}))
            after_pids = server.worker_pids()
            rss_after = {pid: rss_kb(pid) for pid in after_pids if pid in rss_before}
            log = server.log()
        store = SqliteStore(db)
        try:
            checked, corrupt, problems = check_records(store, users)
        finally:
            store.close()
    for user in users:
        stats.flows.update(user.flows)
    errors = sum(stats.errors.values())
    figures(f"load ({kind}, {CONNECTIONS} connections, {USERS} users)",
            measured_s=elapsed, requests_served=stats.served, warmup_requests=stats.warmup_served,
            req_per_s=stats.served / elapsed, errors=errors, error_kinds=dict(stats.errors),
            wrong_answers=len(stats.wrong), p50_ms=percentile(stats.latencies, 50) * 1000,
            p99_ms=percentile(stats.latencies, 99) * 1000, max_ms=max(stats.latencies) * 1000,
            sessions=sum(stats.flows.values()), flows=dict(stats.flows),
            rss_boot_mb=[round(v / 1024, 1) for v in rss_boot.values()],
            rss_before_mb=[round(v / 1024, 1) for v in rss_before.values()],
            rss_after_mb=[round(v / 1024, 1) for v in rss_after.values()],
            workers_restarted=sorted(set(pids) - set(after_pids)),
            records_checked=checked, records_corrupt=corrupt, records_mismatched=len(problems))
    assert stats.served > 0
    assert errors == 0, (stats.errors, log[-3000:])
    assert not stats.wrong, stats.wrong[:10]
    assert not problems, problems[:10]
    assert checked == USERS and corrupt == 0
    assert set(pids) == set(after_pids), "a worker was restarted during the load"
    assert "Traceback" not in log, log[-3000:]
    if pick(False, True):
        for pid, before in rss_before.items():
            assert rss_after[pid] <= before * 1.10 + 5 * 1024, (pid, before, rss_after[pid])
