"""Numbers said as words or digits ("twenty five", "a hundred", "12"), for the core and the simulator alike."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000}
def parse_number(words: list[str]) -> float | None:
    """A number said as digits ("12", "2.5") or words ("twenty five", "a hundred"); None if not one."""
    if not words:
        return None
    if len(words) == 1 and re.fullmatch(r"\d+(\.\d+)?", words[0]):
        return float(words[0])
    total, current, seen = 0, 0, False
    last = ""
    for index, word in enumerate(words):
        # "one two" or "twenty thirty" is two numbers, not one: a unit follows only a ten or a
        # scale, a ten only a scale.
        if word in UNITS:
            if last == "unit" or (last == "ten" and UNITS[word] >= 10):
                return None
            current += UNITS[word]
            last = "unit"
        elif word in TENS:
            if last in ("unit", "ten"):
                return None
            current += TENS[word]
            last = "ten"
        elif word in SCALES:
            last = "scale"
            current = max(current, 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total, current = total + current, 0
        elif word in ("a", "an") and index == 0 and len(words) > 1 and words[1] in SCALES:
            current = 1
        elif word == "and" and seen:
            continue
        elif re.fullmatch(r"\d+", word) and not seen:
            current += int(word)
            last = "unit"
        else:
            return None
        seen = True
    return float(total + current) if seen else None


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10}
