#!/usr/bin/env bash
# Runs the whole test suite on a fresh Linux machine: prepares Docker Engine, the devcontainer
# CLI and the base images, installs the test dependencies into .venv, lints (testbed/lint.sh), then runs pytest
# (unit and integration tests). Extra arguments go to pytest, e.g. `-m "not integration"`.
# The unit tests alone need none of this preparation: README.md, "Testing the template".
set -euo pipefail
cd "$(dirname "$0")/.."
source testbed/dev-env.sh
./testbed/lint.sh
echo "==> running tests"
exec python -m pytest "$@"
