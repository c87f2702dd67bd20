"""SSML checks accept Amazon's sound-library chimes and calm prosody, and warn about anything Alexa would not play."""

from __future__ import annotations

import pytest

from skill.core.sounds import Chime, load_sounds
from skill.core.ssml import MAX_AUDIO_TAGS, check_ssml
from skill.simulator.checks import check_response


def _audio(chime: Chime) -> str:
    return f'<audio src="{load_sounds()[chime].src}"/>'


def test_chimes_and_prosody_from_the_planner_pass():
    ssml = f'<speak><prosody rate="85%">Get ready. {_audio(Chime.BEGIN)} Begin.</prosody> {_audio(Chime.RELEASE)}</speak>'
    assert check_ssml(ssml, "out") == []
    assert check_ssml('<speak><prosody rate="slow" volume="-3dB" pitch="+5%">calm</prosody></speak>', "out") == []


@pytest.mark.parametrize(
    ("ssml", "warning"),
    [
        ('<speak><audio src="https://example.com/bell.mp3"/></speak>', "not from Amazon's sound library"),
        ('<speak><audio src="http://example.com/bell.mp3"/></speak>', "must be an Amazon soundbank URL"),
        ('<speak><audio src="soundbank://soundlibrary/made/up_01"/></speak>', "not one of the chimes"),
        ('<speak><prosody rate="10%">too slow</prosody></speak>', "at least 20%"),
        ('<speak><prosody rate="fastest">no</prosody></speak>', "not a rate word"),
        ('<speak><prosody speed="90%">no</prosody></speak>', "unsupported <prosody> attribute"),
        ('<speak><prosody volume="+200%">no</prosody></speak>', "not a value Alexa takes"),
        ('<speak><amazon:emotion name="excited" intensity="low">yay</amazon:emotion></speak>', "not supported in every locale"),
        ('<speak><amazon:domain name="news">news</amazon:domain></speak>', "not supported in every locale"),
        ('<speak><blink>hi</blink></speak>', "unsupported SSML tag <blink>"),
    ],
)
def test_anything_alexa_would_not_play_everywhere_is_a_warning(ssml, warning):
    problems = check_ssml(ssml, "outputSpeech")
    assert any(warning in p for p in problems), problems


def test_more_than_five_audio_tags_is_a_warning():
    ssml = "<speak>" + " ".join(_audio(Chime.BEGIN) for _ in range(MAX_AUDIO_TAGS + 1)) + "</speak>"
    assert any("6 <audio> tags" in p for p in check_ssml(ssml, "out"))
    ok = "<speak>" + " ".join(_audio(Chime.BEGIN) for _ in range(MAX_AUDIO_TAGS)) + "</speak>"
    assert check_ssml(ok, "out") == []


def test_the_simulator_checks_every_response_the_same_way():
    envelope = {"version": "1.0", "response": {
        "outputSpeech": {"type": "SSML", "ssml": '<speak><audio src="https://example.com/x.mp3"/></speak>'},
        "shouldEndSession": True}}
    assert any("sound library" in p for p in check_response(envelope))
