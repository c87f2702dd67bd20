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


def test_soundbank_chimes_become_local_tones_of_the_same_length():
    from skill.core.sounds import Chime, load_sounds
    from skill.simulator.ssml_reader import Chime as ChimePiece

    begin = load_sounds()[Chime.BEGIN]
    pieces = read(f'<speak>Get ready. <audio src="{begin.src}"/> Begin.</speak>')
    assert pieces[1] == ChimePiece(begin.src, begin.seconds, begin.tone)
    assert read('<speak><audio src="soundbank://soundlibrary/made/up_01"/></speak>') == []


def test_tones_are_generated_once_and_cached_without_any_download(tmp_path, monkeypatch):
    from skill.simulator import speaker as module

    monkeypatch.setenv("BACKCOACH_TONES", str(tmp_path))
    module.tone.cache_clear()
    frames = module.tone((660.0, 880.0), 0.5)
    assert len(frames) == 2 * round(0.5 * SAMPLE_RATE)
    cached = list(tmp_path.glob("chime-*.wav"))
    assert len(cached) == 1
    module.tone.cache_clear()
    assert module.tone((660.0, 880.0), 0.5) == frames  # read back from the cache file
    loudest = max(abs(v) for v in memoryview(frames).cast("h"))
    assert 3000 < loudest < 32767
    module.tone.cache_clear()


def test_espeak_is_driven_at_the_planners_speaking_rate(speaker, book, library):
    from skill.core.timeline import SegmentKind

    timeline = Planner(Voice(book, random.Random(0))).compile(Program.of(library.get("foam-roller-upper-back")))
    texts = [s.text for s in timeline.segments if s.kind is SegmentKind.SPEECH][:40]
    errors = []
    for text in texts:
        frames = speaker._synthesize(Speech(text))
        errors.append(len(frames) / 2 / SAMPLE_RATE - speaker.estimate.seconds(text))
    assert max(abs(e) for e in errors) < 0.5, errors
    assert abs(sum(errors)) < 0.05 * sum(speaker.estimate.seconds(t) for t in texts)


def test_a_rendered_routine_lasts_its_plan_and_no_set_up_silence_is_far_off(speaker, tmp_path):
    """The issue's WAV test: the whole neck range of motion routine as the skill narrates it, chimes included."""
    from skill.cli.simulator import routine_pieces
    from skill.simulator.ssml_reader import Chime as ChimePiece

    pieces = routine_pieces("Neck range of motion", progress=False)
    assert any(isinstance(p, ChimePiece) for p in pieces)
    report = speaker.write_wav_with_report(pieces, tmp_path / "neck.wav")
    with wave.open(str(tmp_path / "neck.wav")) as audio:
        assert audio.getnframes() / SAMPLE_RATE == pytest.approx(report.rendered, abs=0.001)
    assert report.planned > 240
    assert abs(report.rendered - report.planned) <= 0.03 * report.planned, report
    assert report.worst_silence <= 1.5, report


@pytest.mark.parametrize("routine_id", ["bedtime-wind-down", "upper-back-tennis-ball"])
def test_what_local_speech_expects_to_hear_is_what_the_planner_planned(book, library, routine_id):
    """Prosody and chimes read back from the SSML take exactly the time the timeline gave them."""
    from skill.core.planner import PlanOptions
    from skill.core.ssml import chunk
    from skill.core.timeline import SpeechRate
    from skill.simulator.ssml_reader import seconds

    timeline = Planner(Voice(book, random.Random(2)), PlanOptions(chimes=True, speech_rate=0.9)).compile(
        Program.of(library.get(routine_id)), intro=True
    )
    heard = sum(seconds(read(speak(part.body)), SpeechRate()) for part in chunk(timeline))
    assert heard == pytest.approx(timeline.duration, rel=0.002)
