"""Where the project's data lives, and how it is read."""

import os
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(os.environ.get("BACKCOACH_DATA", Path(__file__).resolve().parents[2] / "data"))


def read_yaml(text: str) -> Any:
    """Parse YAML safely, with libyaml's C parser when PyYAML has it (several times faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
