"""What the statistical tier learns from besides the model: the template expansion and the FAQ's phrasings.

`training_inputs` builds them when a classifier must be trained; `_fingerprint` names the files
and code they come from, for the classifier cache key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from skill import interaction_model as models
from skill.core.datafiles import DATA_DIR
from skill.core.words import words as tokens

FAQ_FILE = DATA_DIR / "faq" / "en.yaml"
TRAINING_SAMPLES = 1500
"""Expansions per intent the statistical tier learns from (a model holds at most a few hundred)."""

STATEMENT_OPENERS = frozenset("i i've i'm i'd my both there's it's it this that since after he she he's she's they they're his our".split())


def faq_shapes() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The FAQ's phrasings, read once, as the shape of free text the statistical tier learns.

    A real speaker's understanding knows how questions and statements are shaped from far more
    than one skill's samples; the FAQ gives the tier that sense twice over: without their first
    word as stand-ins for the question and statement slots, and whole, as utterances of
    QuestionIntent or StatementIntent (by how they open).
    """
    from skill.core.faq import load_entries

    free_text: dict[str, list[str]] = {"query": [], "statement": []}
    whole: dict[str, list[str]] = {"QuestionIntent": [], "StatementIntent": []}
    for entry in load_entries():
        for phrasing in entry.questions:
            words = tokens(phrasing)
            statement = words[0] in STATEMENT_OPENERS
            whole["StatementIntent" if statement else "QuestionIntent"].append(" ".join(words))
            if len(words) > 2:
                free_text["statement" if statement else "query"].append(" ".join(words[1:]))
    return free_text, whole


def training_inputs(locale: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the statistical tier learns from besides the model: stand-ins for free text, and the
    full template expansion with the FAQ's phrasings as whole questions and statements."""
    free_text, whole = faq_shapes()
    training = models.training_samples(locale, TRAINING_SAMPLES)
    for intent, utterances in whole.items():
        training[intent] = [*training.get(intent, []), *utterances]
    return free_text, training


def _fingerprint() -> str:
    """The files and code training_inputs reads, for the classifier cache key."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(TRAINING_SAMPLES)]
    for path in (models.SOURCE, FAQ_FILE, Path(models.__file__).with_name("model_templates.py"), Path(__file__)):
        parts.append(path.read_text(encoding="utf-8"))
    try:
        parts.append(version("hassil"))
    except PackageNotFoundError:
        parts.append("hassil missing")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

