#!/bin/bash
# A framework-like project env already holds NVIDIA's CUDA 12.6 runtime wheel: "auto" follows
# it and the feature installs nothing, so the image keeps a single libcudart.
set -e
source dev-container-features-test-lib
source "$(dirname "$0")/checks.sh"

ENV_LIB=$(echo /opt/venv/lib/python3*/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12)
check "one copy of libcudart" bash -c '[ "$(copies libcudart.so)" = 1 ]'
check "the loader resolves the project's copy" bash -c "[ \"\$(resolved libcudart.so.12)\" = $ENV_LIB ]"
check "version follows the project (12.6)" bash -c '[ "$(cudart_version libcudart.so.12)" = 12060 ]'
check "CUDA_HOME points into the project env" bash -c "[ \"\$(readlink -f \$CUDA_HOME/lib64/libcudart.so.12)\" = $ENV_LIB ]"
check "nothing installed beside it" bash -c '[ ! -e /usr/local/lib/nvidia-cuda-wheels ]'

reportResults
