"""Servers and requests for the HTTP benchmarks: free ports, child environments, a gunicorn that always stops, JSON posts and their answers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, VENV_BIN

ERROR_SPEECH = "something went wrong"
"""The skill's error-handler answer: a response containing it is not a real answer."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------ servers


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: the repository importable, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCOACH_")}
    env["PYTHONPATH"] = str(ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(extra)
    return env


class ServerError(RuntimeError):
    pass


class Gunicorn:
    """A gunicorn server on a free 127.0.0.1 port, always stopped on exit (context manager)."""

    def __init__(
        self,
        app: str,
        *,
        workers: int,
        threads: int = 4,
        env: dict[str, str] | None = None,
        name: str = "server",
    ) -> None:
        self.app = app
        self.workers = workers
        self.threads = threads
        self.env = bench_env(**(env or {}))
        self.name = name
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Gunicorn:
        gunicorn = VENV_BIN / "gunicorn"
        if not gunicorn.exists():
            raise ServerError(f"gunicorn is not installed in {VENV_BIN}")
        for _attempt in range(3):  # a free port may be taken between probing and binding
            self.port = free_port()
            cmd = [
                str(gunicorn),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "256",
                "--log-level",
                "warning",
                self.app,
            ]
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(
                    cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
                )
            if self._wait_ready(timeout=60):
                return self
            self.stop()
        raise ServerError(f"{self.name} did not start; its log says:\n{self.tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "health", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= self.workers:
                        return True
            except urllib.error.HTTPError as exc:  # a route exists but not /health: still up
                if exc.code in (404, 405) and len(self.worker_pids()) >= self.workers:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids: list[int] = []
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in (task / "children").read_text().split()]
        return sorted(pids)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the session we started: master and workers
            proc.wait(timeout=5)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self.log.unlink()


def post_json(
    url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, Any] | None]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def speech_of(response: dict[str, Any] | None) -> str:
    """The SSML (or text) of a response envelope, for sanity checks."""
    body = (response or {}).get("response") or {}
    speech = body.get("outputSpeech") or {}
    return str(speech.get("ssml") or speech.get("text") or "")


def is_error_answer(response: dict[str, Any] | None) -> bool:
    return response is None or ERROR_SPEECH in speech_of(response).lower()
