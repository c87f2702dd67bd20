"""Reading ids out of a request envelope, given as JSON or as an ask-sdk-model RequestEnvelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

APPLICATION_ID_PATHS = (
    ("session", "application", "applicationId"),
    ("context", "System", "application", "applicationId"),
)
"""Where a JSON envelope names the skill: the session first, then the context."""
USER_ID_PATHS = (("context", "System", "user", "userId"), ("session", "user", "userId"))
"""Where a JSON envelope names the user: the context first, then the session."""
_MODEL_USER_ID_PATHS = (("context", "system", "user", "user_id"), ("session", "user", "user_id"))


def dig(node: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` through dict keys or object attributes; None wherever the path stops."""
    for name in path:
        if node is None:
            return None
        node = node.get(name) if isinstance(node, dict) else getattr(node, name, None)
    return node


def application_ids(envelope: Any) -> list[Any]:
    """Every applicationId the envelope carries, of whatever type, in APPLICATION_ID_PATHS order."""
    return [value for path in APPLICATION_ID_PATHS if (value := dig(envelope, path)) is not None]


def user_ids(envelope: Any) -> list[Any]:
    """The user id in the context, then in the session (None where absent), from JSON or ask-sdk-model objects."""
    paths = USER_ID_PATHS if isinstance(envelope, dict) else _MODEL_USER_ID_PATHS
    return [dig(envelope, path) for path in paths]
