"""`env-doctor watch` (env_doctor/runtime.py): the sampler over scripted /proc, cgroup and NVML
data (an idle GPU, a busy one, one of four used), the verdicts it draws, and real runs of the
command and of the notebook context manager on this machine."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import env_doctor
import pytest
from env_doctor import cli, readings, runtime
from env_doctor.common import EXIT_USAGE

from tests.utils.env_doctor_cli import run
from tests.utils.fake_nvml import A100, GIB, H100, FakeNVML
from tests.utils.gpu_check import schema_errors

TICKS = readings.CLOCK_TICKS


class Machine:
    """A scripted /proc and cgroup: processes whose CPU time the test advances, and a clock."""

    def __init__(self, root: Path, cpus: int = 16, quota: str = "max"):
        self.proc, self.cgroup = root / "proc", root / "cgroup"
        self.proc.mkdir()
        self.cgroup.mkdir()
        (self.cgroup / "cpu.max").write_text(f"{quota} 100000\n")
        self.cpus, self.now, self.processes = cpus, 0.0, {}
        self.cpu_stat = {"nr_periods": 0, "nr_throttled": 0}
        self.iowait, self.total_ticks = 0, 0
        self.write()

    def clock(self) -> float:
        return self.now

    def spawn(self, pid: int, ppid: int, threads: int = 1, rss_mib: int = 100):
        self.processes[pid] = {"ppid": ppid, "ticks": 0, "threads": threads, "rss": rss_mib * 2**20}
        self.write()

    def advance(self, seconds: float, busy: dict[int, float], iowait_share: float = 0.0, throttled: int = 0):
        """seconds pass; busy: CPUs each process keeps busy meanwhile."""
        self.now += seconds
        for pid, cpus in busy.items():
            self.processes[pid]["ticks"] += round(cpus * seconds * TICKS)
        periods = round(seconds * 10)
        self.cpu_stat = {"nr_periods": self.cpu_stat["nr_periods"] + periods,
                         "nr_throttled": self.cpu_stat["nr_throttled"] + throttled}
        ticks = round(seconds * TICKS * self.cpus)
        self.total_ticks += ticks
        self.iowait += round(ticks * iowait_share)
        self.write()

    def write(self):
        for pid, p in self.processes.items():
            folder = self.proc / str(pid)
            folder.mkdir(exist_ok=True)
            fields = ["S", p["ppid"], 0, 0, 0, 0, 0, 0, 0, 0, 0, p["ticks"], 0, 0, 0, 20, 0, p["threads"], 0, 0, 0,
                      p["rss"] // readings.PAGE_SIZE]
            (folder / "stat").write_text(f"{pid} (my (odd) name) " + " ".join(map(str, fields)) + "\n")
        idle = self.total_ticks - self.iowait
        (self.proc / "stat").write_text(f"cpu  0 0 0 {idle} {self.iowait} 0 0 0 0 0\n")
        (self.cgroup / "cpu.stat").write_text("".join(f"{k} {v}\n" for k, v in self.cpu_stat.items()))

    def sampler(self, nvml=None, root=100, exclude=None) -> runtime.Sampler:
        return runtime.Sampler(root, nvml=nvml, proc=self.proc, cgroup=self.cgroup, shm=str(self.proc),
                               exclude=exclude, clock=self.clock)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(16)))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return Machine(tmp_path)


def watched(machine, sampler, steps, busy, **advance):
    for _ in range(steps):
        sampler.sample()
        machine.advance(1.0, busy, **advance)
    sampler.sample()
    return sampler.summary()


def kinds(summary):
    return [item["kind"] for item in summary["verdict"]]


def test_idle_gpu_and_one_busy_core_names_the_thread_setting(machine, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    machine.spawn(100, 1, threads=1)
    summary = watched(machine, machine.sampler(FakeNVML(gpus=[dict(H100, util=0)])), 10, {100: 1.0})
    assert summary["cpu"]["usable_cpus"] == 16 and summary["cpu"]["used_mean"] == pytest.approx(1.0, abs=0.05)
    assert summary["gpus"][0]["used"] is False and summary["gpus"][0]["utilization_mean"] == 0
    assert kinds(summary) == ["gpus-unused", "cpu-bound-one-core"]
    assert summary["verdict"][1]["message"] == "CPU-bound on one core: 1.0 of 16 CPUs used (OMP_NUM_THREADS=1 set)"
    assert schema_errors(dict(summary, command=["python", "train.py"], interval_s=1.0, exit_code=0), "watch") == []


def test_busy_gpu_matched_by_pid_is_compute_bound(machine):
    machine.spawn(100, 1)
    gpu = dict(H100, util=[0, 97, 96, 98, 97, 97, 97], used=[GIB, 30 * GIB], pids=[100])
    summary = watched(machine, machine.sampler(FakeNVML(gpus=[gpu])), 6, {100: 1.0})
    assert summary["gpus"][0]["matched_by"] == "pid" and summary["gpus"][0]["memory_used_max_bytes"] == 30 * GIB
    assert kinds(summary) == ["compute-bound"]
    assert summary["verdict"][0]["message"].startswith("GPU 0 busy 97 % of the time: compute-bound")


def test_one_of_four_gpus_used_behind_a_pid_namespace_is_input_bound(machine):
    """NVML reports host PIDs (98765) the container cannot see: the memory GPU 1 gained while the
    command ran identifies it; it is busy 30 % while the process uses about 1 CPU of 16."""
    machine.spawn(100, 1)
    idle = dict(A100, util=0, pids=[])
    gpus = [dict(idle), dict(A100, util=[0, 30], used=[GIB, 9 * GIB], pids=[98765]), dict(idle), dict(idle)]
    summary = watched(machine, machine.sampler(FakeNVML(gpus=gpus)), 8, {100: 1.1})
    assert [g["matched_by"] for g in summary["gpus"]] == [None, "memory", None, None]
    assert summary["gpus"][1]["processes"] == [98765]
    assert kinds(summary) == ["gpus-unused", "input-bound"]
    assert summary["verdict"][0]["message"].startswith("4 GPUs visible, 1 used (GPU 1)")
    assert summary["verdict"][1]["message"].startswith("GPU 1 busy 30 % of the time while the process used 1.1 of 16 CPUs")


def test_cpu_quota_counts_and_throttling_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(16)))
    machine = Machine(tmp_path, quota="200000")  # docker --cpus=2
    machine.spawn(100, 1, threads=8)
    summary = watched(machine, machine.sampler(), 5, {100: 2.0}, throttled=6)
    assert summary["cpu"]["usable_cpus"] == 2 and summary["cpu"]["cgroup_quota_cpus"] == 2.0
    assert summary["cpu"]["throttled_percent"] == 60.0
    assert summary["verdict"] == [{"kind": "cpu-bound", "message": "CPU-bound on all CPUs: 2.0 of 2 CPUs used; "
                                                                   "the CPU quota throttled it in 60 % of periods"}]


def test_process_tree_children_counted_watcher_left_out(machine):
    """Children (DataLoader workers) count, those started later wholly; the watcher and its own
    children (it runs as a child of the kernel it watches) do not; other processes do not."""
    machine.spawn(100, 1, threads=4, rss_mib=500)
    machine.spawn(101, 100, threads=2)
    machine.spawn(200, 100)  # the watcher
    machine.spawn(300, 1)  # unrelated
    machine.processes[100]["ticks"] = 50 * TICKS  # CPU time from before the watch: not counted
    machine.write()
    sampler = machine.sampler(exclude=200)
    sampler.sample()
    machine.advance(1.0, {100: 0.5, 101: 1.0, 200: 1.0, 300: 1.0})
    machine.spawn(102, 100)
    machine.processes[102]["ticks"] = TICKS  # a new worker: all its CPU time counts
    machine.write()
    sampler.sample()
    machine.advance(1.0, {100: 0.5, 101: 1.0, 102: 1.0, 200: 1.0, 300: 1.0})
    sampler.sample()
    summary = sampler.summary()
    assert summary["cpu"]["cpu_seconds"] == pytest.approx(0.5 + 1 + 1 + 0.5 + 1 + 1, abs=0.05)
    assert summary["processes_max"] == 3 and summary["threads_max"] == 7
    assert summary["rss_max_bytes"] == 700 * 2**20


def test_io_wait_and_a_short_run(machine):
    machine.spawn(100, 1)
    summary = watched(machine, machine.sampler(), 4, {100: 0.1}, iowait_share=0.25)
    assert summary["io"]["system_iowait_percent"] == 25.0
    assert kinds(summary) == ["waiting"] and "I/O wait 25 %" in summary["verdict"][0]["message"]
    short = machine.sampler()
    short.sample()
    assert kinds(short.summary()) == ["too-short"]


# --- the real command ---------------------------------------------------------------------------

BUSY = "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"


def test_watch_runs_a_command_and_passes_its_exit_code(capsys, tmp_path):
    target = tmp_path / "watch.json"
    code = cli.main(["watch", "--interval", "0.2", "--json", str(target), "--",
                     sys.executable, "-c", BUSY.format(seconds=1.5) + "raise SystemExit(5)"])
    assert code == 5
    summary = json.loads(target.read_text())
    assert summary["exit_code"] == 5 and summary["samples"] >= 5 and summary["command"][0] == sys.executable
    assert summary["cpu"]["used_mean"] > 0.5  # a busy loop, generously: other jobs share this machine
    assert summary["overhead"]["percent_of_one_cpu"] < 10
    assert schema_errors(summary, "watch") == []
    assert "verdict:" in capsys.readouterr().err


def test_watch_usage_errors(capsys, tmp_path):
    with pytest.raises(SystemExit) as error:
        run(capsys, "watch", "--interval", "0", "--", "true")
    assert error.value.code == EXIT_USAGE
    with pytest.raises(SystemExit) as error:
        run(capsys, "watch")
    assert error.value.code == EXIT_USAGE
    assert "give a command after --" in capsys.readouterr().err
    with pytest.raises(SystemExit) as error:
        run(capsys, "watch", "--json", str(tmp_path / "absent/w.json"), "--", "true")
    assert error.value.code == EXIT_USAGE and "absent does not exist" in capsys.readouterr().err
    assert cli.split_command(["--interval", "2", "python", "-c", "x"]) == (["--interval", "2"], ["python", "-c", "x"])
    assert cli.split_command(["--json", "w.json", "--", "-weird"]) == (["--json", "w.json"], ["-weird"])
    assert cli.main(["watch", "--", str(tmp_path / "no-such-program")]) == 127
    assert "cannot run" in capsys.readouterr().err


def test_notebook_context_manager_watches_this_process(tmp_path, monkeypatch, capsys):
    """`with env_doctor.watch():` starts `env-doctor watch --pid` on this process (here an
    env-doctor command made from this checkout) and prints its verdict at the end."""
    command = tmp_path / "env-doctor"
    command.write_text(f"#!/bin/sh\nexec {sys.executable} -I -m env_doctor \"$@\"\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with env_doctor.watch(interval=0.2) as result:
        end = time.time() + 1.5
        while time.time() < end:
            pass
    assert result["pid"] == os.getpid() and result["command"] is None and result["samples"] >= 4
    assert result["cpu"]["used_mean"] > 0.5
    assert schema_errors(result, "watch") == []
    assert "verdict:" in capsys.readouterr().out


def test_text_summary_names_each_gpu_and_how_it_was_matched(machine):
    machine.spawn(100, 1)
    mig = dict(H100, util=None, pids=[100])  # a MIG slice: no utilisation
    summary = watched(machine, machine.sampler(FakeNVML(gpus=[mig, dict(A100, util=0)])), 3, {100: 1.0})
    text = runtime.render(dict(summary, command=["train"], interval_s=1.0, exit_code=0))
    assert "GPU 0  NVIDIA H100 80GB HBM3: busy ? % (max ?)" in text and "used (PID seen by NVML)" in text
    assert "GPU 1  NVIDIA A100-SXM4-40GB: busy 0 % (max 0)" in text and "not used by the command" in text
    assert text.splitlines()[-2:] == [
        "  2 GPUs visible, 1 used (GPU 0): start one process per GPU (torchrun --nproc-per-node) or shard the work",
        "  CPU-bound on one core: 1.0 of 16 CPUs used (1 thread, no thread limit set: the work itself runs on one thread)"]
