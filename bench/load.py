"""One bounded HTTP load run from another process: wrk with a Lua script, or bench.loadgen without wrk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT
from bench.servers import bench_env

_LUA = """
local f = assert(io.open({body}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def drive(
    url: str, body: Path, headers: dict[str, str], duration: float, work: Path, connections: int
) -> dict[str, Any]:
    """One bounded load run; latencies in microseconds, plus 'rps'."""
    if shutil.which("wrk"):
        script = work / "post.lua"
        lines = "\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
        )
        script.write_text(_LUA.format(body=json.dumps(str(body)), headers=lines))
        cmd = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ]
    else:
        cmd = [
            PYTHON,
            "-m",
            "bench.loadgen",
            url,
            str(body),
            "--connections",
            str(connections),
            "--duration",
            str(duration),
            "--max-requests",
            "500000",
        ]
        cmd += [arg for k, v in headers.items() for arg in ("--header", f"{k}: {v}")]
    done = subprocess.run(
        cmd,
        check=False,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        cwd=ROOT,
        env=bench_env(),
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON ") :])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(
                result[k] for k in ("connect", "read", "write", "status", "timeout")
            )
            return result
    raise RuntimeError(f"load run printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")
