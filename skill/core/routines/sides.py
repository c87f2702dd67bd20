"""Left and right in an instruction: which side each body part is on, and whether a second side's text swaps them."""

from __future__ import annotations

import re

SIDE_WORDS = {"left": "right", "right": "left"}
BODY_PARTS = frozenset(
    {"ankle", "knee", "foot", "leg", "thigh", "hip", "buttock", "arm", "forearm", "elbow", "wrist", "hand", "palm",
     "shoulder", "ear", "side", "blade", "heel", "toes", "fingers"}
)
_WORDS = re.compile(r"[a-z]+")


def side_pairs(text: str) -> dict[str, str]:
    """Which side each body part is on in a text ("left ankle" gives ankle: left); bare sides count as 'direction'.

    A part named on both sides in the same text is left out, since it says nothing about the swap.
    """
    words = _WORDS.findall(text.lower())
    found: dict[str, set[str]] = {}
    for i, word in enumerate(words):
        if word not in SIDE_WORDS:
            continue
        following = words[i + 1].rstrip("s") if i + 1 < len(words) else ""
        part = following if following in BODY_PARTS else "direction"
        found.setdefault(part, set()).add(word)
    return {part: next(iter(sides)) for part, sides in found.items() if len(sides) == 1}


def swap_problems(first: str, second: str) -> list[str]:
    """Body parts the second-side text leaves on the first side's side (empty when correctly swapped)."""
    before, after = side_pairs(first), side_pairs(second)
    return [f"{after[part]} {part}" for part in sorted(after) if part in before and after[part] == before[part]]
