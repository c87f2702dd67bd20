"""Dry run: a timeline as readable lines showing what is said, when, and for how long."""

from __future__ import annotations

from skill.core.program import Program
from skill.core.timeline import SegmentKind, Timeline


def clock(seconds: float) -> str:
    """Seconds as m:ss.s."""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def describe(timeline: Timeline, program: Program) -> str:
    """One line per segment under a heading per step, then the total."""
    routine = program.routine
    lines = [f"{routine.title} ({routine.id}), pace x{program.pace}"]
    if program.dropped:
        lines.append(f"  left out to fit the time: {', '.join(program.dropped)}")
    current = None
    for segment in timeline.segments:
        if segment.step != current:
            current = segment.step
            if current >= 0:
                step = routine.steps[current]
                lines.append(
                    f"-- step {current + 1}: {step.name} [{step.kind}] {timeline.step_duration(current):.1f}s"
                )
        if segment.kind is SegmentKind.SPEECH:
            what = f'say "{segment.text}"' + (f" at {segment.rate}%" if segment.rate != 100 else "")
        elif segment.kind is SegmentKind.AUDIO:
            what = f"(chime {segment.text.rsplit('/', 1)[-1]})"
        else:
            what = "(silence)"
        lines.append(f"  {clock(segment.start):>7}  {segment.duration:6.1f}s  {segment.cue:<13} {what}")
    lines.append(f"total {clock(timeline.duration)} ({timeline.duration:.1f}s)")
    return "\n".join(lines)
