"""One user's memory across sessions as the dialogue sees it, and how a session's state updates it."""

from __future__ import annotations

from typing import Any

import msgspec

from skill.core.player import Awaiting, PlayerState
from skill.core.routines import Library
from skill.storage.record import MemoryRecord, Resume

RESUME_DAYS = 7
"""An unfinished routine is offered again for this long."""


class Memory(msgspec.Struct):
    """One user's record for this request; `available` is False when storage could not be reached."""

    record: MemoryRecord = msgspec.field(default_factory=MemoryRecord)
    available: bool = False
    corrupt: bool = False
    forget: bool = False
    forgotten: bool = False
    """The store confirmed the deletion `forget` asked for."""
    loaded: dict[str, Any] = msgspec.field(default_factory=dict)
    """The record as the store last confirmed it: nothing is written while the record equals it."""

    def saved_resume(self, library: Library, now: float) -> Resume | None:
        """The unfinished routine to offer, if it is recent and still exists."""
        resume = self.record.resume
        if resume is None or now - resume.saved_at > RESUME_DAYS * 86400:
            return None
        routine = library.get(resume.routine_id)
        if routine is None or resume.step_index >= len(routine.steps):
            return None
        return resume


def sync(memory: Memory, state: PlayerState, now: float) -> None:
    """Copy what the session learned into the record: settings, the last routine and where it stopped."""
    record = memory.record
    record.pace, record.verbosity = state.pace, state.verbosity.value
    record.chimes, record.speech_rate = state.chimes, state.speech_rate
    if state.routine is None:
        return
    if state.last is None and not state.paused and state.awaiting is not Awaiting.ANOTHER:
        return  # chosen but not started: nothing narrated, nothing held
    if state.last is not None and not record.has_heard_safety(state.routine):
        record.heard_safety(state.routine)  # it began after its notes: next time the reminder will do
    record.last_routine = state.routine
    reached_end = state.last is not None and state.last.after is None
    if reached_end or (state.awaiting is Awaiting.ANOTHER and state.last is None):
        record.resume = None
        return
    record.resume = Resume(
        routine_id=state.routine, step_index=state.step, phase_index=state.phase,
        elapsed_seconds=state.elapsed, saved_at=now, handsfree=state.handsfree,
    )
