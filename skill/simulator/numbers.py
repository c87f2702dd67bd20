"""AMAZON.NUMBER and AMAZON.DURATION (ISO-8601) from words, by hand: text2num refuses "a hundred" and "oh", ovos-date-parser
"a minute and a half". Numbers themselves are read by skill/core/numbers.py."""

from __future__ import annotations

import re

from skill.core.numbers import parse_number

UNIT_SECONDS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
    "day": 86400, "days": 86400,
}


def _amount(words: list[str]) -> float | None:
    """The amount before a unit: a number, 'a'/'an' (one), 'half a'/'half an', 'a quarter of an', with 'and a half'."""
    text = " ".join(words)
    extra = 0.0
    if text.endswith(" and a half"):
        text, extra = text[: -len(" and a half")], 0.5
    simple = {"a": 1.0, "an": 1.0, "half a": 0.5, "half an": 0.5, "a half": 0.5, "half": 0.5, "a quarter of an": 0.25,
              "a quarter of a": 0.25, "quarter of an": 0.25, "three quarters of an": 0.75, "a couple of": 2.0,
              "a couple": 2.0, "a few": 3.0}
    if text in simple:
        return simple[text] + extra
    number = parse_number(text.split())
    return None if number is None else number + extra


def parse_duration(text: str) -> str | None:
    """Words said as the ISO-8601 duration Alexa gives ("90 seconds" PT90S); core.selection.duration_seconds reads it back."""
    words = re.findall(r"[a-z0-9.]+", text.lower().replace("-", " "))
    parts = {"H": 0.0, "M": 0.0, "S": 0.0}
    chunk: list[str] = []
    found = False
    index = 0
    while index < len(words):
        word = words[index]
        if word not in UNIT_SECONDS:
            chunk.append(word)
            index += 1
            continue
        if found and chunk in (["a"], ["an"], ["per"], ["every"], ["each"]):
            chunk = []  # "ten minutes a day" is how often, not a longer length
            break
        halved = words[index + 1 : index + 4] == ["and", "a", "half"]
        # "a quick minute and a half": the words before the unit describe it, the half counts it
        amount = 1.0 if halved and not chunk else _amount(chunk[1:] if chunk[:1] == ["and"] else chunk)
        if amount is None:
            return None
        if halved:
            amount += 0.5
            index += 3
        seconds = UNIT_SECONDS[word]
        unit = "H" if seconds >= 3600 else "M" if seconds == 60 else "S"
        parts[unit] += amount * (seconds / 3600 if seconds >= 3600 else 1)
        found = True
        chunk = []
        index += 1
    if not found or any(w != "and" for w in chunk):
        return None
    # Fractions move down a unit (1.5 hours is 1 hour 30 minutes); whole amounts stay as said.
    for unit, lower, factor in (("H", "M", 60), ("M", "S", 60)):
        whole = int(parts[unit])
        parts[lower] += (parts[unit] - whole) * factor
        parts[unit] = whole
    body = "".join(f"{round(v):d}{u}" for u, v in parts.items() if round(v))
    return "PT" + body if body else None
