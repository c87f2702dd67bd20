#!/usr/bin/env bash
# Set everything up, then run the whole test suite (extra arguments go to pytest).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
exec python -m pytest "$@"
