"""env-doctor's facts (env_doctor/facts.py): NVML, the project probe run with a real interpreter,
the CUDA library readers, CPUs and the lockfile. The real NVML path runs only where a GPU exists
(marker `gpu`)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from env_doctor import cli, common, facts
from env_doctor.common import EXIT_OK, EXIT_PROBLEMS, cuda_str, cudnn_str

from tests.utils.env_doctor_cli import report


def test_pynvml_missing_is_not_a_crash(env, capsys, monkeypatch):
    def missing():
        raise ModuleNotFoundError("No module named 'pynvml'")
    monkeypatch.setattr(facts, "load_nvml", missing)
    code, data = report(capsys)
    assert data["driver"]["available"] is False and data["gpus"] == []
    assert code == EXIT_OK


def test_cgroup_quota_limits_usable_cpus(monkeypatch):
    monkeypatch.setattr(facts, "cgroup_cpu_quota", lambda: 1.5)
    cpu = facts.cpu_facts()
    assert cpu["usable_cpus"] == min(2, cpu["affinity_cpus"])


def test_lockfile_found_in_a_parent_or_given(env, tmp_path, monkeypatch):
    (tmp_path / "uv.lock").write_text("x")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "pkg")
    assert facts.find_project() == tmp_path
    assert facts.find_project("/somewhere") == Path("/somewhere")


# --- the probe and the library readers on this machine ----------------------------------------

def test_probe_runs_with_a_plain_interpreter():
    data = facts.run_probe(sys.executable)
    assert data["python"]["executable"] == sys.executable
    assert data["packages"]["pytest"] == pytest.__version__
    assert isinstance(data["frameworks"], list)


FAKE_TORCH = """
__version__ = "2.6.0+cu124"
class version: cuda = "12.4"
class backends:
    class cudnn:
        @staticmethod
        def version(): return 90100
class cuda:
    @staticmethod
    def get_arch_list(): return ["sm_80", "sm_90"]
    @staticmethod
    def is_available(): return False
def get_num_threads(): return 7
"""


def test_probe_reports_torch_without_gpu(tmp_path, monkeypatch):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(FAKE_TORCH)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    [torch] = facts.run_probe(sys.executable)["frameworks"]
    assert torch == {"name": "torch", "version": "2.6.0+cu124", "cuda": "12.4", "threads": 7, "cudnn": 90100,
                     "arch_list": ["sm_80", "sm_90"], "cuda_available": False, "devices": []}


def test_probe_as_root_leaves_no_bytecode_in_the_project_environment(tmp_path, monkeypatch):
    # At image build env-doctor runs as root: a root-owned __pycache__ in the user's environment
    # would keep that user from caching the package's other modules. As the user, Python caches.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(FAKE_TORCH)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setattr(common.os, "geteuid", lambda: 0)
    assert facts.run_probe(sys.executable)["frameworks"][0]["version"] == "2.6.0+cu124"
    assert not (tmp_path / "torch/__pycache__").exists()
    monkeypatch.setattr(common.os, "geteuid", lambda: 1000)
    facts.run_probe(sys.executable)
    assert list((tmp_path / "torch/__pycache__").glob("__init__.*.pyc"))


def install_fake(site: Path, name: str, version: str, requires: tuple[str, ...] = (), module: str | None = None,
                 source: str = "") -> None:
    """A distribution as an installer leaves it: NAME-VERSION.dist-info (and its module, if any)."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                         + "".join(f"Requires-Dist: {r}\n" for r in requires))
    if module:
        info.joinpath("top_level.txt").write_text(module + "\n")
        (site / module).mkdir()
        (site / module / "__init__.py").write_text(source)


def test_build_snapshots_import_the_framework_again_only_when_what_its_facts_depend_on_changed(tmp_path, monkeypatch):
    # An image build takes two snapshots: one of the framework alone (before the lock's step), one
    # after it (the feature's). A package added beside the framework must not import it again.
    site, imports = tmp_path / "site", tmp_path / "imports"
    counting_torch = f"open({str(imports)!r}, 'a').write('imported\\n')\n" + FAKE_TORCH
    install_fake(site, "torch", "2.6.0+cu124", ("nvidia-cudnn-cu12==9.1.0", "cuda-toolkit[cublas]==12.4",
                                                  'optree>=0.13; extra == "optree"'), "torch", counting_torch)
    install_fake(site, "nvidia-cudnn-cu12", "9.1.0")
    install_fake(site, "cuda-toolkit", "12.4", ('nvidia-cublas==12.4.5; extra == "cublas"',
                                                  'nvidia-cufft==11.2; extra == "cufft"'))
    install_fake(site, "nvidia-cublas", "12.4.5")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setattr(facts, "FRAMEWORK_CACHE", tmp_path / "cache/frameworks.json")
    imported = lambda: imports.read_text().count("imported") if imports.exists() else 0  # noqa: E731

    first = facts.collect(sys.executable, at_build=True)["frameworks"]
    assert imported() == 1 and first[0]["version"] == "2.6.0+cu124"
    # the project's other packages arrive, an extra's package among them, or one of an extra not asked for
    install_fake(site, "six", "1.17.0")
    install_fake(site, "optree", "0.14.0")
    install_fake(site, "nvidia-cufft", "11.2")
    assert facts.collect(sys.executable, at_build=True)["frameworks"] == first
    assert imported() == 1
    # a library the framework loads changes: cuDNN directly, cuBLAS through the extra torch asks for
    for changed in ("nvidia_cudnn_cu12-9.1.0", "nvidia_cublas-12.4.5"):
        info = next(site.glob(f"{changed.replace('_', '?')}.dist-info"))
        info.joinpath("METADATA").write_text(info.joinpath("METADATA").read_text().replace("\nVersion: ", "\nVersion: 1"))
        count = imported()
        facts.collect(sys.executable, at_build=True)
        assert imported() == count + 1, changed
    # a container's facts are always its own: no cache, and no key computed at every start
    count = imported()
    facts.collect(sys.executable)
    assert imported() == count + 1
    assert facts.run_probe(sys.executable)["framework_keys"] == {}


def test_probe_survives_a_broken_framework(tmp_path, monkeypatch):
    (tmp_path / "jax").mkdir()
    (tmp_path / "jax" / "__init__.py").write_text("raise ImportError('jaxlib is not installed')")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    [jax] = facts.run_probe(sys.executable)["frameworks"]
    assert jax == {"name": "jax", "error": "ImportError: jaxlib is not installed"}


def test_probe_missing_interpreter():
    with pytest.raises(facts.ProbeError, match="not found"):
        facts.run_probe("/no/such/python")


def test_version_decoding():
    assert cuda_str(12040) == "12.4" and cuda_str(11080) == "11.8"
    assert cudnn_str(90100) == "9.1.0" and cudnn_str(8902) == "8.9.2"


def test_cudart_from_project_wheels_first(tmp_path):
    lib = tmp_path / "nvidia" / "cuda_runtime" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcudart.so.12").write_text("")
    assert facts.find_library("cudart", [str(tmp_path)]) == str(lib / "libcudart.so.12")


# --- real NVML (machines with an NVIDIA GPU) --------------------------------------------------

def _gpu_present() -> bool:
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_present(), reason="no NVIDIA GPU on this machine")
def test_real_nvml(capsys):
    try:
        import pynvml  # noqa: F401
    except ImportError:
        pytest.fail("this machine has an NVIDIA GPU but the test environment lacks nvidia-ml-py: pip install nvidia-ml-py")
    code = cli.main(["--json", "--require-gpu", "--python", sys.executable])
    data = json.loads(capsys.readouterr().out)
    assert data["driver"]["available"], data["driver"]
    assert data["driver"]["version"] and data["driver"]["cuda"]
    assert data["gpus"], "NVML saw no GPU on a machine with an NVIDIA device"
    for gpu in data["gpus"]:
        assert gpu["uuid"].startswith(("GPU-", "MIG-")) and gpu["memory_total_bytes"] > 0
        assert gpu["compute_capability"]
    assert code in (EXIT_OK, EXIT_PROBLEMS)
