"""Shared fixtures: the real routine library and phrasebook, loaded once."""

from __future__ import annotations

import random

import pytest

from skill.core.phrases import Phrasebook, Voice
from skill.core.planner import Planner
from skill.core.routines import Library, load_library


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def book() -> Phrasebook:
    return Phrasebook.load("en-US")


@pytest.fixture
def planner(book: Phrasebook) -> Planner:
    return Planner(Voice(book, random.Random(7)))
