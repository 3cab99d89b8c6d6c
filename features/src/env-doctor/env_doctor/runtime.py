"""`env-doctor watch`: run a command (or attach to a running process) and sample its process tree
until it ends: CPU time against the CPUs the container may use, threads, memory, and per GPU
(NVML) utilisation, memory, power, clocks and processes; /dev/shm and I/O wait. At the end a
summary and a short verdict with numbers.

Everything is read from /proc, the cgroup v2 files and NVML (readings.py), whose locations are
parameters so that tests can script them over time."""

from __future__ import annotations

import math
import os
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import __version__
from .common import SCHEMA_VERSION, disk_usage, mib
from .readings import (
    MEMORY_RISE_BYTES,
    THREAD_SETTINGS,
    Gpus,
    cpu_limits,
    io_pressure_us,
    process_tree,
    read_keyed,
    read_processes,
    system_cpu_ticks,
)

# --- sampling -------------------------------------------------------------------------------------

class Sampler:
    """Samples root's process tree. sample() once per interval, then summary()."""

    def __init__(self, root: int, nvml=None, proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup"),
                 shm: str = "/dev/shm", exclude: int | None = None, clock=time.monotonic):
        self.root, self.proc, self.cgroup, self.shm, self.exclude, self.clock = root, proc, cgroup, shm, exclude, clock
        self.gpus = Gpus(nvml)
        self.limits = cpu_limits(cgroup)
        self.started = clock()
        self.first_cpu: dict[int, float] = {}  # CPU seconds of each process when first seen
        self.last_cpu: dict[int, float] = {}
        self.times, self.cpu_totals, self.threads, self.rss, self.process_counts = [], [], [], [], []
        self.gpu_samples: list[list[dict]] = []
        self.tree_pids: set[int] = set()
        self.shm_used: list[int] = []
        self.shm_total = None
        self.cpu_stat_start = read_keyed(cgroup / "cpu.stat")
        self.io_start, self.ticks_start = io_pressure_us(cgroup), system_cpu_ticks(proc)
        self.gpu_baseline = [row["memory_used"] for row in self.gpus.sample()]
        self.own_cpu_start = self.own_cpu()

    @staticmethod
    def own_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def sample(self) -> None:
        processes = read_processes(self.proc)
        tree = process_tree(processes, self.root, self.exclude)
        for pid in tree:
            cpu = processes[pid]["cpu_s"]
            # A process already running when the watch began counts from then on; a new one whole.
            self.first_cpu.setdefault(pid, cpu if not self.times else 0.0)
            self.last_cpu[pid] = cpu
        self.tree_pids |= tree
        self.times.append(self.clock() - self.started)
        self.cpu_totals.append(sum(self.last_cpu[p] - self.first_cpu[p] for p in self.last_cpu))
        self.threads.append(sum(processes[p]["threads"] for p in tree))
        self.rss.append(sum(processes[p]["rss_bytes"] for p in tree))
        self.process_counts.append(len(tree))
        self.gpu_samples.append(self.gpus.sample())
        usage = disk_usage(self.shm)
        if usage:
            self.shm_used.append(usage["used"])
            self.shm_total = usage["total"]

    def summary(self, cpu_seconds: float | None = None) -> dict:
        """The samples summed up. cpu_seconds: the exact CPU time of the tree when known (the
        rusage of a command watch waited for), else what the samples saw."""
        duration = max(self.clock() - self.started, 1e-6)
        seen = self.cpu_totals[-1] if self.cpu_totals else 0.0
        cpu_seconds = max(seen, cpu_seconds or 0.0)
        rates = [(c1 - c0) / (t1 - t0) for t0, t1, c0, c1 in
                 zip(self.times, self.times[1:], self.cpu_totals, self.cpu_totals[1:], strict=False) if t1 > t0]
        stat_end = read_keyed(self.cgroup / "cpu.stat")
        periods = stat_end.get("nr_periods", 0) - self.cpu_stat_start.get("nr_periods", 0)
        throttled = stat_end.get("nr_throttled", 0) - self.cpu_stat_start.get("nr_throttled", 0)
        io_end, ticks_end = io_pressure_us(self.cgroup), system_cpu_ticks(self.proc)
        iowait = None
        if self.ticks_start and ticks_end and ticks_end[1] > self.ticks_start[1]:
            iowait = round(100 * (ticks_end[0] - self.ticks_start[0]) / (ticks_end[1] - self.ticks_start[1]), 1)
        own = self.own_cpu() - self.own_cpu_start
        summary = {
            "schema_version": SCHEMA_VERSION, "kind": "watch", "env_doctor": __version__,
            "duration_s": round(duration, 2), "samples": len(self.times),
            "cpu": dict(self.limits, used_mean=round(cpu_seconds / duration, 2),
                        used_max=round(max(rates), 2) if rates else None, cpu_seconds=round(cpu_seconds, 2),
                        throttled_percent=round(100 * throttled / periods, 1) if periods > 0 else None),
            "threads_max": max(self.threads, default=0), "processes_max": max(self.process_counts, default=0),
            "rss_max_bytes": max(self.rss, default=0),
            "thread_settings": {k: os.environ[k] for k in THREAD_SETTINGS if k in os.environ},
            "shm": {"total_bytes": self.shm_total, "used_max_bytes": max(self.shm_used)} if self.shm_used else None,
            "io": {"system_iowait_percent": iowait,
                   "pressure_percent": round((io_end - self.io_start) / 1e4 / duration, 1)
                   if io_end is not None and self.io_start is not None else None},
            "gpus": self.gpu_summary(),
            "overhead": {"watcher_cpu_seconds": round(own, 3), "percent_of_one_cpu": round(100 * own / duration, 2)},
        }
        summary["verdict"] = verdict(summary)
        return summary

    def gpu_summary(self) -> list[dict]:
        result = []
        for index, info in enumerate(self.gpus.info):
            rows = [sample[index] for sample in self.gpu_samples if index < len(sample)]

            def values(key, rows=rows):
                return [r[key] for r in rows if r[key] is not None]

            utils, memory, power, clocks = values("util"), values("memory_used"), values("power_w"), values("sm_clock_mhz")
            pids = sorted({p for r in rows for p in r["pids"]})
            baseline = self.gpu_baseline[index] if index < len(self.gpu_baseline) else None
            rise = max(memory) - baseline if memory and baseline is not None else None
            # NVML gives host PIDs: they match ours only without a PID namespace (on the host, or
            # docker --pid=host). Otherwise the memory the GPU gained while the command ran tells.
            match = "pid" if set(pids) & self.tree_pids else "memory" if rise is not None and rise >= MEMORY_RISE_BYTES else None
            result.append(dict(info, utilization_mean=round(sum(utils) / len(utils), 1) if utils else None,
                               utilization_max=max(utils, default=None),
                               memory_used_max_bytes=max(memory, default=None), memory_baseline_bytes=baseline,
                               power_mean_w=round(sum(power) / len(power), 1) if power else None,
                               sm_clock_mean_mhz=round(sum(clocks) / len(clocks)) if clocks else None,
                               processes=pids, used=match is not None, matched_by=match))
        return result


# --- the verdict ----------------------------------------------------------------------------------

def _cpus(value: float) -> str:
    return f"{value:g}"


def verdict(summary: dict) -> list[dict]:
    """Short findings with numbers, most important first: [{kind, message}]."""
    cpu, gpus = summary["cpu"], summary["gpus"]
    used_cpus, usable = cpu["used_mean"], cpu["usable_cpus"]
    of_cpus = f"{used_cpus:.1f} of {_cpus(usable)} CPUs"
    settings = ", ".join(f"{k}={v}" for k, v in summary["thread_settings"].items())
    io = summary["io"]
    io_wait = max(io["pressure_percent"] or 0, io["system_iowait_percent"] or 0)
    found = []

    def add(kind, message):
        found.append({"kind": kind, "message": message})

    if summary["samples"] < 2 or summary["duration_s"] < 1:
        add("too-short", f"the command ran {summary['duration_s']:.1f} s: too short to judge; watch something that "
                         "runs for several seconds")
        return found

    used = [g for g in gpus if g["used"]]
    if gpus and not used:
        add("gpus-unused", f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} visible, none used by the command: it ran "
                           "on the CPU (a framework build without CUDA, or the model never moved to the GPU?)")
    elif len(used) < len(gpus):
        add("gpus-unused", f"{len(gpus)} GPUs visible, {len(used)} used (GPU {', '.join(str(g['index']) for g in used)}): "
                           "start one process per GPU (torchrun --nproc-per-node) or shard the work")
    busy = [g["utilization_mean"] for g in used if g["utilization_mean"] is not None]
    if busy:
        mean_busy = sum(busy) / len(busy)
        gpu_text = f"GPU {used[0]['index']}" if len(used) == 1 else f"the {len(used)} GPUs used"
        if mean_busy >= 85:
            add("compute-bound", f"{gpu_text} busy {mean_busy:.0f} % of the time: compute-bound (busy counts time "
                                 "with a kernel running, not how much of the GPU the kernels fill)")
        elif mean_busy < 60 and used_cpus >= 0.85 * usable:
            add("cpu-bound", f"{gpu_text} busy {mean_busy:.0f} % of the time while the process used {of_cpus}: the CPUs "
                             "feeding it are the bottleneck (lighter preprocessing, or more CPUs)")
        elif mean_busy < 60 and io_wait >= 20:
            add("io-bound", f"{gpu_text} busy {mean_busy:.0f} % of the time, I/O wait {io_wait:.0f} %: reading data is "
                            "the bottleneck (faster storage, caching, or more loader workers)")
        elif mean_busy < 60:
            add("input-bound", f"{gpu_text} busy {mean_busy:.0f} % of the time while the process used {of_cpus}: the "
                               "input pipeline is the bottleneck (DataLoader num_workers=0? pin_memory?)")
        else:
            add("gpu-partly-busy", f"{gpu_text} busy {mean_busy:.0f} % of the time: mostly compute, some waiting "
                                   f"on input ({of_cpus} used)")
    if not busy:  # no GPU used, or none that reports utilisation (MIG): judge the CPUs
        throttled = cpu["throttled_percent"]
        throttle_note = f"; the CPU quota throttled it in {throttled:.0f} % of periods" if throttled and throttled >= 10 else ""
        if used_cpus >= 0.8 * usable:
            add("cpu-bound", f"CPU-bound on all CPUs: {of_cpus} used{throttle_note}")
        elif usable >= 2 and 0.6 <= used_cpus <= 1.3:
            threads = (f"{settings} set" if settings else
                       f"{summary['threads_max']} thread{'s' if summary['threads_max'] != 1 else ''}, no thread limit set: "
                       "the work itself runs on one thread")
            add("cpu-bound-one-core", f"CPU-bound on one core: {of_cpus} used ({threads})")
        elif used_cpus < 0.5:
            waiting = f", I/O wait {io_wait:.0f} %" if io_wait >= 5 else ""
            add("waiting", f"mostly waiting: {of_cpus} used{waiting} (sleeping, I/O, network or another process)")
        else:
            add("cpu-partly-used", f"{of_cpus} used: part of the CPUs stayed idle"
                                   + (f" ({settings} set)" if settings else ""))
    shm = summary["shm"]
    if shm and shm["total_bytes"] and shm["used_max_bytes"] >= 0.8 * shm["total_bytes"]:
        add("shm-full", f"/dev/shm up to {mib(shm['used_max_bytes'])} of {mib(shm['total_bytes'])}: DataLoader workers "
                        "fail with 'bus error' when it fills (raise the container's --shm-size)")
    return found


def _known(value) -> str:
    """A figure, or '?' where NVML did not answer (MIG slices have no utilisation)."""
    return "?" if value is None else f"{value:g}"


def render(summary: dict) -> str:
    cpu = summary["cpu"]
    exit_text = f", exit code {summary['exit_code']}" if summary.get("exit_code") is not None else ""
    lines = [f"env-doctor watch: {summary['duration_s']:.1f} s{exit_text}, {summary['samples']} samples every "
             f"{summary['interval_s']:g} s",
             f"  CPU    {cpu['used_mean']:.2f} of {_cpus(cpu['usable_cpus'])} usable CPUs on average"
             + (f" (max {cpu['used_max']:.2f})" if cpu["used_max"] is not None else "")
             + f", threads {summary['threads_max']}, processes {summary['processes_max']}, RSS {mib(summary['rss_max_bytes'])}"]
    for gpu in summary["gpus"]:
        how = {"pid": "used (PID seen by NVML)", "memory": "used (its memory rose while the command ran)",
               None: "not used by the command"}[gpu["matched_by"]]
        lines.append(f"  GPU {gpu['index']}  {gpu['name']}: busy {_known(gpu['utilization_mean'])} % "
                     f"(max {_known(gpu['utilization_max'])}), memory up to {mib(gpu['memory_used_max_bytes'])}, "
                     f"{_known(gpu['power_mean_w'])} W, SM {_known(gpu['sm_clock_mean_mhz'])} MHz; {how}")
    if summary["shm"]:
        lines.append(f"  /dev/shm up to {mib(summary['shm']['used_max_bytes'])} of {mib(summary['shm']['total_bytes'])}")
    io = summary["io"]
    io_parts = ([f"the container waited on I/O {io['pressure_percent']} % of the time"] if io["pressure_percent"] is not None else []) + \
        ([f"host iowait {io['system_iowait_percent']} %"] if io["system_iowait_percent"] is not None else [])
    if io_parts:
        lines.append(f"  I/O    {', '.join(io_parts)}")
    lines.append(f"  watch overhead: {summary['overhead']['watcher_cpu_seconds']:.2f} CPU s "
                 f"({summary['overhead']['percent_of_one_cpu']:.2f} % of one CPU)")
    lines.append("verdict:")
    lines += [f"  {item['message']}" for item in summary["verdict"]]
    return "\n".join(lines)


# --- the command ----------------------------------------------------------------------------------

class CommandNotRun(RuntimeError):
    """The command could not be started (not found, not executable): a shell's exit status 127."""


def exit_status(returncode: int) -> int:
    """A shell's exit status: 128 + N for a command killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def watch_command(command: list[str], interval: float, nvml=None) -> tuple[int, dict]:
    """Run command, sample it until it ends: (its exit status, the summary)."""
    try:
        child = subprocess.Popen(command)
    except OSError as error:
        raise CommandNotRun(f"env-doctor watch: cannot run {command[0]}: {error.strerror}") from None
    sampler = Sampler(child.pid, nvml=nvml)
    forward = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    # A pidfd turns readable when the command ends: the watcher sleeps between samples and sees the
    # end at once. Without one (Linux < 5.3), it looks every 50 ms.
    ended = os.pidfd_open(child.pid) if hasattr(os, "pidfd_open") else None
    rusage = None
    try:
        while rusage is None:
            try:
                sampler.sample()
                deadline = time.monotonic() + interval
                while rusage is None and time.monotonic() < deadline:
                    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                    if pid:
                        rusage, child.returncode = usage, os.waitstatus_to_exitcode(status)
                    elif ended is not None:
                        select.select([ended], [], [], max(0.0, deadline - time.monotonic()))
                    else:
                        time.sleep(min(0.05, interval))
            except KeyboardInterrupt:  # Ctrl-C reaches the command too: wait for it to end
                continue
    finally:
        signal.signal(signal.SIGTERM, forward)
        if ended is not None:
            os.close(ended)
    summary = sampler.summary(cpu_seconds=rusage.ru_utime + rusage.ru_stime)
    sampler.gpus.close()
    return exit_status(child.returncode), dict(summary, command=command, interval_s=interval,
                                               exit_code=exit_status(child.returncode))


def watch_pid(pid: int, interval: float, nvml=None, on_ready=None) -> dict:
    """Sample a running process (a notebook kernel) until it ends or SIGINT/SIGTERM: the summary."""
    stop = []
    previous = {s: signal.signal(s, lambda signum, frame: stop.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        sampler = Sampler(pid, nvml=nvml, exclude=os.getpid())
        if on_ready:
            on_ready()
        while not stop and Path(f"/proc/{pid}").exists():
            sampler.sample()
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.05, interval))
        sampler.sample()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    summary = sampler.summary()
    sampler.gpus.close()
    return dict(summary, command=None, interval_s=interval, exit_code=None, pid=pid)


def check_interval(value: str) -> float:
    """--interval: seconds between samples, 0.05 to 60."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0.05 <= seconds <= 60:
        raise ValueError(f"--interval takes seconds between 0.05 and 60, got {value!r}")
    return seconds


def print_summary(summary: dict) -> None:
    print(render(summary), file=sys.stderr, flush=True)
