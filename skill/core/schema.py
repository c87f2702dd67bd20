"""Shared field types for data files and stored state, and validation errors in plain words."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

# \Z, not $: msgspec matches with re.search, where $ also matches before a trailing newline.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\Z"
Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN)]
Text = Annotated[str, msgspec.Meta(min_length=1)]
"""Non-empty text; data files pass through `stripped` first, so blank text is refused too."""

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_NAMED = re.compile(r"^\[(\w+)\] ")
_FIELD = re.compile(r"^Object (missing required|contains unknown) field `(\w+)`$")
_FIELD_MESSAGES = {"missing required": "required but missing", "contains unknown": "not a known field"}


def stripped(raw: Any) -> Any:
    """The same YAML data with surrounding whitespace removed from every string."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, list):
        return [stripped(item) for item in raw]
    if isinstance(raw, dict):
        return {key: stripped(value) for key, value in raw.items()}
    return raw


def describe_error(error: msgspec.ValidationError) -> tuple[list[str | int], str]:
    """The location (keys and indexes) and a plain message for a validation error."""
    message = str(error)
    loc: list[str | int] = []
    at = _AT.search(message)
    if at:
        message = message[: at.start()]
        loc = [int(index) if index else key for key, index in _STEP.findall(at["path"])]
    field = _FIELD.match(message)
    if field:
        return [*loc, field[2]], _FIELD_MESSAGES[field[1]]
    named = _NAMED.match(message)
    if named:
        return [*loc, named[1]], message[named.end() :]
    return loc, message
