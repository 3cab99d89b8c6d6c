#!/usr/bin/env python3
"""env-doctor: is my code using the GPUs and CPUs I have, with the right libraries?

    env-doctor [check] [--json] [--quiet] [--require-gpu] [--python PY] [--project DIR]
    env-doctor snapshot [-o FILE] [--python PY] [--project DIR]
    env-doctor diff A.json B.json [--json]

Exit codes: 0 all good / identical, 1 problems found / differences, 2 a GPU was required
(--require-gpu) but none is visible, 3 usage error or unreadable input.

Runs from its own environment (nvidia-ml-py, pyyaml); facts about the project's environment
come from env_doctor_probe.py, run with the project's interpreter. Version facts (driver floors,
framework builds) come from versions.yml beside this file, never from this code.
"""

from __future__ import annotations

import argparse
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
import time
from pathlib import Path

VERSION = "1.0.0"
SCHEMA_VERSION = 1
HERE = Path(__file__).resolve().parent
SETTINGS_FILE = HERE / "settings.json"  # written by install.sh from the feature options
VERSIONS_FILE = HERE / "versions.yml"  # byte-identical copy of the template's data/versions.yml
PROBE_FILE = HERE / "env_doctor_probe.py"
DEFAULT_VENV_PYTHON = "/opt/venv/bin/python"
SHM_MIN_BYTES = 1 << 30  # below this, PyTorch DataLoader workers die with "bus error"
BUSY_UTILIZATION = 50  # percent; a GPU this busy before you start is shared with someone
BUSY_MEMORY = 0.5  # fraction of memory used
PROBE_TIMEOUT_S = 180  # importing TensorFlow on a cold disk can take a minute

EXIT_OK, EXIT_PROBLEMS, EXIT_NO_GPU, EXIT_USAGE = 0, 1, 2, 3
STATUS_ORDER = ["ok", "info", "warn", "error"]
PROBLEMS = {"warn", "error"}  # statuses that make the exit code 1


# --- small helpers ----------------------------------------------------------------------------

def vkey(version: str | None) -> tuple[int, ...]:
    """'535.104.05' -> (535, 104, 5); '2.6.0+cu124' -> (2, 6, 0)."""
    if not version:
        return ()
    return tuple(int(n) for n in re.findall(r"\d+", str(version).split("+")[0]))


def cuda_str(number: int) -> str:
    """CUDA's integer encoding (12040) -> '12.4'."""
    return f"{number // 1000}.{(number % 1000) // 10}"


def cudnn_str(number: int) -> str:
    """cuDNN's integer encoding: 9 uses 90100 -> '9.1.0', 8 used 8902 -> '8.9.2'."""
    if number >= 90000:
        return f"{number // 10000}.{(number % 10000) // 100}.{number % 100}"
    return f"{number // 1000}.{(number % 1000) // 100}.{number % 100}"


def major_minor(version: str | None) -> str | None:
    parts = vkey(version)
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else None


def mib(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "?"
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def load_versions(path: Path = VERSIONS_FILE) -> dict:
    import yaml  # from env-doctor's own environment

    return yaml.safe_load(path.read_text())


def load_settings() -> dict:
    try:
        return json.loads(SETTINGS_FILE.read_text())
    except (OSError, ValueError):
        return {}


# --- facts: NVIDIA driver and GPUs (NVML) ------------------------------------------------------

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


# --- facts: CUDA libraries the container actually loads ---------------------------------------

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


# --- facts: the project environment (probe run with its interpreter) --------------------------

class ProbeError(RuntimeError):
    pass


def run_probe(python: str) -> dict:
    try:
        done = subprocess.run([python, str(PROBE_FILE)], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S)
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


# --- facts: container resources ---------------------------------------------------------------

def shm_bytes(path: str = "/dev/shm") -> int | None:
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return stat.f_blocks * stat.f_frsize


def cgroup_cpu_quota() -> float | None:
    """CPUs allowed by the cgroup quota (docker --cpus), or None when unlimited."""
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
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


def lockfile_facts(project: Path | None) -> dict | None:
    if project is None or not (project / "uv.lock").is_file():
        return None
    lock = project / "uv.lock"
    return {"path": str(lock), "sha256": hashlib.sha256(lock.read_bytes()).hexdigest()}


def collect(python: str | None = None, project: str | None = None) -> dict:
    """Every fact env-doctor knows about this container, as plain JSON-able data."""
    interpreter = project_python(python)
    try:
        probe, probe_error = run_probe(interpreter), None
    except ProbeError as error:
        probe, probe_error = {}, str(error)
    driver, gpus = nvml_facts()
    return {
        "schema_version": SCHEMA_VERSION,
        "env_doctor": VERSION,
        "project_python": {"path": interpreter, "version": probe.get("python", {}).get("version"),
                           "error": probe_error},
        "driver": driver,
        "gpus": gpus,
        "cuda_libraries": cuda_library_facts(probe.get("site_dirs", [])),
        "frameworks": probe.get("frameworks", []),
        "shm": {"path": "/dev/shm", "bytes": shm_bytes()},
        "cpu": cpu_facts(),
        "os": os_facts(),
        "lockfile": lockfile_facts(find_project(project)),
        "packages": probe.get("packages", {}),
    }


# --- judging the facts ------------------------------------------------------------------------

def framework_key(versions: dict, module: str) -> str | None:
    for key, data in versions["frameworks"].items():
        if data.get("module") == module:
            return key
    return None


def framework_release(versions: dict, fw: dict) -> dict | None:
    key = framework_key(versions, fw.get("name", ""))
    release = ".".join(map(str, vkey(fw.get("version"))))
    return versions["frameworks"][key]["releases"].get(release) if key else None


def framework_cuda(versions: dict, fw: dict) -> str | None:
    """The CUDA a framework build uses: its own answer, else versions.yml for its release."""
    if fw.get("cuda"):
        return major_minor(fw["cuda"])
    release = framework_release(versions, fw)
    if fw.get("name") == "jax" and release and release.get("cuda"):
        newest = max(release["cuda"], key=vkey)
        # A bare major ("12") means "any 12.x": the runtime library found decides, not this.
        return newest if "." in newest else None
    return None


def driver_support(versions: dict, driver: str, cuda: str, driver_cuda: str | None = None) -> tuple[str, str | None, str | None]:
    """('full' | 'minor' | 'too-old' | 'unknown', full-support floor, minor-compat floor)."""
    full_floor = versions["cuda"]["releases"].get(cuda, {}).get("min_driver")
    compat_floor = versions["cuda"]["minor_compat_min_driver"].get(cuda.split(".")[0])
    if full_floor:
        full = vkey(driver) >= vkey(full_floor)
    elif driver_cuda:  # a CUDA release the data does not list: NVML's own answer decides
        full = vkey(driver_cuda) >= vkey(cuda)
    else:
        full = None
    if full:
        return "full", full_floor, compat_floor
    if compat_floor and vkey(driver) >= vkey(compat_floor):
        return "minor", full_floor, compat_floor
    if compat_floor or full is False:
        return "too-old", full_floor, compat_floor
    return "unknown", full_floor, compat_floor


def newest_cuda_for_driver(versions: dict, driver: str) -> str | None:
    fitting = [c for c, r in versions["cuda"]["releases"].items() if vkey(driver) >= vkey(r["min_driver"])]
    return max(fitting, key=vkey) if fitting else None


def parse_arch(arch: str) -> tuple[str, tuple[int, int]] | None:
    """'sm_86' -> ('sm', (8, 6)); 'compute_90' -> ('compute', (9, 0)); 'sm_90a' -> ('sm', (9, 0))."""
    match = re.fullmatch(r"(sm|compute)_(\d+)(\d)[a-z]?", arch.strip())
    return (match.group(1), (int(match.group(2)), int(match.group(3)))) if match else None


def compute_support(versions: dict, fw: dict, cc: str) -> tuple[bool | None, str]:
    """Does the framework build have kernels for compute capability cc? (answer, how we know)."""
    target = vkey(cc)[:2]
    archs = [a for a in map(parse_arch, fw.get("arch_list") or []) if a]
    if archs:
        listed = ", ".join(fw["arch_list"])
        # A cubin for sm_XY runs on X.Z with Z >= Y; PTX for compute_XY JIT-compiles for any newer GPU.
        if any(kind == "sm" and v[0] == target[0] and v[1] <= target[1] for kind, v in archs):
            return True, f"built for {listed}"
        if any(kind == "compute" and v <= target for kind, v in archs):
            return True, f"only through PTX JIT from {listed} (slow first run)"
        return False, f"its build has kernels for {listed} only"
    release = framework_release(versions, fw)
    if release and release.get("compute"):
        low, high = release["compute"]
        ok = vkey(low) <= tuple(target) <= vkey(high)
        return ok, f"its release supports compute capability {low} to {high} (versions.yml)"
    return None, "no arch list from the framework and no versions.yml data for this release"


def check(name: str, status: str, message: str, hint: str | None = None) -> dict:
    return {"name": name, "status": status, "message": message, "hint": hint}


def evaluate(facts: dict, versions: dict) -> list[dict]:
    results = []
    driver, gpus, frameworks = facts["driver"], facts["gpus"], facts["frameworks"]

    python = facts["project_python"]
    if python.get("error"):
        results.append(check("python", "error", python["error"],
                             "set the project interpreter with --python or the feature option projectPython"))
    else:
        results.append(check("python", "ok", f"project Python {python['version']} at {python['path']}"))

    # GPUs
    if not driver["available"]:
        results.append(check("gpu", "info", f"no NVIDIA driver/GPU visible ({driver['error']}); the rest runs on the CPU",
                             "on a GPU host: install the NVIDIA Container Toolkit and start the container with "
                             "--gpus all (devcontainer.json hostRequirements.gpu), with NVIDIA_DRIVER_CAPABILITIES "
                             "including compute,utility"))
    elif not gpus:
        results.append(check("gpu", "info", f"NVIDIA driver {driver['version']} loaded but no GPU visible",
                             "check NVIDIA_VISIBLE_DEVICES and the --gpus option the container started with"))
    else:
        names = ", ".join(f"{g['index']}: {g['name']}" for g in gpus)
        results.append(check("gpu", "ok", f"{len(gpus)} GPU(s) visible ({names}), driver {driver['version']}"))
        for g in gpus:
            used, total, util = g["memory_used_bytes"], g["memory_total_bytes"], g["utilization_percent"]
            memory_busy = used is not None and total and used / total >= BUSY_MEMORY
            if memory_busy or (util is not None and util >= BUSY_UTILIZATION):
                results.append(check("gpu-busy", "warn",
                                     f"GPU {g['index']} ({g['name']}) is busy: {util}% utilization, "
                                     f"{mib(used)} of {mib(total)} memory used",
                                     "another process or container is using it: pick a free GPU with "
                                     "CUDA_VISIBLE_DEVICES, or expect out-of-memory errors and slower runs"))

    # Driver vs the CUDA runtimes in use
    cudas = {}
    cudart = (facts["cuda_libraries"].get("cudart") or {}).get("version")
    if cudart:
        cudas[major_minor(cudart)] = "the CUDA runtime library"
    for fw in frameworks:
        built = framework_cuda(versions, fw)
        if built:
            cudas.setdefault(built, f"{fw['name']}'s build")
    if not driver["version"]:
        for cuda, source in sorted(cudas.items(), key=lambda kv: vkey(kv[0])):
            _, full, compat = driver_support(versions, "0", cuda)
            if full or compat:  # tell the host driver a GPU machine will need
                results.append(check("driver", "info", f"no driver to check; CUDA {cuda} ({source}) needs driver "
                                     + " ".join(filter(None, [f">= {full} for full support" if full else None,
                                                              f"(>= {compat} with minor-version compatibility)"
                                                              if compat else None]))))
    else:
        if not cudas:
            results.append(check("driver", "info", f"driver {driver['version']} (CUDA up to {driver['cuda']}); "
                                 "no CUDA runtime in the project environment"))
        for cuda, source in sorted(cudas.items(), key=lambda kv: vkey(kv[0])):
            level, full, compat = driver_support(versions, driver["version"], cuda, driver["cuda"])
            newest = newest_cuda_for_driver(versions, driver["version"])
            if level == "full":
                results.append(check("driver", "ok", f"driver {driver['version']} fully supports CUDA {cuda} ({source})"))
            elif level == "minor":
                results.append(check("driver", "warn",
                                     f"driver {driver['version']} runs CUDA {cuda} ({source}) with minor-version "
                                     f"compatibility only; full support needs {full or 'a driver supporting it'}: "
                                     "PTX from a newer toolkit fails (cudaErrorUnsupportedPtxVersion)",
                                     f"update the host driver to >= {full}" + (
                                         f", or use a build for CUDA {newest} or older" if newest else "")))
            elif level == "too-old":
                results.append(check("driver", "error",
                                     f"driver {driver['version']} is too old for CUDA {cuda} ({source}): needs "
                                     f">= {full} (full support)" + (f" or >= {compat} (minor-version compatibility)"
                                                                     if compat else ""),
                                     f"update the host driver" + (f", or use a build for CUDA {newest} or older"
                                                                  if newest else "")))
            else:
                results.append(check("driver", "info", f"no versions.yml data for CUDA {cuda}; driver {driver['version']} "
                                     f"supports CUDA up to {driver['cuda']}"))

    # Frameworks: do they see the GPUs, and have kernels for them?
    for fw in frameworks:
        name = f"{fw['name']} {fw.get('version', '')}".strip()
        if fw.get("error"):
            results.append(check("framework", "error", f"importing {fw['name']} failed: {fw['error']}"))
            continue
        seen = len(fw.get("devices") or [])
        if not gpus:
            kind = f"CUDA {fw['cuda']} build" if fw.get("cuda") else "build"
            results.append(check("framework", "info", f"{name} ({kind}) will run on the CPU"))
        elif fw["name"] == "torch" and not fw.get("cuda"):
            results.append(check("framework", "error", f"{name} is a CPU-only build: it cannot use the {len(gpus)} GPU(s)",
                                 "install a CUDA build of torch (the template's cuda accelerator)"))
        elif seen == 0:
            results.append(check("framework", "error", f"{name} sees none of the {len(gpus)} GPU(s)",
                                 "check CUDA_VISIBLE_DEVICES and that the driver fits its CUDA (see 'driver')"))
        elif seen < len(gpus):
            results.append(check("framework", "warn", f"{name} sees {seen} of {len(gpus)} GPU(s)",
                                 f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')} hides some"))
        else:
            results.append(check("framework", "ok", f"{name} sees all {seen} GPU(s)"))
        if fw["name"] == "torch" and not fw.get("cuda"):
            continue
        for g in gpus:
            if not g["compute_capability"]:
                continue
            supported, how = compute_support(versions, fw, g["compute_capability"])
            label = f"GPU {g['index']} ({g['name']}, compute capability {g['compute_capability']})"
            if supported is False:
                results.append(check("compute", "error", f"{name} has no kernels for {label}: {how}",
                                     "use a framework release whose build supports this GPU (see versions.yml)"))
            elif supported is None:
                results.append(check("compute", "info", f"{name} on {label}: {how}"))
            else:
                results.append(check("compute", "ok", f"{name} runs on {label}: {how}"))

    # Shared memory for data loader workers
    shm = facts["shm"]["bytes"]
    if shm is None:
        results.append(check("shm", "warn", "/dev/shm is missing: data loader workers cannot share memory"))
    elif shm < SHM_MIN_BYTES:
        results.append(check("shm", "warn", f"/dev/shm is {mib(shm)}: data loader workers (num_workers > 0) "
                             "crash with 'bus error' or hang",
                             'add "runArgs": ["--shm-size=8g"] (or "--ipc=host") to devcontainer.json'))
    else:
        results.append(check("shm", "ok", f"/dev/shm is {mib(shm)}"))

    # CPU cores vs threads
    cpu = facts["cpu"]
    threads = next((fw["threads"] for fw in frameworks if fw.get("threads")), None)
    source = next((fw["name"] for fw in frameworks if fw.get("threads")), None)
    if threads is None and cpu["omp_num_threads"]:
        threads, source = int(cpu["omp_num_threads"]) if cpu["omp_num_threads"].isdigit() else None, "OMP_NUM_THREADS"
    limit = f"{cpu['usable_cpus']} usable CPU(s)" + (
        f" (cgroup quota {cpu['cgroup_quota_cpus']:g} of {cpu['host_cpus']})" if cpu["cgroup_quota_cpus"] else
        f" of {cpu['host_cpus']}")
    if threads and threads > cpu["usable_cpus"]:
        results.append(check("cpu", "warn", f"{source} uses {threads} threads on {limit}: oversubscribed, slower",
                             f"set OMP_NUM_THREADS={cpu['usable_cpus']} (containerEnv in devcontainer.json)"))
    elif threads:
        results.append(check("cpu", "ok", f"{source} uses {threads} threads on {limit}"))
    else:
        results.append(check("cpu", "ok", limit))
    return results


def exit_code(results: list[dict], facts: dict, require_gpu: bool) -> int:
    if require_gpu and not facts["gpus"]:
        return EXIT_NO_GPU
    return EXIT_PROBLEMS if any(r["status"] in PROBLEMS for r in results) else EXIT_OK


# --- output -----------------------------------------------------------------------------------

def table(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def render_report(facts: dict, results: list[dict]) -> str:
    out = [f"env-doctor {VERSION}: project Python {facts['project_python']['path']}"]
    driver = facts["driver"]
    if driver["available"]:
        out.append(f"\nNVIDIA driver {driver['version']} (supports CUDA up to {driver['cuda']})")
    else:
        out.append("\nno NVIDIA driver/GPU visible")
    if facts["gpus"]:
        rows = [["GPU", "NAME", "UUID", "MEMORY USED/TOTAL", "UTIL", "COMPUTE"]]
        for g in facts["gpus"]:
            rows.append([g["index"], g["name"], g["uuid"], f"{mib(g['memory_used_bytes'])} / {mib(g['memory_total_bytes'])}",
                         "?" if g["utilization_percent"] is None else f"{g['utilization_percent']}%",
                         g["compute_capability"] or "?"])
        out.append(table(rows))
    libs = facts["cuda_libraries"]
    for key, label in [("cudart", "CUDA runtime"), ("cudnn", "cuDNN")]:
        lib = libs.get(key)
        out.append(f"{label}: {lib['version'] or 'unreadable'} ({lib['path']})" if lib else f"{label}: not found")
    for fw in facts["frameworks"]:
        if fw.get("error"):
            out.append(f"{fw['name']}: import failed: {fw['error']}")
            continue
        out.append(f"{fw['name']} {fw['version']}: CUDA build {fw.get('cuda') or 'none'}, "
                   f"sees {len(fw.get('devices') or [])} GPU(s)"
                   + (f", arch list {' '.join(fw['arch_list'])}" if fw.get("arch_list") else ""))
    if not facts["frameworks"]:
        out.append("framework: none of torch, tensorflow, jax in the project environment")
    out.append("")
    rows = [["CHECK", "STATUS", "MESSAGE"]]
    for r in results:
        rows.append([r["name"], r["status"].upper(), r["message"]])
        if r["hint"] and r["status"] in PROBLEMS:
            rows.append(["", "", f"fix: {r['hint']}"])
    out.append(table(rows))
    return "\n".join(out)


def render_problems(results: list[dict]) -> str:
    lines = []
    for r in results:
        if r["status"] in PROBLEMS:
            lines.append(f"env-doctor: {r['status'].upper()} {r['name']}: {r['message']}")
            if r["hint"]:
                lines.append(f"    fix: {r['hint']}")
    if lines:
        lines.append("env-doctor: run 'env-doctor' for the full report")
    return "\n".join(lines)


# --- snapshot and diff ------------------------------------------------------------------------

VOLATILE_GPU_KEYS = ("memory_used_bytes", "utilization_percent")


def snapshot(facts: dict) -> dict:
    """The facts that define an environment; load (memory used, utilization) left out."""
    snap = dict(facts, kind="snapshot", created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    snap["gpus"] = [{k: v for k, v in g.items() if k not in VOLATILE_GPU_KEYS} for g in facts["gpus"]]
    return snap


def _cudas_of(snap: dict, versions: dict) -> set[str]:
    found = set()
    cudart = (snap.get("cuda_libraries", {}).get("cudart") or {}).get("version")
    if cudart:
        found.add(major_minor(cudart))
    for fw in snap.get("frameworks", []):
        if framework_cuda(versions, fw):
            found.add(framework_cuda(versions, fw))
    return found


LEVEL_TEXT = {"full": "runs it with full support", "minor": "runs it with minor-version compatibility only",
              "too-old": "is too old to run it", "unknown": "has no versions.yml data for it"}


def diff(a: dict, b: dict, versions: dict) -> list[dict]:
    """Differences between two snapshots, each with its likely consequence."""
    items = []

    def add(group, what, consequence):
        items.append({"group": group, "what": what, "consequence": consequence})

    # driver
    da, db = a["driver"].get("version"), b["driver"].get("version")
    if da != db:
        if not da or not db:
            add("driver", f"driver {da or 'none'} vs {db or 'none'}",
                f"{'A' if not da else 'B'} has no NVIDIA driver visible: it runs on the CPU only")
        else:
            notes = []
            for cuda in sorted(_cudas_of(a, versions) | _cudas_of(b, versions), key=vkey):
                la, full, _ = driver_support(versions, da, cuda, a["driver"].get("cuda"))
                lb, _, _ = driver_support(versions, db, cuda, b["driver"].get("cuda"))
                if la == lb:
                    continue
                notes.append(f"the CUDA {cuda} runtime needs {full} for full support; "
                             + "; ".join(f"{d} {LEVEL_TEXT[lv]}" for d, lv in [(da, la), (db, lb)] if lv != "full"))
            add("driver", f"driver {da} vs {db}",
                "; ".join(notes) or "both drivers run the CUDA in use equally; results and speed can still differ slightly")

    # GPUs (models and compute capabilities; load is not compared)
    ga = [f"{g['name']} ({g.get('compute_capability')})" for g in a["gpus"]]
    gb = [f"{g['name']} ({g.get('compute_capability')})" for g in b["gpus"]]
    if sorted(ga) != sorted(gb):
        add("GPUs", f"{', '.join(ga) or 'no GPU'} vs {', '.join(gb) or 'no GPU'}",
            "different GPU models: speed, memory, supported precisions (bf16/fp8) and the framework kernels "
            "used differ; numerics may differ in the last digits")

    # CUDA libraries
    for key, label, consequence in [
            ("cudart", "CUDA runtime", "needs a different minimum driver; kernels are compiled for different CUDA"),
            ("cudnn", "cuDNN", "convolution/attention algorithms and their numerics can differ")]:
        va = (a["cuda_libraries"].get(key) or {}).get("version")
        vb = (b["cuda_libraries"].get(key) or {}).get("version")
        if va != vb:
            add("CUDA libraries", f"{label} {va or 'none'} vs {vb or 'none'}", consequence)

    # framework
    fa = {fw["name"]: fw for fw in a["frameworks"]}
    fb = {fw["name"]: fw for fw in b["frameworks"]}
    for name in sorted(fa.keys() | fb.keys()):
        x, y = fa.get(name, {}), fb.get(name, {})
        sa = f"{x.get('version', 'absent')} (CUDA {x.get('cuda') or 'none'})" if x else "absent"
        sb = f"{y.get('version', 'absent')} (CUDA {y.get('cuda') or 'none'})" if y else "absent"
        if sa != sb:
            add("framework", f"{name} {sa} vs {sb}",
                "different framework builds: supported GPUs, default algorithms and results can differ")

    # Python and packages
    pa, pb = a["project_python"].get("version"), b["project_python"].get("version")
    if pa != pb:
        add("python", f"Python {pa} vs {pb}", "different interpreter: wheels and behaviour differ")
    ka, kb = a.get("packages", {}), b.get("packages", {})
    for name in sorted(kb.keys() - ka.keys()):
        add("packages added", f"{name} {kb[name]} (only in B)", "code importing it works only in B")
    for name in sorted(ka.keys() - kb.keys()):
        add("packages removed", f"{name} {ka[name]} (only in A)", "code importing it fails in B")
    for name in sorted(ka.keys() & kb.keys()):
        if ka[name] != kb[name]:
            major_change = vkey(ka[name])[:1] != vkey(kb[name])[:1]
            add("packages changed", f"{name} {ka[name]} vs {kb[name]}",
                "major version change: APIs may differ" if major_change else "behaviour and results may differ")

    # lockfile
    la, lb = (a.get("lockfile") or {}).get("sha256"), (b.get("lockfile") or {}).get("sha256")
    if la != lb:
        add("lockfile", f"uv.lock sha256 {(la or 'none')[:12]} vs {(lb or 'none')[:12]}",
            "the environments come from different locks: compare the two uv.lock files")
    elif la and ka != kb:
        add("lockfile", "same uv.lock, different packages installed",
            "an environment is out of sync with its lock: run 'uv sync --frozen'")

    # OS
    oa, ob = a["os"].get("pretty_name"), b["os"].get("pretty_name")
    if oa != ob:
        add("OS", f"{oa} vs {ob}", "system libraries (glibc, libstdc++) differ; compiled extensions may behave differently")
    return items


def render_diff(items: list[dict], name_a: str, name_b: str) -> str:
    if not items:
        return f"no differences between {name_a} (A) and {name_b} (B)"
    out = [f"A = {name_a}\nB = {name_b}"]
    group = None
    for item in items:
        if item["group"] != group:
            group = item["group"]
            out.append(f"\n{group}")
        out.append(f"  {item['what']}\n      -> {item['consequence']}")
    return "\n".join(out)


# --- command line -----------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code 2 would collide with --require-gpu
        self.print_usage(sys.stderr)
        print(f"env-doctor: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parsers() -> dict[str, Parser]:
    env = Parser(add_help=False)
    env.add_argument("--python", help="project interpreter (default: feature option projectPython, "
                                      f"else {DEFAULT_VENV_PYTHON}, else python3 on PATH)")
    env.add_argument("--project", help="project folder holding uv.lock (default: current folder or a "
                                       "parent, else the single /workspaces/* folder)")
    epilog = "exit codes: 0 all good, 1 problems found, 2 GPU required but none visible, 3 usage error"
    check_p = Parser(prog="env-doctor [check]", parents=[env], epilog=epilog,
                     description="Check GPUs, driver, CUDA libraries, framework, /dev/shm and CPUs.")
    check_p.add_argument("--json", action="store_true", help="machine-readable output")
    check_p.add_argument("--quiet", action="store_true", help="print only problems (nothing when all is well)")
    check_p.add_argument("--require-gpu", action="store_true", help="exit 2 when no GPU is visible")
    check_p.add_argument("--on-start", action="store_true",
                         help="container start: honour the checkOnStart option, imply --quiet, always exit 0")
    snap_p = Parser(prog="env-doctor snapshot", parents=[env],
                    description="Write a JSON fingerprint of this environment, to diff with a colleague's.")
    snap_p.add_argument("-o", "--output", help="file to write (default: stdout)")
    diff_p = Parser(prog="env-doctor diff", epilog="exit codes: 0 identical, 1 differences, 3 usage error",
                    description="Compare two snapshots and explain each difference.")
    diff_p.add_argument("a", help="snapshot A")
    diff_p.add_argument("b", help="snapshot B")
    diff_p.add_argument("--json", action="store_true", help="machine-readable output")
    return {"check": check_p, "snapshot": snap_p, "diff": diff_p}


def read_snapshot(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"env-doctor: cannot read snapshot {path}: {error}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SystemExit(f"env-doctor: {path} has schema_version {data.get('schema_version')}, "
                         f"this env-doctor reads {SCHEMA_VERSION}")
    return data


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parsers = build_parsers()
    command = argv[0] if argv and argv[0] in parsers else "check"
    args = parsers[command].parse_args(argv[1:] if argv and argv[0] in parsers else argv)
    if command == "diff":
        try:
            a, b = read_snapshot(args.a), read_snapshot(args.b)
        except SystemExit as error:
            print(error, file=sys.stderr)
            return EXIT_USAGE
        items = diff(a, b, load_versions())
        print(json.dumps({"schema_version": SCHEMA_VERSION, "identical": not items, "differences": items}, indent=2)
              if args.json else render_diff(items, args.a, args.b))
        return EXIT_PROBLEMS if items else EXIT_OK
    if command == "snapshot":
        text = json.dumps(snapshot(collect(args.python, args.project)), indent=2) + "\n"
        if args.output:
            Path(args.output).write_text(text)
            print(f"env-doctor: snapshot written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    if args.on_start:
        if str(load_settings().get("checkOnStart", True)).lower() == "false":
            return EXIT_OK
        try:  # container start must never fail because of a check
            args.quiet = True
            run_check(args)
        except Exception as error:
            print(f"env-doctor: internal error, skipped ({type(error).__name__}: {error})", file=sys.stderr)
        return EXIT_OK
    return run_check(args)


def run_check(args) -> int:
    facts = collect(args.python, args.project)
    results = evaluate(facts, load_versions())
    code = exit_code(results, facts, args.require_gpu)
    if args.json:
        report = {k: v for k, v in facts.items() if k != "packages"}
        report.update(kind="check", package_count=len(facts["packages"]), checks=results,
                      problems=sum(r["status"] in PROBLEMS for r in results), exit_code=code)
        print(json.dumps(report, indent=2))
    elif args.quiet:
        text = render_problems(results)
        if code == EXIT_NO_GPU:
            text = "env-doctor: ERROR gpu: a GPU is required (--require-gpu) but none is visible\n" + text
        if text.strip():
            print(text.rstrip())
    else:
        print(render_report(facts, results))
        if code == EXIT_NO_GPU:
            print("\nenv-doctor: a GPU is required (--require-gpu) but none is visible")
    return code


if __name__ == "__main__":
    sys.exit(main())
