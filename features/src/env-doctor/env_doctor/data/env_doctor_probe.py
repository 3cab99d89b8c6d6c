"""Runs with the PROJECT's interpreter and prints one JSON object about that environment.

Only the standard library and whichever frameworks the environment has: env-doctor's own
packages are not installed there. Every framework step is guarded, so a missing framework,
a CPU-only build or a machine without a GPU gives data, never a crash.

`--cached-frameworks FILE` (image builds only, where no GPU is visible): a framework whose key
(framework_key) is in that JSON file ({key: facts}) is not imported, its facts come from the file.
Without it (a container, every start) no key is computed.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import site
import sys
import sysconfig


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(dists):
    found = {}
    for dist in dists:
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalized(name), dist)  # the first on sys.path is the one imported
    return found


def packages(dists):
    found = {}
    for dist in dists:
        name = dist.metadata["Name"]
        if name:
            found[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(found.items()))


def site_dirs():
    dirs = []
    candidates = [sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get("platlib")]
    candidates += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    for path in candidates:
        if path and os.path.isdir(path) and path not in dirs:
            dirs.append(path)
    return dirs


def probe_torch():
    import torch

    info = {"name": "torch", "version": torch.__version__, "cuda": torch.version.cuda,
            "threads": torch.get_num_threads()}
    try:
        info["cudnn"] = torch.backends.cudnn.version()  # int such as 90100, or None
    except Exception as error:
        info["cudnn"] = None
        info["cudnn_error"] = str(error)
    info["arch_list"] = torch.cuda.get_arch_list() if torch.version.cuda else []
    info["cuda_available"] = torch.cuda.is_available()
    devices = []
    if info["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            major, minor = torch.cuda.get_device_capability(i)
            devices.append({"name": torch.cuda.get_device_name(i), "compute_capability": f"{major}.{minor}"})
    info["devices"] = devices
    return info


def probe_tensorflow():
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    info = {"name": "tensorflow", "version": tf.__version__, "cuda": build.get("cuda_version"),
            "cudnn": build.get("cudnn_version"),
            "arch_list": list(build.get("cuda_compute_capabilities") or []),
            "threads": tf.config.threading.get_intra_op_parallelism_threads() or None}
    devices = tf.config.list_physical_devices("GPU")
    info["cuda_available"] = bool(devices)
    info["devices"] = [{"name": d.name, "compute_capability": None} for d in devices]
    return info


def probe_jax():
    import jax

    info = {"name": "jax", "version": jax.__version__, "cuda": None, "cudnn": None, "arch_list": None,
            "threads": None}
    try:
        devices = [d for d in jax.devices() if d.platform == "gpu"]
    except Exception:  # no GPU backend: jax raises instead of returning an empty list
        devices = []
    info["cuda_available"] = bool(devices)
    info["devices"] = [{"name": getattr(d, "device_kind", str(d)),
                        "compute_capability": getattr(d, "compute_capability", None)} for d in devices]
    return info


PROBES = {"torch": probe_torch, "tensorflow": probe_tensorflow, "jax": probe_jax}


def framework_key(module, installed):
    """What a framework's build-time facts depend on, as a sha256: this probe, this Python, and the
    versions of the distributions that provide the module and of every installed distribution they
    require, transitively, with the extras those requirements name (torch's cuda-toolkit[cublas]).
    Platform markers are not evaluated (a superset is safe). The extras the project itself asked
    for are unknown here and not followed: an extra's package (numpy, jax's CUDA plugin) may come
    with the project's other packages and changes none of these facts at build. So a package added
    beside the framework leaves the key as it was. None when no distribution provides the module
    (or before Python 3.10, which cannot tell)."""
    if not hasattr(importlib.metadata, "packages_distributions"):
        return None
    todo = [(normalized(name), frozenset()) for name in importlib.metadata.packages_distributions().get(module, [])]
    followed, closure = set(todo), {}
    while todo:
        name, extras = todo.pop()
        if name not in installed:
            continue
        closure[name] = installed[name].version
        for requirement in installed[name].requires or []:
            spec, _, marker = requirement.partition(";")
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", spec)
            for_extras = {normalized(extra) for extra in re.findall(r"\bextra\s*==\s*[\"']([^\"']+)[\"']", marker)}
            if not match or (for_extras and not for_extras & extras):
                continue
            wanted = (normalized(match.group(1)),
                      frozenset(normalized(extra.strip()) for extra in (match.group(2) or "").split(",") if extra.strip()))
            if wanted not in followed:
                followed.add(wanted)
                todo.append(wanted)
    if not closure:
        return None
    with open(__file__, "rb") as probe_file:
        lines = [hashlib.sha256(probe_file.read()).hexdigest(), sys.version, module]
    lines += [f"{name}=={version}" for name, version in sorted(closure.items())]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def cached_frameworks(argv):
    """{key: facts} at an image build (empty when the file is not there yet); None otherwise."""
    if len(argv) != 2 or argv[0] != "--cached-frameworks":
        return None
    try:
        with open(argv[1]) as cache:
            return json.load(cache)
    except (OSError, ValueError):
        return {}


def main():
    dists = list(importlib.metadata.distributions())
    cached = cached_frameworks(sys.argv[1:])
    installed = installed_distributions(dists) if cached is not None else {}
    result = {
        "python": {"executable": sys.executable, "version": ".".join(map(str, sys.version_info[:3]))},
        "site_dirs": site_dirs(),
        "packages": packages(dists),
        "frameworks": [],
        "framework_keys": {},  # name -> key: what env-doctor may cache (build time only)
        "frameworks_from_cache": [],
    }
    # Import only what is installed: importing TensorFlow or JAX needlessly costs seconds.
    for module, probe in PROBES.items():
        if importlib.util.find_spec(module) is None:
            continue
        key = framework_key(module, installed) if cached is not None else None
        if key and key in cached:
            facts = cached[key]
            result["frameworks_from_cache"].append(module)
        else:
            try:
                facts = probe()
            except Exception as error:
                facts = {"name": module, "error": f"{type(error).__name__}: {error}"}
        if key and "error" not in facts:
            result["framework_keys"][module] = key
        result["frameworks"].append(facts)
    sys.stdout.flush()
    print("ENV-DOCTOR-PROBE " + json.dumps(result))


if __name__ == "__main__":
    main()
