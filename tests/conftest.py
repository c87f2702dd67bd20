"""Shared fixtures: the real routine library and phrasebook, loaded once."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

# Every test run keeps users' memory in its own scratch database, never in the real one.
os.environ["BACKCOACH_STORAGE"] = "sqlite"
os.environ["BACKCOACH_SQLITE_PATH"] = str(Path(tempfile.mkdtemp(prefix="backcoach-test-")) / "memory.sqlite3")
# ... and generates its chime tones into a scratch folder, not the user's cache.
os.environ["BACKCOACH_TONES"] = tempfile.mkdtemp(prefix="backcoach-tones-")

from skill.core.phrases import Phrasebook, Voice  # noqa: E402
from skill.core.planner import Planner  # noqa: E402
from skill.core.routines import Library, load_library  # noqa: E402


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def book() -> Phrasebook:
    return Phrasebook.load("en-US")


@pytest.fixture
def planner(book: Phrasebook) -> Planner:
    return Planner(Voice(book, random.Random(7)))
