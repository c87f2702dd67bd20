"""Words as the simulator reads typed text: lower case, apostrophes kept inside words."""

from __future__ import annotations

import re

FALLBACK = "AMAZON.FallbackIntent"


def tokens(text: str) -> list[str]:
    """Lower-case words with apostrophes kept, punctuation dropped."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)*", text.lower().replace("\u2019", "'"))


def after_prefix(words: list[str], prefixes: list[list[str]]) -> list[str] | None:
    """The words after the first of `prefixes` they start with, if any words remain; else None."""
    for prefix in prefixes:
        if prefix and words[: len(prefix)] == prefix and len(words) > len(prefix):
            return words[len(prefix) :]
    return None
