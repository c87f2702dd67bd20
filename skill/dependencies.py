"""Optional packages: the error that names one when it is missing, and how to install it."""

from __future__ import annotations


class MissingDependency(RuntimeError):
    """A package this command needs is not installed; the message says how to get it."""

    def __init__(self, purpose: str, missing: str | None) -> None:
        super().__init__(
            f"{purpose} needs {missing or 'an optional package'}, which is not installed: "
            "pip install 'back-coach[local]', or run bash scripts/run.sh"
        )
