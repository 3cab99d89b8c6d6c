#!/usr/bin/env bash
# Lints this repository: ruff for Python (settings in pyproject.toml), shellcheck for every shell
# script git tracks (settings in .shellcheckrc; warnings and errors fail). Installs shellcheck from
# the distribution when it is missing. Run by testbed/test.sh before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v shellcheck >/dev/null 2>&1; then
    echo "==> apt-get install shellcheck"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi
echo "==> ruff check"
ruff check --quiet .
echo "==> shellcheck"
git ls-files -z '*.sh' | xargs -0 shellcheck --external-sources --severity=warning
echo "==> lint clean"
