# shellcheck shell=sh
# Helpers every feature's install.sh uses. POSIX sh; sourced after FEATURE is set.
# FEATURE_MIN_PYTHON, set in each generated copy, comes from data/versions.yml.

log() { echo "$FEATURE feature: $*"; }
fail() { echo "$FEATURE feature: error: $*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" = 0 ] || fail "install.sh must run as root (it does inside a devcontainer build)."
}

check_bool() {  # check_bool OPTION VALUE
    case "$2" in true|false) ;; *) fail "option $1 must be true or false, got '$2'." ;; esac
}

# x86_64 or aarch64, else stop: NVIDIA ships Linux CUDA and its container support for these two only.
check_arch() {
    case "$(uname -m)" in
        x86_64|aarch64) ;;
        *) fail "unsupported architecture $(uname -m): NVIDIA's CUDA exists for x86_64 (amd64) and aarch64 (arm64) only." ;;
    esac
}

# apt-get install, leaving no package lists or downloaded .debs in the image layer.
apt_install() {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    rc=$?
    apt-get clean; rm -rf /var/lib/apt/lists/*
    return $rc
}

python_ok() {  # python_ok PYTHON: true when it is FEATURE_MIN_PYTHON or newer
    "$1" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$FEATURE_MIN_PYTHON'.split('.'))))" 2>/dev/null
}

# Sets PYTHON to a python3 >= FEATURE_MIN_PYTHON: the image's own, else the distribution's.
find_python() {
    PYTHON="$(command -v python3 || true)"
    if [ -n "$PYTHON" ] && python_ok "$PYTHON"; then return 0; fi
    command -v apt-get >/dev/null 2>&1 \
        || fail "needs python3 >= $FEATURE_MIN_PYTHON (or uv) in the image, or an apt-based distribution (Debian, Ubuntu) to install it."
    log "installing python3 from the distribution"
    apt_install python3 python3-venv || fail "apt could not install python3 and python3-venv."
    PYTHON="$(command -v python3)"
    python_ok "$PYTHON" || fail "the distribution's python3 is older than $FEATURE_MIN_PYTHON; use a newer base image or install Python $FEATURE_MIN_PYTHON+ first."
}

# A fresh virtual environment at PREFIX from PYTHON (uv's when the image has uv, else venv),
# and venv_install to install into it.
make_venv() {  # make_venv PREFIX
    VENV="$1"
    log "creating $VENV from $PYTHON"
    rm -rf "$VENV"
    if command -v uv >/dev/null 2>&1; then
        UV_PYTHON_DOWNLOADS=never uv venv --quiet --python "$PYTHON" "$VENV"
    elif ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        command -v apt-get >/dev/null 2>&1 || fail "'$PYTHON -m venv' failed and apt-get is missing to install python3-venv."
        apt_install python3-venv || fail "apt could not install python3-venv."
        "$PYTHON" -m venv "$VENV"
    fi
}

# Byte-compiled at install (pip does it by default, uv when asked): a feature's environment is
# root's, so its users could never write the bytecode and would compile on every start.
venv_install() {  # venv_install PIP-ARGS...: into the environment make_venv made
    if command -v uv >/dev/null 2>&1; then
        uv pip install --no-cache --compile-bytecode --python "$VENV/bin/python" "$@"
    else
        "$VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check "$@"
    fi
}
