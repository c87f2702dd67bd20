"""Resource checks: models, handlers, slots, text keys and routines agree with each other."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from skill import interaction_model as models
from skill.alexa.handlers import HANDLERS
from skill.core.phrases import LOCALES_DIR, Phrasebook
from skill.core.player import Reset
from skill.core.routines import Area, Equipment

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
    from skill.core.routines import ELSEWHERE, Area, Equipment

    model = _language_model("en-US")
    ids = {t["name"]: {v["id"] for v in t["values"]} for t in model["types"]}
    assert ids["BODY_AREA"] == {a.value for a in Area} | {ELSEWHERE}
    assert ids["EQUIPMENT"] == {e.value for e in Equipment}


BASE_KEYS = set(yaml.safe_load((LOCALES_DIR / "en.yaml").read_text()))
NAMESPACES = sorted({key.split(".")[0] for key in BASE_KEYS})
KEY_SHAPE = re.compile(rf"^(?:{'|'.join(NAMESPACES)})\.[a-z0-9_]+(?:\.[a-z0-9_]+)*$")
NOT_KEYS = {"memory.sqlite3"}
"""Strings in the code shaped like phrase keys that are not: the SQLite file's name."""
CHANGES = ("slower", "faster", "shorter", "detail", "talk_slower", "talk_faster", "chimes_off", "chimes_on")
"""Every setting change Player.prefer applies."""
DYNAMIC: dict[str, tuple[int, set[str]]] = {
    # the f-string as the code writes it: (how many places use it, every key it can become)
    "f'skill.reset.{turn.reset}'": (1, {f"skill.reset.{r.value}" for r in Reset}),
    "f'area.{a.value}'": (1, {f"area.{a.value}" for a in Area}),
    # Equipment.NONE is never spoken: a routine without equipment says skill.about_no_equipment.
    "f'equipment.{e.value}'": (1, {f"equipment.{e.value}" for e in Equipment if e is not Equipment.NONE}),
    "f'player.{change}'": (2, {f"player.{c}" for c in CHANGES}),
    # "detail" always changes something (Player.prefer returns True), so it is never at a limit.
    "f'player.{change}_limit'": (2, {f"player.{c}_limit" for c in CHANGES if c != "detail"}),
    "f'player.felt_{feeling}'": (1, {"player.felt_easy", "player.felt_hard", "player.felt_right"}),
    # "right" changes nothing, so it is never at a limit.
    "f'player.felt_{feeling}_limit'": (1, {"player.felt_easy_limit", "player.felt_hard_limit"}),
    # Voice.count's units: the weekly recap counts sessions.
    "f'unit.{unit}'": (1, {"unit.session"}),
    "f'unit.{unit}s'": (1, {"unit.sessions"}),
}


def _starts_with_a_namespace(node: ast.expr) -> bool:
    text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
    return any(text.startswith(f"{ns}.") for ns in NAMESPACES)


def _keys_in_code() -> tuple[Counter[str], Counter[str], list[str]]:
    """Phrase keys in skill/: (key-shaped string constants, key f-strings, keys built any other way)."""
    static: Counter[str] = Counter()
    dynamic: Counter[str] = Counter()
    other: list[str] = []
    for path in sorted((ROOT / "skill").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        in_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr) and node.values and _starts_with_a_namespace(node.values[0]):
                dynamic[ast.unparse(node)] += 1
            elif isinstance(node, ast.BinOp) and _starts_with_a_namespace(node.left):
                other.append(f"{where}: {ast.unparse(node)}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                    and _starts_with_a_namespace(node.func.value):
                other.append(f"{where}: {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstring \
                    and KEY_SHAPE.match(node.value) and node.value not in NOT_KEYS:
                static[node.value] += 1
    return static, dynamic, other


STATIC, FSTRINGS, OTHER = _keys_in_code()
USED = set(STATIC).union(*(keys for _, keys in DYNAMIC.values()))


def test_dynamic_keys_are_all_listed_with_what_they_become():
    """Every key built at run time is an f-string listed in DYNAMIC, as often as the code uses it."""
    assert not OTHER, f"build phrase keys with an f-string listed in DYNAMIC: {OTHER}"
    assert dict(FSTRINGS) == {text: count for text, (count, _) in DYNAMIC.items()}
    for text, (_, keys) in DYNAMIC.items():
        assert keys and all(_shape(text).match(key) for key in keys), text


def _shape(fstring: str) -> re.Pattern[str]:
    """What an f-string key can become: its literal parts, with a key word for each placeholder."""
    node = ast.parse(fstring, mode="eval").body
    assert isinstance(node, ast.JoinedStr)
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9_]+" for v in node.values]
    return re.compile("^" + "".join(parts) + "$")


@pytest.mark.parametrize("locale", models.LOCALES)
def test_every_key_the_code_uses_exists_in_every_locale(locale):
    book = Phrasebook.load(locale)
    assert not sorted(key for key in USED if key not in book.entries)


def test_every_key_in_the_base_file_is_used():
    assert not sorted(BASE_KEYS - USED), "a key nothing says: remove it, or list the f-string that builds it"


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
