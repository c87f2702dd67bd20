"""6. Memory: resident set size of one gunicorn worker (BACKCOACH_STORAGE=none, verification
off) after 1,000 and after 10,000 requests of a mix (launch, start routine, next, question,
stop), each conversation as a new user and session."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from bench.common import Report, Settings, verdict
from bench.servers import Gunicorn, ServerError, is_error_answer

NAME = "6 memory (RSS)"
MIX = ("launch", "start-routine", "next", "question", "stop")
CHECKPOINTS = (1_000, 10_000)
CLIENTS = 4
SLACK_MB = 2.0
GROWTH = 1.05
TIME_LIMIT = 240.0
"""Seconds the whole load may take; past it the benchmark stops and says so."""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class _Load:
    """Whole conversations from a few client threads, up to a request count (and a deadline)."""

    def __init__(self, port: int, envelopes: dict[str, str]) -> None:
        self.port = port
        self.envelopes = {kind: envelopes[kind] for kind in MIX}
        self.sent = 0
        self.bad: list[str] = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + TIME_LIMIT

    def until(self, total: int) -> None:
        threads = [
            threading.Thread(target=self._client, args=(total,), daemon=True)
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIME_LIMIT + 30)

    def _client(self, total: int) -> None:
        from bench.envelopes import renamed

        while time.monotonic() < self.deadline:
            with self.lock:
                if self.sent + len(MIX) > total:
                    return
                self.sent += len(MIX)
                number = self.sent
            for kind, text in renamed(self.envelopes).items():
                status, body = self._post(text.encode())
                if status != 200 or (number % 500 < len(MIX) and is_error_answer(json.loads(body))):
                    with self.lock:
                        if len(self.bad) < 5:
                            self.bad.append(f"{kind}: HTTP {status} {body[:120]!r}")

    def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            return answer.status, answer.read()
        except OSError as exc:
            return 0, str(exc).encode()
        finally:
            conn.close()


def run(settings: Settings) -> Report:
    from bench.envelopes import conversation

    report = Report(NAME)
    envelopes = conversation()
    env = {"BACKCOACH_VERIFY": "0", "BACKCOACH_STORAGE": "none"}
    readings: dict[int, float] = {}
    try:
        with Gunicorn(
            "skill.web:create_app()", workers=1, threads=1, env=env, name="memory"
        ) as server:
            pids = server.worker_pids()
            if len(pids) != 1:
                raise ServerError(f"expected one worker, found {pids}")
            worker = pids[0]
            load = _Load(server.port, envelopes)
            started = time.monotonic()
            load.until(100)  # warm up: every code path loaded once
            readings[load.sent] = rss_mb(worker)
            for checkpoint in CHECKPOINTS:
                load.until(checkpoint)
                readings[load.sent] = rss_mb(worker)
            elapsed = time.monotonic() - started
            restarted = server.worker_pids() != [worker]
    except ServerError as exc:
        return report.skip(f"could not run: {exc}")
    first, last = CHECKPOINTS
    if first not in readings or last not in readings:
        report.row(
            f"load stopped early at {max(readings)} requests (time limit {TIME_LIMIT:g} s)",
            result="FAIL",
        )
        return report
    limit = readings[first] * GROWTH + SLACK_MB
    ok = readings[last] <= limit and not load.bad and not restarted
    report.row(
        f"RSS after {last:,}: {readings[last]:.1f} MB",
        f"after {first:,}: {readings[first]:.1f} MB",
        f"{readings[last] / readings[first]:.3f}x",
        f"<= {GROWTH:g}x + {SLACK_MB:g} MB",
        verdict(ok),
    )
    report.note(
        f"one sync worker, {CLIENTS} client threads sending whole conversations "
        f"({' -> '.join(MIX)}), new user/session ids each; {elapsed:.1f} s for {load.sent:,} requests."
    )
    report.note(
        "VmRSS: "
        + ", ".join(f"{n:,} requests {mb:.1f} MB" for n, mb in sorted(readings.items()))
        + f"; limit {limit:.1f} MB"
    )
    if restarted:
        report.note(
            "the worker was restarted during the run (pid changed): the reading is not valid"
        )
    for line in load.bad:
        report.note(f"bad answer: {line}")
    return report
