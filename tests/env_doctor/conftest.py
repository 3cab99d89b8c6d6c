"""The `env` fixture: a container whose driver, GPUs, libraries and project environment the test
decides. NVML is faked and the probe answers canned data; monkeypatches target features/src/
env-doctor/env_doctor/facts.py, where collect() looks these up."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from env_doctor import common, facts

from tests.utils.fake_nvml import GIB, FakeNVML


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A controllable container: set .nvml, .frameworks, .cudart, .shm, .cpus, .packages."""
    state = SimpleNamespace(nvml=FakeNVML(), frameworks=[], cudart="12.4", shm=8 * GIB, cpus=4,
                            packages={"numpy": "2.1.0"}, python_error=None)

    def probe(python, cached_frameworks=None):
        if state.python_error:
            raise facts.ProbeError(state.python_error)
        return {"python": {"executable": python, "version": "3.11.2"}, "site_dirs": [],
                "packages": dict(state.packages), "frameworks": state.frameworks}

    monkeypatch.setattr(facts, "load_nvml", lambda: state.nvml)
    monkeypatch.setattr(facts, "run_probe", probe)
    monkeypatch.setattr(facts, "cuda_library_facts", lambda dirs: {
        "cudart": {"version": state.cudart, "path": "/opt/venv/lib/nvidia/cuda_runtime/lib/libcudart.so.12"}
        if state.cudart else None, "cudnn": None})
    monkeypatch.setattr(facts, "shm_bytes", lambda: state.shm)
    monkeypatch.setattr(facts, "cpu_facts", lambda: {
        "host_cpus": 16, "affinity_cpus": state.cpus, "cgroup_quota_cpus": None, "usable_cpus": state.cpus,
        "omp_num_threads": None})
    monkeypatch.setattr(common, "SETTINGS_FILE", tmp_path / "settings.json")
    monkeypatch.chdir(tmp_path)
    return state
