"""Back Coach benchmarks: `python -m bench` (all, full) or `python -m bench --quick` (< 2 min).

`python -m bench --only 2 web` runs some of them. Each benchmark is one module with `NAME` and
`run(settings) -> Report`; every figure is a median over repeated runs, printed next to a
baseline measured in the same run, with its budget and PASS/FAIL (INFO: reported only, SKIP: a
tool is missing). The exit code is 1 when any budget fails.
Shared by them: common (rows, reports, statistics), servers (gunicorn, requests), machine
(CPU, load, profiles, logs) and load (one wrk or bench.loadgen run).

 1 turn     in-process turn per request kind vs a trivial ask-sdk skill: <= 2x and < 1 ms
 2 web      gunicorn (2 workers) under wrk, 32 connections, vs a bare Flask echo route:
            >= 0.5x its req/s and p99 < 50 ms with verification off; verification on reported
 3 cold     new process to first Lambda response vs the trivial skill's: <= 1.5x
 4 nlu      local understanding, 10x larger model: median < 3x the normal model's
 5 speech   routine to WAV vs espeak-ng on the same words: <= 1.5x
 6 memory   one worker's RSS after 10,000 requests <= after 1,000 x 1.05 + 2 MB
 7 storage  SqliteStore load/update, 1 and 2 processes, turn with and without a store (reported)

Traffic goes to 127.0.0.1 only, every load loop is bounded in count and time, and every server
started is stopped (its own process group, SIGTERM then SIGKILL).
"""
