#!/bin/sh
# Installs NVIDIA's cuDNN 9 for the image's CUDA major, once: reuses the cuDNN wheel the project
# environment already has (torch, TensorFlow, JAX bring it), otherwise installs an exact pin from
# PyPI (default) or NVIDIA's apt repository, and registers it system-wide.
# Runs as root at image build time; devcontainer feature options arrive as upper-case variables.
set -eu

CUDAVERSION="${CUDAVERSION:-auto}"
SOURCE="${SOURCE:-pypi}"
PYTHONENV="${PYTHONENV-/opt/venv}"
APTREPOSITORY="${APTREPOSITORY:-}"
APTKEY="${APTKEY:-}"

FEATURE=cudnn
FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$FEATURE_DIR/common.sh"
# shellcheck source=nvidia.sh
. "$FEATURE_DIR/nvidia.sh"
# shellcheck source=versions.sh
. "$FEATURE_DIR/versions.sh"
# shellcheck source=select.sh
. "$FEATURE_DIR/select.sh"
PYPI_PREFIX=/usr/local/lib/nvidia-cudnn-wheels   # cuDNN's wheels, when the project env lacks them

# --- Check everything before changing anything -------------------------------------------------
require_root
check_arch
case "$SOURCE" in pypi|apt) ;; *) fail "option source must be pypi or apt, got '$SOURCE'." ;; esac

ENV_SP="$(site_packages "$PYTHONENV")"
ENV_CUDNN_MAJOR=""
for sp in $ENV_SP; do
    for info in "$sp"/nvidia_cudnn_cu1[0-9]-*.dist-info; do
        [ -d "$info" ] || continue
        ENV_CUDNN_MAJOR="$(echo "${info##*/}" | sed 's/^nvidia_cudnn_cu\([0-9]*\)-.*/\1/')"
        ENV_CUDNN_DIR="$sp/nvidia/cudnn"
    done
done
# The CUDA already in the image: the cuda feature's record, else the project's wheels.
IMAGE_CUDA="$(cat /usr/local/share/ml-devcontainer/cuda-version 2>/dev/null || true)"
# shellcheck disable=SC2086
[ -n "$IMAGE_CUDA" ] || IMAGE_CUDA="$(wheel_cuda_version $ENV_SP)"
MAJOR="$(cudnn_resolve_major "$CUDAVERSION" "$ENV_CUDNN_MAJOR" "${IMAGE_CUDA%%.*}")" || fail "$MAJOR"

if [ -n "$ENV_CUDNN_MAJOR" ]; then
    [ "$SOURCE" = pypi ] || fail "the project environment $PYTHONENV already carries cuDNN from PyPI; NVIDIA's apt packages would add a second copy. Use source=pypi (the default), or set pythonEnv to \"\" to ignore that environment."
elif [ "$SOURCE" = pypi ]; then
    check_pypi_route
else
    check_apt_route "$APTREPOSITORY"
fi

# --- Install ------------------------------------------------------------------------------------
if [ -n "$ENV_CUDNN_MAJOR" ]; then
    log "reusing cuDNN (CUDA $MAJOR) from $PYTHONENV (nothing to install)"
    rm -rf "$PYPI_PREFIX"
    CUDNN_DIR="$ENV_CUDNN_DIR"
elif [ "$SOURCE" = pypi ]; then
    WANT="$(cudnn_wheel "$MAJOR")"
    # cuDNN's kernels need cuBLAS: reuse one the image already has, else add the pin.
    [ -n "$(ldconfig_path "libcublas.so.$MAJOR")" ] || WANT="$WANT $(cublas_wheel "$MAJOR")"
    # shellcheck disable=SC2086
    pip_install_pinned "$PYPI_PREFIX" $WANT
    CUDNN_DIR="$PYPI_PREFIX/nvidia/cudnn"
else
    apt_add_repository "$APTREPOSITORY" "$APTKEY"
    DEV=false; [ -x /usr/local/cuda/bin/nvcc ] && DEV=true
    log "installing from NVIDIA's apt repository: $(cudnn_apt_packages "$MAJOR" "$DEV")"
    # shellcheck disable=SC2046
    apt_install $(cudnn_apt_packages "$MAJOR" "$DEV") \
        || fail "apt could not install $(cudnn_apt_packages "$MAJOR" "$DEV") from $APT_LIST: is the repository the one for $(apt_distro)?"
    ldconfig
    CUDNN_DIR=""
fi

if [ -n "$CUDNN_DIR" ]; then
    if [ -z "$ENV_CUDNN_MAJOR" ]; then
        # shellcheck disable=SC2046
        register_lib_dirs nvidia-cudnn $(wheel_lib_dirs "$PYPI_PREFIX")
    else
        register_lib_dirs nvidia-cudnn "$CUDNN_DIR/lib"
    fi
    # Let nvcc and build tools find cudnn.h and libcudnn.so in CUDA_HOME when the cuda feature
    # made it from wheels (an apt CUDA_HOME is NVIDIA's and left alone).
    if [ -e /usr/local/cuda/"$TREE_MARK" ]; then
        for part in include lib; do
            [ -d "$CUDNN_DIR/$part" ] && cp -rsf "$CUDNN_DIR/$part/." /usr/local/cuda/$part/
        done
        [ -e /usr/local/cuda/lib/libcudnn.so ] || ln -s libcudnn.so.9 /usr/local/cuda/lib/libcudnn.so
        find /usr/local/cuda/ -name '__init__.py' -type l -delete
    fi
fi
log "done: cuDNN 9 for CUDA $MAJOR ($(ldconfig_path libcudnn.so.9))"
