"""The cuda and cudnn features on a real engine: refusals that must stop before anything changes,
and a second install giving the same image. (Their scenarios run in test_features.py.)"""

from __future__ import annotations

import pytest

from tests.utils.docker import run_feature_install

pytestmark = pytest.mark.integration
# What an install would create; none of it may exist after a refusal.
CHANGED = "/usr/local/cuda /usr/local/lib/nvidia-cuda-wheels /usr/local/lib/nvidia-cudnn-wheels " \
          "/etc/ld.so.conf.d/nvidia-cuda.conf /etc/ld.so.conf.d/nvidia-cudnn.conf " \
          "/etc/apt/sources.list.d/nvidia-cuda.list /etc/profile.d/cuda.sh /usr/bin/python3 /usr/bin/g++"


FAKE_ENV = "mkdir -p /opt/venv/lib/python3.11/site-packages/{}.dist-info && "
OLD_DEBIAN = "sed -i 's/^VERSION_ID=.*/VERSION_ID=\"11\"/' /usr/lib/os-release && "
PPC = "mkdir -p /tmp/bin && printf '#!/bin/sh\\necho ppc64le\\n' >/tmp/bin/uname && chmod +x /tmp/bin/uname && " \
      "export PATH=/tmp/bin:$PATH && "


@pytest.mark.parametrize("feature, env, setup, message", [
    ("cuda", {"VERSION": "11.8"}, "", "CUDA '11.8' is not supported: choose auto or one of 12.4"),
    ("cuda", {"VERSION": "latest"}, "", "option version must be auto or major.minor"),
    ("cuda", {"TOOLKIT": "true", "VERSION": "12.8"}, "", "toolkit=true from PyPI needs CUDA 13.0"),
    ("cuda", {"SOURCE": "apt"}, "", "source=apt needs option aptRepository: NVIDIA's CUDA apt repository URL"),
    ("cuda", {"SOURCE": "apt", "APTREPOSITORY": "ftp://x"}, "", "aptRepository must be an http(s):// or file:/ URL"),
    ("cuda", {"SOURCE": "apt", "APTREPOSITORY": "file:/r"}, OLD_DEBIAN, "source=apt supports Debian 12, Ubuntu 22.04 and Ubuntu 24.04"),
    ("cuda", {}, PPC, "unsupported architecture ppc64le: NVIDIA's CUDA exists for x86_64 (amd64) and aarch64"),
    ("cuda", {"VERSION": "12.8"}, FAKE_ENV.format("nvidia_cuda_runtime_cu12-12.6.77"),
     "already carries CUDA 12.6 (its framework's NVIDIA wheels)"),
    ("cuda", {"SOURCE": "apt", "APTREPOSITORY": "file:/r"}, FAKE_ENV.format("nvidia_cuda_runtime_cu12-12.6.77"),
     "NVIDIA's apt packages would add a second copy"),
    ("cuda", {"TOOLKIT": "true"}, FAKE_ENV.format("nvidia_cuda_runtime_cu12-12.6.77"),
     "NVIDIA publishes nvcc on PyPI for CUDA 13.0 only"),
    ("cudnn", {"CUDAVERSION": "11"}, "", "cudaVersion '11' is not supported: choose auto or one of 12 13"),
    ("cudnn", {"CUDAVERSION": "12"}, FAKE_ENV.format("nvidia_cudnn_cu13-9.13.1.26"), "already carries cuDNN for CUDA 13"),
    ("cudnn", {"SOURCE": "apt"}, "", "source=apt needs option aptRepository"),
])
def test_refused_options_stop_before_changing_anything(docker, test_base_image, feature, env, setup, message):
    script = f"{setup}/feature/install.sh; rc=$?; for p in {CHANGED}; do test -e $p && echo LEFTOVER $p; done; exit $rc"
    result = run_feature_install(docker, test_base_image, feature, script, env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "LEFTOVER" not in result.stdout, result.stdout


def test_second_install_gives_the_same_result(docker, test_base_image):
    """Default options twice (CUDA 12.8 runtime from PyPI): same files, links and loader cache."""
    snapshot = ("{ find /usr/local/cuda-12.8 /usr/local/lib/nvidia-cuda-wheels -printf '%p %y %l %s\\n' | sort; "
                "readlink /usr/local/cuda; cat /etc/ld.so.conf.d/nvidia-cuda.conf /etc/profile.d/cuda.sh; "
                "ldconfig -p | grep libcudart; }")
    count = "find / \\( -path /proc -o -path /sys \\) -prune -o -name 'libcudart.so*' -type f -print | wc -l"
    script = f"/feature/install.sh >/dev/null && {snapshot} >/tmp/1 && /feature/install.sh >/dev/null && " \
             f"{snapshot} >/tmp/2 && diff /tmp/1 /tmp/2 && echo SAME && echo COPIES=$({count})"
    result = run_feature_install(docker, test_base_image, "cuda", script, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SAME" in result.stdout
    assert "COPIES=1" in result.stdout
