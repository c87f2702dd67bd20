"""The one tokenizer: lower-case words, apostrophes kept inside them ("can't", "y'all've")."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def words(text: str) -> list[str]:
    """Lower-case word tokens, typographic apostrophes read as plain ones, punctuation dropped."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))
