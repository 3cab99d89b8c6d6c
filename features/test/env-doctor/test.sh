#!/bin/bash
# Default options on a bare Debian image without a GPU: env-doctor says so plainly, checks the
# rest, and every output form and exit code works.
set -e
source dev-container-features-test-lib

cd /tmp
check "runs without crashing (0 or 1: Docker's 64 MB /dev/shm is a problem)" bash -c "env-doctor > report.txt; [ \$? -le 1 ]"
cat /tmp/report.txt
check "says there is no GPU plainly" grep -q "no NVIDIA driver/GPU visible" report.txt
check "flags the small /dev/shm" grep -q "shm .*WARN" report.txt
check "--json parses with its schema keys" bash -c "env-doctor --json > report.json; [ \$? -le 1 ] && /opt/env-doctor/bin/python -c \"
import json; r = json.load(open('report.json'))
assert r['schema_version'] == 1 and r['gpus'] == [] and r['driver']['available'] is False, r
assert {c['name'] for c in r['checks']} >= {'gpu', 'shm', 'cpu', 'python'}, r['checks']
\""
check "--require-gpu exits 2" bash -c "env-doctor --require-gpu --quiet; [ \$? = 2 ]"
check "--quiet prints only problems" bash -c "env-doctor --quiet > quiet.txt; [ \$? = 1 ] && grep -q 'WARN shm' quiet.txt && ! grep -q ' OK ' quiet.txt"
check "start-up check never fails" bash -c "env-doctor --on-start"
check "usage error exits 3" bash -c "env-doctor --no-such-option 2>/dev/null; [ \$? = 3 ]"
check "snapshot writes a file" bash -c "env-doctor snapshot -o snap.json && /opt/env-doctor/bin/python -c \"import json; assert json.load(open('snap.json'))['kind'] == 'snapshot'\""
check "a snapshot equals itself" env-doctor diff snap.json snap.json
check "watch passes the exit code back and writes its summary" bash -c "env-doctor watch --interval 0.2 --json watch.json -- sh -c 'sleep 1; exit 4'; [ \$? = 4 ] && /opt/env-doctor/bin/python -c \"import json; assert json.load(open('watch.json'))['kind'] == 'watch'\""
check "bench gives the CPU figure with its spread" bash -c "env-doctor bench --seconds 2 --json > bench.json && /opt/env-doctor/bin/python -c \"import json; f = json.load(open('bench.json'))['figures'][0]; assert f['name'] == 'cpu' and f['spread_percent'] is not None, f\""
check "own environment is isolated" bash -c "! python3 -c 'import pynvml' 2>/dev/null"
check "is the env-doctor distribution of its own environment" /opt/env-doctor/bin/python -I -c "
import importlib.metadata, env_doctor
assert importlib.metadata.version('env-doctor') == env_doctor.__version__
assert env_doctor.__file__.startswith('/opt/env-doctor/lib/'), env_doctor.__file__"
check "reads its settings from /usr/local/share/env-doctor" grep -q '"checkOnStart": true' /usr/local/share/env-doctor/settings.json
mkdir -p /tmp/shadow && echo 'raise SystemExit("a project file shadowed env-doctor import")' > /tmp/shadow/yaml.py
check "a project's yaml.py in the current folder shadows nothing" bash -c "cd /tmp/shadow && env-doctor --json > /tmp/shadow.json; [ \$? -le 1 ] && grep -q schema_version /tmp/shadow.json"
check "a notebook kernel imports env_doctor.watch from /usr/local/share/env-doctor" python3 -I -c "
import sys; sys.path.append('/usr/local/share/env-doctor'); import env_doctor; assert callable(env_doctor.watch)"
START=$(date +%s%N); env-doctor --on-start >/dev/null 2>&1; END=$(date +%s%N)
echo "TIMING env-doctor --on-start: $(( (END - START) / 1000000 )) ms"

reportResults
