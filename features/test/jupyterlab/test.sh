#!/bin/bash
# Default options on a bare Debian image: JupyterLab gets its own environment (Python from apt),
# starts with the container, and refuses requests without its token.
set -e
source dev-container-features-test-lib

http_status() {  # http_status PATH [TOKEN]
    /opt/jupyterlab/bin/python - "$@" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:8888" + sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Authorization", "token " + sys.argv[2])
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
export -f http_status
TOKEN="$(jupyterlab-service url | sed 's/.*token=//')"

check "jupyter-lab runs from its own environment" bash -c "jupyter-lab --version | grep -E '^4\.'"
check "lab environment is isolated from the system python" bash -c "! python3 -c 'import jupyterlab' 2>/dev/null"
check "server is healthy" jupyterlab-service status
check "request without token is refused" bash -c "[ \"\$(http_status /api/contents)\" = 403 ]"
check "request with token is served" bash -c "[ \"\$(http_status /api/contents $TOKEN)\" = 200 ]"
check "token file is private" bash -c "[ \"\$(stat -c %a /tmp/jupyterlab/server.json)\" = 600 ]"
check "no project kernel by default" bash -c "! jupyter kernelspec list | grep -q '^ *project '"

reportResults
