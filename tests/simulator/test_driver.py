"""The simulated device: sessions like Alexa's, timestamps, response checks, HTTP transport."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from skill.alexa.builder import default_skill, invoke
from skill.simulator.envelopes import Session, SlotValue
from skill.simulator.checks import check_response
from skill.simulator.driver import (
    ANSWER_DELAY,
    LISTEN_WINDOW,
    Simulator,
    SimulatorError,
    in_process,
    over_http,
)


def _sim(transport=None) -> tuple[Simulator, list[dict]]:
    sent: list[dict] = []
    inner = transport or in_process()

    def record(envelope):
        sent.append(envelope)
        return inner(envelope)

    return Simulator(record, Session()), sent


def _stamp(envelope) -> datetime:
    return datetime.fromisoformat(envelope["request"]["timestamp"].replace("Z", "+00:00"))


def test_session_new_flag_ids_and_attributes_carry_between_turns():
    sim, sent = _sim()
    sim.say("open back coach")
    sim.say("start the desk break")
    first, second = sent
    assert first["session"]["new"] is True and second["session"]["new"] is False
    assert first["session"]["sessionId"] == second["session"]["sessionId"]
    assert second["session"]["attributes"]["player"]["awaiting"] == "offer"
    assert first["context"]["System"]["device"]["deviceId"] == second["context"]["System"]["device"]["deviceId"]
    assert first["session"]["user"]["userId"] == second["context"]["System"]["user"]["userId"]
    assert first["request"]["locale"] == "en-US"


def test_timestamps_advance_by_the_time_the_answer_takes_to_say():
    sim, sent = _sim()
    sim.say("open back coach")
    spoken = sim.speech_seconds
    assert spoken > 5
    sim.say("yes")
    gap = (_stamp(sent[1]) - _stamp(sent[0])).total_seconds()
    assert gap == pytest.approx(spoken + ANSWER_DELAY, abs=1.0)
    sim.say("next", wait=3)
    assert (_stamp(sent[2]) - _stamp(sent[1])).total_seconds() == pytest.approx(3, abs=1.0)


def test_exit_sends_session_ended_and_closes():
    sim, sent = _sim()
    sim.say("open back coach")
    exchange = sim.say("exit")[-1]
    assert sent[-1]["request"] == {**sent[-1]["request"], "type": "SessionEndedRequest", "reason": "USER_INITIATED"}
    assert exchange.speech == "" and not sim.session.open


def test_unanswered_reprompt_times_the_session_out():
    sim, sent = _sim()
    sim.say("open back coach")
    exchanges = sim.say("start the desk break", wait=sim.speech_seconds + 2 * LISTEN_WINDOW + 5)
    assert sent[1]["request"]["type"] == "SessionEndedRequest"
    assert sent[1]["request"]["reason"] == "EXCEEDED_MAX_REPROMPTS"
    assert sent[2]["session"]["new"] is True
    assert exchanges[-1].note and "ask back coach" in exchanges[-1].note


def test_should_end_session_closes_the_session():
    sim, _ = _sim()
    sim.say("open back coach")
    sim.say("stop")
    assert not sim.session.open


def _bad(response_body):
    return lambda envelope: {"version": "1.0", "response": response_body}


@pytest.mark.parametrize(
    ("body", "warning"),
    [
        ({"outputSpeech": {"type": "SSML", "ssml": '<speak>x<break time="12s"/></speak>'}, "shouldEndSession": True}, "over the 10s limit"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak>" + "a " * 4100 + "</speak>"}, "shouldEndSession": True}, "over the 8000 limit"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak><blink>x</blink></speak>"}, "shouldEndSession": True}, "unsupported SSML tag <blink>"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak>open <b></speak>"}, "shouldEndSession": True}, "not well formed"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak>hi</speak>"}, "shouldEndSession": False}, "without a reprompt"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak>hi</speak>"}, "card": {"type": "Simple", "content": "x" * 30000}}, "byte limit"),
        ({"directives": "not a list", "shouldEndSession": True}, "does not read as an ASK SDK ResponseEnvelope"),
        ({"outputSpeech": ["not", "an", "object"], "shouldEndSession": True}, "outputSpeech: not an object"),
        ({"outputSpeech": {"type": "SSML", "ssml": "<speak>hi</speak>"}, "reprompt": ["x"], "shouldEndSession": False}, "reprompt is not an object"),
        ({"outputSpeech": {"type": "PlainText", "text": 42}, "shouldEndSession": True}, "speech is not a string"),
    ],
)
def test_every_response_is_checked_with_a_visible_warning(body, warning):
    sim = Simulator(_bad(body), Session())
    exchange = sim.say("open back coach")[-1]
    assert any(warning in w for w in exchange.warnings), exchange.warnings


def test_real_responses_pass_every_check():
    sim, _ = _sim()
    for line in ("open back coach", "start the upper back tennis ball release", "yes", "keep going", "keep going"):
        for exchange in sim.say(line):
            assert check_response(exchange.response) == []


def test_intents_go_to_the_skill_with_their_slots_as_given_past_the_understanding():
    sim, sent = _sim()
    sim.launch()
    exchange = sim.intent("StartRoutineIntent", {"routine": SlotValue("desk break", "desk-break", "ROUTINE")})
    assert exchange.heard is None and not exchange.warnings
    slot = sent[-1]["request"]["intent"]["slots"]["routine"]
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == "desk-break"
    assert exchange.response["sessionAttributes"]["player"]["routine"] == "desk-break"
    ended = sim.send(sim.session.ended("USER_INITIATED"))
    assert ended.request["request"]["type"] == "SessionEndedRequest" and not sim.session.open


def test_a_locale_without_an_interaction_model_can_still_be_sent_intents():
    sim = Simulator(in_process(), Session(locale="fr-FR"))
    assert sim.launch().speech and sim.nlu is None


class _SkillOverHttp(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/broken":
            self.send_response(500)
            self.end_headers()
            return
        reply = json.dumps(invoke(default_skill(), body.decode())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _SkillOverHttp)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_skill_can_be_reached_over_http(server):
    local = Simulator(in_process(), Session(user_id="u-local", ids=lambda: "same"))
    remote = Simulator(over_http(server + "/"), Session(user_id="u-remote", ids=lambda: "same"))
    for line in ("open back coach", "start the desk break", "yes"):
        assert remote.say(line)[-1].speech == local.say(line)[-1].speech


def test_http_errors_are_reported_not_raised_raw(server):
    with pytest.raises(SimulatorError, match="HTTP 500"):
        Simulator(over_http(server + "/broken"), Session()).say("open back coach")
    with pytest.raises(SimulatorError, match="cannot reach"):
        Simulator(over_http("http://127.0.0.1:9/"), Session()).say("open back coach")
