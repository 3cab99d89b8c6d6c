# shellcheck shell=sh
# What the cuda feature installs for a CUDA version: pure functions (no side effects), sourced
# by install.sh after versions.sh (the supported versions and pins, generated from the data) and
# called directly by tests/test_cuda_features.py.

# Debian packages from NVIDIA's apt repository: cuda-cudart-12-8, and with the toolkit the
# compiler and the runtime's headers.
cuda_apt_packages() {  # cuda_apt_packages X.Y true|false
    v="$(echo "$1" | tr . -)"
    if [ "$2" = true ]; then echo "cuda-cudart-$v cuda-cudart-dev-$v cuda-nvcc-$v"
    else echo "cuda-cudart-$v"; fi
}

# The CUDA version to install: the requested one, or with "auto" the project's (its NVIDIA
# wheels), else the default. Prints the version, or a message and returns 1.
cuda_resolve_version() {  # cuda_resolve_version REQUESTED ENV_VERSION
    requested="$1"; found="$2"
    case "$requested" in
        auto) echo "${found:-$CUDA_DEFAULT}"; return 0 ;;
    esac
    case " $CUDA_SUPPORTED " in
        *" $requested "*) ;;
        *) echo "CUDA '$requested' is not supported: choose auto or one of $CUDA_SUPPORTED."; return 1 ;;
    esac
    if [ -n "$found" ] && [ "$found" != "$requested" ]; then
        echo "the project environment already carries CUDA $found (its framework's NVIDIA wheels); a second CUDA $requested would make the framework, nvcc and C programs disagree. Set version to auto (or $found)."
        return 1
    fi
    echo "$requested"
}
