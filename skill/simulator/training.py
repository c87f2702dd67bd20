"""What the statistical tier learns from besides the model: the template expansion and the FAQ's phrasings.

`training_inputs` builds them when a classifier must be trained; `_fingerprint` names the files
and code they come from, for the classifier cache key.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from skill import interaction_model as models
from skill.core.datafiles import DATA_DIR, DataFileError
from skill.core.faq.entries import HEARD_FILE, read_heard
from skill.core.words import words as tokens
from skill.simulator.words import FALLBACK

FAQ_FILE = DATA_DIR / "faq" / "en.yaml"
FAQ_HEARD = HEARD_FILE
HEARD = DATA_DIR / "simulator" / "heard.yaml"
"""What people said for each intent, from the development sets (skill/heard.py)."""
TRAINING_SAMPLES = 1500
"""Expansions per intent the statistical tier learns from (a model holds at most a few hundred)."""

STATEMENT_OPENERS = frozenset("i i've i'm i'd my me both there's it's it this that since after he she he's she's they they're his her our".split())
AFTER_REQUEST = ("but", "oh and", "", "also", "though", "and", "because")
"""How people go on from asking for a routine to telling what is wrong ("do the desk break, oh and ...")..."""
BEFORE_REQUEST = ("so", "", "anyway", "but", "and")
"""...and from telling what is wrong to asking ("my legs are numb, anyway start the desk break")."""
WARNING_MIXES = 2
"""Requests each warning sign is joined to, on each side (an everyday complaint is joined to one:
more taught the tier that a complaint alone, "i woke up with a stiff neck", asks for a routine)."""
NOT_COMMANDS = frozenset({"StartRoutineIntent", "QuestionIntent", "StatementIntent", "TopicIntent", FALLBACK})
"""Intents whose samples are not joined to warning signs as other commands: routine requests have
their own mixes, and the rest carry what was said already."""
ASKING = frozenset("should can could is are does do what how why when which will would what's how's why's".split())
"""Words that make a phrasing that opens like a statement a question ("my neck clicks, is that bad")."""


def faq_shapes() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """The FAQ's phrasings, read once, as the shape of free text the statistical tier learns.

    A real speaker's understanding knows how questions and statements are shaped from far more
    than one skill's samples; the FAQ gives the tier that sense twice over: its own phrasings
    without their first word as stand-ins for the question and statement slots, and its own and
    heard phrasings (data/faq/heard.yaml) whole, as utterances of QuestionIntent or
    StatementIntent (by how they open). Third, what is told of the body, as warning signs (red-flag
    phrasings) and everyday complaints, to join to routine requests (`mixed`).
    """
    from skill.core.faq import load_entries
    from skill.core.faq.entries import load_heard

    free_text: dict[str, list[str]] = {"query": [], "statement": []}
    told: dict[str, list[str]] = {"warning": [], "complaint": []}
    whole: dict[str, list[str]] = {"QuestionIntent": [], "StatementIntent": []}
    entries = load_entries()
    heard = load_heard(entries, FAQ_HEARD)
    for entry in entries:
        for phrasing in (*entry.questions, *heard.get(entry.id, ())):
            words = tokens(phrasing)
            statement = words[0] in STATEMENT_OPENERS
            whole["StatementIntent" if statement else "QuestionIntent"].append(" ".join(words))
            if statement and not entry.declines and (entry.red_flag or not ASKING & set(words)):
                told["warning" if entry.red_flag else "complaint"].append(" ".join(words))
            if len(words) > 2 and phrasing in entry.questions:
                # Only the FAQ's own phrasings stand in for a question slot: heard questions mostly
                # tell a story first, and every carrier filled with a story would teach the tier
                # that "is {query}" is a long ramble; they are learned whole instead.
                free_text["statement" if statement else "query"].append(" ".join(words[1:]))
    return free_text, whole, told


def training_inputs(locale: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the statistical tier learns from besides the model: stand-ins for free text, and the
    full template expansion with the FAQ's phrasings as whole questions and statements, and what
    people said for each intent (data/simulator/heard.yaml)."""
    free_text, whole, told = faq_shapes()
    training = models.training_samples(locale, TRAINING_SAMPLES)
    for intent, utterances in whole.items():
        training[intent] = [*training.get(intent, []), *utterances]
    warnings, complaints = told["warning"], told["complaint"]
    for intent, utterances in load_said(HEARD).items():
        if intent not in training:
            raise DataFileError(f"{HEARD}: no intent '{intent}' in the interaction model")
        training[intent] = [*training[intent], *utterances]
        if intent == "StatementIntent":
            # What people told of their bodies (red flags, mostly short) also fills the statement
            # slot of every carrier, so "hang on {statement}" is learned with a symptom after it.
            free_text["statement"] = [*free_text["statement"], *utterances]
            warnings = [*warnings, *utterances]
    requests = training["StartRoutineIntent"]
    # Other commands too, told after them: "ok next step, oh and I came off my bike and my back hurts"
    # tells a warning sign, and the skill only hears it as a statement. Intents are taken in turn.
    # (Joined before them as well, they cost commands that explain themselves and caught no more.)
    commands = [s for group in itertools.zip_longest(*(training[i] for i in sorted(training) if i not in NOT_COMMANDS))
                for s in group if s is not None]
    training["StatementIntent"] = [*training["StatementIntent"], *mixed(requests, warnings, WARNING_MIXES),
                                   *mixed(commands, warnings, 1, before=False)]
    training["StartRoutineIntent"] = [*requests, *mixed(requests, complaints, 1)]
    return free_text, training


def mixed(requests: list[str], told: list[str], times: int, before: bool = True) -> list[str]:
    """Each thing told joined to routine requests, after them and (unless `before` is false) before them.

    Asked with a warning sign in it ("start the morning one, my chest has been tight since i woke
    up") a request is a statement, so the skill sees the words and checks them; with an everyday
    complaint ("my neck's stiff from the laptop, do the desk break") it stays a request. Requests,
    and the words joining them, are taken in turn, so the mix is the same on every build.
    """
    if not requests:
        return []
    asks = itertools.cycle(requests)
    after, leading = itertools.cycle(AFTER_REQUEST), itertools.cycle(BEFORE_REQUEST)
    joined = []
    for text in told:
        for _ in range(times):
            joined.append(" ".join(w for w in (next(asks), next(after), text) if w))
            if before:
                joined.append(" ".join(w for w in (text, next(leading), next(asks)) if w))
    return joined


def load_said(path: Path) -> dict[str, tuple[str, ...]]:
    """Intent -> what people said for it, from a heard file (skill/heard.py writes it)."""
    return read_heard(path, "intent -> a list of utterances")


def _fingerprint() -> str:
    """The files and code training_inputs reads, for the classifier cache key."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(TRAINING_SAMPLES)]
    for path in (models.SOURCE, FAQ_FILE, FAQ_HEARD, HEARD, Path(models.__file__).with_name("model_templates.py"), Path(__file__)):
        parts.append(path.read_text(encoding="utf-8"))
    try:
        parts.append(version("hassil"))
    except PackageNotFoundError:
        parts.append("hassil missing")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

