"""App factories gunicorn loads for the HTTP benchmarks (`bench.apps:bare_app()`, ...).

* ``bare_app()``: the baseline, a bare Flask route that parses the body as JSON and returns it.
* ``verified_app()``: ``skill.web.create_app`` with request verification on, trusting the test
  PKI of ``tests/web/certs.py``. The bench process writes that PKI's root and chain to
  ``$BENCH_PKI_DIR`` (RSA keys are random per process, so every worker must read the same
  files) and signs the request bodies with the leaf key; the verifier's clock is fixed at
  ``tests.web.certs.NOW``, the bodies' timestamp, and its fetch hands back the chain (so the
  first request per worker validates the chain and the rest hit the chain cache).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

FETCHES = 0
"""Chain downloads in this worker (stays at 1 when the cache works)."""
_fetch_lock = threading.Lock()


def bare_app() -> Any:
    from flask import Flask, Response, request

    app = Flask("bench-bare")

    @app.post("/")
    def echo() -> Response:
        envelope = json.loads(request.get_data())
        return Response(json.dumps(envelope), mimetype="application/json")

    @app.get("/health")
    def health() -> Response:
        return Response('{"status": "ok"}', mimetype="application/json")

    return app


def verified_app() -> Any:
    from cryptography import x509

    from skill.web import create_app
    from skill.web.verifier import RequestVerifier
    from tests.web.certs import GOOD_URL, NOW, SKILL_ID

    folder = Path(os.environ["BENCH_PKI_DIR"])
    root = x509.load_pem_x509_certificate((folder / "root.pem").read_bytes())
    chain = (folder / "chain.pem").read_bytes()

    def fetch(url: str, timeout: float) -> bytes:
        global FETCHES
        if url != GOOD_URL:
            raise OSError(f"bench fetch only serves {GOOD_URL}")
        with _fetch_lock:
            FETCHES += 1
        print(f"BENCH_FETCH pid {os.getpid()} download {FETCHES}", file=sys.stderr, flush=True)
        return chain

    verifier = RequestVerifier(skill_ids={SKILL_ID}, roots=[root], clock=lambda: NOW, fetch=fetch)
    return create_app(verify=True, skill_ids={SKILL_ID}, verifier=verifier)
