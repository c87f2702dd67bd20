"""The backcoach simulator commands: say, dialog, talk and render, as a user runs them."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from skill.cli import main

CONVERSATIONS = sorted(Path("tests/conversations").glob("*.yaml"))


@pytest.mark.parametrize("script", CONVERSATIONS, ids=[p.stem for p in CONVERSATIONS])
def test_conversation_script(script):
    from skill.simulator.dialog import run
    from skill.simulator.driver import in_process

    outcome = run(script, in_process())
    assert outcome.passed, outcome.failure


def test_say_json_has_exactly_the_documented_shape(capsys, tmp_path):
    session = tmp_path / "s.json"
    assert main(["say", "open back coach", "--session", str(session), "--json"]) == 0
    capsys.readouterr()
    assert main(["say", "start the desk break", "--session", str(session), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"request", "response"}
    assert set(out["request"]) == {"type", "intent", "slots"}
    assert out["request"]["slots"] == {"routine": {"value": "desk break", "id": "desk-break"}}
    assert set(out["response"]) == {"speech", "ssml", "reprompt", "end_session"}
    assert out["response"]["ssml"].startswith("<speak>") and "<" not in out["response"]["speech"]
    assert out["response"]["end_session"] is False and out["response"]["reprompt"]


def test_say_session_file_keeps_user_and_session_between_calls(capsys, tmp_path):
    session = tmp_path / "s.json"
    main(["say", "open back coach", "--session", str(session)])
    first = json.loads(session.read_text())
    main(["say", "yes", "--session", str(session), "--json"])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    second = json.loads(session.read_text())
    assert first["user_id"] == second["user_id"] and first["session_id"] == second["session_id"]
    assert "Neck and shoulder release" in out["response"]["speech"]


def test_say_with_a_broken_session_file_says_so(capsys, tmp_path):
    session = tmp_path / "s.json"
    session.write_text("{not json")
    assert main(["say", "hello", "--session", str(session)]) == 1
    assert "not a session file" in capsys.readouterr().err


def test_dialog_prints_a_line_per_script_and_a_total(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: expects the wrong thing\nturns:\n  - user: open back coach\n    expect: {speech: 'goodbye forever'}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("turns: nope\n")
    code = main(["dialog", str(CONVERSATIONS[0]), str(bad), str(broken)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert lines[0].startswith("PASS ")
    assert lines[1].startswith("FAIL expects the wrong thing: turn 1")
    assert lines[2].startswith("FAIL ") and "needs 'turns'" in lines[2]
    assert lines[-1] == "1 passed, 2 failed"


def typed(monkeypatch, *lines: str) -> None:
    """Make input() return these lines, then end of input (Ctrl-D)."""
    pending = iter(lines)

    def fake_input(prompt=""):
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)


def test_talk_in_text_mode_reads_typed_lines(monkeypatch, capsys):
    typed(monkeypatch, "open back coach", "start the desk break", "exit")
    assert main(["talk", "--text", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "coach: Welcome to Back Coach" in out or "coach: Hi, this is Back Coach" in out
    assert "heard: IntentRequest StartRoutineIntent" in out
    assert "[session ended: USER_INITIATED]" in out


def test_talk_without_espeak_falls_back_to_text(monkeypatch, capsys):
    monkeypatch.setenv("BACKCOACH_NO_SPEECH", "1")
    typed(monkeypatch)
    assert main(["talk"]) == 0
    assert "(text only: local speech is off" in capsys.readouterr().out


def test_talk_saves_audio_per_turn(monkeypatch, capsys, tmp_path):
    from skill.simulator.speaker import open_speaker

    if open_speaker()[0] is None:
        pytest.skip("eSpeak NG is not installed")
    typed(monkeypatch, "open back coach")
    assert main(["talk", "--text", "--save-audio", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("turn-*.wav"))
    assert len(files) == 1
    with wave.open(str(files[0])) as audio:
        assert audio.getnframes() / audio.getframerate() > 5


def test_render_writes_the_whole_routine(capsys, tmp_path):
    from skill.simulator.speaker import open_speaker

    if open_speaker()[0] is None:
        pytest.skip("eSpeak NG is not installed")
    out = tmp_path / "routine.wav"
    assert main(["render", "neck-range-of-motion", "--out", str(out), "--speed", "20"]) == 0
    assert "step 7/7" in capsys.readouterr().err
    with wave.open(str(out)) as audio:
        assert audio.getnframes() / audio.getframerate() > 60


def test_render_unknown_routine_is_a_clear_error(capsys):
    assert main(["render", "nope"]) == 2
    assert "no routine 'nope'" in capsys.readouterr().err
