"""The one tokenizer: lower-case words, apostrophes kept inside them ("can't", "y'all've")."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_DROPPED_G = re.compile(r"(?<![a-z'])([a-z]{2,}in)'(?![a-z])")
"""A word written as said without its final g ("openin'", "rubbin'")..."""
_OPENING_QUOTE = re.compile(r"(?<![a-z0-9])'[a-z]")
"""...read as spelled unless the text quotes words, where the apostrophe closes a quote ("'chest pain'")."""


def words(text: str) -> list[str]:
    """Lower-case word tokens, typographic apostrophes read as plain ones, punctuation dropped."""
    text = text.lower().replace("\u2019", "'")
    if not _OPENING_QUOTE.search(text):
        text = _DROPPED_G.sub(r"\1g", text)
    return _WORD.findall(text)
