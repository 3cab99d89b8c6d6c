#!/bin/bash
# A project environment at /opt/venv: env-doctor inspects it by default, reads the CUDA runtime
# it brings, and a package installed between two snapshots shows up in the diff.
set -e
source dev-container-features-test-lib

mkdir -p /tmp/proj && cd /tmp/proj && echo 'version = 1' > uv.lock
check "inspects /opt/venv by default" bash -c "env-doctor --json | grep -q '\"path\": \"/opt/venv/bin/python\"'"
check "reads the CUDA runtime from the project env's wheel" bash -c "env-doctor | tee /dev/stderr | grep -q 'CUDA runtime: 12.4 (/opt/venv/.*/nvidia/cuda_runtime/lib/libcudart.so.12)'"
check "snapshot records the lockfile of the current project" bash -c "env-doctor snapshot -o a.json && grep -q \"\$(sha256sum uv.lock | cut -c1-64)\" a.json"
/opt/venv/bin/pip install --quiet --no-index --find-links /opt/wheels six
check "snapshot after installing six" env-doctor snapshot -o b.json
check "diff lists six as added and exits 1" bash -c "env-doctor diff a.json b.json > diff.txt; rc=\$?; cat diff.txt; [ \$rc = 1 ] && grep -A1 '^packages added' diff.txt | grep -q 'six '"
check "diff points at the lockfile being out of sync" grep -q "uv sync --frozen" diff.txt
/opt/venv/bin/pip uninstall --quiet -y six
check "removing it again makes the environments identical" bash -c "env-doctor snapshot -o c.json && env-doctor diff a.json c.json"
echo 'version = 2' > uv.lock
check "a changed uv.lock shows in the diff" bash -c "env-doctor snapshot -o d.json; env-doctor diff a.json d.json | grep -A1 '^lockfile' | grep -q 'uv.lock sha256'"
START=$(date +%s%N); env-doctor --on-start >/dev/null 2>&1; END=$(date +%s%N)
echo "TIMING env-doctor --on-start: $(( (END - START) / 1000000 )) ms"

reportResults
