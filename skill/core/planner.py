"""Planner: compiles a program's steps into a timeline of spoken cues and timed silences."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

import msgspec

from skill.core.active_window import window_cues
from skill.core.phrases import Voice
from skill.core.program import Dose, Program
from skill.core.routines import MOVE_SECONDS, Cue, Kind, Move, Routine, Step
from skill.core.settings import SPEECH_RATE_MAX, SPEECH_RATE_MIN, Verbosity
from skill.core.sounds import Chime, load_sounds
from skill.core.timeline import Phase, Position, Segment, SegmentKind, SpeechRate, Timeline

LEAD_IN = 3.0
"""Seconds of silence between "get ready" and "begin" at pace 1 (scaled by the pace)."""
RELEASE_BREATH = 2.0
"""Seconds of quiet after each release before anything else is said, at pace 1 (scaled by the pace)."""
PROSODY_MIN, PROSODY_MAX = 60, 130
"""Bounds of the rate the narration is spoken at, in percent, after the routine's own rate is applied."""


def clamp_speech_rate(rate: float) -> float:
    """Keep a listener's speaking-rate choice within bounds (1.0 is normal)."""
    if not math.isfinite(rate):
        return 1.0
    return round(min(SPEECH_RATE_MAX, max(SPEECH_RATE_MIN, rate)), 3)


class PlanOptions(msgspec.Struct, frozen=True):
    """Choices that shape what is said and when."""

    verbosity: Verbosity = Verbosity.FULL
    rate: SpeechRate = msgspec.field(default_factory=SpeechRate)
    """Estimate of how long the voice takes to say a text at its normal rate."""
    chimes: bool = False
    """Play a chime from Amazon's sound library at begin, switch sides and release."""
    speech_rate: float = 1.0
    """How fast the coach talks relative to normal ("talk slower"); separate from the pace of the routine."""

    def prosody(self, routine: Routine) -> int:
        """Percent rate the routine is narrated at: the listener's choice times the routine's own delivery."""
        percent = round(clamp_speech_rate(self.speech_rate) * routine.prosody_rate)
        return min(PROSODY_MAX, max(PROSODY_MIN, percent))


class _Builder:
    """Accumulates segments with a running clock."""

    def __init__(self, rate: SpeechRate, percent: int = 100, chimes: bool = False, pace: float = 1.0) -> None:
        self.rate = rate
        self.pace = pace
        self.percent = percent
        self.chimes = load_sounds() if chimes else None
        self.now = 0.0
        self.segments: list[Segment] = []
        self.phases: list[Phase] = []

    def speak(self, text: str, cue: str, step: int, phase: int = -1) -> None:
        duration = round(self.rate.seconds(text) * 100 / self.percent, 3)
        self.segments.append(
            Segment(SegmentKind.SPEECH, round(self.now, 3), duration, step, phase, cue, text, self.percent)
        )
        self.now += duration

    def chime(self, which: Chime, step: int, phase: int) -> None:
        """A library chime, when chimes are on."""
        if self.chimes is None:
            return
        sound = self.chimes[which]
        self.segments.append(
            Segment(SegmentKind.AUDIO, round(self.now, 3), sound.seconds, step, phase, f"chime_{which}", sound.src)
        )
        self.now += sound.seconds

    def chime_seconds(self, which: Chime) -> float:
        """How long a chime would play (0 with chimes off)."""
        return 0.0 if self.chimes is None else self.chimes[which].seconds

    def wait_until(self, moment: float, step: int, phase: int, cue: str = "silence") -> None:
        gap = round(moment - self.now, 3)
        if gap > 0.001:
            self.segments.append(Segment(SegmentKind.PAUSE, round(self.now, 3), gap, step, phase, cue))
            self.now = moment

    def pause(self, seconds: float, step: int, phase: int, cue: str = "silence") -> None:
        self.wait_until(self.now + seconds, step, phase, cue)


class Planner:
    """Turns steps into a timeline; phrasing comes from the voice, timing from the program."""

    def __init__(self, voice: Voice, options: PlanOptions | None = None) -> None:
        self.voice = voice
        self.options = options or PlanOptions()

    def compile(
        self,
        program: Program,
        steps: Iterable[int] | None = None,
        *,
        seen: frozenset[str] = frozenset(),
        resume: Position | None = None,
        intro: bool = False,
        tail: bool = True,
        resume_cue: bool = True,
    ) -> Timeline:
        """Timeline for the given steps (default: all included), optionally resuming mid-step.

        `seen` holds ids of steps already narrated in full; `tail` adds "next up" or the
        closing line after the last step; `resume_cue` False leaves out "picking up where you
        left off" when the caller has already said where the listener is.
        """
        chosen = [i for i in (program.included if steps is None else steps) if program.doses[i] is not None]
        build = _Builder(self.options.rate, self.options.prosody(program.routine), self.options.chimes, program.pace)
        if intro:
            total = self.measure(program)
            build.speak(
                self.voice.say("cue.routine_intro", title=program.routine.title, minutes=self.voice.duration(total)),
                "routine_intro",
                -1,
            )
        narrated = set(seen)
        for n, index in enumerate(chosen):
            step = program.routine.steps[index]
            dose = program.doses[index]
            if dose is None:  # only steps the program dropped have no dose, and they are not chosen
                raise ValueError(f"step {step.id!r} has no dose")
            start_at = resume if resume is not None and n == 0 and resume.step == index else None
            self._step(build, index, step, dose, step.id not in narrated, start_at, resume_cue)
            narrated.add(step.id)
            last = n == len(chosen) - 1
            if last and not tail:
                continue
            following = program.following(index + 1)
            if following is None:
                closing = program.routine.closing or self.voice.say("cue.routine_done")
                build.speak(closing, "routine_done", index)
            else:
                name = program.routine.steps[following].name
                build.speak(self.voice.say("cue.next_up", name=name), "next_up", index)
        return Timeline(tuple(build.segments), tuple(build.phases), tuple(chosen))

    def measure(self, program: Program) -> float:
        """Planned seconds for a whole program (phrasing chosen by a fixed seed)."""
        planner = Planner(Voice(self.voice.book, random.Random(0)), self.options)
        return planner.compile(program).duration

    def _step(
        self,
        build: _Builder,
        index: int,
        step: Step,
        dose: Dose,
        first: bool,
        resume: Position | None,
        resume_cue: bool,
    ) -> None:
        quiet = self.options.verbosity is Verbosity.QUIET
        full = self.options.verbosity is Verbosity.FULL and first
        sides: tuple[str | None, ...] = ("left", "right") if step.per_side else (None,)
        phases = [(s, side) for s in range(1, dose.sets + 1) for side in sides]
        if resume is not None and not resume.elapsed and resume.phase < len(phases) and phases[resume.phase][1] == "right":
            pass  # straight to the second side: its switch cue and its own instruction say what to do
        elif resume is not None:
            text = self.voice.say("cue.resume", instruction=step.short) if resume_cue else step.short
            build.speak(text, "resume", index)
        else:
            build.speak(step.say if full else step.short, "instruction", index)
            if not quiet:
                self._announce(build, index, step, dose)
        first_phase = resume.phase if resume is not None else 0
        for p, (set_no, side) in enumerate(phases):
            if p < first_phase:
                continue
            done = resume.elapsed if resume is not None and p == first_phase else 0.0
            moving = step.move if resume is None and p == 0 else Move.IN_PLACE
            self._phase(build, index, p, step, dose, set_no, side, done, opening=p == first_phase, move=moving)

    def _announce(self, build: _Builder, index: int, step: Step, dose: Dose) -> None:
        if step.kind is Kind.REPS:
            build.speak(self.voice.say("cue.reps_of", reps=dose.reps), "dose", index)
        elif step.kind in (Kind.HOLD, Kind.ROLL, Kind.BREATHE):
            key = {Kind.HOLD: "cue.hold_for", Kind.ROLL: "cue.roll_for", Kind.BREATHE: "cue.breathe_for"}[step.kind]
            build.speak(self.voice.say(key, seconds=dose.seconds), "dose", index)

    def _phase(
        self,
        build: _Builder,
        index: int,
        p: int,
        step: Step,
        dose: Dose,
        set_no: int,
        side: str | None,
        done: float,
        opening: bool,
        move: Move,
    ) -> None:
        start = build.now
        cues = step.active_cues
        pace = build.pace
        if dose.sets > 1 and side != "right":
            build.speak(self.voice.say("cue.set_of", set=set_no, sets=dose.sets), "set", index, p)
        if side == "left":
            build.speak(self.voice.say("cue.side_first", side=self.voice.say("side.left")), "side_first", index, p)
        elif side == "right":
            move = step.switch_move
            build.chime(Chime.SWITCH, index, p)
            if step.switch is None or self.options.verbosity is Verbosity.QUIET:
                words = self.voice.say("cue.switch_sides", side=self.voice.say("side.right"))
                build.speak(words, "switch_sides", index, p)
            else:
                build.speak(self.voice.say("cue.other_side"), "switch_sides", index, p)
                build.speak(step.switch, "switch", index, p)
        # The move starts once the listener knows what to do; "begin" comes no sooner than the move allows.
        asked = build.now
        needed = MOVE_SECONDS[move] * max(1.0, pace)
        if Cue.GET_READY in cues and (opening or side == "right" or set_no > 1):
            build.speak(self.voice.say("cue.get_ready"), "get_ready", index, p)
            chime = build.chime_seconds(Chime.BEGIN)
            build.pause(max(LEAD_IN * pace, needed - (build.now - asked) - chime), index, p, "lead_in")
            build.chime(Chime.BEGIN, index, p)
            build.speak(self.voice.say("cue.begin"), "begin", index, p)
        elif move is not Move.IN_PLACE and step.kind is not Kind.TRANSITION and (opening or side == "right"):
            build.pause(needed, index, p, "lead_in")
        total = dose.active()
        if step.kind is Kind.REPS:
            tempo = dose.tempo or 1.0
            skipped = min(int(done // tempo), (dose.reps or 1) - 1)
            done = skipped * tempo
        length = max(total - done, 0.0)
        active_start = build.now
        self._active(build, index, p, step, dose, done, length, cues)
        build.wait_until(active_start + length, index, p)
        end_key = {Kind.HOLD: "cue.release", Kind.ROLL: "cue.roll_done", Kind.REPS: "cue.reps_done"}.get(step.kind)
        if end_key:
            build.chime(Chime.RELEASE, index, p)
            build.speak(self.voice.say(end_key), "release", index, p)
            build.pause(RELEASE_BREATH * pace, index, p, "breath")
        last_of_set = side != "left"
        if dose.rest and set_no < dose.sets and last_of_set:
            rest_start = build.now
            build.speak(self.voice.say("cue.rest", seconds=dose.rest), "rest", index, p)
            build.wait_until(rest_start + dose.rest, index, p, "rest")
        build.phases.append(Phase(index, p, side, set_no, round(start, 3), round(active_start, 3), length, round(build.now, 3)))

    def _active(
        self, build: _Builder, index: int, p: int, step: Step, dose: Dose, done: float, length: float, cues: frozenset[Cue]
    ) -> None:
        """Cues inside the active window, each spoken at its offset from the window's start."""
        quiet = self.options.verbosity is Verbosity.QUIET
        origin = build.now
        for offset, cue, text in window_cues(self.voice, step, dose, done, length, cues, quiet):
            build.wait_until(origin + offset, index, p)
            build.speak(text, cue, index, p)
