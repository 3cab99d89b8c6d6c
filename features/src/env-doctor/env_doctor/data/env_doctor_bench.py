"""Runs with the PROJECT's interpreter (like env_doctor_probe.py) and prints one JSON object: short
measurements of this environment with the project's own framework.

    python env_doctor_bench.py [SECONDS]

- cpu: a pure-Python loop in one process per CPU this process may run on (affinity), in
  iterations per second summed over the processes: a cgroup quota (docker --cpus) or fewer CPUs
  shows as a lower figure, whatever the framework's thread settings.
- matmul fp32 (and bf16/fp16 on a GPU that has them) in TFLOP/s, with torch, JAX or TensorFlow
  (the first importable), on the GPU when the framework sees one; else numpy on the CPU.
- h2d/d2h: host-to-device and device-to-host copy bandwidth in GB/s (torch or JAX on a GPU).
- gpu0_gpu1: GPU-to-GPU copy bandwidth in GB/s where torch sees several GPUs (NVLink or PCIe,
  peer-to-peer or through the host: `peer` says which the driver allows).

Each figure is measured REPEATS times after a warm-up; env-doctor computes median and spread.
Only the standard library and whichever frameworks the environment has.
"""

import importlib.util
import json
import multiprocessing
import os
import sys
import time

REPEATS = 7
COPY_BYTES = 256 * 2**20


def repeat(run_once, work, window):
    """REPEATS measurements of work/second, each running run_once (which returns once its work is
    done, synchronised) as often as fits in window seconds."""
    run_once()  # warm-up: compilation, allocation, clocks ramping up
    started = time.perf_counter()
    run_once()
    runs = max(1, int(window / max(time.perf_counter() - started, 1e-6)))
    values = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(runs):
            run_once()
        values.append(work * runs / (time.perf_counter() - started))
    return values


# --- CPU ----------------------------------------------------------------------------------------

def _count(deadline):
    count = 0
    while time.perf_counter() < deadline:
        for _ in range(10000):
            count += 1
    return count


def _spin(window, start, results):
    while time.perf_counter() < start:  # all processes begin together
        pass
    results.put(_count(start + window))


def cpu_figure(window):
    """Iterations per second of a pure-Python loop, one process per CPU of the affinity."""
    workers = len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    values = []
    for attempt in range(REPEATS + 1):
        results = context.Queue()
        start = time.perf_counter() + 0.05
        processes = [context.Process(target=_spin, args=(window, start, results)) for _ in range(workers)]
        for process in processes:
            process.start()
        total = sum(results.get() for _ in processes)
        for process in processes:
            process.join()
        if attempt:  # the first is the warm-up
            values.append(total / window / 1e6)
    return {"name": "cpu", "unit": "M iterations/s", "device": "cpu", "workers": workers, "values": values}


# --- frameworks ---------------------------------------------------------------------------------

def torch_figures(window):
    import torch

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    dtypes = [("fp32", torch.float32)]
    if cuda:
        dtypes.append(("bf16", torch.bfloat16) if torch.cuda.is_bf16_supported() else ("fp16", torch.float16))
    n = 8192 if cuda else 1024
    figures = []
    for label, dtype in dtypes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)

        def matmul(a=a, b=b):
            torch.matmul(a, b)
            sync()
        figures.append({"name": f"matmul_{label}", "unit": "TFLOP/s", "device": str(device), "size": n,
                        "values": [v / 1e12 for v in repeat(matmul, 2 * n**3, window)]})
    if cuda:
        host = torch.empty(COPY_BYTES, dtype=torch.uint8).pin_memory()
        gpu = torch.empty(COPY_BYTES, dtype=torch.uint8, device=device)

        def h2d():
            gpu.copy_(host, non_blocking=True)
            sync()

        def d2h():
            host.copy_(gpu, non_blocking=True)
            sync()
        for name, run in (("h2d", h2d), ("d2h", d2h)):
            figures.append({"name": name, "unit": "GB/s", "device": str(device), "size": COPY_BYTES,
                            "values": [v / 1e9 for v in repeat(run, COPY_BYTES, window)]})
        if torch.cuda.device_count() >= 2:
            first = torch.empty(COPY_BYTES, dtype=torch.uint8, device="cuda:0")
            second = torch.empty(COPY_BYTES, dtype=torch.uint8, device="cuda:1")

            def gpu_to_gpu():
                second.copy_(first, non_blocking=True)
                torch.cuda.synchronize("cuda:0")
                torch.cuda.synchronize("cuda:1")
            figures.append({"name": "gpu0_gpu1", "unit": "GB/s", "device": "cuda:0->cuda:1", "size": COPY_BYTES,
                            "peer": torch.cuda.can_device_access_peer(0, 1),
                            "values": [v / 1e9 for v in repeat(gpu_to_gpu, COPY_BYTES, window)]})
    device_name = torch.cuda.get_device_name(0) if cuda else "cpu"
    return {"name": "torch", "version": torch.__version__, "threads": torch.get_num_threads(), "device": device_name}, figures


def jax_figures(window):
    import jax
    import jax.numpy as jnp
    import numpy as np

    gpus = [d for d in jax.devices() if d.platform == "gpu"] if jax.default_backend() == "gpu" else []
    device = gpus[0] if gpus else jax.devices("cpu")[0]
    n = 8192 if gpus else 1024
    dtypes = [("fp32", jnp.float32)] + ([("bf16", jnp.bfloat16)] if gpus else [])
    figures = []
    matmul_fn = jax.jit(jnp.matmul)
    for label, dtype in dtypes:
        a = jax.device_put(jnp.ones((n, n), dtype), device)
        b = jax.device_put(jnp.ones((n, n), dtype), device)
        figures.append({"name": f"matmul_{label}", "unit": "TFLOP/s", "device": device.platform, "size": n,
                        "values": [v / 1e12 for v in repeat(lambda a=a, b=b: matmul_fn(a, b).block_until_ready(),
                                                            2 * n**3, window)]})
    if gpus:
        host = np.ones(COPY_BYTES, np.uint8)
        on_gpu = jax.device_put(host, device)
        for name, run in (("h2d", lambda: jax.device_put(host, device).block_until_ready()),
                          # a new array each time: JAX keeps the host copy of an array it converted once
                          ("d2h", lambda: np.asarray(on_gpu + jnp.uint8(0)))):
            figures.append({"name": name, "unit": "GB/s", "device": device.platform, "size": COPY_BYTES,
                            "values": [v / 1e9 for v in repeat(run, COPY_BYTES, window)]})
    return {"name": "jax", "version": jax.__version__, "threads": None,
            "device": getattr(device, "device_kind", device.platform)}, figures


def tensorflow_figures(window):
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    name = "/GPU:0" if gpus else "/CPU:0"
    n = 8192 if gpus else 1024
    dtypes = [("fp32", tf.float32)] + ([("bf16", tf.bfloat16)] if gpus else [])
    figures = []
    with tf.device(name):
        for label, dtype in dtypes:
            a = tf.random.normal((n, n), dtype=tf.float32)
            a = tf.cast(a, dtype)
            b = tf.identity(a)

            def matmul(a=a, b=b):
                tf.linalg.matmul(a, b)[0, 0].numpy()  # .numpy() waits for the result
            figures.append({"name": f"matmul_{label}", "unit": "TFLOP/s", "device": "gpu" if gpus else "cpu",
                            "size": n, "values": [v / 1e12 for v in repeat(matmul, 2 * n**3, window)]})
    return {"name": "tensorflow", "version": tf.__version__,
            "threads": tf.config.threading.get_intra_op_parallelism_threads() or None,
            "device": "gpu" if gpus else "cpu"}, figures


def numpy_figures(window):
    import numpy as np

    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    figure = {"name": "matmul_fp32", "unit": "TFLOP/s", "device": "cpu", "size": n,
              "values": [v / 1e12 for v in repeat(lambda: a @ a, 2 * n**3, window)]}
    return {"name": "numpy", "version": np.__version__, "threads": None, "device": "cpu"}, [figure]


FRAMEWORKS = {"torch": torch_figures, "jax": jax_figures, "tensorflow": tensorflow_figures, "numpy": numpy_figures}


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    framework = next((name for name in FRAMEWORKS if importlib.util.find_spec(name)), None)
    # Time shares: the framework's figures (up to four) and the CPU figure, each REPEATS + warm-ups.
    shares = 5 if framework in ("torch", "jax") else 3 if framework else 1
    window = seconds / shares / (REPEATS + 2)
    # The CPU figure first: it forks, which a framework's threads (JAX, TensorFlow) make unsafe.
    result = {"framework": None, "figures": [cpu_figure(max(window, 0.3))], "errors": []}  # >= 3 quota periods
    if framework:
        try:
            result["framework"], figures = FRAMEWORKS[framework](window)
            result["figures"] += figures
        except Exception as error:  # a broken install gives a finding, not a crash
            result["errors"].append(f"{framework}: {type(error).__name__}: {error}")
    sys.stdout.flush()
    print("ENV-DOCTOR-BENCH " + json.dumps(result))


if __name__ == "__main__":
    main()
