"""`env-doctor bench`: short measurements of this environment (env_doctor_bench.py, run with the
project's interpreter and framework), their median and spread, the conditions they ran under
(CPUs, thread settings, GPU clocks), and the explanation of a speed change between two snapshots."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time

from .common import BENCH_FILE, SCHEMA_VERSION, project_python_env
from .facts import cpu_facts, load_nvml
from .readings import NVML_CLOCK_SM, THREAD_SETTINGS

DEFAULT_SECONDS = 20.0
MIN_CHANGE_PERCENT = 3.0  # below this a change is noise, whatever the spread says


class BenchError(RuntimeError):
    pass


def figure_stats(values: list[float]) -> dict:
    """Median, quartiles, min/max and the spread: half the min-max range, in % of the median."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    low, high = min(values), max(values)
    return {"median": round(median, 6), "q1": round(q1, 6), "q3": round(q3, 6), "min": round(low, 6),
            "max": round(high, 6), "repeats": len(values),
            "spread_percent": round(100 * (high - low) / 2 / median, 1) if median else None}


def gpu_clocks() -> list[dict]:
    """Each GPU's SM clock now and at most, and its throttle reasons (a bitmask; 0 = none): a speed
    compared across runs needs comparable clocks."""
    nvml = None
    try:
        nvml = load_nvml()
        nvml.nvmlInit()
    except Exception:
        return []
    found = []
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            row = {"index": index, "sm_mhz": None, "sm_max_mhz": None, "throttle_reasons": None}
            for key, call in [("sm_mhz", lambda h=handle: nvml.nvmlDeviceGetClockInfo(h, NVML_CLOCK_SM)),
                              ("sm_max_mhz", lambda h=handle: nvml.nvmlDeviceGetMaxClockInfo(h, NVML_CLOCK_SM)),
                              ("throttle_reasons", lambda h=handle: nvml.nvmlDeviceGetCurrentClocksThrottleReasons(h))]:
                try:
                    row[key] = int(call())
                except Exception:
                    pass
            found.append(row)
    except Exception:
        pass
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass
    return found


def run_bench(python: str, seconds: float = DEFAULT_SECONDS) -> dict:
    """The bench document: figures with statistics and the conditions they were measured under."""
    try:
        done = subprocess.run([python, str(BENCH_FILE), str(seconds)], capture_output=True, text=True,
                              timeout=seconds * 4 + 120, env=project_python_env())
    except FileNotFoundError:
        raise BenchError(f"project interpreter {python} not found") from None
    except subprocess.TimeoutExpired:
        raise BenchError(f"the bench with {python} did not finish within {seconds * 4 + 120:.0f} s") from None
    raw = next((json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines()
                if line.startswith("ENV-DOCTOR-BENCH ")), None)
    if raw is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BenchError(f"the bench with {python} failed (exit {done.returncode}): {' | '.join(tail)}")
    cpu = cpu_facts()
    figures = [dict({k: v for k, v in f.items() if k != "values"}, **figure_stats(f["values"])) for f in raw["figures"]]
    return {"schema_version": SCHEMA_VERSION, "kind": "bench",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": seconds,
            "framework": raw["framework"], "figures": figures, "errors": raw["errors"],
            "conditions": {"usable_cpus": cpu["usable_cpus"], "affinity_cpus": cpu["affinity_cpus"],
                           "cgroup_quota_cpus": cpu["cgroup_quota_cpus"],
                           "thread_settings": {k: os.environ[k] for k in THREAD_SETTINGS if k in os.environ},
                           "gpu_clocks": gpu_clocks()}}


def render_bench(bench: dict) -> str:
    framework = bench["framework"]
    head = (f"{framework['name']} {framework['version']} on {framework['device']}" if framework
            else "no framework importable (torch, jax, tensorflow, numpy): CPU figure only")
    c = bench["conditions"]
    lines = [f"env-doctor bench: {head}; {c['usable_cpus']} usable CPUs"
             + (f", {', '.join(f'{k}={v}' for k, v in c['thread_settings'].items())}" if c["thread_settings"] else ""),
             f"  {'figure':<12} {'median':>10}  {'unit':<15} spread (min-max)"]
    for f in bench["figures"]:
        lines.append(f"  {f['name']:<12} {f['median']:>10.4g}  {f['unit']:<15} ±{f['spread_percent']} % "
                     f"({f['min']:.4g}-{f['max']:.4g}, {f['repeats']} repeats)")
    lines += [f"  error: {e}" for e in bench["errors"]]
    return "\n".join(lines)


# --- explaining a speed change ------------------------------------------------------------------

def changed_facts(a: dict, b: dict) -> dict[str, str]:
    """The facts that bear on speed and differ between snapshots a and b: {topic: 'x -> y'}."""
    ca, cb = a["bench"]["conditions"], b["bench"]["conditions"]
    found = {}

    def note(topic, x, y):
        if x != y:
            found[topic] = f"{x if x is not None else 'none'} -> {y if y is not None else 'none'}"

    note("usable CPUs", ca["usable_cpus"], cb["usable_cpus"])
    note("CPU quota", ca["cgroup_quota_cpus"], cb["cgroup_quota_cpus"])
    note("CPU affinity", ca["affinity_cpus"], cb["affinity_cpus"])
    settings = sorted(ca["thread_settings"].keys() | cb["thread_settings"].keys())
    for key in settings:
        note(key, ca["thread_settings"].get(key), cb["thread_settings"].get(key))
    fa, fb = a["bench"]["framework"] or {}, b["bench"]["framework"] or {}
    note("framework threads", fa.get("threads"), fb.get("threads"))
    note("driver", a["driver"].get("version"), b["driver"].get("version"))
    note("GPU model", ", ".join(g["name"] for g in a["gpus"]) or None, ", ".join(g["name"] for g in b["gpus"]) or None)
    clocks_a = [g["sm_max_mhz"] for g in ca["gpu_clocks"]]
    clocks_b = [g["sm_max_mhz"] for g in cb["gpu_clocks"]]
    note("GPU max SM clock (MHz)", clocks_a or None, clocks_b or None)
    throttle_a = [g["throttle_reasons"] for g in ca["gpu_clocks"] if g["throttle_reasons"]]
    throttle_b = [g["throttle_reasons"] for g in cb["gpu_clocks"] if g["throttle_reasons"]]
    note("GPU throttle reasons", throttle_a or None, throttle_b or None)
    for key, label in (("cudart", "CUDA runtime"), ("cudnn", "cuDNN")):
        note(label, (a["cuda_libraries"].get(key) or {}).get("version"), (b["cuda_libraries"].get(key) or {}).get("version"))
    note("framework build", f"{fa['name']} {fa['version']}" if fa else None, f"{fb['name']} {fb['version']}" if fb else None)
    for name in ("numpy", "torch", "jax", "jaxlib", "tensorflow"):
        if name not in (fa.get("name"), fb.get("name")):
            note(name, a.get("packages", {}).get(name), b.get("packages", {}).get(name))
    return found


# The facts most likely to move each kind of figure, most likely first.
CPU_CAUSES = ["usable CPUs", "CPU quota", "CPU affinity", *THREAD_SETTINGS, "framework threads", "framework build", "numpy"]
GPU_CAUSES = ["GPU model", "GPU max SM clock (MHz)", "GPU throttle reasons", "driver", "CUDA runtime", "cuDNN",
              "framework build", "torch", "jax", "jaxlib", "tensorflow"]
COPY_CAUSES = ["GPU model", "driver", "CUDA runtime", "framework build", "usable CPUs", "CPU affinity"]


def likely_causes(figure: dict, changed: dict[str, str]) -> list[str]:
    if figure["name"] in ("h2d", "d2h", "gpu0_gpu1"):
        order = COPY_CAUSES
    elif figure["device"] == "cpu":
        order = CPU_CAUSES
    else:
        order = GPU_CAUSES
    ranked = [t for t in order if t in changed]
    return ranked + [t for t in changed if t not in ranked]


def performance_items(a: dict, b: dict) -> list[dict]:
    """Diff items (group "performance") for each bench figure that changed beyond the spread of
    both measurements, with the changed facts, most likely cause first."""
    if not (a.get("bench") and b.get("bench")):
        return []
    fa = {(f["name"], f["device"]): f for f in a["bench"]["figures"]}
    changed = changed_facts(a, b)
    items = []
    for f in b["bench"]["figures"]:
        old = fa.get((f["name"], f["device"]))
        if not old or not old["median"]:
            continue
        change = 100 * (f["median"] - old["median"]) / old["median"]
        spread = (old["spread_percent"] or 0) + (f["spread_percent"] or 0)
        if abs(change) <= max(spread, MIN_CHANGE_PERCENT):
            continue
        causes = likely_causes(f, changed)
        what = (f"{f['name']} ({f['device']}) {abs(change):.0f} % {'faster' if change > 0 else 'slower'}: "
                f"{old['median']:.4g} -> {f['median']:.4g} {f['unit']} (spread ±{old['spread_percent']} % / "
                f"±{f['spread_percent']} %)")
        if causes:
            consequence = (f"likely cause: {causes[0]} {changed[causes[0]]}"
                           + (f"; also changed: {'; '.join(f'{t} {changed[t]}' for t in causes[1:])}" if causes[1:] else ""))
        else:
            consequence = ("no recorded fact changed: other load on the machine, thermal state or power limits; "
                           "run env-doctor bench again on an idle machine")
        items.append({"group": "performance", "what": what, "consequence": consequence})
    return items
