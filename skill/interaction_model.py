"""Interaction models: ASK CLI JSON per locale, expanded from the templates in interaction_models/source.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from skill.core.datafiles import DATA_DIR, read_yaml
from skill.dependencies import MissingDependency
from skill.core.routines import Library, load_library, step_key

MODELS_DIR = DATA_DIR.parent / "interaction_models"
PACKAGE_MODELS_DIR = DATA_DIR.parent / "skill-package" / "interactionModels" / "custom"
"""The ASK CLI's layout; generated copies of MODELS_DIR so there is one source of truth."""
SOURCE = MODELS_DIR / "source.yaml"
INVOCATION = "back coach"
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
SENSITIVITIES = ("LOW", "MEDIUM", "HIGH")
# Words spelled differently outside the US; Alexa transcribes speech with the local spelling.
COMMONWEALTH = {"favorite": "favourite", "favorites": "favourites", "color": "colour", "center": "centre"}


def _spell(text: str, locale: str) -> str:
    if locale == "en-US":
        return text
    return re.sub(r"[a-z]+", lambda m: COMMONWEALTH.get(m.group(0), m.group(0)), text)


def spelling(locale: str) -> dict[str, str]:
    """Word -> the locale's spelling of it, for text typed with another locale's spelling."""
    if locale == "en-US":
        return {other: us for us, other in COMMONWEALTH.items()}
    return dict(COMMONWEALTH)


def _spoken(text: str) -> str:
    """A name as a slot value: lower case, letters and apostrophes only, single spaces."""
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


def _routine_type(library: Library) -> dict[str, Any]:
    values = []
    for routine in library:
        name = _spoken(routine.title)
        synonyms = sorted({_spoken(s) for s in routine.synonyms} - {name})
        values.append({"id": routine.id, "name": {"value": name, "synonyms": synonyms}})
    return {"name": "ROUTINE", "values": values}


def _step_type(library: Library) -> dict[str, Any]:
    """Every step's name, for "go to child's pose"; steps of the same name share one value."""
    routines = {step_key(said) for routine in library for said in (routine.title, *routine.synonyms)}
    names: dict[str, str] = {}
    for routine in library:
        for step in routine.steps:
            if step_key(step.name) not in routines:  # "reverse presses" stays the routine's name
                names.setdefault(step_key(step.name), _spoken(step.name))
    return {"name": "STEP", "values": [{"id": key, "name": {"value": name}} for key, name in sorted(names.items())]}


def expand(source: dict[str, Any], limit: int | None = None) -> dict[str, list[str]]:
    """Every intent's samples (en-US spelling), expanded from its templates and checked.

    At most the source's `max_samples` per intent go into a model; the simulator's statistical
    tier learns from a larger expansion (`limit`).
    """
    try:
        from skill.model_templates import TemplateError, expand_intent, parse_rules
    except ImportError as exc:
        raise MissingDependency("expanding the interaction model's templates", exc.name) from exc

    rules = parse_rules(source.get("rules") or {})
    limit = limit or int(source["max_samples"])
    expanded: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, spec in source["intents"].items():
        slots = spec.get("slots") or {}
        samples = expand_intent(name, list(spec.get("templates") or []), slots, rules, limit)
        for sample in samples:
            # Samples that differ only in a slot's name are the same to Alexa ("so {query}", "so {statement}").
            shape = re.sub(r"\{(\w+)\}", lambda m: "{" + slots.get(m.group(1), m.group(1)) + "}", sample)
            if shape in owner:
                raise TemplateError(f"'{sample}' is a sample of both {owner[shape]} and {name}")
            owner[shape] = name
        expanded[name] = samples
    return expanded


def build(locale: str, source: dict[str, Any] | None = None, library: Library | None = None,
          samples: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The interaction model document for one locale."""
    source = source or read_yaml(SOURCE.read_text(encoding="utf-8"))
    library = library or load_library()
    samples = samples if samples is not None else expand(source)
    sensitivity = source.get("fallback_sensitivity", "MEDIUM")
    if sensitivity not in SENSITIVITIES:
        raise ValueError(f"fallback_sensitivity must be one of {', '.join(SENSITIVITIES)}")
    intents = []
    for name, spec in source["intents"].items():
        intent: dict[str, Any] = {"name": name, "samples": [_spell(s, locale) for s in samples[name]]}
        slots = spec.get("slots") or {}
        if slots:
            intent["slots"] = [{"name": slot, "type": kind} for slot, kind in slots.items()]
        intents.append(intent)
    types = [_routine_type(library), _step_type(library)]
    for type_name, entries in source["slot_types"].items():
        values = [
            {
                "id": e["id"],
                "name": {"value": _spell(e["value"], locale), "synonyms": [_spell(s, locale) for s in e.get("synonyms", [])]},
            }
            for e in entries
        ]
        types.append({"name": type_name, "values": values})
    language = {
        "invocationName": INVOCATION,
        "modelConfiguration": {"fallbackIntentSensitivity": {"level": sensitivity}},
        "intents": intents,
        "types": types,
    }
    return {"interactionModel": {"languageModel": language}}


def training_samples(locale: str, limit: int) -> dict[str, list[str]]:
    """Up to `limit` expansions per intent in the locale's spelling, for the simulator to learn from."""
    source = read_yaml(SOURCE.read_text(encoding="utf-8"))
    return {name: [_spell(s, locale) for s in samples] for name, samples in expand(source, limit).items()}


def render(model: dict[str, Any]) -> str:
    """The model as the JSON text stored in the repository."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """Every locale's model text, expanding the templates once."""
    source = read_yaml(SOURCE.read_text(encoding="utf-8"))
    library = load_library()
    samples = expand(source)
    return {locale: render(build(locale, source, library, samples)) for locale in LOCALES}


def write_all(directories: tuple[Path, ...] = (MODELS_DIR, PACKAGE_MODELS_DIR)) -> list[Path]:
    """Regenerate every locale's model file, here and in the skill package; returns the paths written."""
    paths = []
    for locale, text in render_all().items():
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{locale}.json"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    return paths


def load(locale: str) -> dict[str, Any]:
    """The stored model for a locale (en-US when the locale has none)."""
    path = MODELS_DIR / f"{locale}.json"
    if not path.is_file():
        path = MODELS_DIR / "en-US.json"
    return json.loads(path.read_text(encoding="utf-8"))
