"""Conversation scripts: YAML turns with expectations, run through the simulator."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skill.core.datafiles import read_yaml
from skill.simulator.driver import Exchange, Simulator, SimulatorError, Transport
from skill.simulator.envelopes import Session


class ScriptError(ValueError):
    """A conversation script that cannot be run as written."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one script went: its name, and the first failure if any."""

    name: str
    failure: str | None

    @property
    def passed(self) -> bool:
        """Whether every turn met its expectations."""
        return self.failure is None


def load(path: Path) -> dict[str, Any]:
    """Read and check the shape of a script."""
    try:
        script = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(script, dict) or not isinstance(script.get("turns"), list) or not script["turns"]:
        raise ScriptError(f"{path}: needs 'turns', a list of {{user: ..., expect: ...}}")
    for number, turn in enumerate(script["turns"], 1):
        if not isinstance(turn, dict) or "user" not in turn:
            raise ScriptError(f"{path}: turn {number} needs 'user', the words said")
        said = turn["user"]
        if isinstance(said, bool):  # YAML reads a bare yes or no as a boolean
            said = "yes" if said else "no"
        if not isinstance(said, (str, int, float)) or not str(said).strip():
            raise ScriptError(f"{path}: turn {number} needs 'user', the words said")
        turn["user"] = str(said)
        unknown = set(turn) - {"user", "expect", "wait"}
        if unknown:
            raise ScriptError(f"{path}: turn {number} has unknown keys {sorted(unknown)}")
        expect = turn.get("expect") or {}
        if not isinstance(expect, dict):
            raise ScriptError(f"{path}: turn {number}: 'expect' must be a mapping")
        try:
            re.compile(str(expect.get("speech", "")))
            re.compile(str(expect.get("reprompt", "")))
        except re.error as exc:
            raise ScriptError(f"{path}: turn {number}: 'speech' is not a valid regex ({exc})") from exc
        if "wait" in turn and not isinstance(turn["wait"], (int, float)):
            raise ScriptError(f"{path}: turn {number}: 'wait' must be a number of seconds")
    return script


def _check(expect: dict[str, Any], exchange: Exchange) -> str | None:
    if "speech" in expect and not re.search(str(expect["speech"]), exchange.speech):
        return f"speech {exchange.speech!r} does not match /{expect['speech']}/"
    if "reprompt" in expect and not re.search(str(expect["reprompt"]), exchange.reprompt or ""):
        return f"reprompt {exchange.reprompt!r} does not match /{expect['reprompt']}/"
    if "end_session" in expect and bool(expect["end_session"]) != exchange.end_session:
        return f"end_session is {exchange.end_session}, expected {expect['end_session']}"
    summary = exchange.summary()["request"]
    if "intent" in expect and summary["intent"] != expect["intent"]:
        return f"intent {summary['intent']}, expected {expect['intent']}"
    for name, wanted in (expect.get("slots") or {}).items():
        got = summary["slots"].get(name)
        if got is None or str(wanted) not in (got["id"], got["value"]):
            return f"slot {name} is {got}, expected {wanted}"
    if "answer" in expect and exchange.answer != expect["answer"]:
        return f"answered by {exchange.answer!r}, expected the entry {expect['answer']!r}"
    if exchange.warnings:
        return "response broke Alexa limits: " + "; ".join(exchange.warnings)
    return None


def run(path: Path, transport: Transport) -> Outcome:
    """Run one script in a fresh session and report the first failed expectation."""
    script = load(path)
    name = str(script.get("name") or path.stem)
    # Fixed request ids make every run choose the same phrasings (the voice is seeded by request id);
    # a new user each run means nothing remembered from an earlier run changes the conversation.
    counter = itertools.count(1)
    session = Session(locale=str(script.get("locale") or "en-US"), user_id=f"amzn1.ask.account.dialog-{uuid.uuid4().hex}",
                      device_id="amzn1.ask.device.dialog", ids=lambda: f"{path.stem}-{next(counter)}")
    simulator = Simulator(transport, session)
    for number, turn in enumerate(script["turns"], 1):
        try:
            exchanges = simulator.say(turn["user"], turn.get("wait"))
        except SimulatorError as exc:
            return Outcome(name, f"turn {number} ({turn['user']!r}): {exc}")
        if not exchanges:
            return Outcome(name, f"turn {number} ({turn['user']!r}): nothing was sent (no session to exit)")
        problem = _check(turn.get("expect") or {}, exchanges[-1])
        if problem:
            return Outcome(name, f"turn {number} ({turn['user']!r}): {problem}")
    return Outcome(name, None)
