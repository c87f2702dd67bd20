"""The statistical tier's classifier: trained on filled-in samples, it guesses an intent, its confidence and its slots.

How it reads an utterance is told in statistical.py's docstring; the features and SVM it trains
are in learning.py, the slot values it finds in slot_spans.py.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from skill.core.faq.text import stem
from skill.core.routines import ELSEWHERE
from skill.core.selection import duration_seconds
from skill.core.words import words as tokens
from skill.simulator.envelopes import SlotValue
from skill.simulator.learning import Features, _one_vs_rest
from skill.simulator.numbers import UNIT_SECONDS, parse_number
from skill.simulator.slot_spans import Gazetteer, Span, duration_spans
from skill.simulator.words import FALLBACK, after_prefix

DURATION_EXAMPLES = ("five minutes", "ten minutes", "half an hour", "twenty minutes", "a minute", "fifteen minutes", "two minutes")
UNRESOLVED_WORDS = 5
"""Most words taken as a value the model does not know ("start a routine for my numb legs")."""
OPENER_WORDS = 3
"""Words that may open a request before the words a sample frames a value with ("i want | a ... routine")."""
NOT_A_NAME = frozenset("one ones last previous next beginning start end it that this me step bit part".split())
"""First words after a carrier that point at a place rather than name it ("go back to the one we just did")."""
NOT_SAID_OF_A_VALUE = frozenset("me dear please now today tonight then mate love thanks pal darling for".split())
"""Words of address and time around a value, never part of it."""
CLAUSE_WORDS = frozenset("i i'm im i've ive i'd i'll you you're we we're they he she it's but because cos since so".split())
"""Words that open another clause, so a value the model does not know ends before them: in "for hours
and i'm all seized up" nothing after "and" names a place."""
FOR_A_TIME = frozenset("hours ages days weeks months years ever while yonks long time".split())
"""Words after "for" that say how long something has gone on, not where: "driving for hours"."""
OPTIONAL_SHARE = 0.5
"""An intent with slots whose samples are at least this share slotless takes its slots as extras
("skip", and "skip the pelvic tilts"): heard with none, it needs no more certainty than any intent."""
SLOTLESS_LEAST = 0.8
"""Least confidence for an intent with slots when none of its slots was heard..."""
SLOTLESS_SIMILAR = 75
"""...and least rapidfuzz ratio to one of its samples that have no slot ("start that one")."""
FREE_TEXT_FILLS = 3
"""Training texts made from each sample with a free-text slot, each with other stand-in words..."""
SLOT_FILLS = 1
"""...and from each sample with custom or number slots. Values are replaced by their type before the
word features see them, so more fillings only repeat the same word features: six and three cost
twice the training time and understood the development sets no better."""
TEMPERATURE = 4.0
"""Sharpness of the softmax that turns the SVM's margins into confidences."""
SENSITIVITY = {"LOW": (0.20, 0.0), "MEDIUM": (0.30, 0.05), "HIGH": (0.45, 0.10)}
"""fallbackIntentSensitivity -> (least top probability, least margin over the runner-up)."""
COUNTED_AFTER = frozenset({"step", "number"})
"""Words a step's number follows."""
SUBSUMING, SUBSUMED = "ROUTINE", frozenset({"BODY_AREA", "EQUIPMENT"})
DENIABLE, NO_EQUIPMENT = frozenset({"EQUIPMENT"}), "none"
"""The slot types a value of which can be said not to be there, and the value that is no equipment."""
_SLOT = re.compile(r"\{(\w+)\}")
START = "<s>"


def _opens_clause(words: list[str], at: int) -> bool:
    """Whether another clause begins at this word: one of CLAUSE_WORDS, or "and" before one."""
    return words[at] in CLAUSE_WORDS or (words[at] == "and" and at + 1 < len(words) and words[at + 1] in CLAUSE_WORDS)


def _stems(text: str) -> str:
    return " ".join(stem(w) for w in tokens(text))


def _word_sets(section: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Each named list of an alexa.yaml section as a set of words (empty when missing)."""
    return {key: frozenset(str(w) for w in (section or {}).get(key) or ()) for key in keys}


@dataclass(frozen=True, slots=True)
class Guess:
    """The statistical tier's reading of an utterance."""

    intent: str
    probability: float
    ranked: tuple[tuple[str, float], ...]
    slots: dict[str, SlotValue]
    spans: tuple[tuple[str, Span | None, str], ...] = ()
    """(slot name, span or None for free text, the words) for explaining."""
    confident: bool = True
    probabilities: dict[str, float] = field(default_factory=dict)
    """Every intent's confidence."""


class Classifier:
    """Intent probabilities for an utterance, and its slots, learned from an interaction model."""

    def __init__(self, model: dict[str, Any], alexa: dict[str, Any], free_text: dict[str, list[str]] | None = None,
                 training: dict[str, list[str]] | None = None) -> None:
        """`free_text` gives stand-ins for each SearchQuery slot by name (alexa.yaml's examples fill the
        rest); `training` gives more samples per intent than the model holds, to learn from."""
        language = model["interactionModel"]["languageModel"]
        self.articles = frozenset(alexa["articles"])
        self.examples = list(alexa.get("search_query_examples") or ["something"])
        self.out_of_domain = list(alexa.get("out_of_domain") or [])
        self.corrections = [tokens(c) for c in alexa.get("corrections") or []]
        self.denial: dict[str, Any] = {"reach": int((alexa.get("denial") or {}).get("reach", 0)),
                                       **_word_sets(alexa.get("denial"), ("deniers", "answers", "gap", "absence"))}
        self.bare: dict[str, Any] = {"most": float((alexa.get("bare_minutes") or {}).get("most", 0)),
                                     **_word_sets(alexa.get("bare_minutes"), ("hedges", "not_after", "not_before", "then_first"))}
        self.revised = _word_sets(alexa.get("revised_length"), ("between", "turning"))
        self.other_lengths = frozenset(alexa.get("length_of_other_things") or ())
        self.moments = frozenset(" ".join(tokens(m)) for m in alexa.get("moments") or ())
        longest = alexa.get("longest_length") or {}
        self.longest_minutes = float(longest.get("minutes", math.inf))
        self.asked_lengths = frozenset(longest.get("unless_before") or ())
        """Words after a length of more than `longest_minutes` that make it the routine's ("a ninety minute session")."""
        self.value_openers = sorted((tokens(o) for o in alexa.get("value_openers") or ()), key=len, reverse=True)
        self.vocabulary: dict[str, set[str]] = {}
        self._shapes: dict[str, list[str]] = {}
        self._slotless: dict[str, list[str]] = {}
        self.fillers = frozenset(alexa["fillers"])
        self.gazetteer = Gazetteer.of(language.get("types", []), self.articles, tuple(alexa.get("not_values") or ()))
        self.sensitivity = ((language.get("modelConfiguration") or {}).get("fallbackIntentSensitivity") or {}).get("level", "MEDIUM")
        self.slot_kinds: dict[str, dict[str, str]] = {}
        self.kind_by_name = {s["name"]: s["type"] for i in language["intents"] for s in i.get("slots", [])
                             if s["type"] != "AMAZON.SearchQuery"}
        self.free_text_intents = {
            i["name"] for i in language["intents"]
            if i.get("slots") and all(s["type"] == "AMAZON.SearchQuery" for s in i["slots"])
        }
        self.samples: dict[str, list[str]] = {}
        self.carriers: dict[str, list[list[str]]] = {}
        self.value_carriers: dict[str, list[list[str]]] = {}
        """For intents made only of named values ("go to {step}") and numbers, the words before a named value."""
        for intent in language["intents"]:
            name = intent["name"]
            kinds = {s["name"]: s["type"] for s in intent.get("slots", [])}
            self.slot_kinds[name] = kinds
            self.samples[name] = list(intent.get("samples", []))
        self.optional_slots = {
            name for name, samples in self.samples.items()
            if self.slot_kinds[name] and samples and sum(not _SLOT.search(s) for s in samples) >= OPTIONAL_SHARE * len(samples)
        }
        for name, phrases in alexa["built_in_intents"].items():
            if name in self.samples:
                self.samples[name] += list(phrases)
        learn = {name: [*dict.fromkeys([*(training or {}).get(name, []), *samples])] for name, samples in self.samples.items()}
        for name, samples in learn.items():
            for sample in samples:
                slot_names = _SLOT.findall(sample)
                if slot_names and self.slot_kinds[name].get(slot_names[0]) == "AMAZON.SearchQuery":
                    self.carriers.setdefault(name, []).append(tokens(sample.split("{")[0]))
                elif slot_names and self.slot_kinds[name].get(slot_names[0]) in self.gazetteer.table \
                        and all(k in self.gazetteer.table or k == "AMAZON.NUMBER" for k in self.slot_kinds[name].values()) \
                        and tokens(sample.split("{")[0]):
                    self.value_carriers.setdefault(name, []).append(tokens(sample.split("{")[0]))
        for found in (self.carriers, self.value_carriers):
            for name, carriers in found.items():
                found[name] = sorted({tuple(c): c for c in carriers}.values(), key=len, reverse=True)
        # from every expansion, not only those the model keeps: a frame does not come and go with the cap
        self.value_frames = {name: self._frames(name, samples) for name, samples in learn.items()}
        """The words around a model sample's one custom value, before and after ("a", "routine"), and its
        slot, most words first."""
        self._known = {name: {w for s in samples for w in tokens(_SLOT.sub(" ", s))} for name, samples in self.samples.items()}
        """Per intent, the words of its own samples."""
        self._fit(free_text or {}, learn)

    def _frames(self, intent: str, samples: list[str]) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
        """The words before and after each sample's one custom value, with its slot, most words first."""
        frames = set()
        for sample in samples:
            slot_names = _SLOT.findall(sample)
            if len(slot_names) == 1 and self.slot_kinds[intent].get(slot_names[0]) in self.gazetteer.table:
                before, _, after = (tuple(tokens(part)) for part in _SLOT.sub("\x00", sample).partition("\x00"))
                if before and after:
                    frames.add((before, after, slot_names[0]))
        return sorted(frames, key=lambda f: (-len(f[0]) - len(f[1]), f))

    # ----- training ------------------------------------------------------------------

    def _fill(self, sample: str, kinds: dict[str, str], picks: dict[str, itertools.cycle]) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            # A name the intent lacks is filled as the model's other intents type it: a request
            # learned inside a statement ("start the {routine} but i fell") names a routine.
            kind = kinds.get(name) or self.kind_by_name.get(name, "AMAZON.SearchQuery")
            if kind == "AMAZON.SearchQuery":
                return next(picks.get(f"query:{name}", picks["AMAZON.SearchQuery"]))
            return next(picks[kind]) if kind in picks else next(picks["AMAZON.SearchQuery"])

        return _SLOT.sub(value, sample)

    def _fit(self, free_text: dict[str, list[str]], learn: dict[str, list[str]]) -> None:
        picks: dict[str, itertools.cycle] = {
            kind: itertools.cycle([" ".join(k) for k in sorted(entries) if entries[k][0] != ELSEWHERE])
            for kind, entries in self.gazetteer.table.items()
        }
        picks["AMAZON.DURATION"] = itertools.cycle(DURATION_EXAMPLES)
        picks["AMAZON.NUMBER"] = itertools.cycle(["three", "ten", "two"])
        picks["AMAZON.SearchQuery"] = itertools.cycle(self.examples)
        for name, texts in free_text.items():
            if texts:
                picks[f"query:{name}"] = itertools.cycle([*texts, *self.examples])
        texts, labels = [], []
        learn = {**learn, FALLBACK: [*learn.get(FALLBACK, []), *self.out_of_domain]}
        # Samples without a slot, for _like_slotless; for an intent that takes slots, what people
        # said with a value in it ("the desk break please") is no sample without one.
        self._slotless = {
            intent: [_stems(s) for s in samples if not _SLOT.search(s)
                     and not (self.slot_kinds.get(intent) and self.gazetteer.spans(tokens(s), fuzzy=False))]
            for intent, samples in learn.items()
        }
        for intent, samples in learn.items():
            kinds = self.slot_kinds.get(intent, {})
            for sample in samples:
                fills = (FREE_TEXT_FILLS if kinds.get(_SLOT.findall(sample)[0]) == "AMAZON.SearchQuery" else SLOT_FILLS) if _SLOT.search(sample) else 1
                for _ in range(fills):
                    texts.append(self.features_text(self._fill(sample, kinds, picks)))
                    labels.append(intent)
                    self.vocabulary.setdefault(intent, set()).update(texts[-1].split("\t")[1].split())
        self.features, features = Features.fit(texts)
        self.classes, coef, intercept = _one_vs_rest(features, np.asarray(labels))
        # Kept as plain arrays: a prediction is then two transforms and one product, without the
        # per-call checks of a scikit-learn pipeline.
        self.coef = coef.astype(np.float32).T
        self.intercept = intercept.astype(np.float32)

    def features_text(self, text: str) -> str:
        """'raw words<TAB>delexicalised words', the two views the features read."""
        words = [w for w in tokens(text) if w not in self.fillers]
        marks: dict[int, tuple[int, str]] = {}
        taken: set[int] = set()
        for start, end, _ in duration_spans(words):
            if not taken & set(range(start, end)):
                marks[start] = (end, "AMAZON.DURATION")
                taken |= set(range(start, end))
        for span in self.gazetteer.spans(words, fuzzy=False):
            # a part no routine works on stays its words: "my knees" is no more a request than a question
            if span.id != ELSEWHERE and not taken & set(range(span.start, span.end)):
                marks[span.start] = (span.end, span.kind)
                taken |= set(range(span.start, span.end))
        delex: list[str] = []
        at = 0
        while at < len(words):
            if at in marks:
                end, kind = marks[at]
                delex.append(kind)
                at = end
            else:
                delex.append(words[at])
                at += 1
        # A start marker lets word bigrams see how the utterance opens ("should i ..." asks).
        return " ".join(words) + "\t" + " ".join([START, *delex])

    # ----- understanding -------------------------------------------------------------

    def guess(self, text: str) -> Guess:
        """The most likely intent with its slots, and whether it passes the fallback sensitivity."""
        features = self.features_text(text)
        columns, values = self.features.row(features)
        margins = values @ self.coef[columns] + self.intercept
        scores = [float(s) for s in np.ravel(margins)]
        # A linear SVM gives margins, not probabilities; a softmax over them ranks the same way
        # and gives a 0-to-1 confidence the fallback sensitivity can be set against.
        top_score = max(float(s) for s in scores)
        exp = [math.exp(TEMPERATURE * (float(s) - top_score)) for s in scores]
        probabilities = [e / sum(exp) for e in exp]
        ranked = sorted(zip(self.classes, (float(p) for p in probabilities), strict=True), key=lambda p: -p[1])
        top = ranked[0]
        # Intents that only carry free text answer alike ("is it bad that ..." as a question or a
        # statement), so their confidence counts together against the rest.
        group = self.free_text_intents if top[0] in self.free_text_intents else {top[0]}
        together = sum(p for intent, p in ranked if intent in group)
        runner = next((p for intent, p in ranked if intent not in group), 0.0)
        least, margin = SENSITIVITY.get(self.sensitivity, SENSITIVITY["MEDIUM"])
        confident = top[0] != FALLBACK and together >= least and together - runner >= margin
        words = [w for w in tokens(text) if w not in self.fillers]
        if not (set(features.split("\t")[1].split()) - {START}) & self.vocabulary.get(top[0], set()):
            confident = False  # not one word in common with anything the intent was taught
        slots, spans = self.slots(top[0], words)
        kinds = set(self.slot_kinds.get(top[0], {}).values())
        optional = top[0] in self.optional_slots
        if kinds and not optional and "AMAZON.SearchQuery" not in kinds and not slots \
                and not self._like_slotless(top[0], words, top[1]):
            # An intent that takes slots, heard with none of them, must be sure of its carrier
            # words alone: "open spotify" is not a routine to start.
            confident = False
        counted = any(self.slot_kinds[top[0]].get(name) == "AMAZON.NUMBER" for name in slots)
        if kinds and not optional and all(k in self.gazetteer.table or k == "AMAZON.NUMBER" for k in kinds) and not counted \
                and not any(v.id for v in slots.values()) and not self._named_after_carrier(top[0], words):
            # An intent made only of named values ("go to child's pose") with none of them heard,
            # and no name said where its samples say one, is a guess from its carrier words: "go
            # back to the one we just did" names no step, "go to the cobra" names one it lacks.
            confident = False
        return Guess(top[0], top[1], tuple(ranked[:3]), slots, spans, confident, dict(ranked))

    def _like_slotless(self, intent: str, words: list[str], probability: float) -> bool:
        """Whether words with none of the intent's slots read like one of its samples without slots."""
        if probability < SLOTLESS_LEAST:
            return False
        # compared by stems: "let's do some stretching" reads like "let's stretch"
        hit = process.extractOne(_stems(" ".join(words)), self._slotless.get(intent, []), scorer=fuzz.token_set_ratio)
        return hit is not None and hit[1] >= SLOTLESS_SIMILAR

    def slots(self, intent: str, words: list[str]) -> tuple[dict[str, SlotValue], tuple[tuple[str, Span | None, str], ...]]:
        """The intent's slots found in the words."""
        kinds = self.slot_kinds.get(intent, {})
        slots: dict[str, SlotValue] = {}
        shown: list[tuple[str, Span | None, str]] = []
        for name, kind in kinds.items():
            if kind == "AMAZON.SearchQuery":
                rest = self._after_carrier(intent, words)
                if rest:
                    slots[name] = SlotValue(" ".join(rest))
                    shown.append((name, None, " ".join(rest)))
        by_kind = {kind: name for name, kind in kinds.items()}
        custom = {k for k in by_kind if k in self.gazetteer.table}
        if custom:
            corrected = self._after_correction(words)
            offset = len(words) - len(corrected)
            spans = self._present(corrected, custom, offset)
            if offset and not any(s.kind == SUBSUMING for s in spans):
                # A correction restates what it names and keeps the rest: "upper back, with the wall,
                # wait no, with the tennis ball" is still the upper back. A routine named before it is
                # what it corrects.
                restated = {s.kind for s in spans}
                spans += [s for s in self._present(words[:offset], custom, 0) if s.kind not in restated | {SUBSUMING}]
            if SUBSUMING in custom and not any(s.kind == SUBSUMING for s in spans):
                whole = self.gazetteer.named_by_parts(words, spans, SUBSUMING, SUBSUMED)
                spans = spans if whole is None else [whole, *spans]
            if any(s.kind == SUBSUMING for s in spans):
                # A routine named outright already says where and with what: "the foam roller one
                # for my upper back" is that routine, not also an area and a piece of equipment.
                spans = [s for s in spans if s.kind not in SUBSUMED]
            # Of two values for one slot the longer name wins: in "i just got back from a run,
            # something for the whole body" the area is the whole body, not "back".
            for span in sorted(spans, key=lambda s: (-s.size, s.start)):
                name = by_kind[span.kind]
                if name not in slots:
                    said = " ".join(words[span.start : span.end])
                    slots[name] = SlotValue(said, span.id, span.kind)
                    shown.append((name, span, said))
        if custom and not any(n in slots for n in by_kind.values()):
            said = self._named_after_carrier(intent, words) or self._unresolved(words)
            if said and set(said) <= self._known.get(intent, set()):
                said = []  # the intent's own words name no value: "time for some stretching"
            kind = "BODY_AREA" if "BODY_AREA" in custom else sorted(custom)[0]
            name = by_kind[kind]
            if not said and (framed := self._framed(intent, words)) is not None:
                name, said = framed
                kind = kinds[name]
            if said:
                # Alexa fills a slot it cannot resolve with the words said; the skill then checks them.
                slots[name] = SlotValue(" ".join(said), None, kind)
                shown.append((name, None, " ".join(said)))
        if "AMAZON.DURATION" in by_kind and by_kind["AMAZON.DURATION"] not in slots:
            name = by_kind["AMAZON.DURATION"]
            # After a self-correction the later length counts: "ten minutes, actually make it five".
            corrected = self._after_correction(words)
            offset = len(words) - len(corrected)
            timed = [(offset + start, offset + end, value) for start, end, value in self._lengths(corrected)]
            later = [(offset + start, offset + end, value) for start, end, value in self._bare_minutes(corrected, 0)] if offset else []
            for start, end, value in (self._revised_length(words) or timed or later or self._lengths(words)
                                      or self._bare_minutes(words, offset))[:1]:
                slots[name] = SlotValue(value)
                shown.append((name, None, " ".join(words[start:end])))
        if "AMAZON.NUMBER" in by_kind and by_kind["AMAZON.NUMBER"] not in slots:
            # The only numbers the model takes count steps: "i want step seven", "step twenty one".
            counted = next(((at, size, n) for at in range(1, len(words)) if words[at - 1] in COUNTED_AFTER
                            for size in (2, 1) if len(words[at : at + size]) == size
                            and (n := parse_number(words[at : at + size])) is not None and n.is_integer()), None)
            if counted is not None:
                at, size, number = counted
                slots[by_kind["AMAZON.NUMBER"]] = SlotValue(str(int(number)))
                shown.append((by_kind["AMAZON.NUMBER"], None, " ".join(words[at : at + size])))
        return slots, tuple(shown)

    def _present(self, words: list[str], kinds: set[str], offset: int) -> list[Span]:
        """The values of `kinds` said in the words and not said to be absent, placed `offset` words on."""
        found = self.gazetteer.spans(words, kinds)
        return [replace(s, start=s.start + offset, end=s.end + offset) for s in found if not self._denied(words, s, found)]

    def _lengths(self, words: list[str]) -> list[tuple[int, int, str]]:
        """The durations in the words that could be a routine's length: not "a twelve hour shift", not "a
        sec", not "three hours in the car"."""
        then = words[1:] + [""]  # the word after each, "" at the end
        return [(start, end, value) for start, end, value in duration_spans(words)
                if then[end - 1] not in self.other_lengths and " ".join(words[start:end]) not in self.moments
                and ((duration_seconds(value) or math.inf) <= self.longest_minutes * 60 or then[end - 1] in self.asked_lengths)]

    def _revised_length(self, words: list[str]) -> list[tuple[int, int, str]]:
        """A bare number that turns the last length said into another (alexa.yaml's revised_length):
        "fifteen minutes, no, twenty" is twenty minutes."""
        lengths = self._lengths(words)
        if not lengths:
            return []
        # The last length said, whole ("half an hour", not its "an hour"); a number said to revise
        # seconds is seconds, any other is minutes ("an hour, no, forty five").
        _, at, said = max(lengths, key=lambda length: (length[1], length[1] - length[0]))
        unit = "S" if re.fullmatch(r"PT\d+S", said) else "M"
        turned = False
        while at < len(words) and (words[at] in self.revised["between"] or words[at] in self.fillers):
            turned = turned or words[at] in self.revised["turning"]
            at += 1
        for size in (2, 1):
            number = parse_number(words[at : at + size]) if turned and len(words[at : at + size]) == size else None
            then = words[at + size] if at + size < len(words) else None
            if number is not None and number.is_integer() and 0 < number <= self.bare["most"] \
                    and then not in self.bare["not_before"] and then not in UNIT_SECONDS:
                return [(at, at + size, f"PT{int(number)}{unit}")]
        return []

    def _denied(self, words: list[str], span: Span, spans: list[Span]) -> bool:
        """Whether a piece of equipment is said not to be there (alexa.yaml's denial): "nothing with
        the roller", "can't get down on the floor", but not "no, with the foam roller please"."""
        rules = self.denial
        if span.kind not in DENIABLE:
            return False
        if span.id == NO_EQUIPMENT and set(words[span.start : span.end]) & rules["absence"]:
            return False
        # A denial reaches the next piece of equipment only: "not the tennis ball, the foam roller".
        since = max((s.end for s in spans if s.kind in DENIABLE and s.end <= span.start), default=0)
        between: list[str] = []
        for at in range(span.start - 1, since - 1, -1):
            word = words[at]
            if word in self.articles:
                continue
            if word in rules["deniers"]:
                return not (at == 0 and word in rules["answers"] and between)
            if word not in rules["gap"] or len(between) >= rules["reach"]:
                return False
            between.append(word)
        return False

    def _bare_minutes(self, words: list[str], corrected_at: int) -> list[tuple[int, int, str]]:
        """A number said without a unit where a routine's length goes, read as minutes, as people
        mean it (alexa.yaml's bare_minutes). A lone "one" points at a routine ("the roller one")."""
        rules = self.bare
        for at in range(len(words)):
            for size in (2, 1):
                said = words[at : at + size]
                number = parse_number(said) if len(said) == size and said != ["one"] else None
                if number is None or not 1 < number <= rules["most"] or not number.is_integer():
                    continue
                back = at - 1
                while back >= 0 and words[back] in rules["hedges"]:
                    back -= 1
                then = words[at + size] if at + size < len(words) else None
                # A number before its unit is no bare number: "be quiet for two secs" (a moment).
                if (back >= 0 and words[back] in rules["not_after"]) or then in rules["not_before"] or then in UNIT_SECONDS:
                    continue
                placed = (back >= 0 and words[back] == "for") or then is None \
                    or (at == corrected_at and then in rules["then_first"])
                if placed:
                    return [(at, at + size, f"PT{int(number)}M")]
        return []

    @staticmethod
    def _unresolved(words: list[str]) -> list[str]:
        """The words after the last "for (my)" or "on my": where a value would be said, up to a
        duration ("for twenty minutes" names no area) and without words of address ("for me dear")."""
        timed = {at for start, end, _ in duration_spans(words) for at in range(start, end)}
        for at in range(len(words) - 2, -1, -1):
            if words[at] == "for" or (words[at] == "on" and words[at + 1] in ("my", "the")):
                rest = words[at + 1 :]
                if rest[0] == "me":
                    continue  # "pick one for me and go": "me" for "my" before a body part was read as "my" already
                if rest[0] in ("my", "the", "a", "an"):
                    rest = rest[1:]
                if not rest or rest[0] in FOR_A_TIME:
                    continue  # "sitting for a long time" says how long, not where
                start = len(words) - len(rest)
                kept = itertools.takewhile(lambda i: i not in timed, range(start, len(words)))
                said = [words[i] for i in itertools.takewhile(lambda i: not _opens_clause(words, i), kept)
                        if words[i] not in NOT_SAID_OF_A_VALUE]
                if said:  # else an earlier "for": "a routine for my numb thigh for five minutes"
                    return said[:UNRESOLVED_WORDS]
        return []

    def _named_after_carrier(self, intent: str, words: list[str]) -> list[str]:
        """The words where the intent's samples name a value, when they name something: Alexa fills
        the slot with them though no value resolves ("jump to the cobra")."""
        carriers = self.value_carriers.get(intent, [])
        # The carrier may follow an opener the samples happen not to pair it with: "let's jump to the cobra".
        rest = after_prefix(words, carriers) or after_prefix(after_prefix(words, self.value_openers) or [], carriers)
        while rest and rest[0] in self.articles:
            rest = rest[1:]
        if not rest or rest[0] in NOT_A_NAME:
            return []
        return rest[: next((i for i in range(len(rest)) if _opens_clause(rest, i)), len(rest))][:UNRESOLVED_WORDS]

    def _framed(self, intent: str, words: list[str]) -> tuple[str, list[str]] | None:
        """A slot and the words for it the model does not know, where a sample frames a value on both
        sides: "i want a foot massage routine" fills the area with "foot massage", as Alexa fills a slot
        by its place."""
        known = self._known.get(intent, set())
        for before, after, slot in self.value_frames.get(intent, ()):
            if len(words) < len(after) or tuple(words[len(words) - len(after) :]) != after:
                continue
            # Words of the intent's own samples may open the request first ("i want", "could you").
            for start in range(min(OPENER_WORDS, len(words)) + 1):
                middle = words[start + len(before) : len(words) - len(after)]
                if start and words[start - 1] not in known:
                    break
                if tuple(words[start : start + len(before)]) == before and 0 < len(middle) <= UNRESOLVED_WORDS \
                        and any(w not in known for w in middle) and not duration_spans(middle) \
                        and not any(_opens_clause(middle, i) for i in range(len(middle))):
                    return slot, middle
        return None

    def _after_correction(self, words: list[str]) -> list[str]:
        """The words after the last self-correction ("the tennis ball, no wait, the roller")."""
        last = 0
        for marker in self.corrections:
            for at in range(len(words) - len(marker) + 1):
                if words[at : at + len(marker)] == marker and at + len(marker) < len(words):
                    last = max(last, at + len(marker))
        return words[last:]

    def _after_carrier(self, intent: str, words: list[str]) -> list[str]:
        rest = after_prefix(words, self.carriers.get(intent, []))
        return words if rest is None else rest

    def nearest(self, intent: str, text: str) -> tuple[str, float]:
        """The intent's sample most like the text, with its similarity (0 to 100)."""
        delex = self.features_text(text).split("\t")[1].removeprefix(START).strip()
        if intent not in self._shapes:
            self._shapes[intent] = [_SLOT.sub(lambda m: self._kind_of(intent, m.group(1)), s) for s in self.samples.get(intent, [])]
        choices = self._shapes[intent]
        if not choices:
            return "", 0.0
        hit = process.extractOne(delex, choices, scorer=fuzz.ratio)
        return self.samples[intent][hit[2]], float(hit[1])

    def _kind_of(self, intent: str, slot: str) -> str:
        return self.slot_kinds.get(intent, {}).get(slot, "AMAZON.SearchQuery")
