"""env-doctor (features/src/env-doctor): checks, exit codes, JSON schema, snapshot and diff.

The unit tests replace NVML with a fake and the project probe with canned data, so they run on
any machine; test_real_nvml (marker `gpu`) runs the real NVML path where a GPU exists.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parent.parent
FEATURE = REPO / "features" / "src" / "env-doctor"
sys.path.insert(0, str(FEATURE))
import env_doctor  # noqa: E402

GIB = 2**30
H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaa", "cc": (9, 0), "total": 80 * GIB, "used": 1 * GIB, "util": 0}
A100 = {"name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-bbbb", "cc": (8, 0), "total": 40 * GIB, "used": 1 * GIB, "util": 0}
B200 = {"name": "NVIDIA B200", "uuid": "GPU-cccc", "cc": (10, 0), "total": 180 * GIB, "used": 1 * GIB, "util": 0}


class FakeNVMLError(Exception):
    pass


class FakeNVML:
    """The slice of pynvml env-doctor uses, answering for the given driver and GPUs."""

    def __init__(self, driver="550.54.14", cuda=12040, gpus=(), init_error=None):
        self.driver, self.cuda, self.gpus, self.init_error = driver, cuda, list(gpus), init_error

    def nvmlInit(self):
        if self.init_error:
            raise FakeNVMLError(self.init_error)

    def nvmlShutdown(self):
        pass

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self):
        return self.cuda

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        return self.gpus[index]

    def nvmlDeviceGetName(self, gpu):
        return gpu["name"].encode()  # older nvidia-ml-py releases return bytes

    def nvmlDeviceGetUUID(self, gpu):
        return gpu["uuid"]

    def nvmlDeviceGetMemoryInfo(self, gpu):
        return SimpleNamespace(total=gpu["total"], used=gpu["used"], free=gpu["total"] - gpu["used"])

    def nvmlDeviceGetUtilizationRates(self, gpu):
        return SimpleNamespace(gpu=gpu["util"], memory=0)

    def nvmlDeviceGetCudaComputeCapability(self, gpu):
        return gpu["cc"]


def torch_fw(version="2.6.0+cu124", cuda="12.4", devices=1, cc="9.0", arch=None, threads=2):
    arch = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"] if arch is None else arch
    return {"name": "torch", "version": version, "cuda": cuda, "cudnn": 90100, "arch_list": arch,
            "threads": threads, "cuda_available": devices > 0,
            "devices": [{"name": "gpu", "compute_capability": cc}] * devices}


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A controllable container: set .nvml, .frameworks, .cudart, .shm, .cpus, .packages."""
    state = SimpleNamespace(nvml=FakeNVML(), frameworks=[], cudart="12.4", shm=8 * GIB, cpus=4,
                            packages={"numpy": "2.1.0"}, python_error=None)

    def probe(python):
        if state.python_error:
            raise env_doctor.ProbeError(state.python_error)
        return {"python": {"executable": python, "version": "3.11.2"}, "site_dirs": [],
                "packages": dict(state.packages), "frameworks": state.frameworks}

    monkeypatch.setattr(env_doctor, "load_nvml", lambda: state.nvml)
    monkeypatch.setattr(env_doctor, "run_probe", probe)
    monkeypatch.setattr(env_doctor, "cuda_library_facts", lambda dirs: {
        "cudart": {"version": state.cudart, "path": "/opt/venv/lib/nvidia/cuda_runtime/lib/libcudart.so.12"}
        if state.cudart else None, "cudnn": None})
    monkeypatch.setattr(env_doctor, "shm_bytes", lambda: state.shm)
    monkeypatch.setattr(env_doctor, "cpu_facts", lambda: {
        "host_cpus": 16, "affinity_cpus": state.cpus, "cgroup_quota_cpus": None, "usable_cpus": state.cpus,
        "omp_num_threads": None})
    monkeypatch.setattr(env_doctor, "SETTINGS_FILE", tmp_path / "settings.json")
    monkeypatch.chdir(tmp_path)
    return state


def run(capsys, *argv):
    code = env_doctor.main(list(argv))
    return code, capsys.readouterr().out


def report(capsys, *argv):
    code, out = run(capsys, "--json", *argv)
    return code, json.loads(out)


def checks(data, name):
    return [c for c in data["checks"] if c["name"] == name]


# --- no driver, no GPU ------------------------------------------------------------------------

def test_no_driver_is_said_plainly_and_the_rest_is_checked(env, capsys):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")
    code, out = run(capsys)
    assert "no NVIDIA driver/GPU visible" in out
    assert "NVML Shared Library Not Found" in out
    assert "shm" in out and "cpu" in out  # the other checks still ran
    assert code == env_doctor.EXIT_OK  # a CPU-only machine is not a problem


def test_pynvml_missing_is_not_a_crash(env, capsys, monkeypatch):
    def missing():
        raise ModuleNotFoundError("No module named 'pynvml'")
    monkeypatch.setattr(env_doctor, "load_nvml", missing)
    code, data = report(capsys)
    assert data["driver"]["available"] is False and data["gpus"] == []
    assert code == env_doctor.EXIT_OK


def test_no_driver_tells_which_driver_the_runtime_needs(env, capsys):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "info"
    assert "CUDA 12.4 (the CUDA runtime library) needs driver >= 550.54.14 for full support" in driver["message"]
    assert "(>= 525.60.13 with minor-version compatibility)" in driver["message"]
    assert code == env_doctor.EXIT_OK


def test_driver_without_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[])
    code, out = run(capsys)
    assert "NVIDIA driver 550.54.14 loaded but no GPU visible" in out
    assert code == env_doctor.EXIT_OK


def test_require_gpu_exits_2_without_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[])
    code, out = run(capsys, "--require-gpu")
    assert code == env_doctor.EXIT_NO_GPU == 2
    assert "a GPU is required" in out


def test_require_gpu_passes_with_a_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    code, _ = run(capsys, "--require-gpu")
    assert code == env_doctor.EXIT_OK


# --- driver vs CUDA runtime -------------------------------------------------------------------

def test_driver_too_old_for_the_runtime(env, capsys):
    env.nvml = FakeNVML(driver="470.82.01", cuda=11040, gpus=[H100])
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "error"
    assert "too old for CUDA 12.4" in driver["message"]
    assert "550.54.14" in driver["message"] and "525.60.13" in driver["message"]  # both floors, from versions.yml
    assert code == env_doctor.EXIT_PROBLEMS


def test_minor_version_compatibility_only(env, capsys):
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[H100])
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "warn"
    assert "minor-version compatibility only" in driver["message"]
    assert "full support needs 550.54.14" in driver["message"]
    assert "CUDA 12.2 or older" in driver["hint"]  # the newest CUDA this driver fully supports
    assert code == env_doctor.EXIT_PROBLEMS


def test_driver_new_enough_is_ok(env, capsys):
    env.nvml = FakeNVML(driver="560.35.03", cuda=12060, gpus=[H100])
    env.frameworks = [torch_fw()]
    code, data = report(capsys)
    assert [c["status"] for c in checks(data, "driver")] == ["ok"]
    assert code == env_doctor.EXIT_OK, data["checks"]


def test_driver_floors_come_from_versions_yml(env, capsys, monkeypatch):
    versions = env_doctor.load_versions()
    versions["cuda"]["releases"]["12.4"]["min_driver"] = "999.1"
    monkeypatch.setattr(env_doctor, "load_versions", lambda: versions)
    env.nvml = FakeNVML(driver="560.35.03", gpus=[H100])
    _, data = report(capsys)
    assert "full support needs 999.1" in checks(data, "driver")[0]["message"]


# --- framework build vs GPU -------------------------------------------------------------------

def test_compute_capability_missing_from_the_build(env, capsys):
    env.nvml = FakeNVML(driver="570.124.06", cuda=12080, gpus=[B200])
    env.frameworks = [torch_fw(cc="10.0")]  # sm_50..sm_90 only: no Blackwell kernels
    code, data = report(capsys)
    [compute] = checks(data, "compute")
    assert compute["status"] == "error"
    assert "no kernels for GPU 0 (NVIDIA B200, compute capability 10.0)" in compute["message"]
    assert "sm_90" in compute["message"]
    assert code == env_doctor.EXIT_PROBLEMS


def test_same_major_cubin_and_ptx_count_as_supported():
    versions = env_doctor.load_versions()
    assert env_doctor.compute_support(versions, torch_fw(arch=["sm_80"]), "8.6")[0] is True
    ok, how = env_doctor.compute_support(versions, torch_fw(arch=["sm_80", "compute_80"]), "9.0")
    assert ok is True and "PTX" in how
    assert env_doctor.compute_support(versions, torch_fw(arch=["sm_90a"]), "9.0")[0] is True


def test_compute_range_from_versions_yml_without_arch_list(env, capsys):
    env.nvml = FakeNVML(driver="570.124.06", cuda=12080, gpus=[B200])
    env.frameworks = [{"name": "jax", "version": "0.6.2", "cuda": None, "arch_list": None, "threads": None,
                       "cuda_available": True, "devices": [{"name": "B200", "compute_capability": "10.0"}]}]
    _, data = report(capsys)
    [compute] = checks(data, "compute")
    assert compute["status"] == "error" and "5.2 to 9.0 (versions.yml)" in compute["message"]


def test_framework_cuda_from_versions_yml_when_the_framework_does_not_say(env, capsys):
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[H100])
    env.cudart = None
    env.frameworks = [{"name": "jax", "version": "0.6.2", "cuda": None, "arch_list": None, "threads": None,
                       "cuda_available": True, "devices": [{"name": "H100", "compute_capability": "9.0"}]}]
    _, data = report(capsys)
    release_cuda = env_doctor.load_versions()["frameworks"]["jax"]["releases"]["0.6.2"]["cuda"]
    driver = checks(data, "driver")
    if "." in release_cuda[-1]:  # versions.yml pins major.minor: the driver is judged against it
        assert f"CUDA {release_cuda[-1]} (jax's build)" in driver[0]["message"]
    else:  # a bare major: only the runtime library found can decide, and there is none
        assert "no CUDA runtime in the project environment" in driver[0]["message"]


def test_cpu_only_torch_on_a_gpu_machine(env, capsys):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw(version="2.6.0+cpu", cuda=None, devices=0, arch=[])]
    code, data = report(capsys)
    [fw] = checks(data, "framework")
    assert fw["status"] == "error" and "CPU-only build" in fw["message"]
    assert code == env_doctor.EXIT_PROBLEMS


def test_framework_without_gpu_runs_on_cpu(env, capsys):
    env.nvml = FakeNVML(init_error="Driver Not Loaded")
    env.frameworks = [torch_fw(devices=0)]
    code, data = report(capsys)
    assert "torch 2.6.0+cu124 (CUDA 12.4 build) will run on the CPU" in checks(data, "framework")[0]["message"]
    assert code == env_doctor.EXIT_OK


def test_framework_import_failure_is_reported(env, capsys):
    env.frameworks = [{"name": "tensorflow", "error": "ImportError: libcudnn.so.9: cannot open shared object file"}]
    code, data = report(capsys)
    assert "importing tensorflow failed" in checks(data, "framework")[0]["message"]
    assert code == env_doctor.EXIT_PROBLEMS


# --- GPUs in use, /dev/shm, CPUs --------------------------------------------------------------

def test_two_gpus_one_busy(env, capsys):
    busy = dict(A100, uuid="GPU-busy", util=97, used=38 * GIB)
    env.nvml = FakeNVML(gpus=[A100, busy])
    env.frameworks = [torch_fw(devices=2, cc="8.0")]
    code, out = run(capsys)
    assert "GPU-bbbb" in out and "GPU-busy" in out  # both listed in the table
    assert "GPU 1 (NVIDIA A100-SXM4-40GB) is busy: 97% utilization, 38.0 GiB of 40.0 GiB" in out
    assert "GPU 0 (NVIDIA A100-SXM4-40GB) is busy" not in out
    assert "sees all 2 GPU(s)" in out
    assert code == env_doctor.EXIT_PROBLEMS


def test_framework_sees_fewer_gpus(env, capsys):
    env.nvml = FakeNVML(gpus=[A100, A100])
    env.frameworks = [torch_fw(devices=1, cc="8.0")]
    _, data = report(capsys)
    assert "sees 1 of 2 GPU(s)" in checks(data, "framework")[0]["message"]


def test_small_shm(env, capsys):
    env.shm = 64 * 2**20  # Docker's default
    code, out = run(capsys, "--quiet")
    assert "/dev/shm is 64 MiB" in out and "--shm-size" in out
    assert code == env_doctor.EXIT_PROBLEMS


def test_threads_above_usable_cpus(env, capsys):
    env.cpus = 2
    env.frameworks = [torch_fw(devices=0, threads=16)]
    code, data = report(capsys)
    [cpu] = checks(data, "cpu")
    assert cpu["status"] == "warn" and "16 threads on 2 usable CPU(s)" in cpu["message"]
    assert "OMP_NUM_THREADS=2" in cpu["hint"]
    assert code == env_doctor.EXIT_PROBLEMS


def test_cgroup_quota_limits_usable_cpus(monkeypatch):
    monkeypatch.setattr(env_doctor, "cgroup_cpu_quota", lambda: 1.5)
    facts = env_doctor.cpu_facts()
    assert facts["usable_cpus"] == min(2, facts["affinity_cpus"])


# --- quiet, start-up, usage, JSON -------------------------------------------------------------

def test_quiet_prints_nothing_when_all_is_well(env, capsys):
    code, out = run(capsys, "--quiet")
    assert (code, out) == (env_doctor.EXIT_OK, "")


def test_on_start_never_fails_and_honours_check_on_start(env, capsys, monkeypatch):
    env.shm = 64 * 2**20
    code, out = run(capsys, "--on-start")
    assert code == 0 and "WARN shm" in out
    env_doctor.SETTINGS_FILE.write_text('{"projectPython": "", "checkOnStart": false}')
    assert run(capsys, "--on-start") == (0, "")
    env_doctor.SETTINGS_FILE.write_text('{"projectPython": "", "checkOnStart": true}')
    monkeypatch.setattr(env_doctor, "collect", lambda *a: 1 / 0)
    assert env_doctor.main(["--on-start"]) == 0
    assert "internal error" in capsys.readouterr().err


def test_missing_project_python_is_an_error(env, capsys):
    env.python_error = "project interpreter /opt/venv/bin/python not found"
    code, out = run(capsys)
    assert "not found" in out and "projectPython" in out
    assert code == env_doctor.EXIT_PROBLEMS


def test_project_python_option_is_used(env, capsys):
    env_doctor.SETTINGS_FILE.write_text('{"projectPython": "/srv/env/bin/python", "checkOnStart": true}')
    _, data = report(capsys)
    assert data["project_python"]["path"] == "/srv/env/bin/python"


def test_usage_error_exits_3(env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        env_doctor.main(["--no-such-option"])
    assert exit_info.value.code == env_doctor.EXIT_USAGE == 3


def test_json_schema_keys(env, capsys):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    code, data = report(capsys)
    assert set(data) >= {"schema_version", "kind", "env_doctor", "project_python", "driver", "gpus",
                         "cuda_libraries", "frameworks", "shm", "cpu", "os", "lockfile", "package_count",
                         "checks", "problems", "exit_code"}
    assert data["schema_version"] == 1 and data["kind"] == "check" and data["exit_code"] == code
    assert set(data["gpus"][0]) == {"index", "name", "uuid", "memory_total_bytes", "memory_used_bytes",
                                    "utilization_percent", "compute_capability"}
    assert data["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3" and data["gpus"][0]["compute_capability"] == "9.0"
    assert data["driver"] == {"available": True, "version": "550.54.14", "cuda": "12.4", "error": None}
    assert all(set(c) == {"name", "status", "message", "hint"} for c in data["checks"])
    assert all(c["status"] in env_doctor.STATUS_ORDER for c in data["checks"])


# --- snapshot and diff ------------------------------------------------------------------------

def take_snapshot(env, capsys, path):
    assert env_doctor.main(["snapshot", "-o", str(path)]) == 0
    capsys.readouterr()
    return path


def test_snapshot_content(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    env.nvml = FakeNVML(gpus=[dict(H100, util=80)])
    snap = json.loads(take_snapshot(env, capsys, tmp_path / "a.json").read_text())
    assert snap["kind"] == "snapshot" and snap["schema_version"] == 1
    assert snap["packages"] == {"numpy": "2.1.0"}
    assert snap["lockfile"]["path"] == str(tmp_path / "uv.lock") and len(snap["lockfile"]["sha256"]) == 64
    assert snap["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    assert "utilization_percent" not in snap["gpus"][0]  # load is not part of the fingerprint
    assert snap["os"]["pretty_name"]


def test_lockfile_found_in_a_parent_or_given(env, tmp_path, monkeypatch):
    (tmp_path / "uv.lock").write_text("x")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "pkg")
    assert env_doctor.find_project() == tmp_path
    assert env_doctor.find_project("/somewhere") == Path("/somewhere")


def test_diff_identical_exits_0(env, capsys, tmp_path):
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 0 and "no differences" in out


def test_diff_groups_and_driver_consequence(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[A100])
    env.frameworks = [torch_fw(cc="8.0")]
    env.packages = {"numpy": "1.26.4", "six": "1.16.0", "tqdm": "4.66.0"}
    a = take_snapshot(env, capsys, tmp_path / "a.json")

    (tmp_path / "uv.lock").write_text("version = 2\n")
    env.nvml = FakeNVML(driver="550.54.14", cuda=12040, gpus=[H100])
    env.frameworks = [torch_fw(version="2.7.1+cu126", cuda="12.6")]
    env.packages = {"numpy": "2.1.0", "tqdm": "4.66.0", "rich": "13.7.1"}
    b = take_snapshot(env, capsys, tmp_path / "b.json")

    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 1
    assert ("driver 535.54.03 vs 550.54.14: the CUDA 12.4 runtime needs 550.54.14 for full support; "
            "535.54.03 runs it with minor-version compatibility only") in out.replace("\n      -> ", ": ")
    lines = out.splitlines()
    groups = [line for line in lines if line and not line.startswith((" ", "A =", "B ="))]
    assert groups == ["driver", "GPUs", "framework", "packages added", "packages removed", "packages changed",
                      "lockfile"]
    assert "  rich 13.7.1 (only in B)" in lines
    assert "  six 1.16.0 (only in A)" in lines
    assert "  numpy 1.26.4 vs 2.1.0" in lines and "major version change" in out
    assert "tqdm" not in out
    assert "torch 2.6.0+cu124 (CUDA 12.4) vs 2.7.1+cu126 (CUDA 12.6)" in out

    code, out = run(capsys, "diff", "--json", str(a), str(b))
    data = json.loads(out)
    assert code == 1 and data["identical"] is False
    assert {"group", "what", "consequence"} == set(data["differences"][0])


def test_diff_same_lock_different_packages_means_out_of_sync(env, capsys, tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n")
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    env.packages = {"numpy": "2.1.0", "six": "1.17.0"}
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    code, out = run(capsys, "diff", str(a), str(b))
    assert code == 1 and "six 1.17.0 (only in B)" in out and "uv sync --frozen" in out


def test_diff_no_driver_on_one_side(env, capsys, tmp_path):
    env.nvml = FakeNVML(gpus=[H100])
    a = take_snapshot(env, capsys, tmp_path / "a.json")
    env.nvml = FakeNVML(init_error="Driver Not Loaded")
    b = take_snapshot(env, capsys, tmp_path / "b.json")
    _, out = run(capsys, "diff", str(a), str(b))
    assert "B has no NVIDIA driver visible: it runs on the CPU only" in out


def test_diff_unreadable_snapshot_exits_3(env, capsys, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    assert env_doctor.main(["diff", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 3
    assert "cannot read snapshot" in capsys.readouterr().err


# --- the probe and the library readers on this machine ----------------------------------------

def test_probe_runs_with_a_plain_interpreter():
    data = env_doctor.run_probe(sys.executable)
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
    [torch] = env_doctor.run_probe(sys.executable)["frameworks"]
    assert torch == {"name": "torch", "version": "2.6.0+cu124", "cuda": "12.4", "threads": 7, "cudnn": 90100,
                     "arch_list": ["sm_80", "sm_90"], "cuda_available": False, "devices": []}


def test_probe_survives_a_broken_framework(tmp_path, monkeypatch):
    (tmp_path / "jax").mkdir()
    (tmp_path / "jax" / "__init__.py").write_text("raise ImportError('jaxlib is not installed')")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    [jax] = env_doctor.run_probe(sys.executable)["frameworks"]
    assert jax == {"name": "jax", "error": "ImportError: jaxlib is not installed"}


def test_probe_missing_interpreter():
    with pytest.raises(env_doctor.ProbeError, match="not found"):
        env_doctor.run_probe("/no/such/python")


def test_version_decoding():
    assert env_doctor.cuda_str(12040) == "12.4" and env_doctor.cuda_str(11080) == "11.8"
    assert env_doctor.cudnn_str(90100) == "9.1.0" and env_doctor.cudnn_str(8902) == "8.9.2"


def test_cudart_from_project_wheels_first(tmp_path):
    lib = tmp_path / "nvidia" / "cuda_runtime" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcudart.so.12").write_text("")
    assert env_doctor.find_library("cudart", [str(tmp_path)]) == str(lib / "libcudart.so.12")


# --- the feature ships its own copy of the version facts --------------------------------------

def test_versions_yml_copy_is_the_data():
    source, copy = REPO / "data" / "versions.yml", FEATURE / "versions.yml"
    assert copy.read_text().endswith(source.read_text()), (
        "features/src/env-doctor/versions.yml differs from data/versions.yml: run 'python scripts/sync.py'")


def test_no_version_numbers_in_the_code():
    code = (FEATURE / "env_doctor.py").read_text()
    for release in env_doctor.load_versions()["cuda"]["releases"].values():
        assert release["min_driver"] not in code


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
    code = env_doctor.main(["--json", "--require-gpu", "--python", sys.executable])
    data = json.loads(capsys.readouterr().out)
    assert data["driver"]["available"], data["driver"]
    assert data["driver"]["version"] and data["driver"]["cuda"]
    assert data["gpus"], "NVML saw no GPU on a machine with an NVIDIA device"
    for gpu in data["gpus"]:
        assert gpu["uuid"].startswith(("GPU-", "MIG-")) and gpu["memory_total_bytes"] > 0
        assert gpu["compute_capability"]
    assert code in (env_doctor.EXIT_OK, env_doctor.EXIT_PROBLEMS)
