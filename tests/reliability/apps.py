"""App factories for the reliability tests, loadable by gunicorn.

``gunicorn ... 'tests.reliability.apps:verified_app()'`` serves ``skill.web.create_app`` with
request verification on, trusting the test PKI of ``tests/web/certs.py``.

RSA keys in ``tests/web/certs.py`` are generated per process, so a gunicorn worker cannot sign
or trust what the test process made on its own. The test process therefore writes its PKI's
root and chain to ``$BACKCOACH_REL_PKI_DIR`` (``root.pem``, ``chain.pem``) and signs the bodies
with its own leaf key. Without that variable (in-process use) the factory uses ``pki()`` directly.

The verifier's clock is ``tests.web.certs.NOW`` plus an offset in seconds read from
``$BACKCOACH_REL_CLOCK_FILE`` on every request (0 when the variable or the file is missing), so
a test can move the server's clock forward without restarting it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


class AdvanceableClock:
    """NOW + offset seconds; the offset is set in-process or read from a file each call."""

    def __init__(self, start: datetime | None = None, path: str | os.PathLike[str] | None = None) -> None:
        from tests.web.certs import NOW

        self.start = start or NOW
        self.offset = 0.0
        self.path = Path(path) if path else None

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        if self.path is not None:
            write_clock(self.path, self.offset)

    def __call__(self) -> datetime:
        offset = self.offset
        if self.path is not None:
            try:
                offset = float(self.path.read_text().strip() or 0)
            except (OSError, ValueError):
                offset = 0.0
        return self.start + timedelta(seconds=offset)


def write_clock(path: str | os.PathLike[str], offset: float) -> None:
    """Set the offset a server's clock reads (atomically: write then rename)."""
    target = Path(path)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(f"{offset}\n")
    os.replace(temp, target)


def write_pki(folder: str | os.PathLike[str]) -> None:
    """Write this process's test PKI (root and chain) for server processes to trust."""
    from cryptography.hazmat.primitives import serialization

    from tests.web.certs import pki

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "root.pem").write_bytes(pki().root.public_bytes(serialization.Encoding.PEM))
    (folder / "chain.pem").write_bytes(pki().chain)


def _trust() -> tuple[Any, bytes]:
    folder = os.environ.get("BACKCOACH_REL_PKI_DIR")
    if folder:
        from cryptography import x509

        root = x509.load_pem_x509_certificate((Path(folder) / "root.pem").read_bytes())
        return root, (Path(folder) / "chain.pem").read_bytes()
    from tests.web.certs import pki

    return pki().root, pki().chain


def make_verifier(clock: Callable[[], datetime] | None = None) -> Any:
    """The project's RequestVerifier trusting the test PKI, with an injected clock and fetch."""
    from skill.web.verifier import RequestVerifier
    from tests.web.certs import GOOD_URL, SKILL_ID

    root, chain = _trust()

    def fetch(url: str, timeout: float) -> bytes:
        if url != GOOD_URL:
            raise OSError(f"the test fetch only serves {GOOD_URL}")
        return chain

    return RequestVerifier(skill_ids={SKILL_ID}, roots=[root], clock=clock or AdvanceableClock(), fetch=fetch)


def verified_app(clock: Callable[[], datetime] | None = None) -> Any:
    """``skill.web.create_app`` with verification on, for the test skill id and PKI."""
    from skill.web import create_app
    from tests.web.certs import SKILL_ID

    if clock is None:
        clock = AdvanceableClock(path=os.environ.get("BACKCOACH_REL_CLOCK_FILE") or None)
    return create_app(verifier=make_verifier(clock), skill_ids={SKILL_ID})
