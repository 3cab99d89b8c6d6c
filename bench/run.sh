#!/usr/bin/env bash
# Runs the benchmarks on a fresh Linux machine (same preparation as the tests), then
# bench/run.py with the given arguments, e.g. `./bench/run.sh --runs 5`. Writes bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source testbed/dev-env.sh
echo "==> running benchmarks"
exec python bench/run.py "$@"
