"""The simulator's exact tier: every sample utterance in a word trie, matched word for word with its slots read.

Articles are matched loosely and fillers are the caller's to drop; a slot's words are read as a
number, a duration, free text, or a custom value resolved to its id (rapidfuzz for near misses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from skill.core.words import words as tokens
from skill.simulator.envelopes import SlotValue
from skill.simulator.numbers import parse_duration, parse_number
from skill.simulator.slot_spans import another_degree

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
class Candidate:
    """A sample the words fit, with its slots read and its score."""

    intent: str
    sample: str
    slots: dict[str, SlotValue]
    score: float
    literal: int = 0
    """Words of the sample said word for word (its slots aside)."""


class ExactSamples:
    """A model's samples and Amazon's phrases for its built-in intents, as a trie of words and slots."""

    def __init__(self, language: dict[str, Any], built_in: dict[str, list[str]], articles: frozenset[str]) -> None:
        """`language` is the model's languageModel; `built_in` gives phrases per built-in intent (alexa.yaml)."""
        self.articles = articles
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
        for name, phrases in built_in.items():
            if name in self.intents:
                for phrase in phrases:
                    self._add(name, phrase, {})

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

    def candidates(self, words: list[str], penalty: float) -> list[Candidate]:
        """Every sample the words fit, scored (see _score); `penalty` is taken off each score."""
        # Articles are matched loosely: dropped from the walk, but slot values keep them
        # ("half an hour"), taken from the original words between the neighbouring literals.
        kept = [i for i, w in enumerate(words) if w not in self.articles]
        found: list[Candidate] = []
        self._walk(self.root, _Words(words, kept), 0, {}, found, penalty)
        return found

    def _walk(
        self,
        node: _Node,
        words: _Words,
        at: int,
        filled: dict[str, tuple[str, list[str]]],
        found: list[Candidate],
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
    ) -> Candidate | None:
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
        return Candidate(intent, sample, slots, score, literal)

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
        for near, _, _ in process.extract(key, table.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_RESOLUTION, limit=3):
            # another degree of a word is another word: "a short one" is no "shorter one"
            if not any(another_degree(a, b) for a, b in zip(key.split(), near.split(), strict=False)):
                return table[near][0], 0.0
        return None

