#!/bin/bash
# cuda + cudnn over a project env that already has CUDA 13.0 and cuDNN 9.13 wheels: both features
# follow it ("auto") and install nothing, so each library exists once and every consumer finds it.
set -e
source dev-container-features-test-lib
source "$(dirname "$0")/checks.sh"

SP=$(echo /opt/venv/lib/python3*/site-packages)
check "one copy of libcudart" bash -c '[ "$(copies libcudart.so)" = 1 ]'
check "one copy of libcudnn" bash -c '[ "$(copies libcudnn.so)" = 1 ]'
check "cuDNN loads by soname and reports 9.13.1" bash -c '[ "$(cudnn_version)" = 91301 ]'
check "the loader resolves the project's cuDNN" bash -c "[ \"\$(resolved libcudnn.so.9)\" = $SP/nvidia/cudnn/lib/libcudnn.so.9 ]"
check "the runtime follows the project (13.0)" bash -c '[ "$(cudart_version libcudart.so.13)" = 13000 ]'
check "cudnn.h in CUDA_HOME" bash -c 'grep -q CUDNN_MAJOR $CUDA_HOME/include/cudnn*.h'
check "nothing installed beside them" bash -c '[ ! -e /usr/local/lib/nvidia-cuda-wheels ] && [ ! -e /usr/local/lib/nvidia-cudnn-wheels ]'

reportResults
