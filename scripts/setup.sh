#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine for Back Coach: Python venv, packages, eSpeak NG.
# Safe to run again: each step checks before it acts. Sourced by run.sh and test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BACKCOACH_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf 'backcoach setup: %s\n' "$*" >&2; }

apt_install() {
    # Install Debian packages when we can (root with apt-get); otherwise explain what is missing.
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $* with apt-get"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
            apt-get update -qq >/dev/null 2>&1 || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
        fi
        return 0
    fi
    return 1
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    apt_install python3 python3-venv || { say "Python 3.11 or newer is required: install python3 and python3-venv"; exit 1; }
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "Python 3.11 or newer is required; $("$PYTHON" --version 2>&1) found. Set PYTHON=/path/to/python3.11"
    exit 1
fi

# pyttsx3 speaks through the eSpeak NG shared library; without it Back Coach falls back to text.
if ! ldconfig -p 2>/dev/null | grep -q 'libespeak-ng\.so\.1'; then
    apt_install libespeak-ng1 || say "libespeak-ng1 is missing and we are not root: local speech falls back to text (sudo apt-get install libespeak-ng1)"
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment in $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv || { say "cannot create a virtual environment: install python3-venv"; exit 1; }
        "$PYTHON" -m venv "$VENV"
    fi
fi

# Reinstall only when pyproject.toml changed since the last successful install.
STAMP="$VENV/.backcoach-installed"
WANT="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    say "installing Python packages"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[dev,local]"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
