"""Understanding measured end to end: annotation sets in Amazon's NLU CSV format, through the simulator and the skill.

A row is `utterance,referenceTimestamp,intent,slot[NAME]...`, as Amazon's NLU evaluation tool
reads it, plus an optional `entry` column of our own for questions:

* with no `entry`, the row passes when the simulator hears the intent and every slot column
  (for custom types the resolved id or any name or synonym of that value, as annotators write
  "lower back" for lower_back; ISO-8601 for durations; an empty cell means no such slot);
* `entry: ID` passes when the skill's answer comes from that quick-answer entry;
* `entry: urgent` passes when the response opens with urgent advice: a red-flag entry's answer,
  or the emergency check that opens every reply to a chest request;
* `entry: decline` passes when the skill says it cannot help (the out-of-scope, "don't know"
  or fallback reply) or answers with an entry that politely refuses (`declines: true` in the FAQ
  data), and starts no routine and raises no alarm.

Every row runs in a fresh session opened with "open back coach", all in this process.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from skill import interaction_model as models
from skill.core.faq import default_matcher
from skill.core.phrases import Phrasebook
from skill.core.words import words as tokens
from skill.simulator.driver import Exchange, Simulator, Transport, in_process
from skill.simulator.envelopes import Session
from skill.simulator.nlu import understander

URGENT, DECLINE = "urgent", "decline"
_SLOT_COLUMN = re.compile(r"slot\[(\w+)\]")


class EvaluationError(ValueError):
    """An annotation file that cannot be read."""


@dataclass(frozen=True, slots=True)
class Row:
    """One annotated utterance."""

    utterance: str
    intent: str
    slots: dict[str, str]
    entry: str | None
    line: int


@dataclass
class Result:
    """How one row went."""

    row: Row
    passed: bool
    heard: str
    got: str
    tier: str
    hint: str = ""
    alarmed: bool = False
    """The reply opened with urgent advice."""


@dataclass
class Report:
    """Every row's result, and the figures drawn from them."""

    name: str
    results: list[Result] = field(default_factory=list)

    def category(self, result: Result) -> str:
        entry = result.row.entry
        if entry == URGENT:
            return "red flags"
        if entry == DECLINE:
            return "out of scope"
        return "questions" if entry else "commands"

    def accuracy(self, category: str | None = None) -> tuple[int, int]:
        """(passed, total), for one category or all rows."""
        chosen = [r for r in self.results if category is None or self.category(r) == category]
        return sum(r.passed for r in chosen), len(chosen)

    def false_alarms(self) -> tuple[int, int]:
        """(ordinary questions answered with urgent advice first, ordinary questions)."""
        asked = [r for r in self.results if self.category(r) == "questions"]
        return sum(r.alarmed for r in asked), len(asked)

    def categories(self) -> list[str]:
        return sorted({self.category(r) for r in self.results})


def read(path: Path) -> list[Row]:
    """The rows of an annotation CSV."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # spreadsheets often add a BOM
            table = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"{path}: cannot be read: {exc}") from exc
    if not table or [c.strip() for c in table[0][:3]] != ["utterance", "referenceTimestamp", "intent"]:
        raise EvaluationError(f"{path}: the header must start utterance,referenceTimestamp,intent")
    header = [c.strip() for c in table[0]]
    slot_columns = {i: m.group(1) for i, c in enumerate(header) if (m := _SLOT_COLUMN.fullmatch(c))}
    entry_column = header.index("entry") if "entry" in header else None
    rows = []
    for number, cells in enumerate(table[1:], 2):
        if not cells or not "".join(cells).strip():
            continue
        cells = cells + [""] * (len(header) - len(cells))
        if not cells[0].strip() or not cells[2].strip():
            raise EvaluationError(f"{path}:{number}: needs an utterance and an intent")
        slots = {name: cells[i].strip() for i, name in slot_columns.items()}
        entry = cells[entry_column].strip() or None if entry_column is not None else None
        rows.append(Row(cells[0].strip(), cells[2].strip(), slots, entry, number))
    if not rows:
        raise EvaluationError(f"{path}: has no rows to score")
    return rows


_ISO = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@cache
def _value_ids(locale: str) -> dict[str, frozenset[str]]:
    """Every custom slot value's id, name and synonyms (words only, as spoken) -> the ids it names
    (one name may be a value of two types: "foam roller" is equipment and a topic)."""
    ids: dict[str, set[str]] = {}
    for kind in models.load(locale)["interactionModel"]["languageModel"].get("types", []):
        for value in kind["values"]:
            said = value.get("id") or value["name"]["value"]
            for name in (said, value["name"]["value"], *value["name"].get("synonyms", [])):
                ids.setdefault(" ".join(tokens(name.replace("_", " "))), set()).add(said)
    return {name: frozenset(found) for name, found in ids.items()}


def _same(expected: str, heard: str | None, locale: str = "en-US") -> bool:
    """Whether a slot was heard as expected: the same id, or a name of the value heard; durations
    compare by length (PT90S is PT1M30S)."""
    named = _value_ids(locale).get(" ".join(tokens(expected.replace("_", " "))), frozenset())
    if heard == expected or (heard and heard in named):
        return True
    a, b = _ISO.fullmatch(expected), _ISO.fullmatch(heard or "")
    if a and b and expected.startswith("P"):
        seconds = [sum(int(v or 0) * s for v, s in zip(m.groups(), (86400, 3600, 60, 1), strict=True)) for m in (a, b)]
        return seconds[0] == seconds[1]
    return False


def _heard_slots(exchange: Exchange) -> dict[str, str]:
    slots = exchange.summary()["request"]["slots"]
    return {name: str(s["id"] or s["value"]) for name, s in slots.items() if s.get("value")}


@cache
def _openings(locale: str) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """Per locale, built once: how urgent advice opens, how "I can't help with that" opens, and
    the entries that politely refuse."""
    entries = default_matcher().entries
    book = Phrasebook.load(locale)
    urgent = tuple(e.answer[:60] for e in entries if e.red_flag) + tuple(
        v[:60] for v in book.variants("skill.chest_caution")
    )
    refusals = tuple(v.split("{")[0][:40] for key in REFUSALS for v in book.variants(key) if v.split("{")[0])
    return urgent, refusals, frozenset(e.id for e in entries if e.declines)


def _locale(exchange: Exchange) -> str:
    return exchange.request.get("request", {}).get("locale") or "en-US"


def _urgent(exchange: Exchange) -> bool:
    """Whether the response opens with urgent-care advice: a red-flag answer, or the check every
    chest request opens with (what to do if it is the heart)."""
    return any(exchange.speech.startswith(opening) for opening in _openings(_locale(exchange))[0])


REFUSALS = ("faq.out_of_scope", "faq.unknown", "skill.fallback", "skill.fallback_routine")
"""Phrase keys that tell the person the coach cannot help with that."""


def _says_it_cannot_help(exchange: Exchange) -> bool:
    return any(opening in exchange.speech for opening in _openings(_locale(exchange))[1])


def _started_routine(exchange: Exchange) -> bool:
    player = (exchange.response.get("sessionAttributes") or {}).get("player") or {}
    return bool(player.get("routine"))


def _template_hint(row: Row) -> str:
    """The utterance with its expected slot values marked, as a template would need to say it."""
    text = " ".join(re.findall(r"[a-z0-9']+", row.utterance.lower()))
    named = [name for name, value in row.slots.items() if value]
    return f"{row.intent}: '{text}'" + (f" with {', '.join('{' + n + '}' for n in named)} marked" if named else "")


def run_row(row: Row, transport: Transport, locale: str) -> Result:
    """Say the row's utterance in a fresh, open session and judge the outcome."""
    simulator = Simulator(transport, Session(locale=locale))
    simulator.say("open back coach")
    exchange = simulator.say(row.utterance)[-1]
    heard = exchange.heard
    intent = (heard.intent if heard is not None and heard.kind == "IntentRequest" else heard.kind if heard else "") or ""
    tier = heard.tier if heard is not None else ""
    if row.entry == URGENT:
        passed = _urgent(exchange)
        got = "urgent advice" if passed else f"{intent} -> {exchange.answer or exchange.speech[:60]!r}"
    elif row.entry == DECLINE:
        answered = exchange.answer
        declining = _openings(_locale(exchange))[2]
        passed = not _urgent(exchange) and not _started_routine(exchange) and (
            answered in declining or (answered is None and _says_it_cannot_help(exchange))
        )
        got = "declined" if passed else f"{intent} -> {answered or exchange.speech[:60]!r}"
    elif row.entry:
        passed = exchange.answer == row.entry
        got = f"{intent} -> {exchange.answer}"
    else:
        slots = _heard_slots(exchange)
        wanted = {k: v for k, v in row.slots.items() if v}
        named = set(row.slots)
        passed = intent == row.intent and all(_same(v, slots.get(k), locale) for k, v in wanted.items()) and not (
            {k for k in slots if k in named} - set(wanted)
        )
        got = intent + ("" if not slots else " " + " ".join(f"{k}={v}" for k, v in sorted(slots.items())))
    hint = ""
    if not passed:
        nlu = understander(locale)
        sample, similarity = nlu.classifier.nearest(row.intent, row.utterance)
        hint = f"nearest sample of {row.intent}: '{sample}' ({similarity:.0f}); would need {_template_hint(row)}"
    return Result(row, passed, intent, got, tier, hint, bool(row.entry) and _urgent(exchange))


def evaluate(path: Path, transport: Transport | None = None, locale: str = "en-US") -> Report:
    """Run every row of one annotation file."""
    transport = transport or in_process()
    report = Report(path.name)
    rows = read(path)
    known = understander(locale).intents | {"AMAZON.FallbackIntent"}
    unknown = sorted({r.intent for r in rows} - known)
    if unknown:
        raise EvaluationError(f"{path}: intents the model does not have: {', '.join(unknown)}")
    for row in rows:
        report.results.append(run_row(row, transport, locale))
    return report


def describe(report: Report, misses: bool = True) -> list[str]:
    """Accuracy per category and per intent, the confusions, and each miss with its hint."""
    lines = [f"== {report.name}"]
    for category in report.categories():
        right, total = report.accuracy(category)
        lines.append(f"{category:<13} {right:>4}/{total:<4} {right / total:6.1%}")
    alarms, asked = report.false_alarms()
    if asked:
        lines.append(f"false alarms  {alarms:>4}/{asked:<4} ordinary questions that opened with urgent advice")
    per_intent: dict[str, list[bool]] = {}
    for result in report.results:
        if report.category(result) == "commands":
            per_intent.setdefault(result.row.intent, []).append(result.passed)
    if per_intent:
        lines.append("per intent:")
        for intent, outcomes in sorted(per_intent.items()):
            lines.append(f"  {intent:<28} {sum(outcomes):>3}/{len(outcomes):<3} {sum(outcomes) / len(outcomes):6.1%}")
    confusions = Counter(
        (r.row.intent, r.heard) for r in report.results if not r.passed and report.category(r) == "commands" and r.heard != r.row.intent
    )
    if confusions:
        lines.append("confusions (expected -> heard):")
        lines += [f"  {count:>3}  {a} -> {b}" for (a, b), count in confusions.most_common()]
    if misses:
        for r in report.results:
            if not r.passed:
                expected = r.row.entry or " ".join([r.row.intent, *(f"{k}={v}" for k, v in r.row.slots.items() if v)])
                lines.append(f"MISS line {r.row.line}: {r.row.utterance!r}: expected {expected}, got {r.got} [{r.tier}]")
                lines.append(f"     {r.hint}")
    return lines
