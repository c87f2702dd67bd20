"""What is said in a step's active window: rep counts, breaths, halfway, ten left, breathing reminders, countdown."""

from __future__ import annotations

from skill.core.phrases import Voice
from skill.core.program import Dose
from skill.core.routines import Cue, Kind, Step

BREATH_EVERY = 20.0
"""Seconds between reminders to breathe during a long hold."""

Event = tuple[float, str, str]
"""Seconds from the window's start, the cue's name and the words to say."""


def window_cues(
    voice: Voice, step: Step, dose: Dose, done: float, length: float, cues: frozenset[Cue], quiet: bool
) -> list[Event]:
    """The cues inside the active window, in time order, from `done` seconds in; offsets from the window's start."""
    events: list[Event] = []
    if step.kind is Kind.REPS:
        tempo = dose.tempo or 1.0
        reps = dose.reps or 1
        first = int(round(done / tempo))
        for r in range(first, reps):
            if Cue.COUNT in cues:
                key = "cue.last_rep" if r == reps - 1 and reps > 1 else "cue.count"
                events.append(((r - first) * tempo, "count", voice.say(key, count=r + 1)))
    elif step.kind is Kind.BREATHE and step.breath is not None:
        cycle = step.breath.inhale + step.breath.exhale
        for c in range(int(length // cycle)):
            if quiet and c >= 2:
                break
            events.append((c * cycle, "breath_in", voice.say("cue.breath_in")))
            events.append((c * cycle + step.breath.inhale, "breath_out", voice.say("cue.breath_out")))
    elif step.kind in (Kind.HOLD, Kind.ROLL):
        events.extend(timed_cues(voice, step.kind, cues, dose.active(), done, quiet))
    return sorted(events, key=lambda e: e[0])


def timed_cues(voice: Voice, kind: Kind, cues: frozenset[Cue], total: float, done: float, quiet: bool) -> list[Event]:
    """Halfway, ten-seconds-left, breathing and three-two-one, placed by absolute time in the hold."""
    wanted: list[tuple[float, str, str]] = []
    if Cue.HALFWAY in cues and total >= 20 and not quiet:
        wanted.append((total / 2, "halfway", "cue.halfway"))
    if Cue.TEN_LEFT in cues and total >= 30 and not quiet:
        wanted.append((total - 10, "ten_left", "cue.ten_left"))
    if Cue.BREATHING in cues and total >= 45 and not quiet and kind is Kind.HOLD:
        moment = 15.0
        while moment < total - 15:
            if all(abs(moment - t) >= 6 for t, _, _ in wanted):
                wanted.append((moment, "breathing", "cue.breathing"))
            moment += BREATH_EVERY
    if Cue.COUNTDOWN in cues and total >= 10:
        for n in (3, 2, 1):
            wanted.append((total - n, "countdown", str(n)))
    events = []
    for moment, cue, key in sorted(wanted):
        if moment < done:
            continue
        text = voice.say("cue.count", count=key) if cue == "countdown" else voice.say(key)
        events.append((moment - done, cue, text))
    return events
