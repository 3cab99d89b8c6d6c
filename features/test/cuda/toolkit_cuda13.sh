#!/bin/bash
# toolkit=true, CUDA 13.0 from PyPI: nvcc builds a program that links the one shared libcudart.
set -e
source dev-container-features-test-lib
source "$(dirname "$0")/checks.sh"

cat >/tmp/version.cu <<'CU'
#include <cstdio>
#include <cuda_runtime.h>
__global__ void noop() {}
int main() { int v = 0; cudaRuntimeGetVersion(&v); printf("%d\n", v); return v == 0; }
CU
check "nvcc on PATH reports 13.0" bash -c 'nvcc --version | grep -q "release 13.0"'
check "nvcc on a login shell's PATH" bash -lc 'command -v nvcc'
check "nvcc compiles a kernel (no GPU needed)" bash -c 'cd /tmp && nvcc -c version.cu -o version.o'
check "nvcc links against the shared runtime" bash -c 'cd /tmp && nvcc --cudart shared version.cu -o version'
check "the program finds the registered libcudart" bash -c 'ldd /tmp/version | grep "libcudart.so.13" | grep -q "$(resolved libcudart.so.13)"'
check "the program reports 13.0" bash -c '[ "$(/tmp/version)" = 13000 ]'
check "ctypes sees the same version" bash -c '[ "$(cudart_version libcudart.so.13)" = 13000 ]'
check "one copy of libcudart" bash -c '[ "$(copies libcudart.so)" = 1 ]'

reportResults
