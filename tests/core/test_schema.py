"""Shared field types refuse what data files and stored state must never hold."""

import msgspec
import pytest

from skill.core.schema import Slug


@pytest.mark.parametrize("value", ["desk-break", "neck-2", "a"])
def test_slug_accepts_lowercase_words_joined_by_hyphens(value):
    assert msgspec.convert(value, Slug) == value


@pytest.mark.parametrize("value", ["desk-break\n", "Desk-break", "desk--break", "-desk", "desk break", ""])
def test_slug_refuses_anything_else(value):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, Slug)
