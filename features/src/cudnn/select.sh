# shellcheck shell=sh
# What the cudnn feature installs: pure functions, sourced by install.sh after versions.sh (the
# supported majors and pins, generated from the data) and called by tests/test_cuda_features.py.
# cuDNN 9 follows the CUDA major (one build per major).

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
        *) echo "cudaVersion '$requested' is not supported: choose auto or one of $CUDNN_CUDA_SUPPORTED (cuDNN 9 has one build per CUDA major)."; return 1 ;;
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
