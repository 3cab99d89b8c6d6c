#!/bin/sh
# Container entrypoint hook (the devcontainer CLI chains feature entrypoints): start JupyterLab
# in the background when autoStart is on, then hand over to the container's command.
/usr/local/bin/jupyterlab-service start --if-enabled >/dev/null 2>&1 \
    || echo "jupyterlab: server did not start; run 'jupyterlab-service start' to see why" >&2
exec "$@"
