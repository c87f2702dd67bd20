#!/usr/bin/env bash
# Set everything up, then start Back Coach (arguments go to the `backcoach` command).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ "$#" -eq 0 ]; then set -- talk; fi
exec backcoach "$@"
