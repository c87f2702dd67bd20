"""Words as the simulator reads typed text: lower case, apostrophes kept inside words."""

from __future__ import annotations

import re

FALLBACK = "AMAZON.FallbackIntent"


def tokens(text: str) -> list[str]:
    """Lower-case words with apostrophes kept, punctuation dropped."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)*", text.lower().replace("\u2019", "'"))
