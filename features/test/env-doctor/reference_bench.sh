#!/bin/bash
# referenceSnapshot + referenceBench: the image carries the figures measured when it was built, and
# `env-doctor diff --reference --bench` measures this container now to compare speed.
set -e
source dev-container-features-test-lib

cd /tmp
check "the reference snapshot holds the build's bench figures" /opt/env-doctor/bin/python -c "
import json; r = json.load(open('/usr/local/share/env-doctor/reference.json'))
assert r['taken_at'] == 'build' and r['bench']['figures'][0]['name'] == 'cpu', r.get('bench')"
check "diff --reference --bench compares speed with now (0 or 1)" bash -c "env-doctor diff --reference --bench --seconds 2 > diff.txt; [ \$? -le 1 ]"
cat diff.txt

reportResults
