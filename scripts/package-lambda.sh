#!/usr/bin/env bash
# Build build/lambda/ for the SAM template: the package, its dependencies and the data files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
rm -rf build/lambda build/wheel
python -m pip wheel -q --disable-pip-version-check --no-deps --wheel-dir build/wheel .
# Binary wheels for the Lambda runtime (Linux x86_64, CPython 3.11), whatever machine builds it.
python -m pip install -q --disable-pip-version-check --target build/lambda \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --only-binary=:all: \
    build/wheel/back_coach-*.whl
cp -r data build/lambda/data
echo "built build/lambda ($(du -sh build/lambda | cut -f1)); next: sam deploy --guided"
