"""Realistic per-user traffic over HTTP: threads, each running whole sessions for users taken
from a shared pool, with a client-side model of what each user's stored record must hold.

A user is only ever in one thread at a time (one conversation at a time, like a person). A
session that fails half-way retires the user from exact record checks (the model no longer
knows their state). Every loop is bounded: sessions start only before the deadline, and no
request is sent after the hard stop.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skill.core.routines import load_library
from skill.simulator.envelopes import Session, SlotValue
from skill.storage import SqliteStore
from tests.reliability._support import is_error_answer, speech

LIBRARY = load_library()
ROUTINES = [r for r in LIBRARY.routines if len(r.steps) >= 6]
QUESTIONS = ["should I use ice or heat", "how often should I stretch", "is it normal to feel sore after a massage",
             "what is a trigger point", "can I foam roll my lower back"]


@dataclass
class Expect:
    """What the client knows about one user, to compare with the stored record afterwards."""

    sessions: int = 0
    resume: tuple[str, int] | None = None
    last_routine: str | None = None


@dataclass
class User:
    session: Session
    rng: random.Random
    expect: Expect = field(default_factory=Expect)
    flows: Counter[str] = field(default_factory=Counter)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    measuring: bool = False
    latencies: list[float] = field(default_factory=list)
    served: int = 0
    warmup_served: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    flows: Counter[str] = field(default_factory=Counter)
    broken: int = 0

    def request(self, seconds: float) -> None:
        with self.lock:
            if self.measuring:
                self.latencies.append(seconds)
                self.served += 1
            else:
                self.warmup_served += 1


class Failed(Exception):
    """A request failed: the session is abandoned (and counted as an error)."""


class Client:
    """One connection's worth of traffic: runs whole sessions for users taken from the pool."""

    def __init__(self, port: int, stats: Stats, hard_stop: float) -> None:
        self.port, self.stats, self.hard_stop = port, stats, hard_stop
        self.conn: http.client.HTTPConnection | None = None

    def post(self, envelope: dict[str, Any]) -> dict[str, Any]:
        if time.monotonic() > self.hard_stop:
            with self.stats.lock:
                self.stats.errors["past the hard stop"] += 1
            raise Failed("past the hard stop")
        body = json.dumps(envelope).encode()
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            self.conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
            if response.getheader("connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as exc:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            with self.stats.lock:
                self.stats.errors[type(exc).__name__] += 1
            raise Failed(type(exc).__name__) from exc
        self.stats.request(time.monotonic() - started)
        if status != 200:
            with self.stats.lock:
                self.stats.errors[f"HTTP {status}"] += 1
            raise Failed(f"HTTP {status}")
        try:
            answer = json.loads(data)
        except ValueError as exc:
            with self.stats.lock:
                self.stats.errors["bad JSON"] += 1
            raise Failed("bad JSON") from exc
        if is_error_answer(answer):
            with self.stats.lock:
                self.stats.errors["skill apology"] += 1
            raise Failed("skill apology")
        return answer

    def turn(self, user: User, envelope: dict[str, Any]) -> dict[str, Any]:
        answer = self.post(envelope)
        user.session.receive(answer)
        return answer

    def wrong(self, user: User, what: str) -> None:
        with self.stats.lock:
            self.stats.wrong.append(f"{user.session.user_id}: {what}")

    # ---- one session ---------------------------------------------------------------------

    def run_session(self, user: User) -> None:
        s, rng, expect = user.session, user.rng, user.expect
        s.session_id = None
        s.advance(2 * 3600)  # every session starts at its own time
        answer = self.turn(user, s.launch())
        expect.sessions += 1
        saved = expect.resume
        if saved is not None:
            title = LIBRARY.get(saved[0]).title
            if f"step {saved[1] + 1} of {title}" not in speech(answer):
                self.wrong(user, f"launch did not offer step {saved[1] + 1} of {title}: {speech(answer)[:120]}")
        roll = rng.random()
        if saved is not None and saved[1] + 2 < len(LIBRARY.get(saved[0]).steps) and roll < 0.25:
            flow = "resume-next-stop"
            s.advance(3)
            answer = self.turn(user, s.intent("AMAZON.YesIntent"))
            if (answer.get("sessionAttributes") or {}).get("player", {}).get("step") != saved[1]:
                self.wrong(user, f"yes did not restore step {saved[1]}")
            step, routine = saved[1] + 1, saved[0]
            s.advance(rng.uniform(3, 15))
            self.turn(user, s.intent("SkipIntent"))  # one step on, whatever side it is on
            self.stop(user, routine, step, ending="stop")
        elif roll < 0.35:
            flow = "question-only"
            s.advance(4)
            self.turn(user, s.intent("QuestionIntent", {"query": SlotValue(rng.choice(QUESTIONS))}))
            s.advance(3)
            self.turn(user, s.intent("AMAZON.StopIntent"))
        else:
            routine = rng.choice(ROUTINES)
            s.advance(4)
            self.turn(user, s.intent("StartRoutineIntent", {"routine": SlotValue(routine.title.lower(), routine.id, "ROUTINE")}))
            s.advance(rng.uniform(5, 20))  # hears the safety notes
            self.turn(user, s.intent("AMAZON.YesIntent"))
            expect.last_routine = routine.id
            nexts = rng.randint(1, 3)
            for _ in range(nexts):
                s.advance(rng.uniform(3, 15))
                self.turn(user, s.intent("SkipIntent"))  # one step on, whatever side it is on
            ending = rng.choice(["stop", "question-stop", "walk-away"])
            flow = f"routine-{ending}"
            self.stop(user, routine.id, nexts, ending)
        user.flows[flow] += 1

    def stop(self, user: User, routine_id: str, step: int, ending: str) -> None:
        s = user.session
        title = LIBRARY.get(routine_id).title
        if ending == "question-stop":
            s.advance(2)
            self.turn(user, s.intent("QuestionIntent", {"query": SlotValue(user.rng.choice(QUESTIONS))}))
            s.advance(3)
        else:
            s.advance(2)  # a second into the step's narration
        if ending == "walk-away":
            self.turn(user, s.ended("USER_INITIATED"))
        else:
            answer = self.turn(user, s.intent("AMAZON.StopIntent"))
            if f"step {step + 1}" not in speech(answer) or title not in speech(answer):
                self.wrong(user, f"stop did not name step {step + 1} of {title}: {speech(answer)[:120]}")
        user.expect.resume = (routine_id, step)
        user.expect.last_routine = routine_id


def run(port: int, users: list[User], stats: Stats, *, connections: int, warmup: float, duration: float,
        on_measure: Callable[[], None] = lambda: None, grace: float = 30.0,
        during: Callable[[float], None] | None = None) -> float:
    """Run the traffic; ``during(elapsed)`` is called about every 50 ms from this thread while it
    runs (for fault injection). Returns the measured seconds (after the warm-up)."""
    pool: queue.Queue[User] = queue.Queue()
    for user in users:
        pool.put(user)
    started = time.monotonic()
    measure_at, deadline = started + warmup, started + warmup + duration
    hard_stop = deadline + grace
    broken: list[User] = []

    def worker() -> None:
        client = Client(port, stats, hard_stop)
        while time.monotonic() < deadline:
            try:
                user = pool.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                client.run_session(user)
            except Failed:
                broken.append(user)  # the model no longer knows this user's state: retire it
            else:
                pool.put(user)

    threads = [threading.Thread(target=worker, name=f"load-{i}", daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    measured = False
    while any(t.is_alive() for t in threads) and time.monotonic() < hard_stop + 5:
        if not measured and time.monotonic() >= measure_at:
            on_measure()
            with stats.lock:
                stats.measuring = True
            measured = True
        if during is not None:
            during(time.monotonic() - started)
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=max(0.1, hard_stop + 5 - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "load threads did not finish in time"
    elapsed = time.monotonic() - measure_at
    for user in broken:
        user.expect.sessions = -1  # cannot be checked
    stats.broken = len(broken)
    return elapsed


def make_users(count: int, tag: str) -> list[User]:
    def ids(i: int) -> Callable[[], str]:
        counter = iter(range(10**9))
        return lambda: f"{tag}-{i}-{next(counter)}"

    return [User(Session(user_id=f"amzn1.ask.account.{tag}-{i:04d}", device_id=f"amzn1.ask.device.{tag}-{i:04d}",
                         ids=ids(i)), random.Random(i)) for i in range(count)]


def check_records(store: SqliteStore, users: list[User]) -> tuple[int, int, list[str]]:
    """(checked, corrupt, problems): every checkable user's record against the model."""
    checked = corrupt_count = 0
    problems: list[str] = []
    for user in users:
        if user.expect.sessions < 0:
            continue
        record, corrupt = store.load(user.session.user_id)
        checked += 1
        got = (record.resume.routine_id, record.resume.step_index) if record.resume else None
        issues = []
        if corrupt:
            corrupt_count += 1
            issues.append("was_corrupt")
        if got != user.expect.resume:
            issues.append(f"resume {got} != {user.expect.resume}")
        if len(record.sessions) != user.expect.sessions:
            issues.append(f"sessions {len(record.sessions)} != {user.expect.sessions}")
        if record.last_routine != user.expect.last_routine:
            issues.append(f"last_routine {record.last_routine} != {user.expect.last_routine}")
        if issues:
            problems.append(f"{user.session.user_id}: {'; '.join(issues)}")
    return checked, corrupt_count, problems


