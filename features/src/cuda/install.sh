#!/bin/sh
# Installs NVIDIA's CUDA runtime (and optionally the nvcc toolkit) once per image: reuses the
# NVIDIA wheels the project environment already has (torch, TensorFlow, JAX bring them),
# otherwise installs exact pins from PyPI (default) or NVIDIA's apt repository. Registers the
# libraries system-wide and makes /usr/local/cuda the CUDA_HOME.
# Runs as root at image build time; devcontainer feature options arrive as upper-case variables.
set -eu

VERSION="${VERSION:-auto}"
TOOLKIT="${TOOLKIT:-false}"
SOURCE="${SOURCE:-pypi}"
PYTHONENV="${PYTHONENV-/opt/venv}"
APTREPOSITORY="${APTREPOSITORY:-}"
APTKEY="${APTKEY:-}"

FEATURE=cuda
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$FEATURE_DIR/common.sh"
# shellcheck source=nvidia.sh
. "$FEATURE_DIR/nvidia.sh"
# shellcheck source=versions.sh
. "$FEATURE_DIR/versions.sh"
# shellcheck source=select.sh
. "$FEATURE_DIR/select.sh"
PYPI_PREFIX=/usr/local/lib/nvidia-cuda-wheels   # NVIDIA's wheels, when the project env lacks them

# Makes /usr/local/cuda-X.Y a CUDA_HOME made of symlinks into the wheels (bin, include, lib,
# nvvm merged from every component), so nvcc and build tools see the usual layout while each
# file exists once. nvcc reads nvcc.profile beside the path it was called by, so it works
# through the symlinks. /usr/local/cuda points at it.
link_cuda_home() {  # link_cuda_home X.Y SITE_PACKAGES...
    home="/usr/local/cuda-$1"; shift
    if [ -e "$home" ] && [ ! -e "$home/$TREE_MARK" ]; then
        fail "$home exists and was not made by this feature (an apt install?): remove it or use source=apt."
    fi
    rm -rf "$home"; mkdir -p "$home"
    for sp in "$@"; do
        for comp in "$sp"/nvidia/*/; do
            [ -d "$comp" ] || continue
            for part in bin include lib nvvm; do
                [ -d "$comp$part" ] || continue
                mkdir -p "$home/$part"
                cp -rsf "$comp$part/." "$home/$part/"
            done
        done
    done
    mkdir -p "$home/lib"
    ln -sfn lib "$home/lib64"
    # Linkers look for the unversioned name (libcudart.so); wheels ship only the versioned one.
    for lib in "$home"/lib/lib*.so.[0-9]*; do
        [ -e "$lib" ] || continue
        base="${lib%%.so.*}.so"
        [ -e "$base" ] || ln -s "$(basename "$lib")" "$base"
    done
    find "$home" -name '__init__.py' -type l -delete
    touch "$home/$TREE_MARK"
    ln -sfn "$home" /usr/local/cuda
}

# --- Check everything before changing anything -------------------------------------------------
require_root
check_arch
check_bool toolkit "$TOOLKIT"
case "$SOURCE" in pypi|apt) ;; *) fail "option source must be pypi or apt, got '$SOURCE'." ;; esac
case "$VERSION" in auto|[0-9]*.[0-9]*) ;; *) fail "option version must be auto or major.minor (e.g. 12.8), got '$VERSION'." ;; esac

ENV_SP="$(site_packages "$PYTHONENV")"
# shellcheck disable=SC2086
ENV_CUDA="$(wheel_cuda_version $ENV_SP)"
CUDA="$(cuda_resolve_version "$VERSION" "$ENV_CUDA")" || fail "$CUDA"

if [ -n "$ENV_CUDA" ]; then
    # The framework's wheels stay the only copy: anything missing comes as matching wheels.
    [ "$SOURCE" = pypi ] || fail "the project environment $PYTHONENV already carries CUDA $ENV_CUDA from PyPI; NVIDIA's apt packages would add a second copy of every library. Use source=pypi (the default), or set pythonEnv to \"\" to ignore that environment."
    check_pypi_route
    if [ "$TOOLKIT" = true ] && ! cuda_toolkit_wheels "$CUDA" >/dev/null; then
        fail "toolkit=true with the project's CUDA $CUDA: NVIDIA publishes nvcc on PyPI for CUDA 13.0 only (its CUDA 12 wheels have no nvcc), and apt would duplicate the project's libraries. Use a framework build for CUDA 13, or set pythonEnv to \"\" and source=apt."
    fi
elif [ "$SOURCE" = pypi ]; then
    check_pypi_route
    if [ "$TOOLKIT" = true ] && ! cuda_toolkit_wheels "$CUDA" >/dev/null; then
        fail "toolkit=true from PyPI needs CUDA 13.0 (NVIDIA's CUDA $CUDA wheels have no nvcc): set version to 13.0, or source to apt."
    fi
else
    check_apt_route "$APTREPOSITORY"
fi
if [ "$TOOLKIT" = true ] && ! command -v g++ >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || fail "toolkit=true needs a host compiler: install g++ in the image first (nvcc calls it)."
fi

# --- Install ------------------------------------------------------------------------------------
if [ "$TOOLKIT" = true ] && ! command -v g++ >/dev/null 2>&1; then
    log "installing g++ (nvcc's host compiler)"
    apt_install g++
fi

if [ "$SOURCE" = apt ] && [ -z "$ENV_CUDA" ]; then
    apt_add_repository "$APTREPOSITORY" "$APTKEY"
    # shellcheck disable=SC2046
    log "installing from NVIDIA's apt repository: $(cuda_apt_packages "$CUDA" "$TOOLKIT")"
    # shellcheck disable=SC2046
    apt_install $(cuda_apt_packages "$CUDA" "$TOOLKIT") \
        || fail "apt could not install $(cuda_apt_packages "$CUDA" "$TOOLKIT") from $APT_LIST: is CUDA $CUDA in that repository (and the repository the one for $(apt_distro))?"
    HOME_DIR="/usr/local/cuda-$CUDA"
    [ -d "$HOME_DIR" ] || fail "NVIDIA's packages did not create $HOME_DIR."
    register_lib_dirs nvidia-cuda "$HOME_DIR/lib64"
    ln -sfn "$HOME_DIR" /usr/local/cuda
else
    rm -rf "$PYPI_PREFIX"
    WANT=""
    [ -n "$ENV_CUDA" ] || WANT="$(cuda_runtime_wheel "$CUDA")"
    [ "$TOOLKIT" = true ] && WANT="$WANT $(cuda_toolkit_wheels "$CUDA")"
    OWN_SP=""
    if [ -n "${WANT# }" ]; then
        # shellcheck disable=SC2086
        pip_install_pinned "$PYPI_PREFIX" $WANT
        OWN_SP="$PYPI_PREFIX"
    else
        log "reusing CUDA $CUDA from $PYTHONENV (nothing to install)"
    fi
    # shellcheck disable=SC2046,SC2086  # folder lists: split on purpose (paths have no spaces)
    register_lib_dirs nvidia-cuda $(wheel_lib_dirs $ENV_SP $OWN_SP)
    # shellcheck disable=SC2086
    link_cuda_home "$CUDA" $ENV_SP $OWN_SP
    if [ "$TOOLKIT" = true ]; then
        # Wheels lose the executable bit of nvcc's helpers when unpacked by some installers.
        chmod 0755 "$PYPI_PREFIX"/nvidia/*/bin/* "$PYPI_PREFIX"/nvidia/*/nvvm/bin/* 2>/dev/null || true
    fi
fi

# Login shells reset PATH from /etc/profile: put nvcc back there too.
cat >/etc/profile.d/cuda.sh <<'SH'
export CUDA_HOME=/usr/local/cuda
case ":$PATH:" in *:/usr/local/cuda/bin:*) ;; *) export PATH="/usr/local/cuda/bin:$PATH" ;; esac
SH
mkdir -p /usr/local/share/ml-devcontainer
echo "$CUDA" >/usr/local/share/ml-devcontainer/cuda-version

log "done: CUDA $CUDA$( [ "$TOOLKIT" = true ] && echo " with nvcc") at /usr/local/cuda$( [ -n "$ENV_CUDA" ] && echo ", libraries from $PYTHONENV")"
