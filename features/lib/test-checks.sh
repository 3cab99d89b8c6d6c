# shellcheck shell=bash
# Checks the cuda and cudnn features' test scripts share (sourced after dev-container-features-test-lib).

# Number of real files (not symlinks) named like the library anywhere in the image.
copies() {
    find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o -name "$1*" -type f -print | wc -l
}
# Version the CUDA runtime reports through ctypes (cudaRuntimeGetVersion needs no GPU).
cudart_version() {
    python3 -c "
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
v = ctypes.c_int()
assert lib.cudaRuntimeGetVersion(ctypes.byref(v)) == 0
print(v.value)" "$1"
}
# Version cuDNN reports (cudnnGetVersion needs no GPU), e.g. 91301.
cudnn_version() {
    python3 -c "
import ctypes
lib = ctypes.CDLL('libcudnn.so.9')
lib.cudnnGetVersion.restype = ctypes.c_size_t
print(lib.cudnnGetVersion())"
}
# The file the dynamic loader resolves a library name to (from the ld.so cache).
resolved() {
    readlink -f "$(ldconfig -p | awk -v name="$1" '$1 == name { print $NF; exit }')"
}
export -f copies cudart_version cudnn_version resolved
