# shellcheck shell=bash
# Sourced by testbed/test.sh and bench/run.sh: prepares the machine (Docker Engine, devcontainer
# CLI, base images) and the repo's .venv with the test and docs dependencies, and puts .venv/bin on PATH
# (uv there is what the template's lock task finds first).
TEST_BASE_IMAGES="debian:bookworm debian:trixie" bash testbed/prepare-test-machine.sh
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
echo "==> installing test and docs dependencies"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
# env-doctor, the feature's own distribution, which its tests and the docs build import
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e features/src/env-doctor
export PATH="$PWD/.venv/bin:$PATH"
