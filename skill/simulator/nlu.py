"""Local understanding built from an interaction model: text to intent, slots and entity resolution.

The tiers are combined here: exact samples (exact_samples.py), the statistical tier
(statistical.py, trained on training.py's inputs), then AMAZON.FallbackIntent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from skill import interaction_model as models
from skill.core.datafiles import DATA_DIR, load_yaml
from skill.core.routines import ELSEWHERE
from skill.core.words import words as tokens
from skill.dependencies import MissingDependency
from skill.simulator.classifier import SUBSUMING as ROUTINE
from skill.simulator.envelopes import SlotValue
from skill.simulator.exact_samples import Candidate, ExactSamples
from skill.simulator.statistical import Classifier, Guess, Inputs, cached
from skill.simulator.training import _fingerprint, training_inputs
from skill.simulator.words import FALLBACK, after_prefix, before_suffix

__all__ = ["ALEXA", "FALLBACK", "Understander", "Understanding", "_fingerprint", "training_inputs", "understander"]

ALEXA = DATA_DIR / "simulator" / "alexa.yaml"
CLASSIFIER_CACHE = models.MODELS_DIR / "__pycache__"
EXACT_EDGE = 0.35
"""How far below the statistical tier's best an intent with an exact sample match may be and still win."""
VALUED_EDGE, VALUED_LEAST = 0.2, 0.8
"""The same for free text after a one-word carrier ("my {statement}") against an intent that heard
a known value and is this sure (or heard a routine named outright and ranks it first: "can we do
office stretches"): "my neck is killing me from the laptop, can we sort it out" asks
for a routine, "my arm tingles during the neck stretches" tells a symptom..."""
VALUED_CARRIER_WORDS, NAMED_CARRIER_WORDS = 1, 2
"""...after a carrier of at most this many words, or of two when the value is a routine named outright:
"can i do the chest and shoulder opener quickly between meetings" asks for it."""
FREE_TEXT = frozenset({"QuestionIntent", "StatementIntent"})
"""Intents that carry what was said in a SearchQuery slot."""
FRAMED_WORDS = {"QuestionIntent": 3, "StatementIntent": 2}
"""An exact question or statement sample with this many words of its own (two for a statement:
"hold on {statement}" is how a symptom interrupts a routine, "can we {query}" often a request)..."""
FRAMED_DOUBT = 0.9
"""...wins unless the statistical tier is at least this sure of another intent."""
TOLD_SURE = 0.5
"""How sure the statistical tier must be that the free text an exact sample carries is told or asked,
on its own, for the sample to win over a command the whole sounds like: more likely than not."""
FALLBACK_SURE = 0.9
"""How sure of the fallback the statistical tier must be to overrule an exact match whose slot value
resolves to nothing."""


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the simulator heard: the request kind, the intent and slots, and why."""

    kind: str
    """LaunchRequest, IntentRequest or SessionEndedRequest."""
    intent: str | None = None
    slots: dict[str, SlotValue] = field(default_factory=dict)
    sample: str | None = None
    score: float = 0.0
    one_shot: bool = False
    """Said with the invocation ("ask back coach to ..."): opens a session if none is open."""
    explain: tuple[str, ...] = ()
    tier: str = "exact"
    """Which tier understood it: exact, statistical or fallback."""



class Understander:
    """Understands text in tiers: the model's exact samples (exact_samples.py), the statistical tier, then the fallback."""

    def __init__(self, model: dict[str, Any], alexa: dict[str, Any] | None = None,
                 inputs: Inputs | None = None, fingerprint: str = "", spelling: dict[str, str] | None = None) -> None:
        """`inputs` gives the statistical tier more to learn from than the model (see training_inputs);
        `fingerprint` names what it reads, for the classifier cache."""
        alexa = alexa or load_yaml(ALEXA)
        self.model, self.alexa = model, alexa
        self.inputs: Inputs = inputs or (lambda: ({}, {}))
        self.fingerprint = fingerprint
        written = {**{str(k): str(v) for k, v in (alexa.get("shorthand") or {}).items()}, **(spelling or {})}
        self.spelling = {said: meant.split() for said, meant in written.items()}
        """A word as typed or spelled -> the words the recogniser writes for it ("nvm": never mind)."""
        self.heard_as = {str(h["said"]): (str(h["means"]), frozenset(h.get("after") or ()), frozenset(h["before"]),
                                          frozenset(h.get("unless_then") or ())) for h in alexa.get("heard_as") or ()}
        self.discourse = [tokens(o) for o in alexa.get("discourse_openers", [])]
        self.closers = sorted((tokens(c) for c in alexa.get("discourse_closers", [])), key=len, reverse=True)
        self._classifier: Classifier | None = None
        self._commands_alone: dict[str, bool] = {}
        """An exact sample's carrier -> whether the statistical tier hears it alone as a command (see _told)."""
        language = model["interactionModel"]["languageModel"]
        self.invocation = tokens(language["invocationName"])
        self.fillers = frozenset(alexa["fillers"])
        self.articles = frozenset(alexa["articles"])
        self.openers = sorted((tokens(o) for o in alexa["polite_openers"]), key=len, reverse=True)
        self.launch_words = [tokens(w) for w in alexa["invocation"]["launch"]]
        self.one_shot_words = [tokens(w) for w in alexa["invocation"]["one_shot"]]
        self.joiners = [tokens(w) for w in alexa["invocation"]["one_shot_joiners"]]
        self.exit_words = {" ".join(tokens(w)) for w in alexa["invocation"]["exit"]}
        self.exact = ExactSamples(language, alexa["built_in_intents"], self.articles)
        self.intents = self.exact.intents
        self.slot_kinds = self.exact.slot_kinds
        self.whole_phrases: dict[str, str] = {}
        for name, phrases in alexa["built_in_intents"].items():
            if name in self.intents:
                for phrase in phrases:
                    if any(w in self.fillers for w in tokens(phrase)):
                        self.whole_phrases[" ".join(tokens(phrase))] = name

    # ----- public -----------------------------------------------------------------------

    def understand(self, text: str, in_session: bool = True) -> Understanding:
        """Interpret one utterance: invocation, exit, an intent with slots, or the fallback."""
        # Speech recognition spells words the locale's way, whoever typed them.
        said = [meant for w in tokens(text) for meant in self.spelling.get(w, [w])]
        said = self._as_meant(said)
        if " ".join(said) in self.whole_phrases:
            return self.match(" ".join(said))
        words = [w for w in said if w not in self.fillers]
        if " ".join(words) in self.exit_words:
            return Understanding("SessionEndedRequest", explain=("exit phrase",))
        invoked = self._invocation(words)
        if invoked is not None:
            rest = invoked
            if not rest:
                return Understanding("LaunchRequest", explain=("invocation: open the skill",))
            found = self.match(" ".join(rest))
            return Understanding(
                "IntentRequest", found.intent, found.slots, found.sample, found.score, True,
                ("invocation with a request", *found.explain), found.tier,
            )
        return self.match(" ".join(words))

    def match(self, text: str) -> Understanding:
        """The best intent for the text, in tiers: an exact sample, the statistical tier, then the fallback.

        An exact match whose slots all resolve is taken at once. Otherwise the statistical tier
        decides when it is confident enough for the model's fallback sensitivity; an exact match
        that only fits with free text or an unknown slot value is the last resort, so "start a
        routine with a tennis ball" is never heard as area = "start".
        """
        said = tokens(text)
        if " ".join(said) in self.whole_phrases:  # "uh huh" is a yes, not a filler and a "huh"
            return Understanding("IntentRequest", self.whole_phrases[" ".join(said)], {}, " ".join(said), 100.0,
                                 explain=("tier: exact sample (a built-in phrase)",), tier="exact")
        words = [w for w in said if w not in self.fillers]
        candidates = self.exact.candidates(words, 0.0)
        trimmed = self._without_opener(words)
        if trimmed is not None:
            candidates += self.exact.candidates(trimmed, 2.0)
        # A sample said word for word, with no slot, is the surest reading there is: "back one"
        # is that sample of PreviousIntent before it is "{area} one".
        ranked = sorted((c for c in candidates if c.score > 0), key=lambda c: (not c.slots, c.score), reverse=True)
        exact = tuple(f"{c.score:6.1f}  {c.intent:<26} '{c.sample}'  {self._show(c.slots)}" for c in ranked[:3])
        best = ranked[0] if ranked else None
        if best is not None and self._settled(best):
            return Understanding("IntentRequest", best.intent, best.slots, best.sample, best.score,
                                 explain=("tier: exact sample", *exact), tier="exact")
        if not words:
            return Understanding("IntentRequest", FALLBACK, explain=("nothing said",), tier="fallback")
        guess = self.classifier.guess(" ".join(self._without_discourse(words)))
        corrected = self.classifier._after_correction(words)
        if corrected != words:
            # "no wait, actually yes": a command said after a self-correction is what is meant. Free
            # text keeps every word, so a symptom told before the correction still reaches the skill.
            second = self.classifier.guess(" ".join(self._without_discourse(corrected)))
            # Never for a surer reading of the whole as free text: "i fell off a ladder, no wait, a
            # chair, and my back hurts" tells of a fall, whatever "a chair and my back hurts" asks.
            surer_told = guess.intent in FREE_TEXT and guess.probability > second.probability
            if second.confident and second.intent not in FREE_TEXT and not surer_told:
                # Its slots are read from every word: a correction restates only what it names.
                slots, spans = self.classifier.slots(second.intent, self._without_discourse(words))
                guess = replace(second, slots=slots, spans=spans)
        rival = self._close_exact(ranked, guess)
        if rival is not None:
            return Understanding("IntentRequest", rival.intent, rival.slots, rival.sample, rival.score,
                                 explain=(f"tier: exact sample, within {EXACT_EDGE} of the statistical tier's best", *exact,
                                          *self._profile("statistical", guess, words)), tier="exact")
        agreeing = next((c for c in ranked if guess.confident and self._agrees(c, guess)), None)
        if agreeing is not None:
            return Understanding("IntentRequest", agreeing.intent, agreeing.slots, agreeing.sample, agreeing.score,
                                 explain=("tier: exact sample, confirmed by the statistical tier", *exact,
                                          *self._profile("statistical", guess, words)), tier="exact")
        if guess.confident:
            return Understanding("IntentRequest", guess.intent, guess.slots, None, guess.probability,
                                 explain=self._profile("statistical", guess, words), tier="statistical")
        if best is not None and not self._surely_elsewhere(best, guess):
            return Understanding("IntentRequest", best.intent, best.slots, best.sample, best.score,
                                 explain=("tier: exact sample with free text or an unknown value", *exact,
                                          *self._profile("statistical (not confident)", guess, words)), tier="exact")
        return Understanding("IntentRequest", FALLBACK, explain=self._profile("fallback", guess, words), tier="fallback")

    @property
    def classifier(self) -> Classifier:
        """The statistical tier, trained on first use (and cached on disk while the model is unchanged)."""
        if self._classifier is None:
            try:
                self._classifier = cached(self.model, self.alexa, CLASSIFIER_CACHE, self.inputs, self.fingerprint)
            except ImportError as exc:
                raise MissingDependency("the simulator's statistical tier", exc.name) from exc
        return self._classifier

    def _close_exact(self, ranked: list[Candidate], guess: Guess) -> Candidate | None:
        """An exact match for an intent the statistical tier ranks nearly as high as its best.

        A sample that fits word for word is evidence the classifier alone does not weigh:
        "will going for a walk help my lower back" fits "will {query}", and a question it is.
        """
        if not guess.confident:
            return None
        # A routine named outright and ranked first is asked for however unsure the tier is of it.
        named = any(v.id is not None and v.slot_type == ROUTINE for v in guess.slots.values())
        # a part no routine works on is a value the skill cannot use: it ties nothing to the intent
        valued = named or (guess.probability >= VALUED_LEAST
                           and any(v.id not in (None, ELSEWHERE) for v in guess.slots.values()))
        for candidate in ranked:
            if candidate.intent == guess.intent:
                return None
            if candidate.intent in FREE_TEXT and self._told(candidate):
                return candidate
            # Free-text intents answer alike, so their confidence counts together, as in the
            # statistical tier's own fallback test: "got rear ended last week, which neck stretches
            # should i be doing" fits "got {statement}" and is a question or a statement.
            group = FREE_TEXT if candidate.intent in FREE_TEXT else {candidate.intent}
            carrier = NAMED_CARRIER_WORDS if named else VALUED_CARRIER_WORDS
            edge = VALUED_EDGE if candidate.intent in FREE_TEXT and candidate.literal <= carrier and valued else EXACT_EDGE
            if sum(guess.probabilities.get(i, 0.0) for i in group) + edge >= guess.probability:
                return candidate
            if candidate.literal >= FRAMED_WORDS.get(candidate.intent, math.inf) and guess.probability < FRAMED_DOUBT:
                # Free text framed by a carrier of FRAMED_WORDS or more ("i ... what should i do", "is it normal that ...")
                # is asked, whatever words inside it sound like a routine.
                return candidate
        return None

    def _told(self, candidate: Candidate) -> bool:
        """Whether an exact sample's carrier is a command by itself and the free text it carries is, on
        its own, surely told or asked: after "hold on" (a pause), "i feel dizzy" is a symptom to answer.
        A carrier that is no command ("my {statement}") leaves a complaint to the statistical tier."""
        carrier = candidate.sample.split("{")[0]
        if carrier not in self._commands_alone:  # the samples are fixed: each carrier is classified once
            alone = self.classifier.guess(carrier)
            self._commands_alone[carrier] = alone.confident and alone.intent not in FREE_TEXT
        if not self._commands_alone[carrier]:
            return False
        carried = " ".join(v.value for v in candidate.slots.values())
        inner = self.classifier.guess(carried)
        return inner.confident and sum(inner.probabilities.get(i, 0.0) for i in FREE_TEXT) >= TOLD_SURE

    def _surely_elsewhere(self, candidate: Candidate, guess: Guess) -> bool:
        """Whether the statistical tier is sure it is none of the skill's business ("give me a
        cardio workout") and the exact match only fits with a value no slot knows. Free text
        always reaches the skill: the answerer and the red-flag check decide it."""
        kinds = self.slot_kinds.get(candidate.intent, {})
        return guess.intent == FALLBACK and guess.probability >= FALLBACK_SURE \
            and not any(kinds.get(name) == "AMAZON.SearchQuery" for name in candidate.slots)

    def _as_meant(self, words: list[str]) -> list[str]:
        """The words with each one written as it sounds read as the word meant where the words around
        it say so (alexa.yaml's heard_as: "it's going to fast", "something for me neck")."""
        padded = [*words, "", ""]
        meant = []
        for i, word in enumerate(words):
            if word not in self.heard_as:
                meant.append(word)
                continue
            means, after, before, unless_then = self.heard_as[word]
            # No `after` list: the next word alone shows it ("neck stuff too minutes").
            follows = (i > 0 and words[i - 1] in after) if after else True
            shown = follows and padded[i + 1] in before and padded[i + 2] not in unless_then
            meant.append(means if shown else word)
        return meant

    def _without_discourse(self, words: list[str]) -> list[str]:
        """The words between openers such as "okay so" and closers such as "would you" that only
        frame a sentence, if any words remain."""
        while (rest := after_prefix(words, self.discourse)) is not None:
            words = rest
        while (rest := before_suffix(words, self.closers)) is not None:
            words = rest
        return words

    def _agrees(self, candidate: Candidate, guess: Guess) -> bool:
        """Whether an unsettled exact match says what the statistical tier says, and says more.

        Both free text ("my legs have gone numb": the carrier decides question or statement), or
        the same intent where the exact match keeps a value the statistical tier could not resolve
        ("i have a trampoline" reaches the skill as equipment = "trampoline").
        """
        if candidate.intent in FREE_TEXT and guess.intent in FREE_TEXT:
            return True
        return candidate.intent == guess.intent and not guess.slots and bool(candidate.slots)

    def _settled(self, candidate: Candidate) -> bool:
        """Whether an exact match needs no second opinion: every slot resolved, no free text."""
        kinds = self.slot_kinds.get(candidate.intent, {})
        return all(
            (v.id is not None if v.slot_type else kinds.get(name) != "AMAZON.SearchQuery")
            for name, v in candidate.slots.items()
        )

    def _profile(self, tier: str, guess: Guess, words: list[str]) -> tuple[str, ...]:
        """Lines shaped like Amazon's profile-nlu: the tier, the intents considered, the nearest sample, the slots."""
        lines = [f"tier: {tier} (fallback sensitivity {self.classifier.sensitivity})", "considered intents:"]
        lines += [f"  {score:5.3f}  {intent}" for intent, score in guess.ranked]
        sample, similarity = self.classifier.nearest(guess.intent, " ".join(words))
        if sample:
            lines.append(f"nearest sample of {guess.intent}: '{sample}' (similarity {similarity:.0f})")
        for name, span, said in guess.spans:
            if span is None:
                lines.append(f"slot {name} = '{said}'")
            else:
                how = "ER_SUCCESS_MATCH" if span.exact else "near match"
                lines.append(f"slot {name} = '{said}' [words {span.start}-{span.end}] -> {span.id} ({how})")
        return tuple(lines)

    # ----- internals --------------------------------------------------------------------

    @staticmethod
    def _show(slots: dict[str, SlotValue]) -> str:
        return " ".join(f"{k}={v.value!r}" + (f"->{v.id}" if v.id else "") for k, v in slots.items())

    def _starts(self, words: list[str], prefix: list[str]) -> bool:
        return words[: len(prefix)] == prefix

    def _without_opener(self, words: list[str]) -> list[str] | None:
        return after_prefix(words, self.openers)

    def _invocation(self, words: list[str]) -> list[str] | None:
        """The words after "open back coach" / "ask back coach to", or None if not an invocation."""
        name = self.invocation
        for verbs, joiners in ((self.launch_words, [["and"], ["to"]]), (self.one_shot_words, self.joiners)):
            for verb in verbs:
                head = verb + name
                if not self._starts(words, head):
                    continue
                rest = words[len(head) :]
                for joiner in joiners:
                    if self._starts(rest, joiner) and len(rest) > len(joiner) and joiner not in (["how"], ["what"]):
                        return rest[len(joiner) :]
                return rest
        return None


@cache
def understander(locale: str = "en-US") -> Understander:
    """The understander for a locale's stored interaction model, built once."""
    return Understander(models.load(locale), inputs=lambda: training_inputs(locale), fingerprint=_fingerprint(),
                        spelling=models.spelling(locale))
