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
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
MIN_PYTHON="3.10"

log() { echo "jupyterlab feature: $*"; }
fail() { echo "jupyterlab feature: error: $*" >&2; exit 1; }

# --- Check everything before changing anything -------------------------------------------------
[ "$(id -u)" = 0 ] || fail "install.sh must run as root (it does inside a devcontainer build)."
case "$PORT" in ''|*[!0-9]*) fail "option port must be a number from 1 to 65535, got '$PORT'." ;; esac
{ [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ]; } || fail "option port must be from 1 to 65535, got '$PORT'."
case "$KERNELNAME" in ''|*[!A-Za-z0-9._-]*)
    fail "option kernelName may hold only letters, digits, '.', '_' and '-', got '$KERNELNAME'." ;; esac
case "$AUTOSTART" in true|false) ;; *) fail "option autoStart must be true or false, got '$AUTOSTART'." ;; esac
if [ -n "$KERNELPYTHON" ]; then
    [ -x "$KERNELPYTHON" ] || fail "kernelPython '$KERNELPYTHON' is not an executable interpreter in the image."
    "$KERNELPYTHON" -c 'import ipykernel' 2>/dev/null \
        || fail "kernelPython '$KERNELPYTHON' has no ipykernel: add it to that environment (e.g. 'uv add --dev ipykernel')."
fi

python_ok() { "$1" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" 2>/dev/null; }

# A Python >= MIN_PYTHON for JupyterLab's environment: the image's python3, else the distro's.
PYTHON="$(command -v python3 || true)"
if [ -z "$PYTHON" ] || ! python_ok "$PYTHON"; then
    if command -v apt-get >/dev/null 2>&1; then
        log "installing python3 from the distribution"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
        rm -rf /var/lib/apt/lists/*
        PYTHON="$(command -v python3)"
        python_ok "$PYTHON" || fail "the distribution's python3 is older than $MIN_PYTHON; use a newer base image or install Python $MIN_PYTHON+ first."
    else
        fail "needs python3 >= $MIN_PYTHON (or uv) in the image, or an apt-based distribution (Debian, Ubuntu) to install it."
    fi
fi

# --- JupyterLab's own environment -------------------------------------------------------------
log "creating $PREFIX from $PYTHON"
rm -rf "$PREFIX"
if command -v uv >/dev/null 2>&1; then
    UV_PYTHON_DOWNLOADS=never uv venv --quiet --python "$PYTHON" "$PREFIX"
    pip_install() { uv pip install --no-cache --python "$PREFIX/bin/python" "$@"; }
else
    "$PYTHON" -m venv "$PREFIX" 2>/dev/null || {
        command -v apt-get >/dev/null 2>&1 || fail "'$PYTHON -m venv' failed and apt-get is missing to install python3-venv."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
        rm -rf /var/lib/apt/lists/*
        "$PYTHON" -m venv "$PREFIX"
    }
    pip_install() { "$PREFIX/bin/python" -m pip install --no-cache-dir --disable-pip-version-check "$@"; }
fi
case "$VERSION" in
    locked) log "installing the hash-pinned lock"; pip_install --require-hashes -r "$FEATURE_DIR/requirements.lock" ;;
    latest) log "installing the latest JupyterLab (no hashes)"; pip_install jupyterlab ;;
    *)      log "installing JupyterLab $VERSION (no hashes)"; pip_install "jupyterlab==$VERSION" ;;
esac
for cmd in "$PREFIX"/bin/jupyter*; do ln -sf "$cmd" /usr/local/bin/; done

# --- Project kernel ---------------------------------------------------------------------------
if [ -n "$KERNELPYTHON" ]; then
    log "registering kernel '$KERNELNAME' for $KERNELPYTHON"
    "$KERNELPYTHON" -m ipykernel install --prefix /usr/local --name "$KERNELNAME" --display-name "$KERNELDISPLAYNAME"
fi

# --- Service: settings, command, entrypoint ---------------------------------------------------
mkdir -p "$SHARE"
cat >"$SHARE/settings.json" <<JSON
{"port": $PORT, "ip": "$IP", "root_dir": "$ROOTDIR", "autostart": $AUTOSTART, "prefix": "$PREFIX"}
JSON
install -m 0755 "$FEATURE_DIR/entrypoint.sh" "$SHARE/entrypoint.sh"
sed "1s|.*|#!$PREFIX/bin/python|" "$FEATURE_DIR/jupyterlab_service.py" >/usr/local/bin/jupyterlab-service
chmod 0755 /usr/local/bin/jupyterlab-service
log "done: JupyterLab $("$PREFIX/bin/jupyter-lab" --version) on port $PORT (token required)"
