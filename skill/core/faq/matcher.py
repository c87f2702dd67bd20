"""The FAQ matcher: ranks entries for a question with BM25 and phrasing similarity, and raises red flags.

Everything the matcher needs is built once, when a `Matcher` is made; a question then costs a
fraction of a millisecond.

* Normalising. The question and every phrasing in the data go through the same steps: lower
  case, synonyms from data/faq/synonyms.yaml ("physio" becomes "physical therapy"), stopwords
  dropped (question frames, fillers, pronouns) and light suffix stripping.
* Ranking, with two libraries. BM25 (bm25s) scores each entry as one document made of its topic,
  phrasings and keywords, so rare, telling words count for more than common ones. rapidfuzz
  compares the question with each phrasing on its own (token set and plain ratio), which rewards
  the same words in the same order. The rank is a weighted sum of the two.
* Accepting (acceptance.py). The best entry is returned only if its closest phrasing is similar
  enough AND the entry accounts for enough of the question's telling words. "How much does a
  chiropractor cost in Denver" resembles "does massage work with chiropractic care", but only one
  of its three topic words is about that entry, so it is declined.
* Red flags. Red-flag entries are reached only through their keywords, which are specific
  patterns ("worse|worst night", "fever & back|spine"; see `Alarm`), never by resemblance: "my
  legs feel tight" must not raise the alarm that "my legs feel numb" raises. A question that
  contains one sets `urgent`, whatever else it matched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache

import msgspec
import numpy as np
from rapidfuzz import fuzz, process

from skill.core.faq.acceptance import COVERED_WORDS, DOMAIN, accepted
from skill.core.faq.alarms import _alarm, _found
from skill.core.faq.entries import REFUSALS_FILE, WARNING_ENTRY, WARNINGS_FILE, Entry, Weights, load_entries, load_heard, load_weights
from skill.core.faq.text import (
    FaqError,
    Negation,
    Normalizer,
    load_discomfort,
    load_negation,
    load_synonyms,
    words,
)

THRESHOLD = 60.0
"""Below this confidence (0 to 100) the skill says it does not know that one."""
BM25_WEIGHT = 0.3
"""Share of the rank from BM25, scaled so the best entry scores 100; the rest is phrasing similarity."""
ANSWER_WORD_CREDIT = 0.5
"""A question word found only in an entry's answer, not its phrasings, counts this much."""
MAX_WORD_WEIGHT = 4.0
"""Cap on a word's weight (its BM25 idf) in the share of the question an entry accounts for
(acceptance.MIN_COVERED); words no entry uses get the cap."""
STORY_UNKNOWN_WEIGHT = 2.0
"""In a question longer than COVERED_WORDS topic words, a word no entry uses weighs at most this
(a middling word's weight), not MAX_WORD_WEIGHT: in a long question such words are mostly the story
around it ("hairdresser", "spreadsheets", "wedding"), while in a short one they are its topic
("acne", "snoring")."""
WARNING_LEAST = 0.6
"""Least probability, by the learned weights, for a question no red-flag keyword names to raise the
general warning-sign alarm, when no entry answers it or only one that declines..."""
WARNING_ANSWERED = 0.9
"""...and when one does: a false alarm frightens someone with an ordinary ache."""
REFUSAL_SURE = 0.8
"""Least probability, by the learned refusal weights, for a question an ordinary entry answers to be
declined instead ("how much is a theragun on amazon" resembles the massage gun entry)."""
RANK_TIE = 1.0
"""Entries ranked within this of the best, when the question holds the whole of a phrasing of two or more
of them, are told apart by the weight of the phrasing held; otherwise within RANK_EVEN..."""
RANK_EVEN = 0.1
"""...by how much of a phrasing the question holds."""
CONDITION_GAP = 2
"""How many words may come between a framing ("do i have ...") and the condition it names."""
REQUEST_OPENERS = frozenset("can could would will you please just alexa hey ok okay so i want need".split())
"""Words that may come before a request's opening ("can you please book me ...")."""


class Match(msgspec.Struct, frozen=True):
    """The best entry for a question and how sure the matcher is (0 to 100), plus any red flag."""

    entry: Entry | None
    score: float
    urgent: Entry | None = None
    """A red-flag entry the question touches on: its answer always comes first."""
    why: str = ""


SIMILARITY_CANDIDATES = 5
"""How many of BM25's best entries get the (costlier) phrasing similarity. Five answer the
held-out, out-of-scope and data phrasings exactly as ten did, in three quarters of the time."""


def _term_scores(corpus: list[list[str]]) -> tuple[dict[str, int], np.ndarray]:
    """Word -> row, and each word's BM25 score in every document (a dense table).

    bm25s scores a query by adding its words' rows of a sparse table, a few numpy calls per
    word; the FAQ is small enough to keep the table dense and add the rows in one call, which
    gives the same sums (float32, added in word order) several times faster.
    """
    import bm25s  # here, not at the top: reading the entries alone (the simulator's training) needs none of it

    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    indptr, indices, data = (index.scores[key] for key in ("indptr", "indices", "data"))
    table = np.zeros((len(indptr) - 1, len(corpus)), dtype=index.dtype)
    for row in range(len(table)):
        table[row, indices[indptr[row] : indptr[row + 1]]] = data[indptr[row] : indptr[row + 1]]
    return {str(word): row for word, row in index.vocab_dict.items() if row < len(table)}, table


class Matcher:
    """Ranks entries against a question with BM25 (bm25s) and phrasing similarity (rapidfuzz)."""

    def __init__(
        self,
        entries: tuple[Entry, ...],
        threshold: float = THRESHOLD,
        synonyms: Mapping[str, str] | None = None,
        heard: Mapping[str, Sequence[str]] | None = None,
        warnings: Weights | None = None,
        refusals: Weights | None = None,
        negation: Negation | None = None,
    ) -> None:
        """`heard` gives entries more phrasings, as people put them (entries.load_heard); `warnings`
        tells warning signs no keyword names (entries.WARNINGS_FILE), raising the entry WARNING_ENTRY;
        `refusals` tells requests the coach declines that resemble an entry (entries.REFUSALS_FILE);
        `negation` the words that say a symptom is absent (data/faq/negation.yaml unless given)."""
        self.entries = entries
        heard = heard or {}
        self.threshold = threshold
        self.normalizer = Normalizer(load_synonyms() if synonyms is None else synonyms,
                                     load_negation() if negation is None else negation)
        norm = self.normalizer.tokens

        # Phrasings for rapidfuzz, grouped by entry so a per-entry maximum is one numpy call.
        self._choices: list[str] = []
        self._phrasing_words: list[frozenset[str]] = []
        starts: list[int] = []
        for entry in entries:
            starts.append(len(self._choices))
            for phrase in dict.fromkeys((*entry.questions, entry.topic, *heard.get(entry.id, ()))):
                self._choices.append(" ".join(norm(phrase)))
                self._phrasing_words.append(frozenset(norm(phrase)))
        self._starts = starts
        self._ends = [*starts[1:], len(self._choices)]

        # One BM25 document per entry: its topic, phrasings (heard ones too) and keywords.
        own = [[t for text in (entry.topic, *entry.questions, *entry.keywords) for t in norm(text)] for entry in entries]
        corpus = [doc + [t for text in heard.get(entry.id, ()) for t in norm(text)] for doc, entry in zip(own, entries, strict=True)]
        self._term_ids, self._term_scores = _term_scores(corpus)
        self._words = [set(doc) for doc in corpus]
        self._own_words = [set(doc) for doc in own]
        self._answer_words = [set(norm(f"{entry.answer} {entry.more or ''}")) for entry in entries]
        # How telling each word is (BM25's idf, capped): words no entry uses count as much as the
        # rarest ones, so a question about something else is not carried by one shared common word.
        count = len(corpus)
        frequency: dict[str, int] = {}
        for doc in self._words:
            for token in doc:
                frequency[token] = frequency.get(token, 0) + 1
        self._unknown_weight = min(math.log(1 + (count + 0.5) / 0.5), MAX_WORD_WEIGHT)
        self._weight = {
            t: min(math.log(1 + (count - n + 0.5) / (n + 0.5)), MAX_WORD_WEIGHT) for t, n in frequency.items()
        }
        self._red = np.asarray([entry.red_flag for entry in entries], dtype=bool)
        # Entries with request openings are reached only through them, never by resemblance:
        # "i booked a massage and i'm sore" is no request to book one.
        self._by_request_only = np.asarray([bool(entry.requests) for entry in entries], dtype=bool)
        self._index = {entry.id: index for index, entry in enumerate(entries)}
        # Each phrasing's total weight, for the share of it a question holds (_contained).
        self._phrasing_totals = [sum(self._weight.get(t, self._unknown_weight) for t in p) for p in self._phrasing_words]

        # Red-flag phrases (see _alarm), most specific first.
        self._alarms = sorted(
            ((_alarm(k, self.normalizer), entry) for entry in entries if entry.red_flag for k in entry.keywords),
            key=lambda item: -sum(len(group) for group in item[0]),
        )
        # A refusal's patterns come first: "ibuprofen when pregnant" asks which medicine to take.
        self._precedence = sorted(
            ((_alarm(k, self.normalizer), entry) for entry in entries for k in entry.first_when), key=lambda p: not p[1].declines
        )
        self._requests = [(tuple(words(r)), entry) for entry in entries for r in entry.requests]
        # said_first sequences by their first word: a question is walked once, not once per sequence.
        self._said_first: dict[str, list[tuple[tuple[str, ...], bool, set[tuple[str, ...]], Entry]]] = {}
        for entry in entries:
            conditions = {tuple(words(c)) for c in entry.conditions}
            for said in entry.said_first:
                sequence = tuple(words(said))
                self._said_first.setdefault(sequence[0], []).append((sequence, said.endswith("..."), conditions, entry))
        self._discomfort = {t for word in load_discomfort() for t in self.normalizer.tokens(word)}
        self._warnings, self._refusals = warnings, refusals
        self._warning_entry = next((e for e in entries if e.id == WARNING_ENTRY and e.red_flag), None)
        if warnings is not None and self._warning_entry is None:
            raise FaqError(f"learned warning-sign weights need a red-flag entry '{WARNING_ENTRY}' to raise")
        # Alarms by the words of their first slot: a question can only trip an alarm it has one of.
        self._alarms_by_word: dict[str, list[int]] = {}
        for number, (alarm, _) in enumerate(self._alarms):
            for word in alarm[0][0][0]:
                self._alarms_by_word.setdefault(word, []).append(number)

    def match(self, question: str) -> Match:
        """The best answer for the question, or no entry when confidence is below the threshold;
        with a red flag its keywords name or, failing those, the learned weights tell."""
        tokens = self.normalizer.tokens(question or "")
        found = self._match(question or "", tokens)
        if found.urgent is None and self._warning_entry is not None:
            chance = _chance(self._warnings, tokens)
            # A question an ordinary entry answers needs surer weights: "i'm up every night rocking
            # the baby, what can i do for my upper back" is about the baby, not a warning sign.
            # A refusal is no answer to a warning sign: "my forearm is weak and numb, can i massage it".
            if chance >= (WARNING_LEAST if found.entry is None or found.entry.declines else WARNING_ANSWERED):
                found = msgspec.structs.replace(found, urgent=self._warning_entry, why=found.why + f", warning sign {chance:.2f}")
        if found.entry is not None and not found.entry.declines and found.score < 100.0 \
                and (refused := _chance(self._refusals, tokens)) >= REFUSAL_SURE:
            # Resembling an entry is not being in scope; a red flag raised still comes first.
            return Match(None, min(found.score, math.nextafter(self.threshold, 0.0)), found.urgent,
                         found.why + f", sounds declined {refused:.2f}")
        return found

    def _match(self, question: str, tokens: list[str]) -> Match:
        alerts = self._alerts(tokens)
        urgent = alerts[0] if alerts else None
        present = set(tokens)
        first = next(
            (e for pattern, e in self._precedence
             if all(options & present for group in pattern for options, _ in group)  # cheap test first
             and all(_found(group, tokens) for group in pattern)),
            None,
        )
        first = first or self._said(question) or self._request(question)
        if first is not None:
            return Match(first, 100.0, urgent, f"'{' '.join(tokens)}' has a pattern {first.id} answers first")
        if not tokens:
            return Match(None, 0.0, urgent, "no topic words")
        query = " ".join(tokens)
        known = [t for t in tokens if t in self._term_ids]
        if not known:
            return Match(None, 0.0, urgent, f"no known words in '{query}'")
        # Red-flag entries are reached only through their own keywords, never by resemblance:
        # "my legs feel tight" is not "my legs feel numb".
        barred = self._red | self._by_request_only
        for alert in alerts:
            barred[self._index[alert.id]] = False
        lexical = np.where(barred, 0.0, self._term_scores[[self._term_ids[t] for t in known]].sum(axis=0))
        # Only BM25's best few can win: any other entry ranks no higher on either measure.
        candidates = np.argsort(-lexical)[:SIMILARITY_CANDIDATES]
        candidates = np.sort(candidates[lexical[candidates] > 0])  # entry order breaks ties
        if not len(candidates):
            return Match(None, 0.0, urgent, f"nothing near '{query}'")
        top = float(lexical.max())
        similar = self._similarity(query, candidates)
        rank = BM25_WEIGHT * (lexical[candidates] / top * 100) + (1 - BM25_WEIGHT) * similar
        pick = int(rank.argmax())
        # Of entries ranked alike, the one whose phrasing the question holds most of, by weight, is the
        # more specific answer: "give myself a neck massage ... at home" is about the neck.
        held = {i: self._contained(present, int(candidates[i])) for i in range(len(candidates)) if rank[i] >= rank[pick] - RANK_TIE}
        whole = [i for i, (share, _, _) in held.items() if share == 1.0]
        even = [i for i in held if rank[i] >= rank[pick] - RANK_EVEN]
        if len(whole) > 1:
            pick = max(whole, key=lambda i: held[i][1])
        elif len(even) > 1:
            pick = max(even, key=lambda i: held[i][:2])
        best = int(candidates[pick])
        entry = self.entries[best]
        score = float(rank[pick])
        unknown = self._unknown_weight if len(tokens) <= COVERED_WORDS else min(self._unknown_weight, STORY_UNKNOWN_WEIGHT)
        weights = [self._weight.get(t, unknown) for t in tokens]
        covered = sum(w * self._credit(t, best) for t, w in zip(tokens, weights, strict=False)) / sum(weights)
        why = (
            f"'{query}' ~ {entry.id} (rank {score:.0f}, similarity {similar[pick]:.0f}, "
            f"bm25 {lexical[best]:.1f}, covered {covered:.0%})"
        )
        contained = self._contained(present, best)
        why += f", holds {contained[0]:.0%} of a phrasing ({contained[1]:.1f})"
        domain_explained = any(t in DOMAIN and self._credit(t, best) == 1.0 for t in tokens)
        if not present & self._own_words[best]:
            # Only words of what people happened to say around their questions ("the weather", "my
            # football coach") tie this question to the entry: it is about something else.
            return Match(None, min(score, math.nextafter(self.threshold, 0.0)), urgent, why + ", only heard words shared")
        if not accepted(score, self.threshold, float(similar[pick]), covered, len(tokens), contained, domain_explained):
            # Keep the promise callers rely on: no entry means a score below the threshold.
            return Match(None, min(score, math.nextafter(self.threshold, 0.0)), urgent, why)
        if len(tokens) > COVERED_WORDS and not entry.declines and not domain_explained:
            # A long question whose explained words are all everyday ones ("every morning", "stop")
            # is about something else: "my husband snores and I'm exhausted every morning".
            return Match(None, min(score, math.nextafter(self.threshold, 0.0)), urgent, why + ", no domain word explained")
        return Match(entry, min(score, 100.0), urgent, why)

    def _said(self, question: str) -> Entry | None:
        """The entry with the first said_first sequence in the text (followed by a condition, if it asks one)."""
        said = words(question)
        for at, word in enumerate(said):
            for sequence, framing, conditions, entry in self._said_first.get(word, ()):
                if tuple(said[at : at + len(sequence)]) != sequence:
                    continue
                rest = at + len(sequence)
                if not framing or any(
                    tuple(said[start : start + len(c)]) == c for c in conditions for start in range(rest, rest + CONDITION_GAP + 1)
                ):
                    return entry
        return None

    def _request(self, question: str) -> Entry | None:
        """The entry whose request opening the text starts with, or has after "and"."""
        said = words(question)
        while said and said[0] in REQUEST_OPENERS:
            said = said[1:]
        starts = [0, *(i + 1 for i, w in enumerate(said) if w == "and")]
        return next(
            (entry for opening, entry in self._requests for at in starts if tuple(said[at : at + len(opening)]) == opening),
            None,
        )

    def _contained(self, present: set[str], index: int) -> tuple[float, float, bool]:
        """How much of the entry's most fully held phrasing the question holds: the weighted share,
        the weight held, and whether a held word is about this skill's domain."""
        best = (0.0, 0.0, False)
        for number in range(self._starts[index], self._ends[index]):
            phrasing = self._phrasing_words[number]
            if len(phrasing) < 2:  # one word held ("flexible") says little of what is asked
                continue
            held = phrasing & present
            weight = sum(self._weight.get(t, self._unknown_weight) for t in held)
            share = weight / self._phrasing_totals[number]
            if (share, weight) > best[:2]:
                best = (share, weight, any(t in DOMAIN for t in held))
        return best

    def _credit(self, token: str, index: int) -> float:
        """How far a question word is explained by an entry: fully by its phrasings, topic or
        keywords, half by its answer alone."""
        if token in self._words[index]:
            return 1.0
        return ANSWER_WORD_CREDIT if token in self._answer_words[index] else 0.0

    def _similarity(self, query: str, entries: np.ndarray) -> np.ndarray:
        """For each of the given entries, the best similarity (0 to 100) of the question to one
        of its phrasings.

        Only the entries BM25 ranks highest (and above zero) are scored: an entry sharing no
        rare word with the question cannot pass the coverage rule anyway, and skipping the
        rest keeps a question fast.
        """
        spans = [(self._starts[i], self._ends[i]) for i in entries]
        choices = [c for start, end in spans for c in self._choices[start:end]]
        token_set = process.cdist([query], choices, scorer=fuzz.token_set_ratio)[0]
        plain = process.cdist([query], choices, scorer=fuzz.ratio)[0]
        offsets = np.cumsum([0] + [end - start for start, end in spans[:-1]])
        # rapidfuzz answers in float32; ranks are mixed in float64, as the thresholds were tuned.
        return np.maximum.reduceat(0.5 * token_set + 0.5 * plain, offsets).astype(np.float64)

    def _alerts(self, tokens: list[str]) -> list[Entry]:
        """The red-flag entries whose keywords the question contains, most specific match first."""
        alerts: list[Entry] = []
        present = set(tokens)
        numbers = sorted({n for t in present for n in self._alarms_by_word.get(t, ())})
        for alarm, entry in (self._alarms[n] for n in numbers):
            # Cheap test first: every slot needs one of its words somewhere in the question.
            if not all(options & present for group in alarm for options, _ in group):
                continue
            if all(entry is not seen for seen in alerts) and all(_found(group, tokens) for group in alarm):
                alerts.append(entry)
        return alerts

    def discomfort(self, text: str) -> bool:
        """Whether the text says something hurts or feels wrong (data/faq/discomfort.yaml)."""
        return bool(self._discomfort & set(self.normalizer.tokens(text or "")))

    def in_domain(self, question: str) -> bool:
        """Whether a question is about backs, necks, massage or stretching, even if no entry fits."""
        return any(t in DOMAIN for t in self.normalizer.tokens(question or ""))

    def suggestions(self) -> list[Entry]:
        """The entries whose first phrasing the skill offers as an example question."""
        return [e for e in self.entries if e.suggest and not e.red_flag]


def learned_features(tokens: list[str]) -> set[str]:
    """What learned weights read: the normalised words and each pair of neighbours."""
    return {*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))}


def _chance(learned: Weights | None, tokens: list[str]) -> float:
    """How likely the learned weights find what they tell in the words (0 without weights)."""
    if learned is None or not tokens:
        return 0.0
    score = learned.bias + sum(learned.weights.get(f, 0.0) for f in learned_features(tokens))
    # The stable form of the logistic: exp of a large positive number would overflow.
    return 1 / (1 + math.exp(-score)) if score >= 0 else math.exp(score) / (1 + math.exp(score))


def matcher_for(entries: tuple[Entry, ...]) -> Matcher:
    """A matcher over these entries, the questions heard for them (data/faq/heard.yaml) and the
    learned warning-sign and refusal weights (data/faq/warnings.yaml, refusals.yaml)."""
    return Matcher(entries, heard=load_heard(entries), warnings=load_weights(WARNINGS_FILE), refusals=load_weights(REFUSALS_FILE))


@cache
def default_matcher() -> Matcher:
    """The matcher over the project's FAQ file."""
    return matcher_for(load_entries())
