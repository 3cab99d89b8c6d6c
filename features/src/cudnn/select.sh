# What the cudnn feature installs: pure functions, sourced by install.sh and called by
# tests/test_cuda_features.py. cuDNN 9 follows the CUDA major (one build per major).
# Pins are exact; bump them together (checked by hand against the index).

CUDNN_CUDA_SUPPORTED="12 13"
CUDNN_CUDA_DEFAULT=12   # the cuda feature's default (12.8) when nothing else says

# Exact PyPI pins: cuDNN itself, and cuBLAS, which cuDNN's kernels need.
cudnn_wheel() {
    case "$1" in
        12) echo nvidia-cudnn-cu12==9.13.1.26 ;;
        13) echo nvidia-cudnn-cu13==9.13.1.26 ;;
        *) return 1 ;;
    esac
}
cublas_wheel() {
    case "$1" in
        12) echo nvidia-cublas-cu12==12.8.4.1 ;;
        13) echo nvidia-cublas==13.0.2.14 ;;
        *) return 1 ;;
    esac
}

# Packages from NVIDIA's apt repository; the headers too when nvcc is there to use them.
cudnn_apt_packages() {  # cudnn_apt_packages MAJOR true|false
    if [ "$2" = true ]; then echo "libcudnn9-cuda-$1 libcudnn9-dev-cuda-$1"
    else echo "libcudnn9-cuda-$1"; fi
}

# The CUDA major cuDNN is built for. Inputs: the requested value (auto, 12, 13), the major of
# a cuDNN wheel in the project env, the major of the CUDA already in the image.
# Prints the major, or a message and returns 1.
cudnn_resolve_major() {  # cudnn_resolve_major REQUESTED ENV_CUDNN_MAJOR IMAGE_CUDA_MAJOR
    requested="$1"; env_major="$2"; image_major="$3"
    if [ "$requested" = auto ]; then
        requested="${env_major:-${image_major:-$CUDNN_CUDA_DEFAULT}}"
    fi
    case " $CUDNN_CUDA_SUPPORTED " in
        *" $requested "*) ;;
        *) echo "cudaVersion '$requested' is not supported: choose auto, 12 or 13 (cuDNN 9 has one build per CUDA major)."; return 1 ;;
    esac
    if [ -n "$env_major" ] && [ "$env_major" != "$requested" ]; then
        echo "the project environment already carries cuDNN for CUDA $env_major; cuDNN for CUDA $requested would be a second copy. Set cudaVersion to auto (or $env_major)."
        return 1
    fi
    if [ -n "$image_major" ] && [ "$image_major" != "$requested" ]; then
        echo "the image has CUDA $image_major (cuda feature or project wheels); cuDNN must match that major. Set cudaVersion to auto (or $image_major)."
        return 1
    fi
    echo "$requested"
}
