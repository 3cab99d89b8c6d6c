"""What `env-doctor watch` reads from the running system: the processes and their tree, CPU time,
threads and memory (/proc), the cgroup's CPU limits and I/O pressure, and per GPU (NVML)
utilisation, memory, power, clocks and processes. The locations are parameters, so that tests
can script them over time."""

from __future__ import annotations

import os
from pathlib import Path

from . import facts
from .facts import cgroup_cpu_quota

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Environment variables that cap the threads of OpenMP, BLAS and the frameworks.
THREAD_SETTINGS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                   "TF_NUM_INTEROP_THREADS", "XLA_FLAGS")
# A GPU whose memory rose this much while the command ran is taken as used by it, when its PIDs
# cannot be matched (NVML reports host PIDs, a container sees its own).
MEMORY_RISE_BYTES = 256 * 2**20
NVML_CLOCK_SM = 1  # pynvml.NVML_CLOCK_SM


# --- reading /proc and the cgroup ---------------------------------------------------------------

def read_processes(proc: Path) -> dict[int, dict]:
    """Every process visible: {pid: {ppid, cpu_s, threads, rss_bytes}} from /proc/PID/stat."""
    found = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:  # ended between the listing and the read
            continue
        fields = text[text.rindex(")") + 2:].split()  # the name in parentheses may hold spaces
        # fields[0] is field 3 of proc(5): ppid is 4, utime 14, stime 15, num_threads 20, rss 24
        found[int(entry.name)] = {"ppid": int(fields[1]), "cpu_s": (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                                  "threads": int(fields[17]), "rss_bytes": int(fields[21]) * PAGE_SIZE}
    return found


def process_tree(processes: dict[int, dict], root: int, exclude: int | None = None) -> set[int]:
    """root and its descendants; exclude (and its descendants) left out: the watcher itself when it
    watches the process that started it."""
    children: dict[int, list[int]] = {}
    for pid, info in processes.items():
        children.setdefault(info["ppid"], []).append(pid)
    tree, todo = set(), [root] if root in processes else []
    while todo:
        pid = todo.pop()
        if pid == exclude or pid in tree:
            continue
        tree.add(pid)
        todo += children.get(pid, [])
    return tree


def cpu_limits(cgroup: Path) -> dict:
    """The CPUs this process may use: affinity and the cgroup quota (docker --cpus); fractional,
    unlike the facts' usable_cpus, so that 1.5 CPUs busy of a 1.5 quota reads as all of them."""
    affinity = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(cgroup)
    return {"affinity_cpus": affinity, "cgroup_quota_cpus": quota,
            "usable_cpus": round(min(affinity, quota), 2) if quota else affinity}


def read_keyed(path: Path) -> dict[str, int]:
    """'key value' lines (cgroup cpu.stat) as a dict; empty when absent."""
    try:
        return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines() if line.strip())}
    except (OSError, ValueError):
        return {}


def io_pressure_us(cgroup: Path) -> int | None:
    """Microseconds some task of the cgroup waited on I/O (cgroup v2 io.pressure, 'some' line)."""
    try:
        for line in (cgroup / "io.pressure").read_text().splitlines():
            if line.startswith("some"):
                return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def system_cpu_ticks(proc: Path) -> tuple[int, int] | None:
    """(iowait, total) ticks of all CPUs from /proc/stat: the host's, even in a container."""
    try:
        values = [int(v) for v in (proc / "stat").read_text().splitlines()[0].split()[1:]]
        return values[4], sum(values[:8])
    except (OSError, ValueError, IndexError):
        return None


# --- GPUs (NVML) ----------------------------------------------------------------------------------

def _try(call, default=None):
    try:
        return call()
    except Exception:  # each NVML query may be unsupported (MIG, vGPU, older driver)
        return default


class Gpus:
    """NVML opened once for the whole watch; sample() reads every GPU."""

    def __init__(self, nvml):
        self.nvml, self.handles, self.info = nvml, [], []
        if nvml is None:
            return
        try:
            nvml.nvmlInit()
        except Exception:
            self.nvml = None
            return
        for index in range(_try(nvml.nvmlDeviceGetCount, 0)):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = _try(lambda h=handle: nvml.nvmlDeviceGetName(h), "?")
            self.handles.append(handle)
            self.info.append({"index": index, "name": name.decode() if isinstance(name, bytes) else str(name)})

    def sample(self) -> list[dict]:
        nvml, rows = self.nvml, []
        for handle in self.handles:
            memory = _try(lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h))
            processes = _try(lambda h=handle: nvml.nvmlDeviceGetComputeRunningProcesses(h), [])
            power = _try(lambda h=handle: nvml.nvmlDeviceGetPowerUsage(h))
            rows.append({"util": _try(lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h).gpu),
                         "memory_used": int(memory.used) if memory else None,
                         "power_w": power / 1000 if power is not None else None,
                         "sm_clock_mhz": _try(lambda h=handle: nvml.nvmlDeviceGetClockInfo(h, NVML_CLOCK_SM)),
                         "pids": sorted({int(p.pid) for p in processes})})
        return rows

    def close(self):
        if self.nvml is not None:
            _try(self.nvml.nvmlShutdown)


def load_nvml():
    """facts.load_nvml, or None where nvidia-ml-py is missing: a watch without GPUs."""
    try:
        return facts.load_nvml()
    except ImportError:
        return None
