"""Where the project's data lives, and how it is read."""

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import msgspec

DATA_DIR = Path(os.environ.get("BACKCOACH_DATA", Path(__file__).resolve().parents[2] / "data"))
CACHE_DIR = "__pycache__"


class DataFileError(ValueError):
    """A data file that cannot be read or is not valid YAML."""


def read_yaml(text: str) -> Any:
    """Parse YAML safely, with libyaml's C parser when PyYAML has it (several times faster)."""
    import yaml  # here, not at the top: importing PyYAML costs a cold start ~20 ms

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml(path: Path) -> Any:
    """A YAML data file's content, from its parsed copy in __pycache__ while the text is the same.

    The copy holds the text it was parsed from, so an edited file is parsed again (and the copy
    rewritten); where the directory is read-only the copy is simply not kept.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot be read: {exc}") from exc
    cache = path.parent / CACHE_DIR / f"{path.name}.msgpack"
    try:
        source, data = msgspec.msgpack.decode(cache.read_bytes())
        if source == text:
            return data
    except (OSError, ValueError, TypeError):  # missing, unreadable or not ours: parse again
        pass
    import yaml  # only now that the file must be parsed

    try:
        data = read_yaml(text)
    except yaml.YAMLError as exc:
        raise DataFileError(f"{path}: cannot be read as YAML: {exc}") from exc
    _keep(cache, text, data)
    return data


def _keep(cache: Path, text: str, data: Any) -> None:
    """Write the parsed copy atomically, only if it decodes back to exactly the same data."""
    try:
        blob = msgspec.msgpack.encode([text, data])
    except (TypeError, ValueError):
        return
    if msgspec.msgpack.decode(blob) != [text, data]:  # e.g. YAML dates or sets: keep parsing
        return
    temporary = cache.with_name(f"{cache.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        cache.parent.mkdir(exist_ok=True)
        temporary.write_bytes(blob)
        os.replace(temporary, cache)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
