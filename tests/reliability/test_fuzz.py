"""Property-based fuzzing of request envelopes through the whole stack: no 500s, no crashes, valid responses.

Short by default; BACKCOACH_LONG=1 runs at least 10,000 generated cases per path.
"""

from __future__ import annotations

import json
import logging
import os
import string
from collections import Counter
from typing import Any

import pytest
from ask_sdk_model import ResponseEnvelope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill import interaction_model as models
from skill.alexa.builder import InvalidEnvelope, build_skill, invoke
from skill.simulator.envelopes import Session, SlotValue
from skill.simulator.checks import check_response
from skill.web import MAX_BODY_BYTES, create_app

LONG = bool(os.environ.get("BACKCOACH_LONG"))
CASES = 10_000 if LONG else 250
SKILL = build_skill(store=None)
INTENTS = [i["name"] for i in models.load("en-US")["interactionModel"]["languageModel"]["intents"]]
SLOT_TYPES = ["ROUTINE", "BODY_AREA", "EQUIPMENT", "TOPIC", None]
SEEN: Counter[str] = Counter()

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.printable, max_size=200),
    st.sampled_from(["desk-break", "neck", "PT5M", "P1D", "PT", "-5", "", " ", "\u202e", "💆"]),
    st.builds(lambda n: "x" * n, st.integers(1000, 12_000)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
player_states = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"v": st.sampled_from([1, 2, "1", None]),
         "routine": st.sampled_from(["desk-break", "neck-and-shoulders", "retired-routine", None, 5]),
         "step": st.one_of(st.integers(-3, 60), texts),
         "phase": st.integers(-1, 9), "elapsed": st.floats(allow_nan=True, allow_infinity=True),
         "pace": st.floats(allow_nan=True, allow_infinity=True), "paused": json_values,
         "awaiting": st.sampled_from(["safety", "continue", "offer", "another", "saved", "forget", "bogus", None]),
         "offer": st.sampled_from(["desk-break", "nope", None]),
         "last": st.one_of(st.none(), json_values, st.fixed_dictionaries({
             "sent_at": st.floats(allow_nan=True), "after": st.one_of(st.none(), st.integers(-2, 40)),
             "marks": st.one_of(json_values, st.just([10.0, [[0, 0.0, 10.0]], [[0, 0, None, 1, 0.0, 1.0, 5.0, 10.0]]]))}))},
    ),
)


def _nest(depth: int) -> Any:
    node: Any = {}
    for _ in range(depth):
        node = {"x": node}
    return node


hostile_attributes = st.one_of(
    st.builds(lambda d: {"player": _nest(d)}, st.integers(30, 600)),
    st.builds(lambda n, k: {"player": {"routine": "desk-break", "seen": ["s" * k] * n}},
              st.integers(1, 150), st.integers(1, 2000)),
    st.builds(lambda k: {"player": {"answer": "a" * k}}, st.integers(50, 120_000)),
    st.fixed_dictionaries({"player": st.fixed_dictionaries({
        "routine": st.just("desk-break"),
        "last": st.fixed_dictionaries({"sent_at": st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e300]),
                                        "marks": st.just([0.0, [], []]), "after": st.just(1)})})}),
    st.builds(lambda k: {"last_speech": {"speech": "<audio src='x'/>" * k, "reprompt": ""}}, st.integers(1, 300)),
)
"""Attributes only a forged or verification-off request could carry: deep, huge, NaN, foreign SSML."""


@st.composite
def slots(draw) -> dict[str, SlotValue]:
    names = draw(st.lists(st.sampled_from(["routine", "area", "equipment", "duration", "query", "topic", "zz"]), max_size=4))
    return {n: SlotValue(draw(texts), draw(st.one_of(st.none(), texts)), draw(st.sampled_from(SLOT_TYPES))) for n in names}


def _mutate(node: Any, draw, depth: int = 0) -> Any:
    """Delete, retype or add fields at random depth."""
    if not isinstance(node, dict) or depth > 4:
        return node
    out = {}
    for key, value in node.items():
        roll = draw(st.integers(0, 19))
        if roll == 0:
            continue  # missing field
        if roll == 1:
            out[key] = draw(json_values)  # wrong type
            continue
        out[key] = _mutate(value, draw, depth + 1)
    if draw(st.integers(0, 9)) == 0:
        out[draw(st.text(max_size=10))] = draw(json_values)  # extra field
    return out


@st.composite
def envelopes(draw) -> dict[str, Any]:
    session = Session(locale=draw(st.sampled_from(["en-US", "en-GB", "en-IN", "fr-FR", "xx-XX", ""])),
                      ids=lambda: "fuzz")
    kind = draw(st.sampled_from(["launch", "intent", "intent", "intent", "ended", "other"]))
    if kind == "launch":
        envelope = session.launch()
    elif kind == "intent":
        name = draw(st.one_of(st.sampled_from(INTENTS), texts))
        envelope = session.intent(name, draw(slots()))
    elif kind == "ended":
        envelope = session.ended(draw(st.sampled_from(["USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS", "x"])))
    else:
        envelope = session.envelope({"type": draw(st.one_of(texts, st.sampled_from(
            ["Alexa.Presentation.APL.UserEvent", "AudioPlayer.PlaybackStarted", "CanFulfillIntentRequest",
             "Connections.Response", "AlexaSkillEvent.SkillEnabled"])))})
    envelope["session"]["new"] = draw(st.booleans())
    if draw(st.booleans()):
        envelope["session"]["attributes"] = {"player": draw(player_states), "last_speech": draw(json_values)}
    if draw(st.integers(0, 5)) == 0:
        envelope["session"]["attributes"] = draw(hostile_attributes)
    if draw(st.integers(0, 7)) == 0:
        envelope["request"]["timestamp"] = draw(st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]))
    if draw(st.integers(0, 3)) == 0:
        envelope["context"]["System"]["device"] = draw(st.sampled_from([{}, {"deviceId": "d"}, None]))
    if draw(st.integers(0, 7)) == 0:
        envelope.pop("context", None)
    SEEN[envelope["request"].get("type", "?")[:30]] += 1
    if draw(st.integers(0, 2)) == 0:
        envelope = _mutate(envelope, draw)
    return envelope


class _Errors(logging.Handler):
    """Counts exceptions the skill's error handler caught: each one is a bug, even if answered."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


ERRORS = _Errors()
logging.getLogger("backcoach.skill").addHandler(ERRORS)


def _no_caught_exceptions() -> None:
    caught, ERRORS.records[:] = list(ERRORS.records), []
    assert not caught, [f"{r.exc_info[0].__name__}: {r.exc_info[1]}" for r in caught]


def _assert_valid(raw: dict[str, Any]) -> None:
    envelope = SKILL.serializer.deserialize(json.dumps(raw), ResponseEnvelope)
    assert isinstance(envelope, ResponseEnvelope)
    assert check_response(raw) == []


FUZZ = settings(max_examples=CASES, deadline=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@FUZZ
@given(envelope=envelopes())
def test_in_process_never_crashes_and_answers_within_limits(envelope):
    try:
        raw = invoke(SKILL, envelope)
    except InvalidEnvelope:
        SEEN["rejected in-process"] += 1
        return
    _assert_valid(raw)
    _no_caught_exceptions()


APP = create_app(verify=False, skill=SKILL).test_client()


@FUZZ
@given(envelope=envelopes())
def test_over_http_never_500_and_answers_within_limits(envelope):
    try:
        body = json.dumps(envelope)
    except (RecursionError, ValueError):  # too deep even to write down: nothing to send
        return
    reply = APP.post("/", data=body, content_type="application/json")
    if len(body.encode()) > MAX_BODY_BYTES:  # hostile attributes can pass the cap: refused unread
        assert reply.status_code == 413, reply.status_code
        return
    assert reply.status_code in (200, 400), reply.status_code
    SEEN[f"http {reply.status_code}"] += 1
    if reply.status_code == 200:
        _assert_valid(reply.get_json())
    _no_caught_exceptions()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nfuzz cases by kind: {dict(SEEN.most_common())}")


@pytest.mark.parametrize(
    "payload",
    [
        {"__dict__": {}},
        {"request": {"type": "LaunchRequest"}, "__dict__": 5},
        {"session": {"__dict__": {}}, "request": {"type": "LaunchRequest"}},
        {"request": {"type": "IntentRequest"}},
        {"request": {"type": "IntentRequest", "intent": {"name": "__dict__"}}},
        {"request": {"type": "IntentRequest", "intent": {"name": "AMAZON.NavigateHomeIntent"}}},
        Session(ids=lambda: "x").intent("StartRoutineIntent", {"routine": SlotValue("\x1f\ud800", None, "ROUTINE")}),
        Session(ids=lambda: "x").intent("StartRoutineIntent", {"routine": SlotValue("x" * 7667, None, "ROUTINE")}),
    ],
)
def test_shapes_fuzzing_found_are_refused_or_answered(payload):
    try:
        raw = invoke(SKILL, payload)
    except InvalidEnvelope:
        return
    _assert_valid(raw)
    _no_caught_exceptions()
