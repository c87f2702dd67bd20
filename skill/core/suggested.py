"""The questions the skill offers as examples, read without building the quick-answer matcher."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from skill.core.datafiles import DATA_DIR, load_yaml


@cache
def suggested_questions(path: Path | None = None) -> tuple[str, ...]:
    """First phrasings of the FAQ entries marked `suggest: true` (load_entries checks there are two).

    The launch reply offers one; importing the matcher (BM25, numpy) would cost a cold start
    about 250 ms, so this reads the data file alone.
    """
    raw = load_yaml(path or DATA_DIR / "faq" / "en.yaml")
    return tuple(
        str(e["questions"][0])
        for e in raw["entries"]
        if e.get("suggest") and not e.get("red_flag") and e.get("questions")
    )
