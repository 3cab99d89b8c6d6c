"""The cuda and cudnn features' decisions (version, packages, reuse), tested by calling their
shell functions directly: fast, no Docker. The installs themselves are tested in
tests/integration/test_cuda_features.py and features/test/{cuda,cudnn}."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CUDA = REPO / "features/src/cuda"
CUDNN = REPO / "features/src/cudnn"
DATA = yaml.safe_load((REPO / "data/versions.yml").read_text())
# The cuda feature supports the CUDA releases the data gives a runtime wheel for.
SUPPORTED = " ".join(v for v, r in DATA["cuda"]["releases"].items() if "runtime_wheel" in r)


def sh(feature: Path, call: str) -> subprocess.CompletedProcess:
    """Source the feature's shell files as install.sh does, then run one call with POSIX sh."""
    sources = "; ".join(f'. "{feature}/{name}"' for name in ("common.sh", "nvidia.sh", "versions.sh", "select.sh"))
    script = f"FEATURE=test; {sources}; {call}"
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True)


def out(feature: Path, call: str) -> str:
    result = sh(feature, call)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


# --- cuda: version and packages ------------------------------------------------------------------

@pytest.mark.parametrize("requested, env, expected", [
    ("auto", "", "12.8"),       # nothing to follow: the documented default
    ("auto", "13.0", "13.0"),   # follows the project's framework wheels
    ("12.6", "", "12.6"),
    ("12.6", "12.6", "12.6"),
])
def test_cuda_version_resolution(requested, env, expected):
    assert out(CUDA, f'cuda_resolve_version "{requested}" "{env}"') == expected


@pytest.mark.parametrize("requested, env, message", [
    ("11.8", "", f"not supported: choose auto or one of {SUPPORTED}"),
    ("12.7", "", "not supported"),
    ("12.8", "13.0", "already carries CUDA 13.0"),   # a second runtime next to the framework's
])
def test_cuda_version_refusals(requested, env, message):
    result = sh(CUDA, f'cuda_resolve_version "{requested}" "{env}"')
    assert result.returncode == 1
    assert message in result.stdout


def test_every_supported_version_has_an_exact_runtime_pin():
    assert out(CUDA, 'echo "$CUDA_SUPPORTED"') == SUPPORTED
    for version in SUPPORTED.split():
        pin = out(CUDA, f"cuda_runtime_wheel {version}")
        assert re.fullmatch(r"nvidia-cuda-runtime(-cu12)?==\d+\.\d+\.\d+", pin), pin
        assert pin.split("==")[1].startswith(version + ".")
        major = version.split(".")[0]
        assert ("-cu12" in pin) == (major == "12")   # CUDA 13 wheels dropped the suffix


def test_pypi_toolkit_only_for_cuda_13():
    # NVIDIA's CUDA 12 nvcc wheels carry ptxas and libnvvm but no nvcc.
    assert out(CUDA, "cuda_toolkit_wheels 13.0").split() == [
        "nvidia-cuda-nvcc==13.0.88", "nvidia-nvvm==13.0.88", "nvidia-cuda-crt==13.0.88"]
    assert sh(CUDA, "cuda_toolkit_wheels 12.8").returncode == 1


@pytest.mark.parametrize("version, toolkit, packages", [
    ("12.8", "false", "cuda-cudart-12-8"),
    ("12.8", "true", "cuda-cudart-12-8 cuda-cudart-dev-12-8 cuda-nvcc-12-8"),
    ("13.0", "true", "cuda-cudart-13-0 cuda-cudart-dev-13-0 cuda-nvcc-13-0"),
])
def test_cuda_apt_packages(version, toolkit, packages):
    assert out(CUDA, f"cuda_apt_packages {version} {toolkit}") == packages


# --- cudnn: CUDA major and packages --------------------------------------------------------------

@pytest.mark.parametrize("requested, env_major, image_major, expected", [
    ("auto", "", "", "12"),
    ("auto", "13", "", "13"),     # the project's cuDNN wheel decides
    ("auto", "", "13", "13"),     # else the image's CUDA (cuda feature or project wheels)
    ("12", "", "12", "12"),
])
def test_cudnn_major_resolution(requested, env_major, image_major, expected):
    assert out(CUDNN, f'cudnn_resolve_major "{requested}" "{env_major}" "{image_major}"') == expected


@pytest.mark.parametrize("requested, env_major, image_major, message", [
    ("11", "", "", "not supported: choose auto or one of 12 13"),
    ("12", "13", "", "already carries cuDNN for CUDA 13"),
    ("13", "", "12", "the image has CUDA 12"),
])
def test_cudnn_major_refusals(requested, env_major, image_major, message):
    result = sh(CUDNN, f'cudnn_resolve_major "{requested}" "{env_major}" "{image_major}"')
    assert result.returncode == 1
    assert message in result.stdout


def test_cudnn_pins():
    assert out(CUDNN, "cudnn_wheel 12") == "nvidia-cudnn-cu12==9.13.1.26"
    assert out(CUDNN, "cudnn_wheel 13") == "nvidia-cudnn-cu13==9.13.1.26"
    assert out(CUDNN, "cublas_wheel 12").startswith("nvidia-cublas-cu12==12.")
    assert out(CUDNN, "cublas_wheel 13").startswith("nvidia-cublas==13.")
    assert out(CUDNN, "cudnn_apt_packages 12 false") == "libcudnn9-cuda-12"
    assert out(CUDNN, "cudnn_apt_packages 13 true") == "libcudnn9-cuda-13 libcudnn9-dev-cuda-13"


# --- detecting a project's NVIDIA wheels ---------------------------------------------------------

def fake_env(root: Path, dist_info: str, lib: str) -> Path:
    sp = root / "lib/python3.12/site-packages"
    (sp / dist_info).mkdir(parents=True)
    (sp / lib).parent.mkdir(parents=True)
    (sp / lib).write_bytes(b"")
    return sp


@pytest.mark.parametrize("dist_info, lib, version", [
    ("nvidia_cuda_runtime_cu12-12.6.77.dist-info", "nvidia/cuda_runtime/lib/libcudart.so.12", "12.6"),
    ("nvidia_cuda_runtime-13.0.96.dist-info", "nvidia/cu13/lib/libcudart.so.13", "13.0"),
])
def test_detects_project_cuda_wheels(tmp_path, dist_info, lib, version):
    sp = fake_env(tmp_path, dist_info, lib)
    assert out(CUDA, f'site_packages "{tmp_path}"') == str(sp)
    assert out(CUDA, f'wheel_cuda_version "{sp}"') == version
    assert out(CUDA, f'wheel_lib_dirs "{sp}"') == str((sp / lib).parent)


def test_no_env_means_nothing_detected(tmp_path):
    assert out(CUDA, f'site_packages "{tmp_path}/none"; site_packages ""') == ""
    assert out(CUDA, f'wheel_cuda_version "{tmp_path}"') == ""


# --- the feature folders (their shared files are checked by tests/test_sync.py) ------------------

@pytest.mark.parametrize("feature", [CUDA, CUDNN])
def test_feature_metadata(feature):
    meta = json.loads((feature / "devcontainer-feature.json").read_text())
    assert meta["id"] == feature.name
    env = meta["containerEnv"]
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert (feature / "install.sh").stat().st_mode & 0o111
    # Registries or NVIDIA hosts are never written in: the apt repository is a user option. The one
    # exception is the generated README's usage example: the feature's own published reference.
    namespace = json.loads((feature.parent.parent / "publish.json").read_text())["namespace"]
    for path in feature.iterdir():
        text = path.read_text().replace(f"ghcr.io/{namespace}/{feature.name}:1", "")
        assert not re.search(r"ghcr\.io|nvidia\.com|https?://[a-z]", text), path
