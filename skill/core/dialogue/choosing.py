"""Choosing a routine, and yes or no to whatever was asked last."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from skill.core.dialogue.base import NOT_SAID, Conversation, Heard, fits, heard
from skill.core.player import Awaiting, Reply
from skill.core.routines import ELSEWHERE, Area, Equipment, Routine
from skill.core.selection import Request, choose, duration_seconds

log = logging.getLogger("backcoach.skill")

AREA_ASKED = "a routine for my {}"
"""How an area slot's unresolved words are put to the quick-answer matcher: as the request they were in."""


class Choosing(Conversation):
    """Choosing a routine, and yes or no to whatever was asked last."""


    def on_list(self, slots: Mapping[str, Heard]) -> Reply:
        """List every routine and ask which one."""
        return self._offer_all()

    def on_start(self, slots: Mapping[str, Heard]) -> Reply:
        """Choose a routine by name, position in the last list, area, equipment and length; or ask."""
        voice, state = self.voice, self.state
        spoken_routine, routine_id = slots.get("routine", NOT_SAID)
        spoken_area, area_id = slots.get("area", NOT_SAID)
        spoken_equipment, equipment_id = slots.get("equipment", NOT_SAID)
        _, ordinal = slots.get("ordinal", NOT_SAID)
        unknown = [
            spoken
            for spoken, resolved in ((spoken_routine, routine_id), (spoken_area, area_id), (spoken_equipment, equipment_id))
            if spoken and resolved in (None, ELSEWHERE)
        ]
        # Words that resolved to nothing may still describe a red flag ("a routine for my numb legs")
        # or something the coach declines ("stretches for plantar fasciitis": not its area), and a
        # part no routine works on ("my knee") is asked about like them. An area is asked about as
        # what it is, a place wanting a routine ("my wrists" alone asks nothing).
        for spoken in unknown:
            asked = [spoken, AREA_ASKED.format(spoken)] if spoken == spoken_area else [spoken]
            for match in map(self.faq.match, asked):
                if match.urgent is not None or (match.entry is not None and match.entry.declines):
                    return self._answer(match, spoken)
        request = Request(
            routine=routine_id,
            area=Area(area_id) if area_id in Area.__members__.values() else None,
            equipment=Equipment(equipment_id) if equipment_id in Equipment.__members__.values() else None,
            seconds=duration_seconds(slots.get("duration", NOT_SAID)[0]),
        )
        if self.in_routine and routine_id is None and ordinal is None and request.seconds is None and not unknown:
            routine = self.library.get(state.routine or "")
            if routine is not None and fits(routine, request):
                # "ok I'm on the roller" mid-routine acknowledges the step; it never restarts it.
                return self._carry_on()
        if request.seconds:
            ordinal = None  # "a 30 second routine" names a length, not the second routine
        picked = self._pick(ordinal, request) if not unknown else None
        if picked is not None:
            return self._caution(request, self._begin(picked), picked)
        if ordinal is not None:
            missing = "skill.no_such_choice" if ordinal.isdigit() else "skill.no_such_place"
            return self._offer_all(Reply().say(voice.say(missing)))
        if request.empty and not unknown and state.offer and (offered := self.library.get(state.offer)):
            return self._caution(request, self._begin(offered), offered)
        if request.empty:
            reply = Reply()
            if unknown:
                reply.say(voice.say("skill.unknown_routine", name=heard(unknown[0])))
            return self._offer_all(reply)
        return self._caution(request, self._choose(request))

    def _caution(self, request: Request, reply: Reply, picked: Routine | None = None) -> Reply:
        """"My chest feels tight" may be muscles or the heart: the coach cannot tell, so it says
        what to do if it is the heart before anything else. A routine for the chest first gets the
        same check however it is started (by name, as the one that fits a request, as the favourite,
        as last time's, or by saying yes to an offer): such a request carries none of the words around
        it ("my chest is tight, can we do the chest opener")."""
        routine = picked or self.library.get(request.routine or "")
        if request.area is Area.CHEST or (routine is not None and routine.areas[0] is Area.CHEST):
            caution = self.voice.say("skill.chest_caution")
            if caution not in reply.parts:  # said once, however many paths lead here
                reply.parts.insert(0, caution)
        return reply

    def _pick(self, ordinal: str | None, request: Request) -> Routine | None:
        """A routine from the list just given: by its place ("the second one"), or the only one that fits."""
        listed = [r for r in (self.library.get(i) for i in self.state.listed) if r is not None]
        if ordinal is not None:
            return self._by_place(ordinal, listed)
        if self.latest is not Awaiting.CHOICE or not listed or request.routine or request.seconds or request.empty:
            return None  # a name or an area after anything but "which one?" chooses from every routine
        fitting = [r for r in listed if fits(r, request)]
        return fitting[0] if len(fitting) == 1 and len(listed) > 1 else None

    def _by_place(self, ordinal: str, listed: list[Routine]) -> Routine | None:
        """The listed routine at a place ("second", "last", "middle", "second to last") or of a length
        ("the quicker one"), if the list has one there."""
        if not listed:
            return None
        if ordinal in ("shortest", "longest"):
            if self.latest is not Awaiting.CHOICE:
                return None  # "a shorter one" mid-routine picks nothing from a list given long ago
            length = self.player.length(self.voice)
            pick = min if ordinal == "shortest" else max
            return pick(listed, key=length) if len(listed) > 1 else None
        places = {"last": len(listed), "penultimate": len(listed) - 1,
                  "middle": len(listed) // 2 + 1 if len(listed) % 2 else 0}
        index = places.get(ordinal, int(ordinal) if ordinal.isdigit() else 0) - 1
        return listed[index] if 0 <= index < len(listed) else None

    def _choose(self, request: Request) -> Reply:
        """Start the routine that fits the request, or list the ones that might, or offer them all."""
        voice = self.voice
        choice = choose(self.library, request, self.player.length(voice))
        if choice.routine is None:
            if choice.candidates:
                reply = Reply().say(
                    voice.say("skill.ambiguous", count=len(choice.candidates), routines=self._list(choice.candidates))
                )
                reply.reprompt = voice.say("skill.which_reprompt")
                self._listed(choice.candidates)
                return reply
            return self._offer_all(Reply().say(voice.say("skill.no_match")))
        return self._caution(request, self._begin(choice.routine, choice.budget), choice.routine)

    def on_start_favourite(self, slots: Mapping[str, Heard]) -> Reply:
        """Start the favourite added most recently."""
        favourites = self.memory.record.favourites
        return self._start_remembered(favourites[-1] if favourites else None, "memory.no_favourites")

    def on_start_last(self, slots: Mapping[str, Heard]) -> Reply:
        """Do the same routine as last time."""
        return self._start_remembered(self.memory.record.last_routine, "memory.no_last")

    def _start_remembered(self, routine_id: str | None, missing_key: str) -> Reply:
        self._needs_memory()
        routine = self.library.get(routine_id) if routine_id else None
        if routine is None:
            return self._offer_all(Reply().say(self.voice.say(missing_key)))
        return self._caution(Request(), self._begin(routine), routine)

    # ----- answering the last question -----------------------------------------------------

    def on_yes(self, slots: Mapping[str, Heard]) -> Reply:
        """Go ahead with whatever was asked last."""
        state, voice = self.state, self.voice
        if self.latest is Awaiting.SAVED:
            restored = self._restore_saved()
            if restored is not None:
                return restored
        if self.latest is Awaiting.FORGET:
            self.memory.forget = True
            return Reply(end=True).say(voice.say("memory.forgotten" if self._persist() else "memory.forget_failed"))
        if self.latest is Awaiting.OFFER and state.offer and (offered := self.library.get(state.offer)):
            return self._caution(Request(), self._begin(offered), offered)
        if self.latest is Awaiting.ANOTHER:
            state.routine = None
            return self._offer_all()
        if self.latest is Awaiting.CHECK_IN:
            return self.on_feeling({})  # "yes" to "how did that feel?": fine
        if self.latest is Awaiting.CHOICE:
            # "Yes" to "which one?" picks nothing: ask again, and keep the list.
            reply = Reply().say(voice.say("skill.which_again"))
            reply.reprompt = voice.say("skill.which_reprompt")
            state.awaiting = Awaiting.CHOICE
            return reply
        if self.in_routine:
            return self._carry_on()
        return self._offer_all()

    def on_no(self, slots: Mapping[str, Heard]) -> Reply:
        """Decline what was asked last, without ending up stuck."""
        state, voice = self.state, self.voice
        state.offer = None
        if self.latest is Awaiting.ANOTHER:
            state.routine = None
            return Reply(end=True).say(voice.say("skill.goodbye"))
        if self.latest is Awaiting.CHECK_IN:
            # "No thanks" to "how did that feel?": nothing changes, and the session is done.
            state.routine = None
            return Reply(end=True).say(voice.say("skill.goodbye"))
        if self.latest is Awaiting.SAVED:
            self.memory.record.resume = None
            return self._offer_all(Reply().say(voice.say("memory.fresh_start")))
        if self.latest is Awaiting.SAFETY:
            state.routine = None
            reply = Reply().say(voice.say("skill.safety_declined"))
        elif self.latest is Awaiting.FORGET:
            reply = Reply().say(voice.say("memory.kept"))
        elif self.in_routine:
            return self.player.pause(state, voice, self.now)
        else:
            reply = Reply().say(voice.say("skill.no_then"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply
