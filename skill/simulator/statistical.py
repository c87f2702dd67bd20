"""The simulator's statistical tier: an intent classifier and slot finder trained on the model's samples.

Like snips-nlu's probabilistic parser, and as a stand-in for Alexa's own statistical understanding:

* Training text is every sample of the interaction model, and of the larger template expansion
  the caller gives, with its slots filled in (custom values and synonyms in turn, a few
  durations, stand-ins for free text), plus Amazon's usual phrases for the built-in intents.
  AMAZON.FallbackIntent's out-of-domain samples and alexa.yaml's `out_of_domain` are the
  explicit "none" class.
* Before classifying, known slot values are replaced by their type ("start the ROUTINE"), in
  training and when understanding, so the classifier learns carrier words, not values.
* Features are TF-IDF word 1-2-grams of that text and character 3-4-grams of the raw words,
  computed here (see `Features`); the classifier is a linear SVM per intent against the rest
  (scikit-learn's liblinear; training takes well under a
  second, a logistic regression several), and a softmax over its margins sets the confidence.
* Slots are found by longest match of values and synonyms (rapidfuzz for near misses, word by
  word), the duration parser, and, for AMAZON.SearchQuery, the words after the longest carrier
  phrase of the intent's samples; after a self-correction only the later words count, and words
  after "for my" that match no value are passed on unresolved, as Alexa does.

The module is longer than the project's usual 300 lines because the classifier, its slot finder
and its cache share one set of constants and one cache key over this file's own code.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from skill.simulator.envelopes import SlotValue
from skill.simulator import numbers as numbers_module
from skill.simulator import words as words_module
from skill.simulator.numbers import UNIT_SECONDS, parse_duration
from skill.core.words import words as tokens
from skill.simulator.words import FALLBACK, after_prefix

CACHE_VERSION = "10"
"""Part of the cache key, with this module's code: change it to retire every cached classifier."""
FUZZY_SPAN = 90
"""Least rapidfuzz ratio for a span of words to count as a near miss of a slot value."""
DURATION_EXAMPLES = ("five minutes", "ten minutes", "half an hour", "twenty minutes", "a minute", "fifteen minutes", "two minutes")
FUZZY_WORD = 75
"""Least rapidfuzz ratio for each word of such a span against the value's word in its place..."""
SHORT_WORD = 3
"""...where words of this many letters or fewer must match exactly."""
MAX_SPAN = 8
UNRESOLVED_WORDS = 5
"""Most words taken as a value the model does not know ("start a routine for my numb legs")."""
SLOTLESS_LEAST = 0.8
"""Least confidence for an intent with slots when none of its slots was heard..."""
SLOTLESS_SIMILAR = 75
"""...and least rapidfuzz ratio to one of its samples that have no slot ("start that one")."""
FREE_TEXT_FILLS = 2
"""Training texts made from each sample with a free-text slot, each with other stand-in words..."""
SLOT_FILLS = 1
"""...and from each sample with custom or number slots. Values are replaced by their type before the
word features see them, so more fillings only repeat the same word features: six and three cost
twice the training time and understood the development sets no better."""
CHAR_NGRAMS = (3, 4)
"""Character n-gram lengths of the raw words. Two-letter grams doubled the SVM's work (most of a
feature row) and added nothing the three- and four-letter ones did not say."""
CHAR_MIN_DF = 2
SVM_C = 1.0
"""The linear SVM's regularisation (scikit-learn's C)."""
SVM_TOLERANCE = 0.1
"""liblinear's stopping tolerance. Its default (0.0001) spends most of the training polishing
weights that rank every training text and every development phrasing the same way."""
"""The linear SVM's regularisation (scikit-learn's C)."""
TEMPERATURE = 4.0
"""Sharpness of the softmax that turns the SVM's margins into confidences."""
SENSITIVITY = {"LOW": (0.20, 0.0), "MEDIUM": (0.30, 0.05), "HIGH": (0.45, 0.10)}
"""fallbackIntentSensitivity -> (least top probability, least margin over the runner-up)."""
SUBSUMING, SUBSUMED = "ROUTINE", frozenset({"BODY_AREA", "EQUIPMENT"})
_SLOT = re.compile(r"\{(\w+)\}")
START = "<s>"


@dataclass(frozen=True, slots=True)
class Span:
    """A slot value found in the words: where, which type, and what it resolves to."""

    start: int
    end: int
    kind: str
    id: str | None
    name: str
    exact: bool
    size: int = 0
    """Words in the value or synonym matched: the longest known name wins, exact before near."""


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


@dataclass
class Gazetteer:
    """Every custom slot value and synonym, by its words, for longest-match lookup."""

    articles: frozenset[str]
    table: dict[str, dict[tuple[str, ...], tuple[str, str]]] = field(default_factory=dict)
    longest: int = 1
    first_words: set[str] = field(default_factory=set)
    """Words a value can start with (articles aside): a span starting elsewhere is not looked up."""
    keys: dict[tuple[str, ...], list[tuple[str, str, str]]] = field(default_factory=dict)
    """Every table's keys together -> (type, id, name) for each type that has the key, in table order."""

    @classmethod
    def of(cls, types: list[dict[str, Any]], articles: frozenset[str]) -> Gazetteer:
        gazetteer = cls(articles)
        for slot_type in types:
            entries: dict[tuple[str, ...], tuple[str, str]] = {}
            for value in slot_type["values"]:
                name = value["name"]["value"]
                for said in (name, *value["name"].get("synonyms", [])):
                    key = tuple(w for w in tokens(said) if w not in articles)
                    if key:
                        entries.setdefault(key, (value["id"], name))
                        gazetteer.longest = max(gazetteer.longest, len(key))
                        gazetteer.first_words.add(key[0])
            gazetteer.table[slot_type["name"]] = entries
            for key, (value_id, name) in entries.items():
                gazetteer.keys.setdefault(key, []).append((slot_type["name"], value_id, name))
        return gazetteer

    def spans(self, words: list[str], kinds: set[str] | None = None, fuzzy: bool = True) -> list[Span]:
        """Non-overlapping slot values, longest first, then leftmost."""
        found: list[Span] = []
        for start in range(len(words)):
            if words[start] not in self.first_words and words[start].removesuffix("'s") not in self.first_words:
                continue
            # A value's key is its words without articles, so only spans ending on one of the next
            # `longest` other words can match: longest first, as the selection below prefers.
            kept = [at for at in range(start, min(len(words), start + MAX_SPAN)) if words[at] not in self.articles]
            for size in range(min(len(kept), self.longest), 0, -1):
                key = tuple(words[at] for at in kept[:size])
                end = kept[size - 1] + 1
                if key[-1].endswith("'s") and key not in self.keys:
                    key = (*key[:-1], key[-1][:-2])  # "neck's gone stiff": the value is "neck"
                for kind, value_id, name in self.keys.get(key, ()):
                    if kinds is None or kind in kinds:
                        found.append(Span(start, end, kind, value_id, name, True, len(key)))
        if fuzzy:
            found += self._near(words, kinds)
        chosen: list[Span] = []
        taken: set[int] = set()
        for span in sorted(found, key=lambda s: (-s.size, not s.exact, s.end - s.start, s.start)):
            positions = set(range(span.start, span.end))
            if not positions & taken:
                chosen.append(span)
                taken |= positions
        return sorted(chosen, key=lambda s: s.start)

    def _near(self, words: list[str], kinds: set[str] | None) -> list[Span]:
        """Spans that are a value said slightly differently ("shoulder blade squeeze"): as many words
        as the value, each close to the value's word in the same place."""
        near: list[Span] = []
        content = words
        for kind, entries in self.table.items():
            if kinds is not None and kind not in kinds:
                continue
            for size in range(2, min(self.longest, len(content)) + 1):
                keys = {" ".join(k): k for k in entries if len(k) == size}
                if not keys:
                    continue
                for start in range(len(content) - size + 1):
                    said = content[start : start + size]
                    hit = process.extractOne(" ".join(said), keys.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_SPAN)
                    if hit is None:
                        continue
                    key = keys[hit[0]]
                    if all(_near_word(a, b) for a, b in zip(said, key, strict=True)):
                        value = entries[key]
                        near.append(Span(start, start + size, kind, value[0], value[1], False, size))
        return near


def _near_word(said: str, value: str) -> bool:
    """Whether a word said is the value's word said slightly differently. Short words must be the
    same: one letter is most of them, so "on" is not "one" nor "my" "me" ("the roller on my mid
    back" is no "roller one")."""
    if said == value:
        return True
    return min(len(said), len(value)) > SHORT_WORD and fuzz.ratio(said, value) >= FUZZY_WORD


def _durations(words: list[str]) -> list[tuple[int, int, str]]:
    """Spans that parse as a duration, longest first (a duration ends with a unit: "ten minutes")."""
    ends = [i + 1 for i, w in enumerate(words) if w in UNIT_SECONDS or w == "half"]  # "a minute and a half"
    if not ends:
        return []
    found = []
    for start in range(len(words)):
        for end in (e for e in reversed(ends) if start < e <= start + 6):
            value = parse_duration(" ".join(words[start:end]))
            if value is not None:
                found.append((start, end, value))
                break
    return sorted(found, key=lambda f: -(f[1] - f[0]))


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
        self.vocabulary: dict[str, set[str]] = {}
        self._shapes: dict[str, list[str]] = {}
        self._slotless: dict[str, list[str]] = {}
        self.fillers = frozenset(alexa["fillers"])
        self.gazetteer = Gazetteer.of(language.get("types", []), self.articles)
        self.sensitivity = ((language.get("modelConfiguration") or {}).get("fallbackIntentSensitivity") or {}).get("level", "MEDIUM")
        self.slot_kinds: dict[str, dict[str, str]] = {}
        self.free_text_intents = {
            i["name"] for i in language["intents"]
            if i.get("slots") and all(s["type"] == "AMAZON.SearchQuery" for s in i["slots"])
        }
        self.samples: dict[str, list[str]] = {}
        self.carriers: dict[str, list[list[str]]] = {}
        for intent in language["intents"]:
            name = intent["name"]
            kinds = {s["name"]: s["type"] for s in intent.get("slots", [])}
            self.slot_kinds[name] = kinds
            self.samples[name] = list(intent.get("samples", []))
        for name, phrases in alexa["built_in_intents"].items():
            if name in self.samples:
                self.samples[name] += list(phrases)
        learn = {name: [*dict.fromkeys([*(training or {}).get(name, []), *samples])] for name, samples in self.samples.items()}
        for name, samples in learn.items():
            for sample in samples:
                slot_names = _SLOT.findall(sample)
                if slot_names and self.slot_kinds[name].get(slot_names[0]) == "AMAZON.SearchQuery":
                    self.carriers.setdefault(name, []).append(tokens(sample.split("{")[0]))
        for name, carriers in self.carriers.items():
            self.carriers[name] = sorted({tuple(c): c for c in carriers}.values(), key=len, reverse=True)
        self._fit(free_text or {}, learn)

    # ----- training ------------------------------------------------------------------

    def _fill(self, sample: str, kinds: dict[str, str], picks: dict[str, itertools.cycle]) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            kind = kinds.get(name, "AMAZON.SearchQuery")
            if kind == "AMAZON.SearchQuery":
                return next(picks.get(f"query:{name}", picks["AMAZON.SearchQuery"]))
            return next(picks[kind]) if kind in picks else next(picks["AMAZON.SearchQuery"])

        return _SLOT.sub(value, sample)

    def _fit(self, free_text: dict[str, list[str]], learn: dict[str, list[str]]) -> None:
        picks: dict[str, itertools.cycle] = {
            kind: itertools.cycle([" ".join(k) for k in sorted(entries)]) for kind, entries in self.gazetteer.table.items()
        }
        picks["AMAZON.DURATION"] = itertools.cycle(DURATION_EXAMPLES)
        picks["AMAZON.NUMBER"] = itertools.cycle(["three", "ten", "two"])
        picks["AMAZON.SearchQuery"] = itertools.cycle(self.examples)
        for name, texts in free_text.items():
            if texts:
                picks[f"query:{name}"] = itertools.cycle([*texts, *self.examples])
        texts, labels = [], []
        learn = {**learn, FALLBACK: [*learn.get(FALLBACK, []), *self.out_of_domain]}
        self._slotless = {intent: [s for s in samples if not _SLOT.search(s)] for intent, samples in learn.items()}
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
        for start, end, _ in _durations(words):
            if not taken & set(range(start, end)):
                marks[start] = (end, "AMAZON.DURATION")
                taken |= set(range(start, end))
        for span in self.gazetteer.spans(words, fuzzy=False):
            if not taken & set(range(span.start, span.end)):
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
        if kinds and "AMAZON.SearchQuery" not in kinds and not slots and not self._like_slotless(top[0], words, top[1]):
            # An intent that takes slots, heard with none of them, must be sure of its carrier
            # words alone: "open spotify" is not a routine to start.
            confident = False
        if kinds and all(k in self.gazetteer.table for k in kinds) and not any(v.id for v in slots.values()):
            # An intent made only of named values ("go to child's pose") with none of them heard
            # is a guess from its carrier words: "go back to the one we just did" names no step.
            confident = False
        return Guess(top[0], top[1], tuple(ranked[:3]), slots, spans, confident, dict(ranked))

    def _like_slotless(self, intent: str, words: list[str], probability: float) -> bool:
        """Whether words with none of the intent's slots read like one of its samples without slots."""
        if probability < SLOTLESS_LEAST:
            return False
        hit = process.extractOne(" ".join(words), self._slotless.get(intent, []), scorer=fuzz.token_set_ratio)
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
            spans = self.gazetteer.spans(self._after_correction(words), custom)
            offset = len(words) - len(self._after_correction(words))
            if any(s.kind == SUBSUMING for s in spans):
                # A routine named outright already says where and with what: "the foam roller one
                # for my upper back" is that routine, not also an area and a piece of equipment.
                spans = [s for s in spans if s.kind not in SUBSUMED]
            # Of two values for one slot the longer name wins: in "i just got back from a run,
            # something for the whole body" the area is the whole body, not "back".
            for span in sorted(spans, key=lambda s: (-s.size, s.start)):
                name = by_kind[span.kind]
                if name not in slots:
                    said = " ".join(words[offset + span.start : offset + span.end])
                    slots[name] = SlotValue(said, span.id, span.kind)
                    shown.append((name, span, said))
        if custom and not any(n in slots for n in by_kind.values()):
            said = self._unresolved(words)
            if said:
                # Alexa fills a slot it cannot resolve with the words said; the skill then checks them.
                kind = "BODY_AREA" if "BODY_AREA" in custom else sorted(custom)[0]
                slots[by_kind[kind]] = SlotValue(" ".join(said), None, kind)
                shown.append((by_kind[kind], None, " ".join(said)))
        if "AMAZON.DURATION" in by_kind:
            for start, end, value in _durations(words):
                name = by_kind["AMAZON.DURATION"]
                if name not in slots:
                    slots[name] = SlotValue(value)
                    shown.append((name, None, " ".join(words[start:end])))
        return slots, tuple(shown)

    @staticmethod
    def _unresolved(words: list[str]) -> list[str]:
        """The words after the last "for (my)" or "on my": where a value would be said."""
        for at in range(len(words) - 2, -1, -1):
            if words[at] == "for" or (words[at] == "on" and words[at + 1] in ("my", "the")):
                rest = words[at + 1 :]
                if rest[0] in ("my", "the", "a", "an", "me"):
                    rest = rest[1:]
                return rest[:UNRESOLVED_WORDS]
        return []

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


def _one_vs_rest(features: Any, labels: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The classes, and a linear SVM's weights and intercept per class against the rest (one row
    each, also when there are only two classes, where LinearSVC gives one margin).

    Trained in one process thread: liblinear draws its coordinate order from one random generator
    for the whole process, so SVMs trained side by side would differ from run to run.
    """
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=SVM_C, tol=SVM_TOLERANCE, random_state=0).fit(features, labels)
    classes = [str(c) for c in svm.classes_]
    if len(classes) == 2:  # one margin, for classes[1]; classes[0]'s is its negative
        return classes, np.stack([-svm.coef_[0], svm.coef_[0]]), np.asarray([-svm.intercept_[0], svm.intercept_[0]])
    return classes, svm.coef_, svm.intercept_


def _char_grams(word: str) -> list[str]:
    """"c" and the character n-grams of a word padded with spaces (scikit-learn's "char_wb")."""
    padded = f"c {word} "  # the view's mark, then the word between spaces
    low, high = CHAR_NGRAMS
    return ["c" + padded[i : i + n] for n in range(low, high + 1) for i in range(1, max(2, len(padded) - n + 1))]


def _grams(text: str) -> list[str]:
    """A features_text's features: "w" and the word 1- and 2-grams of the delexicalised words, then
    the character grams of each raw word."""
    raw, _, delex = text.partition("\t")
    words = delex.split()
    grams = ["w" + w for w in words]
    grams += [f"w{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    for word in raw.split():
        grams += _char_grams(word)
    return grams


@dataclass
class Features:
    """TF-IDF over the two views as scikit-learn's TfidfVectorizer computes it (sublinear term
    frequency, smoothed idf, each view scaled to unit length), with one column numbering.

    Built by hand because training pays for every pass over the texts: the grams are made once
    (a word's character grams once for all the texts it is in), counting and weighting are array
    operations over all texts at once, and a prediction is a lookup per gram instead of two
    vectorizer calls with their input checks.
    """

    columns: dict[str, int]
    """A gram ("w" or "c" first) -> its column; word grams come first."""
    idf: np.ndarray
    words: int
    """Columns below this are word grams, the rest character grams."""

    @classmethod
    def fit(cls, texts: list[str]) -> tuple[Features, Any]:
        """The features learned from the texts, and the texts' rows (a float64 sparse matrix, as
        liblinear takes it). Character grams in fewer than CHAR_MIN_DF texts are left out."""
        from scipy.sparse import csr_matrix

        vocabulary: dict[str, int] = {}
        by_word: dict[str, list[int]] = {}
        flat: list[int] = []
        sizes: list[int] = []
        for text in texts:
            raw, _, delex = text.partition("\t")
            words = delex.split()
            before = len(flat)
            flat += [vocabulary.setdefault("w" + w, len(vocabulary)) for w in words]
            flat += [vocabulary.setdefault(f"w{a} {b}", len(vocabulary)) for a, b in zip(words, words[1:], strict=False)]
            for word in raw.split():
                grams = by_word.get(word)
                if grams is None:
                    grams = by_word[word] = [vocabulary.setdefault(g, len(vocabulary)) for g in _char_grams(word)]
                flat += grams
            sizes.append(len(flat) - before)
        size = len(vocabulary)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)
        keys, counts = np.unique(rows * size + np.asarray(flat, dtype=np.int64), return_counts=True)
        rows, grams = np.divmod(keys, size)
        df = np.bincount(grams, minlength=size)
        names = list(vocabulary)
        is_char = np.fromiter((name[0] == "c" for name in names), dtype=bool, count=size)
        word_ids = np.flatnonzero(~is_char)
        char_ids = np.flatnonzero(is_char & (df >= CHAR_MIN_DF))
        column = np.full(size, -1, dtype=np.int64)
        column[word_ids] = np.arange(len(word_ids))
        column[char_ids] = len(word_ids) + np.arange(len(char_ids))
        kept = np.concatenate([word_ids, char_ids])
        idf = np.log((1 + len(texts)) / (1 + df[kept])) + 1
        features = cls({names[i]: n for n, i in enumerate(kept.tolist())}, idf.astype(np.float32), len(word_ids))
        keep = column[grams] >= 0
        rows, columns, counts = rows[keep], column[grams][keep], counts[keep]
        data = features._weigh(columns, counts, rows, len(texts))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        matrix = csr_matrix((data, columns, indptr), shape=(len(texts), len(kept)))
        matrix.sort_indices()
        return features, matrix

    def _weigh(self, columns: np.ndarray, counts: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
        """Sublinear tf times idf, each row's word part and character part scaled to unit length."""
        values = (1 + np.log(counts)) * self.idf[columns]
        part = rows * 2 + (columns >= self.words)
        norms = np.sqrt(np.bincount(part, weights=np.square(values), minlength=2 * size))
        return values / np.where(norms > 0, norms, 1.0)[part]

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The columns and weights of one text's features (grams never seen in training are left out)."""
        found = [(self.columns[g], n) for g, n in Counter(_grams(text)).items() if g in self.columns]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        pairs = np.asarray(found, dtype=np.float64)
        columns = pairs[:, 0].astype(np.intp)
        return columns, self._weigh(columns, pairs[:, 1], np.zeros(len(columns), dtype=np.intp), 1).astype(np.float32)


Inputs = Callable[[], tuple[dict[str, list[str]], dict[str, list[str]]]]
"""Builds (free text stand-ins, training samples) when a classifier must be trained."""


def _code_digest() -> str:
    """What the cache key needs of the code and libraries that shape a trained classifier."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [CACHE_VERSION]
    for module in (__file__, numbers_module.__file__, words_module.__file__):
        parts.append(Path(module).read_text(encoding="utf-8"))
    for package in ("scikit-learn", "numpy", "scipy", "rapidfuzz"):
        try:
            parts.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} missing")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def cached(model: dict[str, Any], alexa: dict[str, Any], directory: Path, inputs: Inputs, fingerprint: str) -> Classifier:
    """The classifier for a model, from a pickle in `directory` while nothing that shapes it changed.

    The key covers the model, alexa.yaml, `fingerprint` (the files `inputs` reads), this module's
    code and the libraries' versions, so a pickle is never read back into code it was not made by.
    `inputs` runs only when a classifier must be trained. A pickle that cannot be read is rebuilt;
    other keys' pickles are removed once a new one is written.
    """
    material = repr((_code_digest(), sorted(alexa.items()), model, fingerprint))
    key = hashlib.sha256(material.encode()).hexdigest()[:16]
    path = directory / f"classifier-{key}.pickle"
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
        if isinstance(found, Classifier):
            return found
    except Exception:  # missing, truncated, or written by other code: train again
        pass
    free_text, training = inputs()
    classifier = Classifier(model, alexa, free_text, training)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle_number, name = tempfile.mkstemp(dir=directory, prefix="classifier-", suffix=".tmp")
        with os.fdopen(handle_number, "wb") as handle:
            pickle.dump(classifier, handle)
        Path(name).replace(path)
        for other in directory.glob("classifier-*.pickle"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError:
        pass
    return classifier
