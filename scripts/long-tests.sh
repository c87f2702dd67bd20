#!/usr/bin/env bash
# Set everything up (like test.sh), then run the reliability suite in LONG mode and print its
# figures: forgery and replay, load with per-user memory checks, faults. Extra arguments go to
# pytest. Takes several minutes; traffic goes to 127.0.0.1 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
export BACKCOACH_LONG=1
exec python -m pytest tests/reliability -q -s "$@"
