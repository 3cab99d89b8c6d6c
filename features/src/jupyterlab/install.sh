#!/bin/sh
# Installs JupyterLab into its own environment (/opt/jupyterlab), never into a project's one,
# registers the project kernel when kernelPython is given, and installs the start-up service.
# Runs as root at image build time; devcontainer feature options arrive as upper-case variables.
set -eu

VERSION="${VERSION:-locked}"
PORT="${PORT:-8888}"
IP="${IP:-0.0.0.0}"
ROOTDIR="${ROOTDIR:-/workspaces}"
KERNELPYTHON="${KERNELPYTHON:-}"
KERNELNAME="${KERNELNAME:-project}"
KERNELDISPLAYNAME="${KERNELDISPLAYNAME:-$KERNELNAME}"
AUTOSTART="${AUTOSTART:-true}"

PREFIX=/opt/jupyterlab
SHARE=/usr/local/share/jupyterlab
FEATURE=jupyterlab
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$FEATURE_DIR/common.sh"

# --- Check everything before changing anything -------------------------------------------------
require_root
case "$PORT" in ''|*[!0-9]*) fail "option port must be a number from 1 to 65535, got '$PORT'." ;; esac
{ [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ]; } || fail "option port must be from 1 to 65535, got '$PORT'."
case "$KERNELNAME" in ''|*[!A-Za-z0-9._-]*)
    fail "option kernelName may hold only letters, digits, '.', '_' and '-', got '$KERNELNAME'." ;; esac
check_bool autoStart "$AUTOSTART"
if [ -n "$KERNELPYTHON" ]; then
    [ -x "$KERNELPYTHON" ] || fail "kernelPython '$KERNELPYTHON' is not an executable interpreter in the image."
    "$KERNELPYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("ipykernel") is None)' 2>/dev/null \
        || fail "kernelPython '$KERNELPYTHON' has no ipykernel: add it to that environment (e.g. 'uv add --dev ipykernel')."
fi

# --- JupyterLab's own environment -------------------------------------------------------------
# An environment this script already installed from this very lock is kept: an image can run the
# script ahead in a build stage of its own (in parallel with its other work) and copy
# /opt/jupyterlab in, and then the feature's run on top costs nothing, on every rebuild.
STAMP="$PREFIX/.installed-from-lock"
LOCK_DIGEST="$(sha256sum "$FEATURE_DIR/requirements.lock" | cut -d' ' -f1)"
if [ "$VERSION" = locked ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$LOCK_DIGEST" ] \
        && "$PREFIX/bin/python" -c '' 2>/dev/null && [ -x "$PREFIX/bin/jupyter-lab" ]; then
    log "keeping $PREFIX: installed from this feature's lock"
else
    find_python
    make_venv "$PREFIX"
    case "$VERSION" in
        locked) log "installing the hash-pinned lock"; venv_install --require-hashes -r "$FEATURE_DIR/requirements.lock"
                echo "$LOCK_DIGEST" >"$STAMP" ;;
        latest) log "installing the latest JupyterLab (no hashes)"; venv_install jupyterlab ;;
        *)      log "installing JupyterLab $VERSION (no hashes)"; venv_install "jupyterlab==$VERSION" ;;
    esac
fi
for cmd in "$PREFIX"/bin/jupyter*; do ln -sf "$cmd" /usr/local/bin/; done

# --- Project kernel ---------------------------------------------------------------------------
if [ -n "$KERNELPYTHON" ]; then
    log "registering kernel '$KERNELNAME' for $KERNELPYTHON"
    # As root, and the project's environment is its user's: no root-owned __pycache__ left in it.
    PYTHONDONTWRITEBYTECODE=1 "$KERNELPYTHON" -m ipykernel install --prefix /usr/local --name "$KERNELNAME" --display-name "$KERNELDISPLAYNAME"
fi

# --- Service: settings, command, entrypoint ---------------------------------------------------
mkdir -p "$SHARE"
cat >"$SHARE/settings.json" <<JSON
{"port": $PORT, "ip": "$IP", "root_dir": "$ROOTDIR", "autostart": $AUTOSTART, "prefix": "$PREFIX"}
JSON
install -m 0755 "$FEATURE_DIR/entrypoint.sh" "$SHARE/entrypoint.sh"
sed "1s|.*|#!$PREFIX/bin/python|" "$FEATURE_DIR/jupyterlab_service.py" >/usr/local/bin/jupyterlab-service
chmod 0755 /usr/local/bin/jupyterlab-service
JUPYTERLAB_VERSION="$("$PREFIX/bin/python" -c 'from importlib.metadata import version; print(version("jupyterlab"))')"
log "done: JupyterLab $JUPYTERLAB_VERSION on port $PORT (token required)"
