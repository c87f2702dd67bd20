"""Helpers for word lists as the simulator reads them (the tokenizer itself is skill.core.words)."""

from __future__ import annotations

FALLBACK = "AMAZON.FallbackIntent"


def after_prefix(words: list[str], prefixes: list[list[str]]) -> list[str] | None:
    """The words after the first of `prefixes` they start with, if any words remain; else None."""
    for prefix in prefixes:
        if prefix and words[: len(prefix)] == prefix and len(words) > len(prefix):
            return words[len(prefix) :]
    return None


def before_suffix(words: list[str], suffixes: list[list[str]]) -> list[str] | None:
    """The words before the first of `suffixes` they end with, if any words remain; else None."""
    for suffix in suffixes:
        if suffix and words[-len(suffix) :] == suffix and len(words) > len(suffix):
            return words[: -len(suffix)]
    return None
