#!/bin/bash
# source=apt against a local stand-in of NVIDIA's repository (same package names, signed Release):
# proves version/package selection and keyring handling, not NVIDIA's real packages.
set -e
source dev-container-features-test-lib
source "$(dirname "$0")/checks.sh"

check "repository trusted only through its keyring" bash -c 'grep -qx "deb \[signed-by=/usr/share/keyrings/nvidia-cuda.asc\] file:/srv/cuda-repo/ /" /etc/apt/sources.list.d/nvidia-cuda.list'
check "keyring is the repository key" cmp /usr/share/keyrings/nvidia-cuda.asc /srv/cuda-repo/3bf863cc.pub
check "CUDA 12.8 package selected" bash -c 'dpkg -s cuda-cudart-12-8 | grep -q "Status: install ok installed"'
check "other CUDA versions left out" bash -c '! dpkg -s cuda-cudart-12-6 2>/dev/null | grep -q "ok installed"'
check "cuDNN for CUDA 12 selected" bash -c 'dpkg -s libcudnn9-cuda-12 | grep -q "Status: install ok installed"'
check "runtime registered and reports 12.8" bash -c '[ "$(cudart_version libcudart.so.12)" = 12080 ]'
check "cuDNN loads and reports its version" bash -c '[ "$(cudnn_version)" = 91000 ]'
check "CUDA_HOME is NVIDIA's tree" bash -c '[ "$(readlink -f $CUDA_HOME)" = /usr/local/cuda-12.8 ]'
check "one copy of libcudart" bash -c '[ "$(copies libcudart.so)" = 1 ]'

reportResults
