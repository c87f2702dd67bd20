"""Chimes from Amazon's sound library (data/sounds.yaml): where each is hosted and how long it plays."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml

SOUNDBANK = "soundbank://soundlibrary/"
"""Every chime must come from Amazon's own sound library: nothing the skill would have to host."""


class Chime(StrEnum):
    """The moments a chime may mark."""

    BEGIN = "begin"
    SWITCH = "switch"
    RELEASE = "release"


class Sound(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One library sound: its soundbank URL, its length, and the notes of its local stand-in."""

    src: Annotated[str, Meta(pattern=r"^soundbank://soundlibrary/[a-z0-9_/]+\Z")]
    seconds: Annotated[float, Meta(gt=0, le=5)]
    tone: Annotated[tuple[Annotated[float, Meta(ge=100, le=4000)], ...], Meta(min_length=1, max_length=6)]


class SoundError(ValueError):
    """The sounds file cannot be used."""


@cache
def load_sounds(path: Path = DATA_DIR / "sounds.yaml") -> dict[Chime, Sound]:
    """Every chime, validated; each moment must have one."""
    try:
        raw = load_yaml(path)
        sounds = msgspec.convert(raw, dict[Chime, Sound])
    except (DataFileError, msgspec.ValidationError) as exc:
        raise SoundError(f"{path}: {exc}") from exc
    missing = [c.value for c in Chime if c not in sounds]
    if missing:
        raise SoundError(f"{path}: no sound for {', '.join(missing)}")
    return sounds


def by_src(src: str) -> Sound | None:
    """The known sound with this URL, or None."""
    return next((s for s in load_sounds().values() if s.src == src), None)
