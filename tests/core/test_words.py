"""The one tokenizer."""

from __future__ import annotations

import pytest

from skill.core.words import words


@pytest.mark.parametrize(("said", "read"), [
    ("Can't you, Y'all've?", ["can't", "you", "y'all've"]),
    ("rubbin' me own neck", ["rubbing", "me", "own", "neck"]),
    ("the chest openin' one, goin' now", ["the", "chest", "opening", "one", "going", "now"]),
    ("the kids' toys, in' out", ["the", "kids", "toys", "in", "out"]),
    ("I've got 'chest pain' and I'm sweating", ["i've", "got", "chest", "pain", "and", "i'm", "sweating"]),
])
def test_words_keep_inner_apostrophes_and_read_a_dropped_g_as_spelled(said, read):
    assert words(said) == read
