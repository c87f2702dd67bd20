"""Slot values found in an utterance's words: known values and synonyms (exact or near misses) and durations.

The statistical tier reads them twice: to replace values by their type before classifying ("start
the ROUTINE"), and to fill the guessed intent's slots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from skill.core.words import words as tokens
from skill.simulator.numbers import UNIT_SECONDS, parse_duration

FUZZY_SPAN = 90
"""Least rapidfuzz ratio for a span of words to count as a near miss of a slot value."""
FUZZY_WORD = 75
"""Least rapidfuzz ratio for each word of such a span against the value's word in its place..."""
SHORT_WORD = 3
"""...where words of this many letters or fewer must match exactly."""
FAMILY_STEM = 4
"""Letters two words of a value named in part must share to count as one word's forms (not "roll",
which is a verb before an area: "foam roll my upper back" names an area and equipment)."""
DEGREE_ENDINGS = frozenset({"er", "est", "r", "st"})
"""Endings that make another degree of a word ("quick", "quicker", "quickest")..."""
GRADABLE = frozenset("short long quick slow fast easy hard gentle light soft firm deep tight loose".split())
"""...of these words only: "roller" is no degree of "roll", nor "opener" of "open"."""
MAX_SPAN = 8
PARTIAL_KEY = 3
"""A value whose name has this many words or more (glue aside) may be named in part..."""
PARTIAL_SHARE = 0.6
"""...by this share of its words, and at least two, in any order, with only glue between them:
"tennis ball upper back release" is the tennis ball routine, "the foam roller for my upper back"
only names a piece of equipment and an area."""
GLUE = frozenset({"and", "of", "one", "routine", "session", "thing", "please"})
"""Words that may come between the words of a value named in part, and never count as its words."""
FUNCTION_WORDS = frozenset({"for", "my", "me", "the", "a", "an", "with", "to", "at", "on", "in", "your", "using"})
"""Words that end a value named in part, and never count as its words."""
NAMING = frozenset({"the", "my", "for", "your", "his", "her"})
"""Words before a value that name it, whatever follows: "a stretch for the back from sitting"."""
POINTING = frozenset({"the", "that", "this"})
REFERENCE = frozenset({"one", "thing", "routine", "session", "release"})
"""One of POINTING just before the values and one of REFERENCE among them or just after point at one
named value: "the upper back one with the tennis ball" (see Gazetteer.named_by_parts)."""


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
    not_values: tuple[tuple[str, ...], ...] = ()
    """Phrases that open with a value's words but name none ("nothing fancy" is no "nothing")."""
    not_first: frozenset[str] = frozenset()
    names: dict[str, dict[tuple[str, ...], tuple[str, str]]] = field(default_factory=dict)
    """Per type, each value's own name (no synonyms), by its words: what can be named in part."""
    words_of: dict[str, set[str]] = field(default_factory=dict)
    """Per type, every word of its values and synonyms."""
    prefixes: set[tuple[str, ...]] = field(default_factory=set)
    """Every key's leading words, of every length: a span whose words lead no key is not extended."""

    @classmethod
    def of(cls, types: list[dict[str, Any]], articles: frozenset[str], not_values: tuple[str, ...] = ()) -> Gazetteer:
        phrases = tuple(tuple(tokens(p)) for p in not_values)
        gazetteer = cls(articles, not_values=phrases, not_first=frozenset(p[0] for p in phrases if p))
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
            gazetteer.names[slot_type["name"]] = {
                key: (value["id"], value["name"]["value"]) for value in slot_type["values"]
                if (key := tuple(w for w in tokens(value["name"]["value"]) if w not in articles))
            }
            gazetteer.words_of[slot_type["name"]] = {w for key in entries for w in key}
            for key, (value_id, name) in entries.items():
                gazetteer.keys.setdefault(key, []).append((slot_type["name"], value_id, name))
                gazetteer.prefixes.update(key[:size] for size in range(1, len(key) + 1))
        return gazetteer

    def spans(self, words: list[str], kinds: set[str] | None = None, fuzzy: bool = True) -> list[Span]:
        """Non-overlapping slot values, longest first, then leftmost."""
        found: list[Span] = []
        for start in range(len(words)):
            if words[start] not in self.first_words and words[start].removesuffix("'s") not in self.first_words:
                continue
            if words[start] in self.not_first and not (start and words[start - 1] in NAMING) \
                    and any(tuple(words[start : start + len(p)]) == p for p in self.not_values):
                continue
            # A value's key is its words without articles: grow the span word by word while its
            # words lead some key, then give the longest first, as the selection below prefers.
            here: list[list[Span]] = []
            key: tuple[str, ...] = ()
            for at in range(start, min(len(words), start + MAX_SPAN)):
                if words[at] in self.articles:
                    continue
                key = (*key, words[at])
                matched = key
                if key[-1].endswith("'s") and key not in self.keys:
                    matched = (*key[:-1], key[-1][:-2])  # "neck's gone stiff": the value is "neck"
                here.append([Span(start, at + 1, kind, value_id, name, True, len(matched))
                             for kind, value_id, name in self.keys.get(matched, ()) if kinds is None or kind in kinds])
                if key not in self.prefixes:
                    break
            found += [span for size in reversed(here) for span in size]
        if fuzzy:
            found += self._near(words, kinds) + self._partial(words, kinds)
        chosen: list[Span] = []
        taken: set[int] = set()
        for span in sorted(found, key=lambda s: (-s.size, not s.exact, s.end - s.start, s.start)):
            positions = set(range(span.start, span.end))
            if not positions & taken:
                chosen.append(span)
                taken |= positions
        return sorted(chosen, key=lambda s: s.start)

    def named_by_parts(self, words: list[str], spans: list[Span], kind: str, parts: frozenset[str]) -> Span | None:
        """The one value of `kind` whose own name holds a value of each type in `parts` found in the
        words, when they are said as one name: side by side ("the roller upper back one") or pointed
        at ("the upper back one with the tennis ball"). "An upper back session with the tennis
        ball" names only an area and a piece of equipment."""
        found = sorted((s for s in spans if s.kind in parts), key=lambda s: s.start)
        if sorted(s.kind for s in found) != sorted(parts):
            return None
        side_by_side = all(w in self.articles for a, b in zip(found, found[1:], strict=False) for w in words[a.end : b.start])
        first, last = found[0], found[-1]
        pointed = first.start > 0 and words[first.start - 1] in POINTING and bool(REFERENCE & set(words[first.start : last.end + 1]))
        if not (side_by_side or pointed):
            return None
        said = {w for s in found for w in tokens(s.name)}
        named = [value for key, value in self.names.get(kind, {}).items() if said <= set(key)]
        if len(named) != 1:
            return None
        return Span(first.start, last.end, kind, named[0][0], named[0][1], False, sum(s.size for s in found))

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
                    # A word that is a value by itself is that value, not a slip for another word:
                    # "no roller, nothing" is no "roller thing".
                    if all(a == b or ((a,) not in self.keys and _near_word(a, b)) for a, b in zip(said, key, strict=True)):
                        value = entries[key]
                        near.append(Span(start, start + size, kind, value[0], value[1], False, size))
        return near


    def _partial(self, words: list[str], kinds: set[str] | None) -> list[Span]:
        """Spans that name most of a long value's own name in a run (see PARTIAL_SHARE)."""
        partial: list[Span] = []
        for kind, entries in self.names.items():
            if kinds is not None and kind not in kinds:
                continue
            # A word no other type looked for has tells the value apart: "neck range" names a
            # routine, while "mid back, foam roller" only names an area and a piece of equipment.
            others = {w for other, found in self.words_of.items() if other != kind and (kinds is None or other in kinds) for w in found}
            for key, (value_id, name) in entries.items():
                content = [w for w in key if w not in GLUE and w not in FUNCTION_WORDS]
                if len(content) < PARTIAL_KEY:
                    continue
                least = max(2, math.ceil(PARTIAL_SHARE * len(content)))
                for start in range(len(words)):
                    unused, matched, end, telling = list(content), 0, start, False
                    for at in range(start, len(words)):
                        word = words[at]
                        hit = None if word in GLUE else next((w for w in unused if _near_word(word, w) or _same_family(word, w)), None)
                        if hit is not None:
                            unused.remove(hit)
                            matched, end, telling = matched + 1, at + 1, telling or hit not in others
                        elif word not in GLUE or word in FUNCTION_WORDS:
                            break
                    # Pointed at as one thing, words other types also have name it too: "the chest
                    # and shoulder one", "that upper back foam rolling session".
                    pointed = start > 0 and words[start - 1] in POINTING and end < len(words) and words[end] in REFERENCE
                    if matched >= least and (telling or pointed) and words[start] not in GLUE:
                        partial.append(Span(start, end, kind, value_id, name, False, matched))
        return partial


def _near_word(said: str, value: str) -> bool:
    """Whether a word said is the value's word said slightly differently. Short words must be the
    same: one letter is most of them, so "on" is not "one" nor "my" "me" ("the roller on my mid
    back" is no "roller one")."""
    if said == value:
        return True
    if another_degree(said, value):
        return False  # not a slip: "a short one" is no "shorter one"
    return min(len(said), len(value)) > SHORT_WORD and fuzz.ratio(said, value) >= FUZZY_WORD


def another_degree(said: str, value: str) -> bool:
    """Whether one word is another degree of the other ("short", "shorter", "shortest")."""
    shorter, longer = sorted((said, value), key=len)
    base = shorter.removesuffix("er") if shorter.endswith("er") and longer.endswith("est") else shorter
    return base in GRADABLE and longer != shorter and longer.startswith(base) and longer[len(base):] in DEGREE_ENDINGS


def _same_family(said: str, value: str) -> bool:
    """Whether two words are forms of one stem ("opening" and "opener", "rolling" and "roller"):
    they share their first FAMILY_STEM letters and neither is shorter than one more."""
    return min(len(said), len(value)) > FAMILY_STEM and said[:FAMILY_STEM] == value[:FAMILY_STEM]


def duration_spans(words: list[str]) -> list[tuple[int, int, str]]:
    """Spans that parse as a duration, longest first (a duration ends with a unit: "ten minutes")."""
    # A unit may carry a contraction: "twenty minutes'd be sweet", "five minutes'll do".
    words = [w.removesuffix("'d").removesuffix("'ll") for w in words]
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

