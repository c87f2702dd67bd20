"""Resource checks: models, handlers, slots, text keys and routines agree with each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from skill import interaction_model as models
from skill.alexa.handlers import HANDLERS
from skill.core.phrases import LOCALES_DIR, Phrasebook
from skill.core.player import Reset

ROOT = Path(__file__).resolve().parents[2]
HANDLED = {cls.intent for cls in HANDLERS if getattr(cls, "intent", "")}
REQUIRED_BUILT_INS = {
    "AMAZON.CancelIntent", "AMAZON.StopIntent", "AMAZON.HelpIntent", "AMAZON.FallbackIntent",
    "AMAZON.NavigateHomeIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.RepeatIntent",
    "AMAZON.StartOverIntent", "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "AMAZON.YesIntent", "AMAZON.NoIntent",
}


def _language_model(locale: str) -> dict:
    return json.loads((models.MODELS_DIR / f"{locale}.json").read_text())["interactionModel"]["languageModel"]


@pytest.mark.parametrize("locale", models.LOCALES)
def test_model_files_are_generated_from_the_source(locale):
    stored = (models.MODELS_DIR / f"{locale}.json").read_text()
    assert stored == models.render(models.build(locale)), "run `backcoach models` after editing the source"


@pytest.mark.parametrize("locale", models.LOCALES)
def test_every_intent_has_a_handler_and_every_handler_an_intent(locale):
    model = _language_model(locale)
    assert model["invocationName"] == "back coach"
    intents = {i["name"] for i in model["intents"]}
    assert intents == HANDLED
    assert REQUIRED_BUILT_INS <= intents


@pytest.mark.parametrize("locale", models.LOCALES)
def test_samples_use_only_declared_slots_and_custom_intents_have_enough(locale):
    model = _language_model(locale)
    types = {t["name"] for t in model["types"]}
    seen: dict[str, str] = {}
    for intent in model["intents"]:
        slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for kind in slots.values():
            assert kind.startswith("AMAZON.") or kind in types
        for sample in intent["samples"]:
            for name in re.findall(r"{(\w+)}", sample):
                assert name in slots, (intent["name"], sample)
            assert sample not in seen, f"'{sample}' is in {seen.get(sample)} and {intent['name']}"
            seen[sample] = intent["name"]
            if "AMAZON.SearchQuery" in {slots[n] for n in re.findall(r"{(\w+)}", sample)}:
                assert len(re.findall(r"{(\w+)}", sample)) == 1 and sample.strip() != "{query}"
        if not intent["name"].startswith("AMAZON."):
            assert len(intent["samples"]) >= 15, intent["name"]


def test_every_routine_is_reachable_through_the_slot_type(library):
    model = _language_model("en-US")
    routine_type = next(t for t in model["types"] if t["name"] == "ROUTINE")
    assert {v["id"] for v in routine_type["values"]} == {r.id for r in library}
    for value in routine_type["values"]:
        routine = library.get(value["id"])
        assert value["name"]["value"] == re.sub(r"[^a-z' ]+", " ", routine.title.lower()).strip()


def test_slot_type_ids_match_the_routine_model():
    from skill.core.routines import Area, Equipment

    model = _language_model("en-US")
    ids = {t["name"]: {v["id"] for v in t["values"]} for t in model["types"]}
    assert ids["BODY_AREA"] == {a.value for a in Area}
    assert ids["EQUIPMENT"] == {e.value for e in Equipment}


def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "skill").rglob("*.py"):
        keys |= set(re.findall(r"""\.say\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text()))
    keys |= {f"player.{c}{s}" for c in ("slower", "faster", "shorter", "detail") for s in ("", "_limit")}
    keys |= {f"skill.reset.{r.value}" for r in Reset}
    keys |= {"cue.hold_for", "cue.roll_for", "cue.breathe_for", "cue.release", "cue.roll_done", "cue.reps_done"}
    return keys


@pytest.mark.parametrize("locale", models.LOCALES)
def test_every_text_key_exists_in_every_locale(locale):
    book = Phrasebook.load(locale)
    missing = sorted(k for k in _keys_used_in_code() if k not in book.entries)
    assert not missing


def test_locale_files_only_override_known_keys():
    base = yaml.safe_load((LOCALES_DIR / "en.yaml").read_text())
    for path in LOCALES_DIR.glob("en-*.yaml"):
        extra = set(yaml.safe_load(path.read_text()) or {}) - set(base) - {"_inherit"}
        assert not extra, f"{path.name} defines keys missing from en.yaml: {extra}"


def test_every_phrasing_of_a_key_uses_the_same_placeholders():
    book = Phrasebook.load("en-US")
    from string import Formatter

    for key, variants in book.entries.items():
        fields = [{n for _, n, _, _ in Formatter().parse(v) if n} for v in variants]
        assert all(f == fields[0] for f in fields), key


def test_manifest_has_disclaimer_category_and_phrases_that_match_samples():
    manifest = json.loads((ROOT / "skill-package" / "skill.json").read_text())["manifest"]
    info = manifest["publishingInformation"]
    assert info["category"] == "HEALTH_AND_FITNESS"
    assert set(info["locales"]) == set(models.LOCALES)
    for locale, details in info["locales"].items():
        assert "not a substitute for professional medical advice" in details["description"]
        model = _language_model(locale)
        patterns = [
            re.compile("^" + re.sub(r"\\{\w+\\}", ".+", re.escape(s)) + "$")
            for i in model["intents"] for s in i["samples"]
        ]
        for phrase in details["examplePhrases"]:
            spoken = phrase.lower().removeprefix("alexa, ")
            if spoken == "open back coach":
                continue
            rest = re.sub(r"^(ask|tell) back coach (to )?", "", spoken)
            assert any(p.match(rest) for p in patterns), phrase


@pytest.mark.parametrize("locale", models.LOCALES)
def test_skill_package_models_are_the_same_generated_files(locale):
    packaged = models.PACKAGE_MODELS_DIR / f"{locale}.json"
    assert packaged.read_text() == (models.MODELS_DIR / f"{locale}.json").read_text()
