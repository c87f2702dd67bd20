"""Local understanding built from an interaction model: text to intent, slots and entity resolution."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from skill import interaction_model as models
from skill.core.datafiles import DATA_DIR, load_yaml
from skill.dependencies import MissingDependency
from skill.simulator.envelopes import SlotValue
from skill.simulator.numbers import parse_duration, parse_number
from skill.simulator.statistical import Classifier, Guess, Inputs, cached
from skill.core.words import words as tokens
from skill.simulator.words import FALLBACK, after_prefix

ALEXA = DATA_DIR / "simulator" / "alexa.yaml"
CLASSIFIER_CACHE = models.MODELS_DIR / "__pycache__"
FAQ_FILE = DATA_DIR / "faq" / "en.yaml"
EXACT_EDGE = 0.35
"""How far below the statistical tier's best an intent with an exact sample match may be and still win."""
FREE_TEXT = frozenset({"QuestionIntent", "StatementIntent"})
FRAMED_WORDS = 4
"""An exact question or statement sample with this many words of its own..."""
FRAMED_DOUBT = 0.9
"""...wins unless the statistical tier is at least this sure of another intent."""
"""Intents that carry what was said in a SearchQuery slot."""
TRAINING_SAMPLES = 1500
"""Expansions per intent the statistical tier learns from (a model holds at most a few hundred)."""
MAX_SLOT_WORDS = 12
MAX_FREE_TEXT_WORDS = 40
"""AMAZON.SearchQuery takes a whole sentence; other slots a short name."""
FUZZY_RESOLUTION = 88
"""Least rapidfuzz score for a slot value to resolve to a near-miss synonym."""


@dataclass
class _Node:
    words: dict[str, _Node] = field(default_factory=dict)
    slots: dict[tuple[str, str], _Node] = field(default_factory=dict)
    ends: list[tuple[str, str, int]] = field(default_factory=list)
    """(intent, sample, number of literal words) for samples ending here."""


@dataclass(frozen=True, slots=True)
class _Words:
    """An utterance's words and the positions of those that are not articles."""

    all: list[str]
    kept: list[int]

    def word(self, at: int) -> str:
        return self.all[self.kept[at]]

    def span(self, start: int, end: int) -> list[str]:
        """Original words for kept positions start..end, with the articles just before them."""
        first = self.kept[start - 1] + 1 if start > 0 else 0
        return self.all[first : self.kept[end - 1] + 1]


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    intent: str
    sample: str
    slots: dict[str, SlotValue]
    score: float
    literal: int = 0
    """Words of the sample said word for word (its slots aside)."""


class Understander:
    """Matches text against every sample utterance of a locale's model, most specific match first."""

    def __init__(self, model: dict[str, Any], alexa: dict[str, Any] | None = None,
                 inputs: Inputs | None = None, fingerprint: str = "", spelling: dict[str, str] | None = None) -> None:
        """`inputs` gives the statistical tier more to learn from than the model (see training_inputs);
        `fingerprint` names what it reads, for the classifier cache."""
        alexa = alexa or load_yaml(ALEXA)
        self.model, self.alexa = model, alexa
        self.inputs: Inputs = inputs or (lambda: ({}, {}))
        self.fingerprint = fingerprint
        self.spelling = dict(spelling or {})
        self.discourse = [tokens(o) for o in alexa.get("discourse_openers", [])]
        self._classifier: Classifier | None = None
        language = model["interactionModel"]["languageModel"]
        self.invocation = tokens(language["invocationName"])
        self.fillers = frozenset(alexa["fillers"])
        self.articles = frozenset(alexa["articles"])
        self.openers = sorted((tokens(o) for o in alexa["polite_openers"]), key=len, reverse=True)
        self.launch_words = [tokens(w) for w in alexa["invocation"]["launch"]]
        self.one_shot_words = [tokens(w) for w in alexa["invocation"]["one_shot"]]
        self.joiners = [tokens(w) for w in alexa["invocation"]["one_shot_joiners"]]
        self.exit_words = {" ".join(tokens(w)) for w in alexa["invocation"]["exit"]}
        self.types: dict[str, dict[str, tuple[str, str]]] = {}
        for slot_type in language.get("types", []):
            table: dict[str, tuple[str, str]] = {}
            for value in slot_type["values"]:
                name = value["name"]["value"]
                for said in (name, *value["name"].get("synonyms", [])):
                    table.setdefault(self._key(said), (value["id"], name))
            self.types[slot_type["name"]] = table
        self.root = _Node()
        self.slot_kinds: dict[str, dict[str, str]] = {}
        self.intents: set[str] = set()
        for intent in language["intents"]:
            self.intents.add(intent["name"])
            kinds = {s["name"]: s["type"] for s in intent.get("slots", [])}
            self.slot_kinds[intent["name"]] = kinds
            for sample in intent.get("samples", []):
                self._add(intent["name"], sample, kinds)
        self.whole_phrases: dict[str, str] = {}
        for name, phrases in alexa["built_in_intents"].items():
            if name in self.intents:
                for phrase in phrases:
                    self._add(name, phrase, {})
                    if any(w in self.fillers for w in tokens(phrase)):
                        self.whole_phrases[" ".join(tokens(phrase))] = name

    def _key(self, text: str) -> str:
        return " ".join(w for w in tokens(text) if w not in self.articles)

    def _add(self, intent: str, sample: str, kinds: dict[str, str]) -> None:
        node = self.root
        literal = 0
        for part in re.findall(r"\{\w+\}|[^\s{}]+", sample.lower()):
            if part.startswith("{"):
                name = part[1:-1]
                node = node.slots.setdefault((name, kinds.get(name, "AMAZON.SearchQuery")), _Node())
                continue
            for word in tokens(part):
                if word in self.articles:
                    continue
                node = node.words.setdefault(word, _Node())
                literal += 1
        node.ends.append((intent, sample, literal))

    # ----- public -----------------------------------------------------------------------

    def understand(self, text: str, in_session: bool = True) -> Understanding:
        """Interpret one utterance: invocation, exit, an intent with slots, or the fallback."""
        # Speech recognition spells words the locale's way, whoever typed them.
        said = [self.spelling.get(w, w) for w in tokens(text)]
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
        candidates = self._candidates(words, 0.0)
        trimmed = self._without_opener(words)
        if trimmed is not None:
            candidates += self._candidates(trimmed, 2.0)
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
            if second.confident and second.intent not in FREE_TEXT:
                guess = second
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
        if best is not None:
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

    def _close_exact(self, ranked: list[_Candidate], guess: Guess) -> _Candidate | None:
        """An exact match for an intent the statistical tier ranks nearly as high as its best.

        A sample that fits word for word is evidence the classifier alone does not weigh:
        "will going for a walk help my lower back" fits "will {query}", and a question it is.
        """
        if not guess.confident:
            return None
        for candidate in ranked:
            if candidate.intent == guess.intent:
                return None
            # Free-text intents answer alike, so their confidence counts together, as in the
            # statistical tier's own fallback test: "got rear ended last week, which neck stretches
            # should i be doing" fits "got {statement}" and is a question or a statement.
            group = FREE_TEXT if candidate.intent in FREE_TEXT else {candidate.intent}
            if sum(guess.probabilities.get(i, 0.0) for i in group) + EXACT_EDGE >= guess.probability:
                return candidate
            if candidate.intent in FREE_TEXT and candidate.literal >= FRAMED_WORDS and guess.probability < FRAMED_DOUBT:
                # Free text framed by a long carrier ("i ... what should i do", "is it normal that ...")
                # is asked, whatever words inside it sound like a routine.
                return candidate
        return None

    def _without_discourse(self, words: list[str]) -> list[str]:
        """The words after openers such as "okay so" that only start a sentence, if any words remain."""
        while (rest := after_prefix(words, self.discourse)) is not None:
            words = rest
        return words

    def _agrees(self, candidate: _Candidate, guess: Guess) -> bool:
        """Whether an unsettled exact match says what the statistical tier says, and says more.

        Both free text ("my legs have gone numb": the carrier decides question or statement), or
        the same intent where the exact match keeps a value the statistical tier could not resolve
        ("i have a trampoline" reaches the skill as equipment = "trampoline").
        """
        if candidate.intent in FREE_TEXT and guess.intent in FREE_TEXT:
            return True
        return candidate.intent == guess.intent and not guess.slots and bool(candidate.slots)

    def _settled(self, candidate: _Candidate) -> bool:
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

    def _candidates(self, words: list[str], penalty: float) -> list[_Candidate]:
        # Articles are matched loosely: dropped from the walk, but slot values keep them
        # ("half an hour"), taken from the original words between the neighbouring literals.
        kept = [i for i, w in enumerate(words) if w not in self.articles]
        found: list[_Candidate] = []
        self._walk(self.root, _Words(words, kept), 0, {}, found, penalty)
        return found

    def _walk(
        self,
        node: _Node,
        words: _Words,
        at: int,
        filled: dict[str, tuple[str, list[str]]],
        found: list[_Candidate],
        penalty: float,
    ) -> None:
        if at == len(words.kept):
            for intent, sample, literal in node.ends:
                candidate = self._score(intent, sample, literal, filled, penalty)
                if candidate is not None:
                    found.append(candidate)
            return
        child = node.words.get(words.word(at))
        if child is not None:
            self._walk(child, words, at + 1, filled, found, penalty)
        for (name, kind), child in node.slots.items():
            longest = MAX_FREE_TEXT_WORDS if kind == "AMAZON.SearchQuery" else MAX_SLOT_WORDS
            for end in range(at + 1, min(len(words.kept), at + longest) + 1):
                self._walk(child, words, end, {**filled, name: (kind, words.span(at, end))}, found, penalty)

    def _score(
        self, intent: str, sample: str, literal: int, filled: dict[str, tuple[str, list[str]]], penalty: float
    ) -> _Candidate | None:
        score = 10.0 * literal - penalty
        slots: dict[str, SlotValue] = {}
        resolved_any = False
        for name, (kind, said) in filled.items():
            text = " ".join(said)
            if kind == "AMAZON.SearchQuery":
                slots[name] = SlotValue(text)
                score += 1.0 - 0.2 * len(said)
            elif kind == "AMAZON.NUMBER":
                number = parse_number(said) or parse_number(self._bare(said))
                if number is None:
                    return None
                slots[name] = SlotValue(str(int(number)) if number.is_integer() else str(number))
                score += 8.0
            elif kind == "AMAZON.DURATION":
                duration = parse_duration(text) or parse_duration(" ".join(self._bare(said)))
                if duration is None:
                    return None
                slots[name] = SlotValue(duration)
                score += 8.0
            elif kind in self.types:
                text = " ".join(self._bare(said)) or text
                resolved = self._resolve(kind, text)
                if resolved is None:
                    slots[name] = SlotValue(text, None, kind)
                    score -= 12.0 + 2.0 * len(said)
                else:
                    # A word of a known value counts a little more than a literal word, so
                    # the longest known name wins ("tennis ball routine" is a routine).
                    slots[name] = SlotValue(text, resolved[0], kind)
                    per_word = 10.5 if resolved[1] else 5.0
                    score += 8.0 + resolved[1] + per_word * len([w for w in said if w not in self.articles])
                    resolved_any = True
            else:
                slots[name] = SlotValue(text)
        if literal == 0 and not resolved_any:
            return None  # a bare slot that matched nothing known is not an understanding
        return _Candidate(intent, sample, slots, score, literal)

    def _bare(self, said: list[str]) -> list[str]:
        """The words without leading articles ("a 10 minute" to "10 minute")."""
        start = 0
        while start < len(said) and said[start] in self.articles:
            start += 1
        return said[start:]

    def _resolve(self, kind: str, text: str) -> tuple[str, float] | None:
        """The id a spoken value resolves to, with a bonus for an exact rather than near match."""
        table = self.types[kind]
        key = self._key(text)
        if key in table:
            return table[key][0], 1.0
        near = process.extractOne(key, table.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_RESOLUTION)
        if near is not None:
            return table[near[0]][0], 0.0
        return None


STATEMENT_OPENERS = frozenset("i i've i'm i'd my both there's it's it this that since after".split())


def faq_shapes() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The FAQ's phrasings, read once, as the shape of free text the statistical tier learns.

    A real speaker's understanding knows how questions and statements are shaped from far more
    than one skill's samples; the FAQ gives the tier that sense twice over: without their first
    word as stand-ins for the question and statement slots, and whole, as utterances of
    QuestionIntent or StatementIntent (by how they open).
    """
    from skill.core.faq import load_entries

    free_text: dict[str, list[str]] = {"query": [], "statement": []}
    whole: dict[str, list[str]] = {"QuestionIntent": [], "StatementIntent": []}
    for entry in load_entries():
        for phrasing in entry.questions:
            words = tokens(phrasing)
            statement = words[0] in STATEMENT_OPENERS
            whole["StatementIntent" if statement else "QuestionIntent"].append(" ".join(words))
            if len(words) > 2:
                free_text["statement" if statement else "query"].append(" ".join(words[1:]))
    return free_text, whole


def training_inputs(locale: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the statistical tier learns from besides the model: stand-ins for free text, and the
    full template expansion with the FAQ's phrasings as whole questions and statements."""
    free_text, whole = faq_shapes()
    training = models.training_samples(locale, TRAINING_SAMPLES)
    for intent, utterances in whole.items():
        training[intent] = [*training.get(intent, []), *utterances]
    return free_text, training


def _fingerprint() -> str:
    """The files and code training_inputs reads, for the classifier cache key."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(TRAINING_SAMPLES)]
    for path in (models.SOURCE, FAQ_FILE, Path(models.__file__).with_name("model_templates.py"), Path(__file__)):
        parts.append(path.read_text(encoding="utf-8"))
    try:
        parts.append(version("hassil"))
    except PackageNotFoundError:
        parts.append("hassil missing")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@cache
def understander(locale: str = "en-US") -> Understander:
    """The understander for a locale's stored interaction model, built once."""
    return Understander(models.load(locale), inputs=lambda: training_inputs(locale), fingerprint=_fingerprint(),
                        spelling=models.spelling(locale))
