#!/usr/bin/env bash
# Set everything up, then start Back Coach (arguments go to the `backcoach` command).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Speaking aloud plays audio with aplay (alsa-utils); without it the coach answers in text.
if ! command -v aplay >/dev/null 2>&1; then
    apt_install alsa-utils || say "aplay is missing and we are not root: speech will be text only (sudo apt-get install alsa-utils)"
fi
if [ "$#" -eq 0 ]; then set -- talk; fi
exec backcoach "$@"
