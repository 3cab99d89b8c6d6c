"""What runs inside the job image: one trial of a sweep, or one rank of a multi-node training,
each with its env-doctor snapshot taken first and run under `env-doctor watch`.

A stop signal (SIGTERM from Kubernetes, `docker stop`, Slurm's preemption, time limit or requeue)
is passed on to the training, which checkpoints and exits; a finished trial is never run again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .settings import ClusterError, Project
from .sweep import TRIALS_FILE, engine_index, load_trials, trial_dir, trials_json

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2)


def record_environment(path: Path) -> bool:
    """Write an `env-doctor snapshot` to path, to diff against the devcontainer's
    (`env-doctor diff`). Never fails the run: a missing env-doctor is reported and recorded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doctor = shutil.which("env-doctor")
    if doctor is None:
        path.write_text(json.dumps({"error": "env-doctor is not installed in this image"}) + "\n")
        print("cluster: warning: env-doctor not found, no environment snapshot", file=sys.stderr)
        return False
    command = [doctor, "snapshot", "-o", str(path)]
    project = next((p for p in (Path.cwd(), Path("/app")) if (p / "uv.lock").is_file()), None)
    if project is not None:
        command += ["--project", str(project)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        path.write_text(json.dumps({"error": result.stderr.strip()}) + "\n")
        print(f"cluster: warning: env-doctor snapshot failed: {result.stderr}", file=sys.stderr)
        return False
    return True


def watched(command: list[str], summary: Path) -> list[str]:
    """command under `env-doctor watch`, which writes how it used the CPUs and GPUs (and its
    verdict) to summary and passes the exit code through; command alone without env-doctor 1.4+."""
    doctor = shutil.which("env-doctor")
    if doctor is None:
        return command
    if subprocess.run([doctor, "watch", "--help"], capture_output=True).returncode != 0:
        return command
    summary.parent.mkdir(parents=True, exist_ok=True)
    return [doctor, "watch", "--json", str(summary), "--", *command]


def run_forwarding_signals(command: list[str]) -> int:
    """Run command; a stop signal this process gets is passed on to it (a container's init, srun
    or torchrun may signal only this process). The exit status as a shell gives it: 128 + N for a
    command killed by signal N."""
    child = subprocess.Popen(command)

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        returncode = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - returncode if returncode < 0 else returncode


def engine_facts() -> dict:
    """Where a trial or rank ran, as the engine tells it."""
    keys = (
        "SLURM_JOB_ID",
        "SLURM_ARRAY_JOB_ID",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_RESTART_COUNT",
        "SLURM_NODEID",
        "JOB_COMPLETION_INDEX",
        "HOSTNAME",
        "RANK",
        "WORLD_SIZE",
    )
    facts = {key.lower(): os.environ[key] for key in keys if key in os.environ}
    facts["host"] = socket.gethostname()
    facts["uid"] = os.getuid()
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may run on (the engine's binding)
        facts["cpus"] = len(os.sched_getaffinity(0))
    return facts


def run_trial(project: Project, output: Path, trials_file: Path | None, index: int | None) -> int:
    """One trial: its parameters, an env-doctor snapshot, then the training, watched."""
    trials = load_trials(trials_file or output / TRIALS_FILE)
    if not (output / TRIALS_FILE).is_file():  # Kubernetes: the list comes from a ConfigMap
        output.mkdir(parents=True, exist_ok=True)
        (output / TRIALS_FILE).write_text(trials_json(trials))
    position = engine_index(index)
    if not 0 <= position < len(trials):
        raise ClusterError(f"trial index {position} is outside the sweep's {len(trials)} trials")
    params = trials[position]
    folder = trial_dir(output, position)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "result.json").is_file():  # a requeued or resubmitted task: keep what finished
        print(f"cluster: trial {position} has finished already ({folder}/result.json)", flush=True)
        return 0
    for stale in ("error.json", "watch.json"):  # a retried trial keeps its checkpoint only
        if (folder / stale).exists():
            (folder / stale).unlink()
    attempts = previous_attempts(folder / "params.json") + 1
    record = {"index": position, "params": params, "started": time.time(), "attempt": attempts}
    record.update(engine_facts())
    (folder / "params.json").write_text(json.dumps(record, indent=2) + "\n")
    record_environment(folder / "env-doctor.json")
    arguments = project.trial_arguments(params)
    command = project.training_command(sys.executable, str(folder), arguments)
    print(f"cluster: trial {position} (attempt {attempts}): {' '.join(command)}", flush=True)
    returncode = run_forwarding_signals(watched(command, folder / "watch.json"))
    if returncode != 0:
        error = {"index": position, "returncode": returncode, "command": command,
                 "attempt": attempts, "stopped": returncode in STOPPED}
        (folder / "error.json").write_text(json.dumps(error, indent=2) + "\n")
    return returncode


# Exit statuses of a training that was stopped (and checkpointed) rather than failed.
STOPPED = tuple(128 + s for s in (signal.SIGTERM, signal.SIGINT))


def previous_attempts(params_file: Path) -> int:
    try:
        return int(json.loads(params_file.read_text()).get("attempt", 1))
    except (OSError, ValueError, AttributeError):
        return 0


def run_rank(project: Project, output: Path, arguments: list[str]) -> int:
    """One rank of a multi-node training (torchrun starts one per process): its env-doctor
    snapshot first (env-doctor/rank-N.json), the engine's facts (engine/rank-N.json), then the
    training under env-doctor watch (watch/rank-N.json), stop signals passed on."""
    rank = os.environ.get("RANK")
    if rank is None:
        raise ClusterError("no RANK: `rank` runs under torchrun (torchrun --no-python ...)")
    record_environment(output / "env-doctor" / f"rank-{rank}.json")
    engine = output / "engine" / f"rank-{rank}.json"  # where it ran, on how many CPUs
    engine.parent.mkdir(parents=True, exist_ok=True)
    engine.write_text(json.dumps(engine_facts(), indent=2) + "\n")
    command = project.training_command(sys.executable, str(output), arguments)
    return run_forwarding_signals(watched(command, output / "watch" / f"rank-{rank}.json"))
