"""The web service through its real HTTP stack, and the Lambda handler: same bodies, bad requests refused."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from skill.alexa.builder import default_skill, invoke
from skill.core.limits import MAX_RESPONSE_BYTES
from skill.simulator.envelopes import Session
from skill.web import MAX_BODY_BYTES, create_app
from skill.web.verifier import RequestVerifier
from tests.web.certs import GOOD_URL, NOW, SKILL_ID, pki, sign, signed

ROOT = Path(__file__).resolve().parents[2]
OTHER_URL = "https://s3.amazonaws.com/echo.api/other.pem"
CHAINS = {GOOD_URL: lambda: pki().chain}


def _verifier(chains: dict | None = None) -> RequestVerifier:
    table = {GOOD_URL: pki().chain, **(chains or {})}
    return RequestVerifier(skill_ids={SKILL_ID}, roots=[pki().root], clock=lambda: NOW, fetch=lambda url, timeout: table[url])


@pytest.fixture
def client():
    return create_app(verifier=_verifier(), skill_ids={SKILL_ID}).test_client()


def _session(user: str = "web") -> Session:
    return Session(application_id=SKILL_ID, user_id=f"amzn1.ask.account.{user}", device_id="amzn1.ask.device.web",
                   ids=lambda: "fixed")


def _post(client, envelope: dict | bytes, **overrides):
    headers, body = signed(envelope)
    headers.update(overrides.pop("headers", {}))
    return client.post("/", data=overrides.pop("body", body), headers=headers)


def test_valid_request_gets_the_same_body_as_in_process(client):
    over_http, in_process = _session("first-a").launch(), _session("first-b").launch()
    reply = _post(client, over_http)
    assert reply.status_code == 200
    assert reply.get_json() == invoke(default_skill(), in_process)


def test_lambda_handler_gives_the_same_body(monkeypatch):
    from skill import lambda_function

    lambda_function._skill.cache_clear()
    monkeypatch.setenv("BACKCOACH_SKILL_ID", SKILL_ID)
    for a, b in ((_session("l1").launch(), _session("l2").launch()),
                 (_session("l3").intent("ListRoutinesIntent"), _session("l4").intent("ListRoutinesIntent"))):
        assert lambda_function.lambda_handler(a, None) == invoke(default_skill(), b)


def test_lambda_refuses_another_skill_and_needs_an_id(monkeypatch):
    from skill import lambda_function

    lambda_function._skill.cache_clear()
    monkeypatch.setenv("BACKCOACH_SKILL_ID", SKILL_ID)
    with pytest.raises(Exception, match="(?i)skill id"):
        lambda_function.lambda_handler(Session(application_id="amzn1.ask.skill.other").launch(), None)
    lambda_function._skill.cache_clear()
    monkeypatch.delenv("BACKCOACH_SKILL_ID")
    with pytest.raises(RuntimeError, match="BACKCOACH_SKILL_ID"):
        lambda_function.lambda_handler(_session().launch(), None)
    lambda_function._skill.cache_clear()


def _stale():
    envelope = _session().launch()
    envelope["request"]["timestamp"] = "2026-11-22T07:57:29Z"
    return envelope


def _future():
    envelope = _session().launch()
    envelope["request"]["timestamp"] = "2026-11-22T08:02:31Z"
    return envelope


BAD_URLS = [
    "http://s3.amazonaws.com/echo.api/echo-api-cert-12.pem",
    "https://notamazon.com/echo.api/echo-api-cert-12.pem",
    "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-12.pem",
    "https://s3.amazonaws.com/invalid.path/echo-api-cert-12.pem",
    "https://s3.amazonaws.com:563/echo.api/echo-api-cert-12.pem",
    "https://s3.amazonaws.com/echo.api/../invalid.pem",
]


def _cases():
    launch = _session().launch()
    body = json.dumps(launch).encode()
    return {
        "missing Signature-256": dict(headers={"Signature-256": ""}),
        "missing SignatureCertChainUrl": dict(headers={"SignatureCertChainUrl": ""}),
        "malformed base64": dict(headers={"Signature-256": "not base64!!"}),
        "tampered body": dict(body=body.replace(b"LaunchRequest", b"IntentRequest")),
        "signature from another key": dict(headers={"Signature-256": sign(body, pki().other_key)}),
        **{f"bad url {u}": dict(headers={"SignatureCertChainUrl": u}) for u in BAD_URLS},
        "expired chain": dict(headers={"SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/expired.pem"}),
        "self-signed chain": dict(headers={"SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/self.pem"}),
        "wrong SAN": dict(headers={"SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/san.pem"}),
    }


@pytest.fixture
def strict():
    chains = {
        "https://s3.amazonaws.com/echo.api/expired.pem": pki().expired_chain,
        "https://s3.amazonaws.com/echo.api/self.pem": pki().self_signed_chain,
        "https://s3.amazonaws.com/echo.api/san.pem": pki().wrong_san_chain,
    }
    return create_app(verifier=_verifier(chains), skill_ids={SKILL_ID}).test_client()


@pytest.mark.parametrize("case", list(_cases()))
def test_every_bad_request_gets_400_and_no_reason_in_the_body(strict, case, caplog):
    with caplog.at_level(logging.WARNING, logger="backcoach.web"):
        reply = _post(strict, _session().launch(), **dict(_cases()[case]))
    assert reply.status_code == 400, case
    assert reply.get_json() == {"error": "Bad Request"}
    assert any("refused request" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    ("name", "envelope"),
    [("stale timestamp", _stale()), ("future timestamp", _future()),
     ("wrong skill id", Session(application_id="amzn1.ask.skill.other", ids=lambda: "x").launch())],
)
def test_time_and_skill_id_are_checked(client, name, envelope):
    assert _post(client, envelope).status_code == 400, name


def test_non_json_and_non_utf8_bodies(client):
    for body in (b"not json", b"\xff\xfe\x00", b"[1, 2]", b""):
        headers = {"Signature-256": sign(body), "SignatureCertChainUrl": GOOD_URL}
        assert client.post("/", data=body, headers=headers).status_code == 400


def test_wrong_method_and_oversize_body(client):
    reply = client.get("/")
    assert reply.status_code == 405 and "POST" in reply.headers["Allow"]
    assert client.put("/").status_code == 405
    assert client.post("/", data=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413


def test_valid_url_then_invalid_url_is_not_served_from_cache(client):
    assert _post(client, _session().launch()).status_code == 200
    bad = "https://s3.amazonaws.com/echo.api/../invalid.pem"
    assert _post(client, _session().launch(), headers={"SignatureCertChainUrl": bad}).status_code == 400


def test_health_does_not_touch_the_skill():
    from skill.alexa.builder import build_skill

    skill = build_skill()

    def explode(*args, **kwargs):
        raise AssertionError("the skill was touched")

    skill.invoke = explode
    app = create_app(verify=False, skill=skill)
    reply = app.test_client().get("/health")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}


def test_without_verification_a_warning_is_logged_and_bad_bodies_are_still_400(caplog):
    with caplog.at_level(logging.WARNING, logger="backcoach.web"):
        app = create_app(verify=False, skill_ids=set())
    assert any("verification is OFF" in r.message for r in caplog.records)
    client = app.test_client()
    assert client.post("/", data=b"{").status_code == 400
    assert client.post("/", data=json.dumps({"request": 5}).encode()).status_code == 400
    assert client.post("/", data=json.dumps({"version": "1.0", "request": {"type": "LaunchRequest"}}).encode()).status_code in (200, 400)
    assert client.post("/", json=Session().launch()).status_code == 200


def test_live_server_on_loopback_answers_like_in_process():
    from skill.simulator.driver import Simulator, in_process, over_http

    app = create_app(verify=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        remote = Simulator(over_http(url), Session(user_id="u-remote", ids=lambda: "same"))
        local = Simulator(in_process(), Session(user_id="u-local", ids=lambda: "same"))
        for line in ("open back coach", "start the desk break", "yes", "how long is left"):
            assert remote.say(line)[-1].response == local.say(line)[-1].response
    finally:
        server.shutdown()


def test_flask_ask_sdk_imports_on_current_openssl():
    code = "import skill.web, flask_ask_sdk.skill_adapter as a; print(a.SkillAdapter.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "SkillAdapter"


def test_sam_template_passes_cfn_lint():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _nested(depth: int) -> dict:
    deep: dict = {}
    node = deep
    for _ in range(depth):
        node["x"] = {}
        node = node["x"]
    return deep


@pytest.mark.parametrize("where", ["body", "attributes"])
def test_deeply_nested_bodies_get_400_with_verification_off(where):
    from skill.web import create_app

    client = create_app(verify=False).test_client()
    envelope = _session().launch()
    if where == "body":  # 1,000 levels: too deep even for json.dumps, so written out by hand
        envelope["request"]["extra"] = "DEEP"
        body = json.dumps(envelope).replace('"DEEP"', '{"x": ' * 1000 + "{}" + "}" * 1000)
    else:
        envelope["session"]["attributes"] = {"player": _nested(500)}
        body = json.dumps(envelope)
    reply = client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400


def test_lambda_refuses_deep_events_and_answers_envelopes_without_context(monkeypatch):
    from skill import lambda_function

    lambda_function._skill.cache_clear()
    monkeypatch.setenv("BACKCOACH_SKILL_ID", SKILL_ID)
    deep = _session().launch()
    deep["session"]["attributes"] = {"player": _nested(500)}
    assert lambda_function.lambda_handler(deep, None) == {"version": "1.0", "response": {"shouldEndSession": True}}
    bare = _session().launch()
    del bare["context"]
    answered = lambda_function.lambda_handler(bare, None)
    assert answered["response"]["outputSpeech"]["ssml"].startswith("<speak>")
    lambda_function._skill.cache_clear()


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_an_impossible_timestamp_is_answered_with_the_recap(stamp):
    envelope = _session().intent("ProgressIntent")
    envelope["request"]["timestamp"] = stamp
    said = invoke(default_skill(), envelope)["response"]["outputSpeech"]["ssml"]
    assert "wrong on my side" not in said and "Sorry, something went wrong" not in said


@pytest.mark.parametrize(
    "attributes",
    [
        {"player": {"routine": "desk-break", "seen": ["x" * 1000] * 100}},
        {"player": {"answer": "x" * 100_000}},
        {"player": {"routine": "desk-break", "last": {"sent_at": float("nan"), "marks": [0.0, [], []], "after": 1}}},
        {"player": {"routine": "desk-break", "last": {"sent_at": float("inf"), "marks": [0.0, [], []], "after": 1}}},
        {"last_speech": {"speech": "<audio src='x'>" * 50, "reprompt": ""}},
    ],
    ids=["big-seen", "big-answer", "nan", "infinity", "broken-ssml"],
)
def test_the_skills_own_attributes_are_checked_on_the_way_back_in(attributes):
    from skill.web import create_app

    client = create_app(verify=False).test_client()
    envelope = _session().intent("AMAZON.RepeatIntent")
    envelope["session"]["attributes"] = attributes
    body = json.dumps(envelope)  # NaN and Infinity travel as the JavaScript literals
    reply = client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert len(text.encode()) < MAX_RESPONSE_BYTES and "NaN" not in text and "Infinity" not in text
    assert "<audio" not in json.loads(text)["response"]["outputSpeech"]["ssml"]


def test_a_response_that_would_pass_24_kb_keeps_the_position_and_drops_the_rest(monkeypatch):
    from skill.alexa import interceptors

    # Bounded attributes cannot reach 24 KB on their own any more, so the limit is lowered to
    # where these do: the guard must drop what Repeat keeps, then the narration timing.
    monkeypatch.setattr(interceptors, "MAX_RESPONSE_BYTES", 6 * 1024)
    marks = [100.0, [[0, float(i), float(i + 1)] for i in range(200)],
             [[0, 0, None, 1, float(i), float(i + 1), 5.0, 10.0] for i in range(200)]]
    envelope = _session().intent("ProgressIntent")
    envelope["session"]["attributes"] = {
        "player": {"routine": "desk-break", "step": 1, "last": {"sent_at": 1.0e9, "marks": marks, "after": 1}},
        "last_speech": {"speech": "word " * 390, "reprompt": "What next?"},
    }
    raw = invoke(default_skill(), envelope)
    assert len(json.dumps(raw).encode()) < 6 * 1024
    player = raw["sessionAttributes"]["player"]
    assert player["routine"] == "desk-break" and player["step"] == 1
    assert player["last"] is None and "last_speech" not in raw["sessionAttributes"]
