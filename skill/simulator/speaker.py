"""Local speech: SSML pieces through pyttsx3 (eSpeak NG) with real silences, aloud or to WAV."""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

import msgspec

from skill.core.timeline import SpeechRate
from skill.simulator.ssml_reader import Chime, Piece, Silence, Speech

SAMPLE_RATE = 22050
"""eSpeak NG's output rate."""
ESPEAK_WPM_PER_WPS = 45.4
"""eSpeak NG's rate setting that matches the planner's estimate, per estimated word per second.

Measured over every phrase the routines say: at 2.6 words per second (the default estimate) eSpeak
NG at 118 "words per minute" takes as long in total as the estimate (its own 160 was 27 % faster).
"""
REFERENCE_WPM = 118
SECONDS_PER_CHARACTER, SECONDS_PER_PAUSE = 0.0712, 0.352
"""How long eSpeak NG takes at REFERENCE_WPM: per character, and per pause mark (least squares over
the routines' phrases). It predicts each utterance's rate closely enough that few need a second try."""
RETUNE_SECONDS = 0.25
"""An utterance further than this from its estimate is synthesised once more at a corrected rate."""
ESPEAK_RATE_LIMITS = (80, 450)
PLAYERS = (["aplay", "-q"], ["paplay"], ["pw-play"], ["play", "-q"])
_PAUSES = re.compile(r"[.!?:;,]+(\s|$)")


class Report(msgspec.Struct, frozen=True):
    """How rendered audio compares with the plan."""

    planned: float
    """Seconds the pieces should last: estimated speech, silences (divided by the speed) and chimes."""
    rendered: float
    """Seconds of audio actually written."""
    worst_silence: float
    """Largest difference in seconds between a silence as planned and as rendered (set-up silences included)."""


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
        self._tuned: dict[tuple[str, float], int] = {}
        """eSpeak NG rate found for each utterance and planned length (a rate, never the audio)."""

    def words_per_minute(self, rate: float = 1.0) -> int:
        """eSpeak NG's rate setting for speech at `rate` times normal, matched to the planner's estimate."""
        return _limited(ESPEAK_WPM_PER_WPS * self.estimate.words_per_second * rate)

    def _synthesize(self, speech: Speech) -> bytes:
        """PCM frames (16-bit mono) for one piece of speech at the estimated speaking rate, trailing silence trimmed.

        eSpeak NG's pauses differ from the estimate's from phrase to phrase, so an utterance that
        still comes out more than RETUNE_SECONDS off is synthesised once more at a corrected rate.
        """
        target = speech.seconds(self.estimate)
        key = (speech.text, round(target, 3))
        wpm = self._tuned.get(key) or self._predicted(speech.text, target) or self.words_per_minute(speech.rate)
        frames = _trim_trailing_silence(self.engine.synthesize(speech.text, wpm))
        actual = len(frames) / 2 / SAMPLE_RATE
        if target > 0 and actual > 0 and abs(actual - target) > RETUNE_SECONDS and key not in self._tuned:
            wpm = _limited(wpm * actual / target)
            frames = _trim_trailing_silence(self.engine.synthesize(speech.text, wpm))
        self._tuned[key] = wpm  # the same words at the same length again take one synthesis
        return frames

    @staticmethod
    def _predicted(text: str, target: float) -> int | None:
        """The rate at which eSpeak NG should take `target` seconds to say the text (None without a target)."""
        if target <= 0:
            return None
        seconds = SECONDS_PER_CHARACTER * len(text) + SECONDS_PER_PAUSE * len(_PAUSES.findall(text))
        return _limited(REFERENCE_WPM * seconds / target) if seconds > 0 else None

    def render(self, pieces: list[Piece]) -> bytes:
        """PCM frames for the pieces with elastic silences (see the class docstring)."""
        return self.render_with_report(pieces)[0]

    def render_with_report(self, pieces: list[Piece]) -> tuple[bytes, Report]:
        """PCM frames for the pieces, and how they compare with the plan."""
        out = bytearray()
        drift = 0.0  # seconds the audio runs ahead (+) of the plan
        planned_total = worst = 0.0
        for piece in pieces:
            if isinstance(piece, Silence):
                planned = piece.seconds / self.speed
                actual = max(0.0, planned - drift)
                drift -= planned - actual
                samples = int(round(actual * SAMPLE_RATE))
                out += bytes(2 * samples)
                planned_total += planned
                worst = max(worst, abs(samples / SAMPLE_RATE - planned))
            elif isinstance(piece, Chime):
                frames = tone(piece.tone, piece.seconds)
                drift += len(frames) / 2 / SAMPLE_RATE - piece.seconds
                planned_total += piece.seconds
                out += frames
            else:
                frames = self._synthesize(piece)
                drift += len(frames) / 2 / SAMPLE_RATE - piece.seconds(self.estimate)
                planned_total += piece.seconds(self.estimate)
                out += frames
        report = Report(round(planned_total, 3), round(len(out) / 2 / SAMPLE_RATE, 3), round(worst, 3))
        return bytes(out), report

    def write_wav(self, pieces: list[Piece], path: Path) -> float:
        """Write the pieces to a WAV file; returns its length in seconds."""
        return self.write_wav_with_report(pieces, path).rendered

    def write_wav_with_report(self, pieces: list[Piece], path: Path) -> Report:
        """Write the pieces to a WAV file; returns how its length compares with the plan."""
        frames, report = self.render_with_report(pieces)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_wav(path, frames)
        return report

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


def _limited(words_per_minute: float) -> int:
    low, high = ESPEAK_RATE_LIMITS
    return int(round(min(high, max(low, words_per_minute))))


def _write_wav(path: Path, frames: bytes) -> None:
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(SAMPLE_RATE)
        target.writeframes(frames)


def tone_cache() -> Path:
    """Where generated chime tones are kept: $BACKCOACH_TONES, else the user's cache folder."""
    explicit = os.environ.get("BACKCOACH_TONES")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backcoach" / "tones"


@cache
def tone(notes: tuple[float, ...], seconds: float) -> bytes:
    """PCM frames of a soft bell-like chime: the notes one after another, each fading out, `seconds` long in all.

    Generated here (no download) and kept as a WAV in `tone_cache()`, read back on later runs.
    """
    key = hashlib.sha256(repr((notes, seconds, SAMPLE_RATE)).encode()).hexdigest()[:16]
    path = tone_cache() / f"chime-{key}.wav"
    try:
        with wave.open(str(path), "rb") as source:
            if source.getframerate() == SAMPLE_RATE and source.getnchannels() == 1 and source.getsampwidth() == 2:
                return source.readframes(source.getnframes())
    except (OSError, EOFError, wave.Error):
        pass
    total = int(round(seconds * SAMPLE_RATE))
    each = max(1, total // len(notes))
    samples = []
    for n in range(total):
        index = min(n // each, len(notes) - 1)
        note, t = notes[index], (n - index * each) / SAMPLE_RATE
        attack = min(1.0, t / 0.005)
        envelope = attack * math.exp(-t * 6.0)
        value = math.sin(2 * math.pi * note * t) + 0.3 * math.sin(4 * math.pi * note * t)
        samples.append(int(max(-32767, min(32767, 9000 * envelope * value))))
    frames = struct.pack(f"<{len(samples)}h", *samples)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        _write_wav(temporary, frames)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache only means generating the tone again next time
    return frames


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
