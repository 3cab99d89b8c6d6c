#!/usr/bin/env bash
# Runs the benchmarks on a fresh Linux machine (same preparation as the tests), then
# `python -m bench.run` with the given arguments, e.g. `./bench/run.sh --runs 5 --only builds`.
# Writes bench/results/results.json. `./bench/run.sh --report` only writes the tables of
# docs/benchmarks.md from that file (no preparation, no measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--report" ]; then
    shift
    exec python -m bench.report "$@"
fi
source testbed/dev-env.sh
echo "==> running benchmarks"
exec python -m bench.run "$@"
