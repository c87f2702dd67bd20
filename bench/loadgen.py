"""Fallback load generator when wrk is missing: `python -m bench.loadgen URL BODY_FILE ...`.

Keep-alive HTTP/1.1 POSTs from N threads, bounded by both a duration and a request count;
prints one JSON line shaped like the wrk script's (latencies in microseconds).
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("body")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    args = parser.parse_args()
    target = urllib.parse.urlsplit(args.url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen only sends traffic to the loopback address")
    with open(args.body, "rb") as handle:
        body = handle.read()
    headers = {"Content-Type": "application/json"}
    for item in args.header:
        name, _, value = item.partition(":")
        headers[name.strip()] = value.strip()
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    lock = threading.Lock()
    budget = [args.max_requests]
    start = time.perf_counter()
    deadline = start + args.duration

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
                t0 = time.perf_counter()
                conn.request("POST", target.path or "/", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                mine.append(time.perf_counter() - t0)
                if not 200 <= answer.status < 400:
                    with lock:
                        errors["status"] += 1
                if answer.will_close:
                    conn.close()
                    conn = None
            except TimeoutError:
                with lock:
                    errors["timeout"] += 1
                conn = None
            except OSError:
                with lock:
                    errors["read"] += 1
                conn = None
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.duration + 10)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> int:
        if not latencies:
            return 0
        return int(1e6 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))])

    print(
        "BENCH_JSON "
        + json.dumps(
            {
                "requests": len(latencies),
                "duration_us": int(elapsed * 1e6),
                **errors,
                "p50": pct(50),
                "p90": pct(90),
                "p99": pct(99),
                "max": pct(100),
                "mean": 1e6 * sum(latencies) / len(latencies) if latencies else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
