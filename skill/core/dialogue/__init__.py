"""The conversation's state machine: what each event means given what the coach last asked.

It owns what the coach is waiting for (`PlayerState.awaiting`: an offer, a list, a
confirmation, a running or paused routine, the check-in), the last answer and the last list.
Every event is explicit (`Event`) and every transition is one `on_<event>` method, grouped by
feature in this package; nothing in it knows Alexa: handlers turn envelopes into an event and
the words heard, and the `Reply` back into a response.
"""

from skill.core.dialogue.base import (
    KEEPS_QUESTION,
    NOT_SAID,
    ROUTINE_ONLY,
    DialogueError,
    Event,
    Heard,
)
from skill.core.dialogue.choosing import Choosing
from skill.core.dialogue.questions import Questions
from skill.core.dialogue.remembering import Remembering
from skill.core.dialogue.session import Session
from skill.core.dialogue.steering import Steering


class Dialogue(Session, Choosing, Steering, Questions, Remembering):
    """One turn of the conversation: `handle(event, slots)` updates the state and returns the reply."""


__all__ = ["KEEPS_QUESTION", "NOT_SAID", "ROUTINE_ONLY", "Dialogue", "DialogueError", "Event", "Heard"]
