"""The compatibility resolver: data/versions.yml decides what fits together at copy time."""

from __future__ import annotations

import tomllib

import pytest

from resolver import versions
from tests.utils.project import LOCK_PYTHON, render


def dependencies(root) -> list[str]:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.mark.parametrize("answers, message", [
    # a Python the release has no wheels for
    ({"framework": "tensorflow", "framework_version": "2.19.1", "python_version": "3.13"},
     "tensorflow 2.19.1 does not support Python 3.13"),
    ({"framework": "jax", "framework_version": "0.8.1", "python_version": "3.10"},
     "For Python 3.10 use jax 0.6.2"),
    # a CUDA the release was never built for
    ({"framework": "pytorch", "framework_version": "2.10.0", "cuda_version": "13.0"},
     "pytorch 2.10.0 is built for CUDA 12.8, not 13.0"),
    ({"framework": "jax", "framework_version": "0.6.2", "cuda_version": "13", "python_version": "3.12"},
     "or jax 0.12.0.1 / 0.11.2 / 0.10.2 / 0.9.2 / 0.8.3 / 0.8.1 for CUDA 13"),
    ({"framework": "tensorflow", "cuda_version": "13"}, "Invalid choice"),
    # a release or CUDA the template does not know
    ({"framework": "pytorch", "framework_version": "1.0.0"}, "Invalid choice"),
    ({"framework": "pytorch", "cuda_version": "10.2"}, "Invalid choice"),
])
def test_impossible_combination_is_refused_and_nothing_written(tmp_path, answers, message):
    dst = tmp_path / "p"
    with pytest.raises(ValueError, match=message):
        render(dst, **answers)
    assert not dst.exists()


def test_refusal_names_working_combinations():
    with pytest.raises(versions.Incompatible) as refused:
        versions.resolve_cuda("pytorch", "2.10.0", "13.0")
    assert "Use cuda_version=12.8 (or 'auto')" in str(refused.value)
    assert "pytorch 2.14.1 / 2.13.0 for CUDA 13.0" in str(refused.value)


def test_latest_is_the_newest_release_for_the_python():
    assert versions.resolve_framework_version("jax", "latest", "3.10") == "0.6.2"
    assert versions.resolve_framework_version("jax", "latest", "3.12") == versions.releases("jax")[0]


@pytest.mark.parametrize("framework, accelerator, cuda, expected", [
    ("pytorch", "cuda", "auto", ["torch==2.13.0", "numpy"]),
    ("tensorflow", "cuda", "auto", ["tensorflow[and-cuda]==2.19.1"]),
    ("tensorflow", "cpu", "auto", ["tensorflow==2.19.1"]),
    ("jax", "cuda", "12", ["jax[cuda12]==0.8.1"]),
    ("jax", "cuda", "13", ["jax[cuda13]==0.8.1"]),
    ("jax", "cpu", "auto", ["jax==0.8.1"]),
])
def test_pinned_build_in_pyproject(tmp_path, framework, accelerator, cuda, expected):
    version = {"pytorch": "2.13.0", "tensorflow": "2.19.1", "jax": "0.8.1"}[framework]
    root = render(tmp_path / "p", framework=framework, framework_version=version,
                  accelerator=accelerator, cuda_version=cuda, python_version="3.12")
    assert dependencies(root) == expected


def test_cuda_requirement_recorded_for_the_runtime(tmp_path):
    root = render(tmp_path / "p", framework="pytorch", framework_version="2.10.0")
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=12.0"' in dockerfile  # minor-version compatibility floor
    assert "PROJECT_CUDA_VERSION=12.8" in dockerfile
    assert ">= 570.26" in dockerfile  # full-support driver, from the data


def test_major_only_cuda_records_the_compatibility_floor(tmp_path):
    root = render(tmp_path / "p", framework="tensorflow")
    dockerfile = (root / ".devcontainer/Dockerfile").read_text()
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=12.0"' in dockerfile and "PROJECT_CUDA_VERSION=12\n" in dockerfile
    assert "runs on host drivers >= 525.60.13" in dockerfile and "full support" not in dockerfile


def test_cpu_project_has_no_cuda_requirement(tmp_path):
    root = render(tmp_path / "p", framework="jax", accelerator="cpu")
    assert "NVIDIA_REQUIRE_CUDA" not in (root / ".devcontainer/Dockerfile").read_text()


def test_data_is_consistent():
    data = versions.load()
    for framework, spec in data["frameworks"].items():
        assert set(spec["requirement"]) == {"cuda", "cpu"}, framework
        for version, release in spec["releases"].items():
            for cuda in release["cuda"]:
                assert cuda.split(".")[0] in data["cuda"]["minor_compat_min_driver"], f"{framework} {version}: {cuda}"
                if "." in cuda:
                    assert cuda in data["cuda"]["releases"], f"{framework} {version}: CUDA {cuda} has no driver data"


def test_lock_covers_linux_amd64_and_arm64(tmp_path):
    root = render(tmp_path / "p", lock=True, framework="pytorch", python_version=LOCK_PYTHON)
    lock = tomllib.loads((root / "uv.lock").read_text())
    torch = next(p for p in lock["package"] if p["name"] == "torch")
    wheels = [w["url"].rsplit("/", 1)[1] for w in torch["wheels"]]
    assert any("x86_64" in w for w in wheels) and any("aarch64" in w for w in wheels)
    assert all(w["hash"].startswith("sha256:") for w in torch["wheels"])
    assert not any("win" in w or "macosx" in w for w in wheels)  # only the container's platforms
