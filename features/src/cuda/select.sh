# What the cuda feature installs for a CUDA version: pure functions (no side effects), sourced
# by install.sh and called directly by tests/test_cuda_features.py.
# Pins: the newest patch release of each major.minor on PyPI (exact versions; checked by hand
# against the index when a row is added).

CUDA_SUPPORTED="12.4 12.5 12.6 12.8 12.9 13.0"
CUDA_DEFAULT=12.8   # when "auto" finds no NVIDIA wheels in the project environment

# Exact PyPI pins of the CUDA runtime wheel.
cuda_runtime_wheel() {
    case "$1" in
        12.4) echo nvidia-cuda-runtime-cu12==12.4.127 ;;
        12.5) echo nvidia-cuda-runtime-cu12==12.5.82 ;;
        12.6) echo nvidia-cuda-runtime-cu12==12.6.77 ;;
        12.8) echo nvidia-cuda-runtime-cu12==12.8.90 ;;
        12.9) echo nvidia-cuda-runtime-cu12==12.9.79 ;;
        13.0) echo nvidia-cuda-runtime==13.0.96 ;;
        *) return 1 ;;
    esac
}

# Exact PyPI pins of the compiler (nvcc with its front ends, NVVM and the crt headers).
# NVIDIA's CUDA 12 nvcc wheels hold only ptxas and libnvvm (for JIT compilers), no nvcc:
# a PyPI toolkit exists from CUDA 13 on.
cuda_toolkit_wheels() {
    case "$1" in
        13.0) echo nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 ;;
        *) return 1 ;;
    esac
}

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
