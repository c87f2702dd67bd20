"""Quick answers: validated entries from data/faq and a matcher from question text to the best one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from rapidfuzz import fuzz, process

from skill.core.paths import DATA_DIR

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
MAX_ANSWER_WORDS = 45
MAX_MORE_WORDS = 90
THRESHOLD = 62.0
"""Below this confidence (0 to 100) the skill says it does not know that one."""

# Words that carry no topic: question frames, fillers and pronouns. Removing them keeps
# "what is the weather" from matching "what is shiatsu".
STOPWORDS = frozenset(
    """a about am an and any are as at be been being but by can could do does doing did for from get
    getting got had has have having how i i'd i'll i'm i've if in into is it it's its just kind like
    me might more most much my myself no not of off on or our out please really should so some such
    tell than that that's the their them then there these they thing things this those to too um uh
    up us very was we were what what's when where which while who whom why will with would you your
    you're yourself okay ok alexa hey best good bad way ways right now get lot bit sort""".split()
)


def words(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes kept inside words."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content(text: str) -> str:
    """The topic-bearing words of a text, stemmed lightly, in order."""
    return " ".join(_stem(w) for w in words(text) if w not in STOPWORDS)


def _word_count(text: str) -> int:
    return len(words(text))


class Entry(BaseModel):
    """One question with its phrasings, a short spoken answer, an optional follow-up and sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    topic: Text
    red_flag: bool = False
    questions: tuple[Text, ...] = Field(min_length=3)
    keywords: tuple[Text, ...] = ()
    answer: Text
    more: Text | None = None
    routines: tuple[str, ...] = ()
    sources: tuple[Text, ...] = Field(min_length=1)

    @field_validator("answer")
    @classmethod
    def _short(cls, value: str) -> str:
        if _word_count(value) > MAX_ANSWER_WORDS:
            raise ValueError(f"answer has {_word_count(value)} words; at most {MAX_ANSWER_WORDS} fit a spoken reply")
        return value

    @field_validator("more")
    @classmethod
    def _more(cls, value: str | None) -> str | None:
        if value is not None and _word_count(value) > MAX_MORE_WORDS:
            raise ValueError(f"follow-up has {_word_count(value)} words; at most {MAX_MORE_WORDS}")
        return value


class FaqError(ValueError):
    """A FAQ file that cannot be used."""


def load_entries(path: Path | None = None, routine_ids: set[str] | None = None) -> tuple[Entry, ...]:
    """Read and validate the FAQ file; routine ids are checked when given."""
    path = path or DATA_DIR / "faq" / "en.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = tuple(Entry.model_validate(e) for e in raw["entries"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise FaqError(f"{path}: cannot be read: {exc}") from exc
    except ValidationError as exc:
        raise FaqError(f"{path}: {exc}") from exc
    ids = [e.id for e in entries]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise FaqError(f"{path}: repeated ids: {', '.join(repeated)}")
    if routine_ids is not None:
        for entry in entries:
            missing = set(entry.routines) - routine_ids
            if missing:
                raise FaqError(f"{path}: entry '{entry.id}' offers unknown routines: {', '.join(sorted(missing))}")
    return entries


@dataclass(frozen=True, slots=True)
class Match:
    """The best entry for a question and how sure the matcher is (0 to 100), plus any red flag."""

    entry: Entry | None
    score: float
    urgent: Entry | None = None
    """A red-flag entry the question touches on: its answer always comes first."""
    why: str = ""


class Matcher:
    """Ranks entries against a question with rapidfuzz over their phrasings' content words."""

    def __init__(self, entries: tuple[Entry, ...], threshold: float = THRESHOLD) -> None:
        self.entries = entries
        self.threshold = threshold
        self._choices: list[str] = []
        self._owners: list[int] = []
        for index, entry in enumerate(entries):
            for phrase in (*entry.questions, entry.topic):
                self._choices.append(content(phrase))
                self._owners.append(index)
        self._alarms = [
            (tuple(_stem(w) for w in words(k)), entry) for entry in entries if entry.red_flag for k in entry.keywords
        ]

    def match(self, question: str) -> Match:
        """The best answer for the question, or no entry when confidence is below the threshold."""
        query = content(question)
        urgent = self._urgent(query)
        if not query:
            return Match(None, 0.0, urgent, "no topic words")
        best: dict[int, float] = {}
        for _, score, position in process.extract(
            query, self._choices, scorer=fuzz.token_set_ratio, limit=12, score_cutoff=30
        ):
            owner = self._owners[position]
            tie_break = fuzz.ratio(query, self._choices[position]) / 100
            best[owner] = max(best.get(owner, 0.0), score + tie_break)
        if not best:
            return Match(None, 0.0, urgent, f"nothing near '{query}'")
        owner, score = max(best.items(), key=lambda item: item[1])
        entry = self.entries[owner]
        if entry.red_flag and urgent is None and score >= self.threshold:
            urgent = entry
        why = f"'{query}' ~ {entry.id} ({score:.0f})"
        if score < self.threshold:
            return Match(None, score, urgent, why)
        return Match(entry, min(score, 100.0), urgent, why)

    def _urgent(self, query: str) -> Entry | None:
        tokens = query.split()
        for phrase, entry in self._alarms:
            phrase = tuple(w for w in phrase if w not in STOPWORDS) or phrase
            size = len(phrase)
            if any(tuple(tokens[i : i + size]) == phrase for i in range(len(tokens) - size + 1)):
                return entry
        return None

    def suggestions(self, count: int = 2) -> list[Entry]:
        """Questions to suggest when one is not known: the first few general entries."""
        return [e for e in self.entries if not e.red_flag][:count]


@cache
def default_matcher() -> Matcher:
    """The matcher over the project's FAQ file."""
    return Matcher(load_entries())
