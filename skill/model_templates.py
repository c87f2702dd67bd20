"""Sentence templates to sample utterances: hassil parses the syntax, a seeded walk picks the expansions."""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable, Mapping

from hassil.expression import Alternative, Expression, Group, ListReference, Permutation, RuleReference, Sentence, TextChunk
from hassil.parse_expression import parse_sentence
from hassil.sample import sample_expression

MAX_SAMPLE_CHARS = 200
"""Amazon's limit on one sample utterance."""
DRAWS_PER_TEMPLATE = 120
"""Templates with more expansions than this are sampled by a seeded random walk, not listed whole."""
SLOT = re.compile(r"\{(\w+)\}")
ALLOWED = re.compile(r"[a-z' {}]+")


class TemplateError(ValueError):
    """A template or an expanded sample that an interaction model cannot use."""


def _count(expression: Expression, rules: Mapping[str, Sentence]) -> int:
    if isinstance(expression, TextChunk | ListReference):
        return 1
    if isinstance(expression, RuleReference):
        return _count(rules[expression.rule_name].expression, rules)
    if isinstance(expression, Alternative):
        return sum(_count(item, rules) for item in expression.items)
    if isinstance(expression, Permutation):
        return math.factorial(len(expression.items)) * math.prod(_count(item, rules) for item in expression.items)
    if isinstance(expression, Group):
        total = 1
        for item in expression.items:
            total *= _count(item, rules)
        return total
    raise TemplateError(f"unsupported template part {expression!r}")


def _walk(expression: Expression, rules: Mapping[str, Sentence], rng: random.Random) -> str:
    """One expansion chosen at random, each alternative as likely as any other."""
    if isinstance(expression, TextChunk):
        return expression.original_text
    if isinstance(expression, ListReference):
        return "{" + expression.list_name + "}"
    if isinstance(expression, RuleReference):
        return _walk(rules[expression.rule_name].expression, rules, rng)
    if isinstance(expression, Alternative):
        # Optional parts are taken half the time, so short and long forms both appear.
        if expression.is_optional and rng.random() < 0.5:
            return ""
        items = [i for i in expression.items if not (isinstance(i, TextChunk) and i.is_empty)] or expression.items
        return _walk(rng.choice(items), rules, rng)
    if isinstance(expression, Permutation):
        items = list(expression.items)
        rng.shuffle(items)
        return " ".join(_walk(item, rules, rng) for item in items)
    if isinstance(expression, Group):
        return "".join(_walk(item, rules, rng) for item in expression.items)
    raise TemplateError(f"unsupported template part {expression!r}")


def _clean(text: str) -> str:
    return " ".join(text.split())


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:8], "big")


def parse_rules(raw: Mapping[str, str]) -> dict[str, Sentence]:
    """The shared rules, parsed."""
    rules: dict[str, Sentence] = {}
    for name, text in raw.items():
        try:
            rules[name] = parse_sentence(text)
        except Exception as exc:  # hassil raises several parse error types
            raise TemplateError(f"rule <{name}>: {exc}") from exc
    return rules


def expand_template(template: str, rules: Mapping[str, Sentence], seed: str) -> list[str]:
    """A template's expansions, shortest first: all of them when few, else a seeded sample; deterministic either way."""
    try:
        sentence = parse_sentence(template)
        possible = _count(sentence.expression, rules)
    except KeyError as exc:
        raise TemplateError(f"template '{template}': no rule <{exc.args[0]}>") from exc
    except TemplateError:
        raise
    except Exception as exc:
        raise TemplateError(f"template '{template}': {exc}") from exc
    if possible <= DRAWS_PER_TEMPLATE:
        found = {_clean(s) for s in sample_expression(sentence.expression, expansion_rules=dict(rules), expand_lists=False)}
    else:
        rng = random.Random(_seed(seed, template))
        found = {_clean(_walk(sentence.expression, rules, rng)) for _ in range(DRAWS_PER_TEMPLATE)}
    # Shortest first, so each template's plainest forms survive the cap; a hashed order within a length.
    return sorted(found - {""}, key=lambda s: (len(s.split()), _seed(seed, s)))


def round_robin(lists: Iterable[list[str]], limit: int) -> list[str]:
    """Up to `limit` distinct items, taking one from each list in turn so every list is represented."""
    queues = [list(reversed(items)) for items in lists]
    chosen: dict[str, None] = {}
    while queues and len(chosen) < limit:
        for queue in queues:
            while queue:
                item = queue.pop()
                if item not in chosen:
                    chosen[item] = None
                    break
        queues = [q for q in queues if q]
    return list(chosen)[:limit]


def check_sample(sample: str, intent: str, slots: Mapping[str, str]) -> None:
    """Raise TemplateError when a sample breaks one of Amazon's rules for sample utterances."""
    where = f"{intent}: '{sample}'"
    if not ALLOWED.fullmatch(sample):
        raise TemplateError(f"{where}: only lower-case letters, spaces and apostrophes are allowed")
    if len(sample) > MAX_SAMPLE_CHARS:
        raise TemplateError(f"{where}: longer than {MAX_SAMPLE_CHARS} characters")
    names = SLOT.findall(sample)
    for name in names:
        if name not in slots:
            raise TemplateError(f"{where}: slot {{{name}}} is not declared on the intent")
    if re.search(r"\}\s*\{", sample):
        raise TemplateError(f"{where}: two slots side by side")
    kinds = [slots[n] for n in names]
    if "AMAZON.SearchQuery" in kinds:
        if len(names) > 1:
            raise TemplateError(f"{where}: AMAZON.SearchQuery cannot share a sample with another slot")
        if not SLOT.sub("", sample).strip():
            raise TemplateError(f"{where}: AMAZON.SearchQuery needs a carrier phrase")
    if kinds == ["AMAZON.DURATION"] and not SLOT.sub("", sample).strip():
        raise TemplateError(f"{where}: AMAZON.DURATION cannot stand alone")


def expand_intent(
    intent: str, templates: list[str], slots: Mapping[str, str], rules: Mapping[str, Sentence], limit: int
) -> list[str]:
    """An intent's samples from its templates, checked, at most `limit` of them."""
    per_template = [expand_template(t, rules, f"{intent}/{n}") for n, t in enumerate(templates)]
    samples = round_robin(per_template, limit)
    for sample in samples:
        check_sample(sample, intent, slots)
    return samples
