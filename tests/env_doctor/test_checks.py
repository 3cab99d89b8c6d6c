"""env-doctor's judging (env_doctor/checks.py): the checks and exit codes for a container the
`env` fixture fakes, and where the version facts they use come from."""

from __future__ import annotations

from env_doctor import cli
from env_doctor.checks import compute_support
from env_doctor.common import EXIT_NO_GPU, EXIT_OK, EXIT_PROBLEMS, load_versions

from tests.utils.env_doctor_cli import checks, report, run
from tests.utils.fake_nvml import A100, B200, GIB, H100, FakeNVML, torch_fw
from tests.utils.project import REPO

FEATURE = REPO / "features" / "src" / "env-doctor"


# --- no driver, no GPU ------------------------------------------------------------------------

def test_no_driver_is_said_plainly_and_the_rest_is_checked(env, capsys):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")
    code, out = run(capsys)
    assert "no NVIDIA driver/GPU visible" in out
    assert "NVML Shared Library Not Found" in out
    assert "shm" in out and "cpu" in out  # the other checks still ran
    assert code == EXIT_OK  # a CPU-only machine is not a problem


def test_no_driver_tells_which_driver_the_runtime_needs(env, capsys):
    env.nvml = FakeNVML(init_error="NVML Shared Library Not Found")
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "info"
    assert "CUDA 12.4 (the CUDA runtime library) needs driver >= 550.54.14 for full support" in driver["message"]
    assert "(>= 525.60.13 with minor-version compatibility)" in driver["message"]
    assert code == EXIT_OK


def test_driver_without_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[])
    code, out = run(capsys)
    assert "NVIDIA driver 550.54.14 loaded but no GPU visible" in out
    assert code == EXIT_OK


def test_require_gpu_exits_2_without_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[])
    code, out = run(capsys, "--require-gpu")
    assert code == EXIT_NO_GPU == 2
    assert "a GPU is required" in out


def test_require_gpu_passes_with_a_gpu(env, capsys):
    env.nvml = FakeNVML(gpus=[H100])
    env.frameworks = [torch_fw()]
    code, _ = run(capsys, "--require-gpu")
    assert code == EXIT_OK


# --- driver vs CUDA runtime -------------------------------------------------------------------

def test_driver_too_old_for_the_runtime(env, capsys):
    env.nvml = FakeNVML(driver="470.82.01", cuda=11040, gpus=[H100])
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "error"
    assert "too old for CUDA 12.4" in driver["message"]
    assert "550.54.14" in driver["message"] and "525.60.13" in driver["message"]  # both floors, from versions.yml
    assert code == EXIT_PROBLEMS


def test_minor_version_compatibility_only(env, capsys):
    env.nvml = FakeNVML(driver="535.54.03", cuda=12020, gpus=[H100])
    code, data = report(capsys)
    [driver] = checks(data, "driver")
    assert driver["status"] == "warn"
    assert "minor-version compatibility only" in driver["message"]
    assert "full support needs 550.54.14" in driver["message"]
    assert "CUDA 12.2 or older" in driver["hint"]  # the newest CUDA this driver fully supports
    assert code == EXIT_PROBLEMS


def test_driver_new_enough_is_ok(env, capsys):
    env.nvml = FakeNVML(driver="560.35.03", cuda=12060, gpus=[H100])
    env.frameworks = [torch_fw()]
    code, data = report(capsys)
    assert [c["status"] for c in checks(data, "driver")] == ["ok"]
    assert code == EXIT_OK, data["checks"]


def test_driver_floors_come_from_versions_yml(env, capsys, monkeypatch):
    versions = load_versions()
    versions["cuda"]["releases"]["12.4"]["min_driver"] = "999.1"
    monkeypatch.setattr(cli, "load_versions", lambda: versions)  # the check command reads it there
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
    assert code == EXIT_PROBLEMS


def test_same_major_cubin_and_ptx_count_as_supported():
    versions = load_versions()
    assert compute_support(versions, torch_fw(arch=["sm_80"]), "8.6")[0] is True
    ok, how = compute_support(versions, torch_fw(arch=["sm_80", "compute_80"]), "9.0")
    assert ok is True and "PTX" in how
    assert compute_support(versions, torch_fw(arch=["sm_90a"]), "9.0")[0] is True


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
    release_cuda = load_versions()["frameworks"]["jax"]["releases"]["0.6.2"]["cuda"]
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
    assert code == EXIT_PROBLEMS


def test_framework_without_gpu_runs_on_cpu(env, capsys):
    env.nvml = FakeNVML(init_error="Driver Not Loaded")
    env.frameworks = [torch_fw(devices=0)]
    code, data = report(capsys)
    assert "torch 2.6.0+cu124 (CUDA 12.4 build) will run on the CPU" in checks(data, "framework")[0]["message"]
    assert code == EXIT_OK


def test_framework_import_failure_is_reported(env, capsys):
    env.frameworks = [{"name": "tensorflow", "error": "ImportError: libcudnn.so.9: cannot open shared object file"}]
    code, data = report(capsys)
    assert "importing tensorflow failed" in checks(data, "framework")[0]["message"]
    assert code == EXIT_PROBLEMS


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
    assert code == EXIT_PROBLEMS


def test_framework_sees_fewer_gpus(env, capsys):
    env.nvml = FakeNVML(gpus=[A100, A100])
    env.frameworks = [torch_fw(devices=1, cc="8.0")]
    _, data = report(capsys)
    assert "sees 1 of 2 GPU(s)" in checks(data, "framework")[0]["message"]


def test_small_shm(env, capsys):
    env.shm = 64 * 2**20  # Docker's default
    code, out = run(capsys, "--quiet")
    assert "/dev/shm is 64 MiB" in out and "--shm-size" in out
    assert code == EXIT_PROBLEMS


def test_threads_above_usable_cpus(env, capsys):
    env.cpus = 2
    env.frameworks = [torch_fw(devices=0, threads=16)]
    code, data = report(capsys)
    [cpu] = checks(data, "cpu")
    assert cpu["status"] == "warn" and "16 threads on 2 usable CPU(s)" in cpu["message"]
    assert "OMP_NUM_THREADS=2" in cpu["hint"]
    assert code == EXIT_PROBLEMS


# --- the feature ships its own copy of the version facts --------------------------------------

def test_versions_yml_copy_is_the_data():
    source, copy = REPO / "data" / "versions.yml", FEATURE / "env_doctor/data/versions.yml"
    assert copy.read_text().endswith(source.read_text()), (
        "features/src/env-doctor/env_doctor/data/versions.yml differs from data/versions.yml: run 'python scripts/sync.py'")


def test_no_version_numbers_in_the_code():
    modules = sorted((FEATURE / "env_doctor").glob("*.py"))
    assert len(modules) > 1, "env-doctor's package is missing"
    for module in modules:
        code = module.read_text()
        for release in load_versions()["cuda"]["releases"].values():
            assert release["min_driver"] not in code, module.name
