"""FAQ entries: their schema, and loading and checking data/faq."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml
from skill.core.faq.text import FaqError, _word_count
from skill.core.schema import Slug, Text, describe_error, stripped

MAX_ANSWER_WORDS = 45
HEARD_FILE = DATA_DIR / "faq" / "heard.yaml"
"""Questions people asked in their own words, by entry (generated: `backcoach heard`)."""
WARNINGS_FILE = DATA_DIR / "faq" / "warnings.yaml"
"""Weights of the words that tell a warning sign, learned from what people said (generated: `backcoach heard`)."""
REFUSALS_FILE = DATA_DIR / "faq" / "refusals.yaml"
"""Weights of the words that tell a request the coach declines, learned likewise (generated: `backcoach heard`)."""
WARNING_ENTRY = "red-flag-warning-sign"
"""The red flag the learned weights raise: a warning sign no keyword names."""
MAX_MORE_WORDS = 90


class Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One question with its phrasings, a short spoken answer, an optional follow-up and sources."""

    id: Slug
    topic: Text
    red_flag: bool = False
    declines: bool = False
    """The answer politely refuses a request (to diagnose, to prescribe) and says who can help."""
    suggest: bool = False
    """The skill offers this entry's first phrasing as an example of what to ask."""
    questions: Annotated[tuple[Text, ...], msgspec.Meta(min_length=3)]
    keywords: tuple[Text, ...] = ()
    first_when: tuple[Text, ...] = ()
    """Patterns, written like red-flag keywords: a question containing one gets this entry's answer
    whatever else it resembles, so a caution ("can she use a massage ball, she's pregnant") is never
    lost to a how-to answer. Red flags still come first."""
    requests: tuple[Text, ...] = ()
    """Word-for-word openings of a request to do something ("book me", "order me"): text that starts
    with one (after "can you", "please" and the like, or after "and") gets this entry's answer
    whatever else it resembles, and an entry with requests is reached only through them, never by
    resemblance. Red flags still come first."""
    said_first: tuple[Text, ...] = ()
    """Word sequences as said, before synonyms and stopwords take the words that frame a request
    ("do i have", "what have i got"): text with one gets this entry's answer whatever else it
    resembles. One ending in "..." counts only when one of the entry's `conditions` follows within
    CONDITION_GAP words: "have i got sciatica" asks for a diagnosis, "what is sciatica" does not.
    Red flags still come first."""
    conditions: tuple[Text, ...] = ()
    answer: Text
    more: Text | None = None
    routines: tuple[str, ...] = ()
    sources: Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]

    def __post_init__(self) -> None:
        if _word_count(self.answer) > MAX_ANSWER_WORDS:
            raise ValueError(f"[answer] {_word_count(self.answer)} words; at most {MAX_ANSWER_WORDS} fit a spoken reply")
        if self.more is not None and _word_count(self.more) > MAX_MORE_WORDS:
            raise ValueError(f"[more] {_word_count(self.more)} words; at most {MAX_MORE_WORDS}")
        for said in self.said_first:
            if not _word_count(said.removesuffix("...")):
                raise ValueError(f"[said_first] '{said}' has no words")
            if said.endswith("...") and not self.conditions:
                raise ValueError(f"[said_first] '{said}' waits for one of the entry's conditions, and it has none")


def _entry_id(entries: list[object], index: int) -> str:
    entry = entries[index] if index < len(entries) else None
    return str(entry.get("id", "?")) if isinstance(entry, dict) else "?"


def load_entries(path: Path | None = None, routine_ids: set[str] | None = None) -> tuple[Entry, ...]:
    """Read and validate the FAQ file; routine ids are checked when given."""
    path = path or DATA_DIR / "faq" / "en.yaml"
    try:
        raw = load_yaml(path)
        entries = msgspec.convert(stripped(raw["entries"]), tuple[Entry, ...])
    except DataFileError as exc:
        raise FaqError(str(exc)) from exc
    except (KeyError, TypeError) as exc:
        raise FaqError(f"{path}: cannot be read: {exc}") from exc
    except msgspec.ValidationError as exc:
        loc, message = describe_error(exc)
        where = f"entry {loc[0] + 1} '{_entry_id(raw['entries'], loc[0])}'" if loc and isinstance(loc[0], int) else "entries"
        fields = ".".join(str(p) for p in loc[1:])
        raise FaqError(f"{path}: {where}" + (f", field '{fields}'" if fields else "") + f": {message}") from exc
    ids = [e.id for e in entries]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise FaqError(f"{path}: repeated ids: {', '.join(repeated)}")
    suggested = [e.id for e in entries if e.suggest and not e.red_flag]
    if entries and len(suggested) < 2:
        raise FaqError(f"{path}: at least two ordinary entries need suggest: true (the skill offers two examples)")
    if routine_ids is not None:
        for entry in entries:
            missing = set(entry.routines) - routine_ids
            if missing:
                raise FaqError(f"{path}: entry '{entry.id}' offers unknown routines: {', '.join(sorted(missing))}")
    return entries


def read_heard(path: Path, shape: str) -> dict[str, tuple[str, ...]]:
    """A generated heard file (skill/heard.py): its `heard` mapping of names to what people said."""
    try:
        return msgspec.convert(stripped((load_yaml(path) or {})["heard"]), dict[str, tuple[Text, ...]], strict=True)
    except (KeyError, TypeError, msgspec.ValidationError) as exc:
        raise DataFileError(f"{path}: needs 'heard', {shape}: {exc}") from exc


def load_heard(entries: tuple[Entry, ...], path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Entry id -> questions people asked in their own words, from data/faq/heard.yaml.

    Only ordinary entries take them: red flags are raised by their keywords alone and entries
    with request openings by those openings, never by resemblance. A data folder without the
    file (one made before it existed) has none: the entries' own phrasings still answer.
    """
    path = path or HEARD_FILE
    if not path.exists():
        return {}
    try:
        raw = read_heard(path, "entry id -> a list of questions")
    except DataFileError as exc:
        raise FaqError(str(exc)) from exc
    by_id = {e.id: e for e in entries}
    for entry_id in raw:
        entry = by_id.get(entry_id)
        if entry is None:
            raise FaqError(f"{path}: no entry '{entry_id}'")
        if entry.red_flag or entry.requests:
            raise FaqError(f"{path}: '{entry_id}' is reached only through its keywords or request openings")
    return raw


class Weights(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A logistic model over a question's normalised words and word pairs (a warning sign, a refusal)."""

    bias: float
    weights: dict[str, float]


def load_weights(path: Path) -> Weights | None:
    """Learned weights (WARNINGS_FILE, REFUSALS_FILE), or None for a data folder without them (made before they existed)."""
    if not path.exists():
        return None
    try:
        return msgspec.convert(load_yaml(path), Weights, strict=True)
    except (DataFileError, msgspec.ValidationError) as exc:
        raise FaqError(f"{path}: needs 'bias' and 'weights' (word or word pair -> weight): {exc}") from exc
