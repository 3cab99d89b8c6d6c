#!/bin/bash
# autoStart=false: nothing listens until the user starts it; then it serves on the chosen port.
set -e
source dev-container-features-test-lib

check "not started with the container" bash -c "! jupyterlab-service status"
check "url says how to start it" bash -c "jupyterlab-service url 2>&1 | grep -q 'jupyterlab-service start'"
check "starts on demand" jupyterlab-service start
check "ready on port 9999" bash -c "jupyterlab-service wait --timeout 60 | grep -q 'http://127.0.0.1:9999/lab?token='"

reportResults
