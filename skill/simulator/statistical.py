"""The simulator's statistical tier: an intent classifier and slot finder trained on the model's samples.

Like snips-nlu's probabilistic parser, and as a stand-in for Alexa's own statistical understanding:

* Training text is every sample of the interaction model, and of the larger template expansion
  the caller gives, with its slots filled in (custom values and synonyms in turn, a few
  durations, stand-ins for free text), plus Amazon's usual phrases for the built-in intents.
  AMAZON.FallbackIntent's out-of-domain samples and alexa.yaml's `out_of_domain` are the
  explicit "none" class.
* Before classifying, known slot values are replaced by their type ("start the ROUTINE"), in
  training and when understanding, so the classifier learns carrier words, not values.
* Features are TF-IDF word 1-2-grams of that text and character 2-4-grams of the raw text; the
  classifier is a linear SVM (scikit-learn; it trains in about a second here, a logistic
  regression in several), and a softmax over its margins sets the confidence.
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
from skill.simulator.words import FALLBACK, after_prefix, tokens

CACHE_VERSION = "10"
"""Part of the cache key, with this module's code: change it to retire every cached classifier."""
FUZZY_SPAN = 90
"""Least rapidfuzz ratio for a span of words to count as a near miss of a slot value."""
DURATION_EXAMPLES = ("five minutes", "ten minutes", "half an hour", "twenty minutes", "a minute", "fifteen minutes", "two minutes")
FUZZY_WORD = 75
"""Least rapidfuzz ratio for each word of such a span against the value's word in its place."""
MAX_SPAN = 8
UNRESOLVED_WORDS = 5
"""Most words taken as a value the model does not know ("start a routine for my numb legs")."""
SLOTLESS_LEAST = 0.8
"""Least confidence for an intent with slots when none of its slots was heard..."""
SLOTLESS_SIMILAR = 75
"""...and least rapidfuzz ratio to one of its samples that have no slot ("start that one")."""
SVM_C = 1.0
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
        return gazetteer

    def spans(self, words: list[str], kinds: set[str] | None = None, fuzzy: bool = True) -> list[Span]:
        """Non-overlapping slot values, longest first, then leftmost."""
        found: list[Span] = []
        for start in range(len(words)):
            if words[start] not in self.first_words and words[start].removesuffix("'s") not in self.first_words:
                continue
            for end in range(min(len(words), start + MAX_SPAN), start, -1):
                key = tuple(w for w in words[start:end] if w not in self.articles)
                if not key or words[end - 1] in self.articles:
                    continue
                if key[-1].endswith("'s") and not any(key in entries for entries in self.table.values()):
                    key = (*key[:-1], key[-1][:-2])  # "neck's gone stiff": the value is "neck"
                for kind, entries in self.table.items():
                    if kinds is not None and kind not in kinds:
                        continue
                    hit = entries.get(key)
                    if hit is not None:
                        found.append(Span(start, end, kind, hit[0], hit[1], True, len(key)))
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
                    if all(fuzz.ratio(a, b) >= FUZZY_WORD for a, b in zip(said, key, strict=True)):
                        value = entries[key]
                        near.append(Span(start, start + size, kind, value[0], value[1], False, size))
        return near


def _durations(words: list[str]) -> list[tuple[int, int, str]]:
    """Spans that parse as a duration, longest first (a duration ends with a unit: "ten minutes")."""
    ends = [i + 1 for i, w in enumerate(words) if w in UNIT_SECONDS or w == "half"]  # "a minute and a half"
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
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

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
                fills = (6 if kinds.get(_SLOT.findall(sample)[0]) == "AMAZON.SearchQuery" else 3) if _SLOT.search(sample) else 1
                for _ in range(fills):
                    texts.append(self.features_text(self._fill(sample, kinds, picks)))
                    labels.append(intent)
                    self.vocabulary.setdefault(intent, set()).update(texts[-1].split("\t")[1].split())
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[^ ]+", sublinear_tf=True,
                                     preprocessor=_delex, dtype=np.float32)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2,
                                     preprocessor=_raw, dtype=np.float32)
        features = hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)]).tocsr()
        svm = LinearSVC(C=SVM_C, random_state=0).fit(features, labels)
        self.classes = [str(c) for c in svm.classes_]
        # Kept as plain arrays: a prediction is then two transforms and one product, without the
        # per-call checks of a scikit-learn pipeline.
        self.coef = svm.coef_.astype(np.float32).T
        self.intercept = svm.intercept_.astype(np.float32)

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
        from scipy.sparse import hstack  # scikit-learn's dependency, loaded once the tier is trained

        row = hstack([self.words.transform([features]), self.chars.transform([features])]).tocsr()
        margins = (row @ self.coef)[0] + self.intercept
        scores = [float(s) for s in np.ravel(margins)]
        if len(self.classes) == 2:  # a binary SVM gives one margin, for the second class
            scores = [-scores[0], scores[0]]
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
        if kinds and kinds <= set(self.gazetteer.table) and not any(v.id for v in slots.values()):
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
            for span in spans:
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


def _raw(text: str) -> str:
    return text.split("\t")[0]


def _delex(text: str) -> str:
    return text.split("\t")[-1]


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
