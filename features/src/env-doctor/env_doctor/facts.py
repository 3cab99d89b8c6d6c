"""Facts: what this container has. NVML for the driver and GPUs, the CUDA libraries the
frameworks load, the project environment (through the probe), /dev/shm, CPUs, OS and lockfile.
Nothing here judges; collect() gathers it all as plain JSON-able data."""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import __version__
from .common import PROBE_FILE, SCHEMA_VERSION, cuda_str, cudnn_str, disk_usage, load_settings, project_python_env
from .storage import storage_facts

DEFAULT_VENV_PYTHON = "/opt/venv/bin/python"
PROBE_TIMEOUT_S = 180  # importing TensorFlow on a cold disk can take a minute
# The frameworks' facts an image build found, by framework_key (the probe): a later snapshot of the
# same build (the feature's, after a lock change) takes them from here instead of importing the
# framework again. Read and written at image build only: a container's facts are always its own.
FRAMEWORK_CACHE = Path("/var/cache/env-doctor/frameworks.json")


# --- NVIDIA driver and GPUs (NVML) -------------------------------------------------------------

def load_nvml():
    import pynvml  # nvidia-ml-py; only the driver's libnvidia-ml.so is needed, no CUDA

    return pynvml


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def nvml_facts() -> tuple[dict, list[dict]]:
    """(driver, gpus). Never raises: no NVML library or driver is a fact, not a crash."""
    driver = {"available": False, "version": None, "cuda": None, "error": None}
    try:
        nvml = load_nvml()
        nvml.nvmlInit()
    except Exception as error:  # ImportError, NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded...
        driver["error"] = f"{type(error).__name__}: {error}"
        return driver, []
    gpus = []
    try:
        driver["available"] = True
        driver["version"] = _text(nvml.nvmlSystemGetDriverVersion())
        try:
            driver["cuda"] = cuda_str(nvml.nvmlSystemGetCudaDriverVersion())
        except Exception:
            pass
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            gpu = {"index": index, "name": _text(nvml.nvmlDeviceGetName(handle)),
                   "uuid": _text(nvml.nvmlDeviceGetUUID(handle)),
                   "memory_total_bytes": None, "memory_used_bytes": None,
                   "utilization_percent": None, "compute_capability": None}
            # Each query may be unsupported (MIG, some vGPUs): keep what answers.
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                gpu["memory_total_bytes"], gpu["memory_used_bytes"] = int(memory.total), int(memory.used)
            except Exception:
                pass
            try:
                gpu["utilization_percent"] = int(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            except Exception:
                pass
            try:
                major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
                gpu["compute_capability"] = f"{major}.{minor}"
            except Exception:
                pass
            gpus.append(gpu)
    except Exception as error:
        driver["error"] = f"{type(error).__name__}: {error}"
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass
    return driver, gpus


# --- CUDA libraries the container actually loads -----------------------------------------------

def find_library(stem: str, site_dirs: list[str]) -> str | None:
    """The lib<stem>.so the frameworks load: wheels under site-packages/nvidia/*/lib first
    (torch preloads those), then the system linker path and /usr/local/cuda."""
    for directory in site_dirs:
        found = sorted(glob.glob(os.path.join(directory, "nvidia", "*", "lib", f"lib{stem}.so*")))
        if found:
            return found[0]
    name = ctypes.util.find_library(stem)
    if name:
        return name
    found = sorted(glob.glob(f"/usr/local/cuda/lib64/lib{stem}.so*"))
    return found[0] if found else None


def library_version(path: str, symbol: str) -> int | None:
    """Call the library's own version function; neither needs a GPU or driver."""
    lib = ctypes.CDLL(path)
    if symbol == "cudaRuntimeGetVersion":
        value = ctypes.c_int()
        return value.value if lib.cudaRuntimeGetVersion(ctypes.byref(value)) == 0 else None
    lib.cudnnGetVersion.restype = ctypes.c_size_t
    return int(lib.cudnnGetVersion())


def cuda_library_facts(site_dirs: list[str]) -> dict:
    result = {}
    for key, stem, symbol, fmt in [("cudart", "cudart", "cudaRuntimeGetVersion", cuda_str),
                                   ("cudnn", "cudnn", "cudnnGetVersion", cudnn_str)]:
        path = find_library(stem, site_dirs)
        entry = None
        if path:
            try:
                number = library_version(path, symbol)
                entry = {"version": fmt(number) if number else None, "path": path}
            except Exception as error:  # wrong architecture, missing dependency...
                entry = {"version": None, "path": path, "error": str(error)}
        result[key] = entry
    return result


# --- the project environment (probe run with its interpreter) ----------------------------------

class ProbeError(RuntimeError):
    pass


def run_probe(python: str, cached_frameworks: Path | None = None) -> dict:
    cache_args = ["--cached-frameworks", str(cached_frameworks)] if cached_frameworks else []
    try:
        done = subprocess.run([python, str(PROBE_FILE), *cache_args], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S, env=project_python_env())
    except FileNotFoundError:
        raise ProbeError(f"project interpreter {python} not found") from None
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{python} did not answer within {PROBE_TIMEOUT_S} s") from None
    for line in done.stdout.splitlines():  # frameworks may print on import: find our line
        if line.startswith("ENV-DOCTOR-PROBE "):
            return json.loads(line.split(" ", 1)[1])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise ProbeError(f"{python} failed (exit {done.returncode}): {' | '.join(tail)}")


def project_python(cli: str | None = None) -> str:
    """--python, else the feature's projectPython, else /opt/venv, else python3 on PATH."""
    choice = cli or load_settings().get("projectPython") or ""
    if choice:
        return choice
    if os.access(DEFAULT_VENV_PYTHON, os.X_OK):
        return DEFAULT_VENV_PYTHON
    return shutil.which("python3") or "python3"


# --- container resources -----------------------------------------------------------------------

def shm_bytes(path: str = "/dev/shm") -> int | None:
    usage = disk_usage(path)
    return usage["total"] if usage else None


def cgroup_cpu_quota(cgroup: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup quota (docker --cpus), or None when unlimited."""
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = (cgroup / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota = int((cgroup / "cpu/cpu.cfs_quota_us").read_text())
        period = int((cgroup / "cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cpu_facts() -> dict:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = cgroup_cpu_quota()
    usable = min(affinity, math.ceil(quota)) if quota else affinity
    return {"host_cpus": os.cpu_count(), "affinity_cpus": affinity, "cgroup_quota_cpus": quota,
            "usable_cpus": usable, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def os_facts(path: str = "/etc/os-release") -> dict:
    values = {}
    try:
        for line in Path(path).read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                values[key] = value.strip().strip('"')
    except OSError:
        pass
    return {"id": values.get("ID"), "version_id": values.get("VERSION_ID"),
            "pretty_name": values.get("PRETTY_NAME")}


def find_project(cli: str | None = None) -> Path | None:
    """--project, else the current folder or a parent with uv.lock, else the one /workspaces/*."""
    if cli:
        return Path(cli).resolve()
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if (folder / "uv.lock").is_file():
            return folder
    workspaces = [p for p in Path("/workspaces").glob("*") if p.is_dir() and not p.name.startswith(".")]
    return workspaces[0] if len(workspaces) == 1 else None


# The lock's own project: the [[package]] whose source is the project folder itself.
LOCK_PROJECT = re.compile(r'^\[\[package\]\]\nname = "([^"]+)"\n(?:[^\[\n][^\n]*\n)*?source = \{ (?:editable|virtual) = "\." \}', re.M)


def lockfile_facts(project: Path | None) -> dict | None:
    if project is None or not (project / "uv.lock").is_file():
        return None
    lock = project / "uv.lock"
    data = lock.read_bytes()
    own = LOCK_PROJECT.search(data.decode(errors="replace"))
    return {"path": str(lock), "sha256": hashlib.sha256(data).hexdigest(), "project": own.group(1) if own else None}


LOCKED_PACKAGE = re.compile(r'^\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', re.M)


def template_facts(project: Path | None) -> dict | None:
    """The project's template answers (.copier-answers.yml) and the framework releases its uv.lock
    holds: what the releases check compares with versions.yml."""
    if project is None or not (project / ".copier-answers.yml").is_file():
        return None
    import yaml  # from env-doctor's own environment

    try:
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text()) or {}
        lock = (project / "uv.lock").read_text() if (project / "uv.lock").is_file() else ""
    except (OSError, yaml.YAMLError):
        return None
    return {"framework": answers.get("framework"), "framework_version": answers.get("framework_version"),
            "python_version": str(answers.get("python_version") or ""), "template_version": answers.get("_commit"),
            "locked": dict(LOCKED_PACKAGE.findall(lock))}


def remember_frameworks(probe: dict) -> None:
    """Keeps this build's framework facts for its later snapshots (FRAMEWORK_CACHE); only the
    frameworks of this environment, so the file never grows. Best effort: a cache."""
    for name in probe.get("frameworks_from_cache", []):
        print(f"env-doctor: {name}: unchanged since this build's earlier snapshot, facts taken from {FRAMEWORK_CACHE}",
              file=sys.stderr)
    by_name = {facts.get("name"): facts for facts in probe.get("frameworks", [])}
    entries = {key: by_name[name] for name, key in probe.get("framework_keys", {}).items() if name in by_name}
    try:
        FRAMEWORK_CACHE.parent.mkdir(parents=True, exist_ok=True)
        FRAMEWORK_CACHE.write_text(json.dumps(entries, indent=1) + "\n")
    except OSError:
        pass


def collect(python: str | None = None, project: str | None = None, at_build: bool = False) -> dict:
    """Every fact env-doctor knows about this container, as plain JSON-able data. at_build: an
    image build (no GPU visible), where framework facts are cached by what they depend on."""
    interpreter = project_python(python)
    try:
        probe, probe_error = run_probe(interpreter, FRAMEWORK_CACHE if at_build else None), None
    except ProbeError as error:
        probe, probe_error = {}, str(error)
    if at_build:
        remember_frameworks(probe)
    driver, gpus = nvml_facts()
    return {
        "schema_version": SCHEMA_VERSION,
        "env_doctor": __version__,
        "project_python": {"path": interpreter, "version": probe.get("python", {}).get("version"),
                           "error": probe_error},
        "driver": driver,
        "gpus": gpus,
        "cuda_libraries": cuda_library_facts(probe.get("site_dirs", [])),
        "frameworks": probe.get("frameworks", []),
        "shm": {"path": "/dev/shm", "bytes": shm_bytes()},
        "cpu": cpu_facts(),
        "storage": storage_facts(),
        "os": os_facts(),
        "lockfile": lockfile_facts(find_project(project)),
        "template": template_facts(find_project(project)),
        "packages": probe.get("packages", {}),
    }
