"""The listener's settings that are remembered: how much the coach says, and the safe ranges of pace and speaking rate."""

from enum import StrEnum

PACE_MIN, PACE_MAX = 0.75, 1.5
"""How much quicker or slower than written the holds and tempo may become (1.0 is as written)."""
SPEECH_RATE_MIN, SPEECH_RATE_MAX = 0.8, 1.25
"""How much slower or faster than normal the listener may ask the coach to talk."""


class Verbosity(StrEnum):
    """How much the coach says: full instructions, short reminders, or essential cues only."""

    FULL = "full"
    SHORT = "short"
    QUIET = "quiet"
