"""The one tokenizer: lower-case words, apostrophes kept inside them ("can't", "y'all've")."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_DROPPED_G = re.compile(r"\b([a-z]{2,}in)'(?![a-z])")
"""A word written as said without its final g ("openin'", "rubbin'"), read as spelled."""


def words(text: str) -> list[str]:
    """Lower-case word tokens, typographic apostrophes read as plain ones, punctuation dropped."""
    return _WORD.findall(_DROPPED_G.sub(r"\1g", text.lower().replace("\u2019", "'")))
