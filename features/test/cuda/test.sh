#!/bin/bash
# Default options on a bare Debian image: no project env, so "auto" means CUDA 12.8 from PyPI.
set -e
source dev-container-features-test-lib
source "$(dirname "$0")/checks.sh"

check "runtime loads by soname and reports 12.8" bash -c '[ "$(cudart_version libcudart.so.12)" = 12080 ]'
check "registered system-wide (ld.so cache)" bash -c 'ldconfig -p | grep -q "libcudart.so.12 "'
check "one copy of libcudart" bash -c '[ "$(copies libcudart.so)" = 1 ]'
check "CUDA_HOME set" bash -c '[ "$CUDA_HOME" = /usr/local/cuda ] && [ -e /usr/local/cuda/lib64/libcudart.so.12 ]'
check "CUDA_HOME library is the registered one" bash -c '[ "$(readlink -f /usr/local/cuda/lib64/libcudart.so.12)" = "$(resolved libcudart.so.12)" ]'
check "GPU container variables" bash -c '[ "$NVIDIA_VISIBLE_DEVICES" = all ] && [ "$NVIDIA_DRIVER_CAPABILITIES" = compute,utility ]'
check "no toolkit unless asked" bash -c '! command -v nvcc && ! command -v g++'

reportResults
