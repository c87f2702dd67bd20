"""Local speech: SSML pieces through pyttsx3 (eSpeak NG) with real silences, aloud or to WAV."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

from skill.core.timeline import SpeechRate
from skill.simulator.ssml_reader import Piece, Silence, Speech

SAMPLE_RATE = 22050
"""eSpeak NG's output rate."""
WORDS_PER_MINUTE = 160
PLAYERS = (["aplay", "-q"], ["paplay"], ["pw-play"], ["play", "-q"])


class SpeechUnavailable(RuntimeError):
    """Local speech cannot run here; the message says why in one line."""


class Speaker:
    """Synthesises speech pieces with eSpeak NG and lays them on a timeline of real silence.

    Silences absorb the difference between the planned (estimated) length of each piece of
    speech and the length eSpeak actually produced, so the audio keeps the planned timing.
    """

    def __init__(self, estimate: SpeechRate | None = None, speed: float = 1.0) -> None:
        self.estimate = estimate or SpeechRate()
        self.speed = max(0.1, speed)
        self.engine = _engine()
        if self.engine.sample_rate != SAMPLE_RATE:
            raise SpeechUnavailable(f"unexpected eSpeak NG sample rate {self.engine.sample_rate}")
        self._scratch = Path(tempfile.mkdtemp(prefix="backcoach-tts-"))

    def _synthesize(self, speech: Speech) -> bytes:
        """PCM frames (16-bit mono) for one piece of speech, trailing silence trimmed."""
        return _trim_trailing_silence(self.engine.synthesize(speech.text, int(WORDS_PER_MINUTE * speech.rate)))

    def render(self, pieces: list[Piece]) -> bytes:
        """PCM frames for the pieces with elastic silences (see the class docstring)."""
        out = bytearray()
        drift = 0.0  # seconds the audio runs ahead (+) of the plan
        for piece in pieces:
            if isinstance(piece, Silence):
                planned = piece.seconds / self.speed
                actual = max(0.0, planned - drift)
                drift -= planned - actual
                out += bytes(2 * int(round(actual * SAMPLE_RATE)))
            else:
                frames = self._synthesize(piece)
                drift += len(frames) / 2 / SAMPLE_RATE - piece.seconds(self.estimate)
                out += frames
        return bytes(out)

    def write_wav(self, pieces: list[Piece], path: Path) -> float:
        """Write the pieces to a WAV file; returns its length in seconds."""
        frames = self.render(pieces)
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as target:
            target.setnchannels(1)
            target.setsampwidth(2)
            target.setframerate(SAMPLE_RATE)
            target.writeframes(frames)
        return len(frames) / 2 / SAMPLE_RATE

    def play(self, pieces: list[Piece]) -> None:
        """Speak the pieces aloud through the system's audio, pauses included."""
        player = next((p for p in PLAYERS if shutil.which(p[0])), None)
        if player is None:
            raise SpeechUnavailable("no audio player found (install alsa-utils for aplay)")
        path = self._scratch / "turn.wav"
        self.write_wav(pieces, path)
        result = subprocess.run([*player, str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            raise SpeechUnavailable(f"no audio device: {player[0]} said {result.stderr.decode(errors='replace').strip()[:120]}")


class _Espeak:
    """eSpeak NG through pyttsx3's ctypes binding, synthesising synchronously into memory.

    pyttsx3 2.99's espeak driver ends its event loop before a long utterance has finished
    (the file is then missing) and prints to stdout, so we drive the library it binds directly.
    """

    def __init__(self) -> None:
        try:
            from pyttsx3.drivers import _espeak
        except Exception as exc:  # the binding raises at import when the library is missing
            raise SpeechUnavailable(f"local speech is off (no eSpeak NG library: {exc}); install libespeak-ng1") from exc
        self.lib = _espeak
        self.sample_rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
        if self.sample_rate <= 0:
            raise SpeechUnavailable("local speech is off (eSpeak NG could not start)")
        self._chunks: list[bytes] = []
        _espeak.SetSynthCallback(self._collect)

    def _collect(self, wav, samples, events):  # type: ignore[no-untyped-def]
        if samples > 0:
            self._chunks.append(ctypes.string_at(wav, samples * 2))
        return 0

    def synthesize(self, text: str, words_per_minute: int) -> bytes:
        """16-bit mono PCM at the library's sample rate."""
        self._chunks = []
        self.lib.SetParameter(self.lib.RATE, words_per_minute, 0)
        self.lib.Synth(text, flags=self.lib.CHARS_UTF8)
        self.lib.Synchronize()
        return b"".join(self._chunks)


@cache
def _engine() -> _Espeak:
    """The process's one eSpeak NG (it can only be initialised once per process)."""
    return _Espeak()


def _trim_trailing_silence(frames: bytes, threshold: int = 64) -> bytes:
    """Drop the pause eSpeak appends after each utterance, so silences are ours alone."""
    samples = memoryview(frames).cast("h")
    end = len(samples)
    while end > 0 and abs(samples[end - 1]) <= threshold:
        end -= 1
    return frames[: end * 2]


def open_speaker(estimate: SpeechRate | None = None, speed: float = 1.0) -> tuple[Speaker | None, str | None]:
    """A speaker, or None and a one-line reason when local speech cannot run."""
    if os.environ.get("BACKCOACH_NO_SPEECH"):
        return None, "local speech is off (BACKCOACH_NO_SPEECH is set)"
    try:
        return Speaker(estimate, speed), None
    except SpeechUnavailable as exc:
        return None, str(exc)
