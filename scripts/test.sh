#!/usr/bin/env bash
# Runs the whole test suite on a fresh Linux machine: prepares Docker Engine, the devcontainer
# CLI and the base images, installs the test dependencies into .venv, then runs pytest
# (unit and integration tests). Extra arguments go to pytest, e.g. `-m "not integration"`.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_BASE_IMAGES="debian:bookworm debian:trixie" bash scripts/prepare-test-machine.sh

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
echo "==> installing test dependencies"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "==> running tests"
# uv (installed in .venv) is what the template's lock task looks for first on PATH.
PATH="$PWD/.venv/bin:$PATH" exec .venv/bin/python -m pytest "$@"
