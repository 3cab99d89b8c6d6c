"""Judging the facts against versions.yml: one result per check (name, status, message, hint),
and the exit code they make."""

from __future__ import annotations

import os
import re

from .common import EXIT_NO_GPU, EXIT_OK, EXIT_PROBLEMS, PROBLEMS, major_minor, mib, vkey

SHM_MIN_BYTES = 1 << 30  # below this, PyTorch DataLoader workers die with "bus error"
BUSY_UTILIZATION = 50  # percent; a GPU this busy before you start is shared with someone
BUSY_MEMORY = 0.5  # fraction of memory used
NEARLY_FULL = 0.05  # free fraction of a file system below which writing checkpoints or caches fails soon
# File systems that serve many small reads slowly (network, or a host folder shared into a VM).
SLOW_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "9p", "grpcfuse", "osxfs", "fakeowner", "fuse.rclone"}


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
    compat_floor = versions["cuda"]["minor_compat_min_driver"].get(cuda.split(".", maxsplit=1)[0])
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


def release_check(versions: dict, template: dict | None) -> dict | None:
    """Is the project's lock behind the newest framework release the template's data knows for
    its Python? None when the project has no template answers, framework or lock entry."""
    if not template or template.get("framework") in (None, "none"):
        return None
    spec = versions["frameworks"].get(template["framework"])
    locked = (template.get("locked") or {}).get(spec.get("module")) if spec else None
    if not locked:
        return None
    python = template.get("python_version")
    known = [v for v, r in spec["releases"].items() if not python or python in r["python"]]
    if not known:
        return None
    newest = max(known, key=vkey)
    name, answer = spec["module"], str(template.get("framework_version") or "latest")
    if vkey(locked) >= vkey(newest):
        return check("releases", "ok", f"{name} {locked} is the newest release the template knows"
                     + (f" for Python {python}" if python else ""))
    message = (f"the template has {name} {newest}" + (f" for Python {python}" if python else "")
               + f"; this project's uv.lock has {locked}")
    if answer == "latest":
        return check("releases", "warn", message + " although it answered framework_version 'latest'",
                     "run `copier update --trust` in the project: it moves to the newest release and re-locks")
    return check("releases", "info", message + f" (framework_version is pinned to {answer}). To roll it in: "
                 "`copier update --trust --data framework_version=latest`")


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
                                     "update the host driver" + (f", or use a build for CUDA {newest} or older"
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

    # Framework release: is the project's lock behind the template's newest?
    behind = release_check(versions, facts.get("template"))
    if behind:
        results.append(behind)

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

    results += storage_checks(facts.get("storage") or {})

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


def storage_checks(storage: dict) -> list[dict]:
    """The data path (missing, empty, slow or nearly full) and the cache folder (on a volume, or
    in the container's own layer that a rebuild throws away)."""
    results = []
    data, cache = storage.get("data"), storage.get("cache")
    set_it = ("set ML_DATA_DIR on the host to your dataset folder (export ML_DATA_DIR=/path/to/datasets "
              "where VS Code or `devcontainer up` starts) and rebuild the container; on a cluster, the "
              "settings' data folder (cluster/settings.toml)")
    if data:
        where = f"data path {data['path']}"
        source = f" (host folder {data['host_folder']})" if data.get("host_folder") else ""
        if not data["exists"]:
            results.append(check("data", "warn", f"{where} does not exist{source}: datasets cannot be read", set_it))
        elif not data["entries"]:
            results.append(check("data", "warn", f"{where} is empty{source or ': no host folder is bound there'}",
                                 set_it if not source else f"put your datasets in {data['host_folder']} on the host"))
        else:
            mount = data.get("mount") or {}
            mode = "read-only" if mount.get("read_only") else "writable"
            results.append(check("data", "ok", f"{where}: {data['entries']} entries, {mode}{source}"))
        fstype = (data.get("mount") or {}).get("fstype")
        if data["exists"] and fstype in SLOW_FILESYSTEMS:
            results.append(check("data-speed", "warn", f"{where} is on a {fstype} file system: reading many "
                                 "small files from it is slow",
                                 "copy the data set to a local disk, or pack it into few large files "
                                 "(shards, Arrow/Parquet, WebDataset)"))
        if data.get("total_bytes") and data["free_bytes"] is not None and \
                data["free_bytes"] < NEARLY_FULL * data["total_bytes"]:
            results.append(check("data-space", "warn", f"the file system of {where} is nearly full: "
                                 f"{mib(data['free_bytes'])} free of {mib(data['total_bytes'])}",
                                 "free space there (old data sets, checkpoints) before downloading more"))
    if cache:
        where = f"cache folder {cache['path']}"
        volume = (cache.get("mount") or {}).get("volume")
        if not cache["own_mount"]:
            wanted = cache.get("volume_wanted")
            results.append(check("cache", "warn", f"{where} is in the container's own layer: a rebuild loses "
                                 "every downloaded model and data set",
                                 f"mount a volume there (devcontainer.json \"mounts\": "
                                 f"\"source={wanted or 'NAME'},target={cache['path']},type=volume\")"))
        else:
            on = f"volume {volume}" if volume else f"its own mount ({cache['mount']['fstype']})"
            results.append(check("cache", "ok", f"{where} is on {on}: it survives a rebuild"))
    return results


def exit_code(results: list[dict], facts: dict, require_gpu: bool) -> int:
    if require_gpu and not facts["gpus"]:
        return EXIT_NO_GPU
    return EXIT_PROBLEMS if any(r["status"] in PROBLEMS for r in results) else EXIT_OK
