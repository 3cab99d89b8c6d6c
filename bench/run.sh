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
# The compression group: skopeo re-compresses the published image in the registry, zstd times it.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
for tool in skopeo zstd; do
    command -v "$tool" >/dev/null 2>&1 && continue
    echo "==> apt-get install $tool"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
done
echo "==> running benchmarks"
exec python -m bench.run "$@"
