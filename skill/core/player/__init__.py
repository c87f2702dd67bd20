"""Player: the pure state machine behind a routine (no Alexa types here), by concern in this package."""

from skill.core.player.answers import PACE_STEP, SPEECH_STEP, Answers
from skill.core.player.core import ANSWER_SECONDS, MOVEMENT_CUES
from skill.core.player.moves import Moves
from skill.core.player.state import (
    MAX_BUDGET,
    MAX_MARKS,
    MIN_BUDGET,
    RESPONSE_RESERVE,
    STATE_VERSION,
    Awaiting,
    Finite,
    Id,
    Last,
    PlayerState,
    Reply,
    Reset,
    Settings,
    restore,
)


class Player(Moves, Answers):
    """Moves through a routine in response to commands; every method returns a Reply."""


__all__ = [
    "ANSWER_SECONDS", "MAX_BUDGET", "MAX_MARKS", "MIN_BUDGET", "MOVEMENT_CUES", "PACE_STEP", "RESPONSE_RESERVE",
    "SPEECH_STEP", "STATE_VERSION", "Awaiting", "Finite", "Id", "Last", "Player", "PlayerState", "Reply", "Reset",
    "Settings", "restore",
]
