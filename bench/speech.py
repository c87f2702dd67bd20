"""5. Local speech: seconds to render a ~10-minute routine to WAV through the simulator's
speaker (planner -> SSML -> ssml_reader -> Speaker.write_wav), against eSpeak NG saying the
same words directly (`espeak-ng -w`, else one Speaker.engine.synthesize call)."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from bench.common import Report, Settings, median, paired_ratio, secs, verdict
from bench.machine import profile_lines

NAME = "5 local speech"
ROUTINE = "lower-back-relief"
MAX_RATIO = 1.5


def pieces_for(routine_id: str) -> tuple[list, str, float]:
    """(pieces, ssml, planned seconds) of the whole routine as one SSML document."""
    from skill.core.phrases import Phrasebook, Voice
    from skill.core.planner import Planner
    from skill.core.program import Program
    from skill.core.routines import load_library
    from skill.core.ssml import render_segments, speak
    from skill.simulator import ssml_reader

    routine = load_library().get(routine_id)
    if routine is None:
        raise LookupError(f"no routine {routine_id!r}")
    timeline = Planner(Voice(Phrasebook.load("en-US"), random.Random(0))).compile(
        Program.of(routine), intro=True
    )
    ssml = speak(render_segments(timeline.segments))
    planned = sum(segment.duration for segment in timeline.segments)
    return ssml_reader.read(ssml), ssml, planned


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def run(settings: Settings) -> Report:
    from skill.simulator.speaker import SpeechUnavailable

    report = Report(NAME)
    if (
        shutil.which("espeak-ng") is None
        and not Path("/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1").exists()
    ):
        return report.skip("eSpeak NG is not installed (apt-get install -y espeak-ng)")
    try:
        from skill.simulator.speaker import Speaker

        t0 = time.perf_counter()
        speaker = Speaker()
        init = time.perf_counter() - t0
    except SpeechUnavailable as exc:
        return report.skip(f"eSpeak NG is not usable: {exc}")
    from skill.simulator.ssml_reader import plain_text

    wpm = speaker.words_per_minute()  # the rate the speaker drives eSpeak NG at, matched to the plan

    t0 = time.perf_counter()
    pieces, ssml, planned = pieces_for(ROUTINE)
    prepare = time.perf_counter() - t0
    words = plain_text(pieces)
    cli = shutil.which("espeak-ng")
    reps = settings.pick(2, 5)
    mine: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as tmp:
        folder = Path(tmp)
        text_file = folder / "words.txt"
        text_file.write_text(words, encoding="utf-8")
        out, ref = folder / "routine.wav", folder / "espeak.wav"

        def baseline() -> None:
            if cli:
                subprocess.run(
                    [cli, "-s", str(wpm), "-w", str(ref), "-f", str(text_file)],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
            else:
                speaker.engine.synthesize(words, wpm)

        speaker.write_wav(pieces, out)  # warm up
        baseline()
        for _ in range(reps):
            t0 = time.perf_counter()
            length = speaker.write_wav(pieces, out)
            mine.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            baseline()
            base.append(time.perf_counter() - t0)
        ref_seconds = _wav_seconds(ref) if cli else float("nan")
        profile = profile_lines(lambda: speaker.write_wav(pieces, out), top=10)
    m, b = median(mine), median(base)
    r = paired_ratio(mine, base)
    report.row(
        f"render {ROUTINE} ({length / 60:.1f} min): {secs(m)}",
        secs(b),
        f"{r:.2f}x",
        f"<= {MAX_RATIO:g}x",
        verdict(r <= MAX_RATIO),
    )
    how = (
        f"`{cli} -s {wpm} -w out.wav -f words.txt`"
        if cli
        else f"one Speaker.engine.synthesize(all words, {wpm}) call (espeak-ng command not found)"
    )
    report.note(
        f"median of {reps} interleaved runs after one warm-up (which also finds, once, the eSpeak rate "
        f"each utterance needs to match the plan). project: Speaker().write_wav(pieces) for the whole routine "
        f"({len(pieces)} pieces from {len(ssml)} characters of SSML, planned {planned / 60:.1f} min, "
        f"WAV {length / 60:.1f} min); planning + SSML + reading took {secs(prepare)} (not timed), "
        f"Speaker() start {secs(init)} (not timed)."
    )
    report.note(
        f"baseline: {how} on the same {len(words.split())} words"
        + (f" (speech only: {ref_seconds / 60:.1f} min of audio)." if cli else ".")
    )
    report.note("profile of write_wav, self time, top 10:")
    report.details += profile
    return report
