#!/bin/sh
# Installs env-doctor into its own environment (/opt/env-doctor: nvidia-ml-py + pyyaml from the
# hash-pinned requirements.lock), never into the project's one, and the env-doctor command.
# Runs as root at image build time; devcontainer feature options arrive as upper-case variables.
set -eu

PROJECTPYTHON="${PROJECTPYTHON:-}"
CHECKONSTART="${CHECKONSTART:-true}"

PREFIX=/opt/env-doctor
SHARE=/usr/local/share/env-doctor
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
MIN_PYTHON="3.10"

log() { echo "env-doctor feature: $*"; }
fail() { echo "env-doctor feature: error: $*" >&2; exit 1; }

# --- Check everything before changing anything -------------------------------------------------
[ "$(id -u)" = 0 ] || fail "install.sh must run as root (it does inside a devcontainer build)."
case "$(uname -m)" in
    x86_64|aarch64) ;;
    *) fail "unsupported architecture $(uname -m): NVIDIA's container GPU support exists for x86_64 and aarch64 only." ;;
esac
OS_ID="$(. /etc/os-release 2>/dev/null && echo "${ID:-} ${ID_LIKE:-}")" || OS_ID=""
case " $OS_ID " in
    *" debian "*|*" ubuntu "*) ;;
    *) fail "unsupported distribution '${OS_ID:-unknown}': this feature supports Debian and Ubuntu based images." ;;
esac
case "$CHECKONSTART" in true|false) ;; *) fail "option checkOnStart must be true or false, got '$CHECKONSTART'." ;; esac
case "$PROJECTPYTHON" in *'"'*|*'\'*) fail "option projectPython must be a plain path, got '$PROJECTPYTHON'." ;; esac
for f in env_doctor.py env_doctor_probe.py versions.yml requirements.lock; do
    [ -f "$FEATURE_DIR/$f" ] || fail "$f is missing beside install.sh: the feature folder is incomplete."
done

python_ok() { "$1" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" 2>/dev/null; }
apt_install() {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    rm -rf /var/lib/apt/lists/*
}

# A Python >= MIN_PYTHON for env-doctor's environment: the image's python3, else the distro's.
PYTHON="$(command -v python3 || true)"
if [ -z "$PYTHON" ] || ! python_ok "$PYTHON"; then
    log "installing python3 from the distribution"
    apt_install python3 python3-venv
    PYTHON="$(command -v python3)"
    python_ok "$PYTHON" || fail "the distribution's python3 is older than $MIN_PYTHON; use a newer base image."
fi

# --- env-doctor's own environment --------------------------------------------------------------
log "creating $PREFIX from $PYTHON"
rm -rf "$PREFIX"
if command -v uv >/dev/null 2>&1; then
    UV_PYTHON_DOWNLOADS=never uv venv --quiet --python "$PYTHON" "$PREFIX"
    uv pip install --quiet --no-cache --python "$PREFIX/bin/python" --require-hashes -r "$FEATURE_DIR/requirements.lock"
else
    "$PYTHON" -m venv "$PREFIX" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$PREFIX"; }
    "$PREFIX/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
        --require-hashes -r "$FEATURE_DIR/requirements.lock"
fi

# --- The command ------------------------------------------------------------------------------
mkdir -p "$SHARE"
install -m 0644 "$FEATURE_DIR/env_doctor.py" "$FEATURE_DIR/env_doctor_probe.py" "$FEATURE_DIR/versions.yml" "$SHARE/"
cat >"$SHARE/settings.json" <<JSON
{"projectPython": "$PROJECTPYTHON", "checkOnStart": $CHECKONSTART}
JSON
cat >/usr/local/bin/env-doctor <<SH
#!/bin/sh
exec $PREFIX/bin/python $SHARE/env_doctor.py "\$@"
SH
chmod 0755 /usr/local/bin/env-doctor
log "done: $(env-doctor --help | head -n 1)"
