"""Spoken text by key, per locale, with varied phrasing and no immediate repeats."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml

LOCALES_DIR = DATA_DIR / "locales"


class PhraseError(ValueError):
    """A phrase file or key that cannot be used."""


def _read(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        raw = load_yaml(path) or {}
    except DataFileError as exc:
        raise PhraseError(str(exc)) from exc
    if not isinstance(raw, dict):
        raise PhraseError(f"{path}: expected a mapping of keys to phrasings")
    entries: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        options = [value] if isinstance(value, str) else value
        if not isinstance(options, list) or not options or not all(isinstance(o, str) and o.strip() for o in options):
            raise PhraseError(f"{path}: key '{key}' needs a phrase or a non-empty list of phrases")
        entries[str(key)] = tuple(o.strip() for o in options)
    return entries


def _overrides(directory: Path, locale: str, depth: int) -> dict[str, tuple[str, ...]]:
    """A locale's own phrasings, on top of the locale it names in `_inherit` (if any)."""
    path = directory / f"{locale}.yaml"
    if not path.is_file() or depth > 3:
        return {}
    own = _read(path)
    parent = own.pop("_inherit", None)
    merged = _overrides(directory, parent[0], depth + 1) if parent else {}
    merged.update(own)
    return merged


@cache
def known_locales(directory: Path = LOCALES_DIR) -> frozenset[str]:
    """Locales with words of their own: en-US (the base file) and every en-XX override file."""
    return frozenset({"en-US", *(p.stem for p in directory.glob("*-*.yaml"))})


@cache
def _load(locale: str, directory: Path) -> Phrasebook:
    # Only known locales get here, so the cache stays as small as the locales folder.
    entries = _read(directory / f"{locale.split('-')[0].lower()}.yaml")
    entries.update(_overrides(directory, locale, depth=0))
    return Phrasebook(locale, entries)


class Phrasebook:
    """All phrasings for one locale: the language file with the locale's overrides on top."""

    def __init__(self, locale: str, entries: dict[str, tuple[str, ...]]) -> None:
        self.locale = locale
        self.entries = entries

    @staticmethod
    def load(locale: str = "en-US", directory: Path = LOCALES_DIR) -> Phrasebook:
        """The phrasebook for a locale such as en-GB; a locale we have no words for gets en-US."""
        return _load(locale if locale in known_locales(directory) else "en-US", directory)

    def variants(self, key: str) -> tuple[str, ...]:
        """Every phrasing of a key."""
        try:
            return self.entries[key]
        except KeyError:
            raise PhraseError(f"no phrase '{key}' for locale {self.locale}") from None


class Voice:
    """Picks phrasings with an injected random generator: each phrasing of a key once before any comes
    round again, and never the same one twice in a row (a voice lives for one response)."""

    def __init__(self, book: Phrasebook, rng: random.Random) -> None:
        self.book = book
        self.rng = rng
        self._used: dict[str, list[str]] = {}

    def say(self, key: str, **fields: object) -> str:
        """One phrasing of the key with its placeholders filled in."""
        options = self.book.variants(key)
        used = self._used.setdefault(key, [])
        fresh = [o for o in options if o not in used]
        if not fresh:
            last = used[-1]
            used.clear()
            fresh = [o for o in options if o != last] or list(options)
        choice = fresh[0] if len(fresh) == 1 else self.rng.choice(fresh)
        used.append(choice)
        return choice.format(**fields)

    def join(self, items: list[str]) -> str:
        """Items joined the way people say a list: "a", "a and b", "a, b, and c"."""
        if len(items) <= 1:
            return "".join(items)
        if len(items) == 2:
            return self.say("skill.list_pair", first=items[0], last=items[1])
        return self.say("skill.list_join", items=", ".join(items[:-1]), last=items[-1])

    def count(self, n: int, unit: str) -> str:
        """A number with its noun agreeing: 'unit.session' and 'unit.sessions' give '1 session', '2 sessions'."""
        return self.say(f"unit.{unit}" if n == 1 else f"unit.{unit}s", n=n)

    def duration(self, seconds: float) -> str:
        """A spoken length such as '5 minutes' or '45 seconds'."""
        if seconds < 90:
            return self.say("unit.seconds", n=int(round(seconds / 5.0) * 5 or 5))
        minutes = int(round(seconds / 60.0))
        return self.say("unit.minute" if minutes == 1 else "unit.minutes", n=minutes)
