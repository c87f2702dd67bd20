"""Makes flask-ask-sdk importable on OpenSSL 3.0.10 and newer (oscrypto 1.3.0's version check).

flask-ask-sdk imports ask-sdk-webservice-support, which imports certvalidator, which imports
oscrypto. oscrypto 1.3.0 (its last release) reads the libcrypto version with a pattern that
allows one digit per part, so "OpenSSL 3.0.19" fails with "Error detecting the version of
libcrypto" and the import fails (wbond/oscrypto issue 78; fixed on master, never released).

Back Coach never uses that code path: requests are verified by skill.web.verifier with the
maintained `cryptography` package. We only need the import to succeed, so this module applies
the upstream fix (digits may repeat) to oscrypto's two library loaders as they are imported,
and only to oscrypto 1.3.0; any other version is left alone.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

BROKEN = "'\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b'"
FIXED = "'\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b'"
LOADERS = ("oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes")


class _PatchedLoader(importlib.abc.SourceLoader):
    def __init__(self, fullname: str, path: str) -> None:
        self.fullname = fullname
        self.path = path

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        with open(path, "rb") as source:
            text = source.read().decode("utf-8")
        return text.replace(BROKEN, FIXED).encode("utf-8")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in LOADERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin:
            return None
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=_PatchedLoader(fullname, spec.origin))


def needed() -> bool:
    """Whether the installed oscrypto is the release with the version bug."""
    spec = importlib.util.find_spec("oscrypto")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        from oscrypto.version import __version__
    except ImportError:
        return False
    return __version__ == "1.3.0"


def install() -> None:
    """Apply the fix once, before anything imports oscrypto's library loaders."""
    if any(isinstance(f, _Finder) for f in sys.meta_path) or not needed():
        return
    if any(name in sys.modules for name in LOADERS):
        return  # already imported (successfully or not); nothing more we can do here
    sys.meta_path.insert(0, _Finder())


def import_skill_adapter() -> ModuleType:
    """flask_ask_sdk.skill_adapter, importable on any OpenSSL."""
    install()
    import flask_ask_sdk.skill_adapter

    return flask_ask_sdk.skill_adapter
