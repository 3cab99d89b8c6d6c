"""How the GPU checks (tests/gpu/, judging in tests/utils/gpu_check.py) judge env-doctor's report on
a GPU machine, fed real env-doctor output with a fake NVML (the test machines have no GPU;
docs/gpu-check.md runs the real one)."""

from __future__ import annotations

import sys

import pytest
from env_doctor import facts

from tests.utils import gpu_check
from tests.utils.env_doctor_cli import report, run
from tests.utils.fake_nvml import H100, FakeNVML, torch_fw

NVML_H100 = {"count": 1, "driver": "550.54.14", "names": [H100["name"]]}


def judge(capsys, tmp_path, nvml) -> dict:
    data = report(capsys)[1]
    return {r["check"]: r for r in gpu_check.check_report_facts(data, nvml)}


def test_a_good_gpu_report_passes(env, capsys, tmp_path, monkeypatch):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    results = judge(capsys, tmp_path, NVML_H100)
    assert results["env-doctor facts"]["status"] == "FAIL"  # the env fixture has no cuDNN
    assert results["env-doctor facts"]["detail"] == "cudnn not found"
    monkeypatch.setattr(facts, "cuda_library_facts", lambda dirs: {
        "cudart": {"version": "12.4", "path": "/x/libcudart.so.12"}, "cudnn": {"version": "9.1.0", "path": "/x/libcudnn.so.9"}})
    results = judge(capsys, tmp_path, NVML_H100)
    assert results["env-doctor facts"]["status"] == "PASS"
    assert "driver 550.54.14 (CUDA 12.4), NVIDIA H100 80GB HBM3" in results["env-doctor facts"]["detail"]
    arch = results["arch list vs compute capability"]
    assert arch["status"] == "PASS" and "covers cc 9.0" in arch["detail"]


def test_a_build_without_kernels_for_the_gpu_fails(env, capsys, tmp_path):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw(arch=["sm_75", "sm_80", "sm_86"])]
    arch = judge(capsys, tmp_path, NVML_H100)["arch list vs compute capability"]
    assert arch["status"] == "FAIL" and "no kernels for NVIDIA H100 80GB HBM3 (cc 9.0)" in arch["detail"]


@pytest.mark.parametrize(("frameworks", "reason"), [
    ([torch_fw(devices=0)], "torch sees 0 of 1 GPU(s)"),
    ([{"name": "jax", "error": "ImportError: no jaxlib"}], "a framework failed to import"),
])
def test_a_framework_blind_to_the_gpu_fails(env, capsys, tmp_path, frameworks, reason):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = frameworks
    facts = judge(capsys, tmp_path, NVML_H100)["env-doctor facts"]
    assert facts["status"] == "FAIL" and reason in facts["detail"]


def test_nvml_and_env_doctor_disagreeing_fails(env, capsys, tmp_path):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")  # env-doctor sees nothing
    facts = judge(capsys, tmp_path, NVML_H100)["env-doctor facts"]
    assert facts["status"] == "FAIL" and "driver not reported" in facts["detail"]


def test_no_gpu_is_reported_and_the_arch_check_skipped(env, capsys, tmp_path):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")
    env.frameworks = [torch_fw(devices=0)]
    results = judge(capsys, tmp_path, {"count": 0, "error": "NVMLError_LibraryNotFound"})
    assert results["env-doctor facts"]["status"] == "PASS"
    assert results["env-doctor facts"]["detail"].startswith("no GPU reported consistently")
    assert results["arch list vs compute capability"]["status"] == "SKIP"


@pytest.mark.parametrize(("nvml", "status", "detail"), [
    (NVML_H100, "PASS", "diff.txt names driver 550.54.14 and NVIDIA H100 80GB HBM3 against the CPU snapshot"),
    ({"count": 1, "driver": "580.95.05", "names": ["NVIDIA H200"]}, "FAIL", "diff.txt does not name 580.95.05, NVIDIA H200"),
])
def test_the_snapshot_diff_must_name_the_driver_and_the_gpu(env, capsys, tmp_path, nvml, status, detail):
    """The real env-doctor (a subprocess, no GPU here) diffed with a GPU snapshot made with the fake
    NVML: the same comparison as a run on a GPU machine makes, the other way round."""
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    (tmp_path / "gpu-snapshot.json").write_text(run(capsys, "snapshot")[1])
    (tmp_path / "out").mkdir()
    ed = gpu_check.EnvDoctor(sys.executable, gpu_check.Log(tmp_path / "out/gpu-check.log"))
    checked, _ = gpu_check.check_snapshot(ed, sys.executable, None, nvml, tmp_path / "gpu-snapshot.json", tmp_path / "out")
    results = {r["check"]: r for r in checked}
    assert results["env-doctor snapshot"]["status"] == "PASS"
    assert (results["snapshot diff"]["status"], results["snapshot diff"]["detail"]) == (status, detail)
    assert "no GPU" in (tmp_path / "out/diff.txt").read_text()
