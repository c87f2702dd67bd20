"""SSML read back as speech and silence, and rendered by eSpeak NG with the planned timing."""

from __future__ import annotations

import random
import wave

import pytest

from skill.core.phrases import Voice
from skill.core.planner import Planner
from skill.core.program import Program
from skill.core.ssml import render_segments, speak
from skill.simulator.speaker import SAMPLE_RATE, open_speaker
from skill.simulator.ssml_reader import Silence, Speech, plain_text, read


def test_breaks_become_silence_of_the_right_length():
    pieces = read('<speak>Hold. <break time="10000ms"/><break time="2500ms"/> Release. <break time="1s"/></speak>')
    assert pieces == [Speech("Hold."), Silence(12.5), Speech("Release."), Silence(1.0)]


def test_say_as_prosody_emphasis_and_unknown_tags():
    pieces = read(
        '<speak><say-as interpret-as="digits">123</say-as> <prosody rate="slow">easy now</prosody> '
        '<emphasis level="strong">stop</emphasis> <amazon:effect name="whispered">soft</amazon:effect> '
        '<sub alias="three">3</sub><audio src="https://x/y.mp3"/><p>Para</p></speak>'
    )
    assert pieces[0] == Speech("1 2 3")
    assert Speech("easy now", 0.8) in pieces
    assert any(isinstance(p, Speech) and p.text == "stop" and p.rate < 1 for p in pieces)
    assert "soft three" in plain_text(pieces)
    assert isinstance(pieces[-1], Silence) and pieces[-1].seconds == 0.75


def test_strength_breaks_and_broken_ssml_do_not_crash():
    assert read('<speak>a<break strength="strong"/>b</speak>')[1] == Silence(1.0)
    assert plain_text(read("<speak>unclosed <b>")) == "unclosed"
    assert read("") == []


@pytest.fixture(scope="module")
def speaker():
    speaker, reason = open_speaker()
    if speaker is None:
        pytest.skip(reason)
    return speaker


def test_wav_of_a_step_lasts_its_planned_duration(speaker, book, library, tmp_path):
    planner = Planner(Voice(book, random.Random(3)))
    routine = library.get("neck-and-shoulders")
    for index in (3, 4):
        timeline = planner.compile(Program.of(routine), [index], tail=False)
        path = tmp_path / f"step{index}.wav"
        seconds = speaker.write_wav(read(speak(render_segments(timeline.segments))), path)
        with wave.open(str(path)) as audio:
            assert audio.getframerate() == SAMPLE_RATE
            measured = audio.getnframes() / SAMPLE_RATE
        assert measured == pytest.approx(seconds)
        assert measured == pytest.approx(timeline.duration, rel=0.03), (index, measured, timeline.duration)


def test_speed_shortens_only_the_silences(speaker, tmp_path):
    from skill.simulator.speaker import Speaker

    pieces = read('<speak>One. <break time="8s"/> Two.</speak>')
    normal = speaker.write_wav(pieces, tmp_path / "a.wav")
    quick = Speaker(speed=4.0).write_wav(pieces, tmp_path / "b.wav")
    assert normal - quick == pytest.approx(6.0, abs=0.3)


def test_no_espeak_falls_back_with_a_one_line_reason(monkeypatch):
    monkeypatch.setenv("BACKCOACH_NO_SPEECH", "1")
    speaker, reason = open_speaker()
    assert speaker is None and "\n" not in reason and "off" in reason
