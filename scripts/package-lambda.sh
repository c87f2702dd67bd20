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
# Parsed copies of the data files: Lambda's file system is read-only, so the first request of a
# cold start would otherwise parse YAML every time.
python -c 'import pathlib, skill.core.datafiles as p; [p.load_yaml(f) for f in pathlib.Path("build/lambda/data").rglob("*.yaml")]'
echo "built build/lambda ($(du -sh build/lambda | cut -f1)); next: sam deploy --guided"
