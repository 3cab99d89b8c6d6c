"""Runs with the PROJECT's interpreter and prints one JSON object about that environment.

Only the standard library and whichever frameworks the environment has: env-doctor's own
packages are not installed there. Every framework step is guarded, so a missing framework,
a CPU-only build or a machine without a GPU gives data, never a crash.
"""

import importlib.metadata
import importlib.util
import json
import os
import site
import sys
import sysconfig


def packages():
    found = {}
    for dist in importlib.metadata.distributions():
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


def main():
    result = {
        "python": {"executable": sys.executable, "version": ".".join(map(str, sys.version_info[:3]))},
        "site_dirs": site_dirs(),
        "packages": packages(),
        "frameworks": [],
    }
    # Import only what is installed: importing TensorFlow or JAX needlessly costs seconds.
    for module, probe in PROBES.items():
        if importlib.util.find_spec(module) is None:
            continue
        try:
            result["frameworks"].append(probe())
        except Exception as error:
            result["frameworks"].append({"name": module, "error": f"{type(error).__name__}: {error}"})
    sys.stdout.flush()
    print("ENV-DOCTOR-PROBE " + json.dumps(result))


if __name__ == "__main__":
    main()
