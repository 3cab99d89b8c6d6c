"""A generated PyTorch project on a real Slurm cluster: the project's own cluster/local Compose
file (a controller and two nodes built FROM the project's job image, Debian's slurm-wlm + munge)
started by pytest-docker. One cluster serves every test:

- the sweep of cluster/sweep.toml as `sbatch --wait --array`: one distinct, correct result per
  trial (parameters as expanded from the file, metric reproduced by a direct run of the image);
- a two-node torchrun job (gloo, c10d rendezvous): the ranks agree (an all-reduce sums to
  1 + 2, identical weights) and their env-doctor snapshots are identical;
- recovery: the time limit's early warning, `scontrol requeue` and a killed node each end in a
  requeue and a resume from the checkpoint; a failed rank ends the job; CPUs bound as asked;
  the submitter's Python variables kept out; status, cancel, logs and resubmit.

Slurm's own container support does not run nested in Docker, so the nodes ARE the job image
(slurm.runtime = "none", cluster/local/settings.toml) and stand in for a site's pyxis/Apptainer.
The submitting user is the image's `dev`; jobs run as that user, as on a real cluster.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from tests.integration.conftest import CLUSTER_JOB_IMAGE as JOB_IMAGE
from tests.utils.docker import engine, run
from tests.utils.figures import record

pytestmark = pytest.mark.integration

PACKAGE = "cluster_lab"
NODE_IMAGE = "mltemplate-cluster-test:slurm-node"
SUBMIT = ["python", "cluster", "--settings", "cluster/local/settings.toml"]  # in /app, the image's checkout


@pytest.fixture(scope="session")
def slurm_project(docker, cluster_project) -> Path:
    """The cluster project with its Slurm node image (cluster/local/Dockerfile FROM the job image)."""
    root = cluster_project
    started = time.monotonic()
    run([docker, "build", "--build-arg", f"JOB_IMAGE={JOB_IMAGE}", "-t", NODE_IMAGE, "cluster/local"],
        cwd=root, timeout=900)
    record(f"Slurm node image built in {time.monotonic() - started:.0f}s")
    shared = root / "cluster/local/shared"
    shared.mkdir()
    shared.chmod(0o777)  # the jobs run as the image's user `dev`, like any cluster user
    # The site's dataset folder: the example data set, written by the project's own data.py.
    datasets = root / "cluster/local/data"
    run(["python3", str(root / f"src/{PACKAGE}/data.py"), "make", str(datasets)])
    # Compose reads .env beside the file: the images built above, where results land, the data.
    (root / "cluster/local/.env").write_text(f"NODE_IMAGE={NODE_IMAGE}\nJOB_IMAGE={JOB_IMAGE}\n"
                                             f"CLUSTER_SHARED={shared}\nCLUSTER_DATA={datasets}\n")
    yield root
    engine().images.remove(NODE_IMAGE, force=True)


# pytest-docker's fixtures, pointed at the project's own Compose file and Debian 12's docker-compose.
@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return "docker-compose"


@pytest.fixture(scope="session")
def docker_compose_file(slurm_project) -> str:
    return str(slurm_project / "cluster/local/compose.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"mltemplate-slurm-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up -d --no-build"]  # the images are built above; v1.29 has no --wait


class Cluster:
    def __init__(self, compose_file: str, project: str, shared: Path):
        self.base = ["docker-compose", "-f", compose_file, "-p", project]
        self.shared = shared

    def exec(self, *command: str, user: str = "dev", check: bool = True, timeout: int = 600,
             env: dict | None = None):
        variables = [f"--env={k}={v}" for k, v in (env or {}).items()]
        return run([*self.base, "exec", "-T", "-u", user, *variables, "slurmctld", *command],
                   check=check, timeout=timeout)

    def submit(self, *args: str, settings: str = "cluster/local/settings.toml", **kwargs):
        return self.exec("python", "cluster", "--settings", settings, *args, **kwargs)

    def start(self, *args: str, **kwargs) -> str:
        """Submit without waiting; the job's ID."""
        result = self.submit(*args, **kwargs)
        return result.stderr.split("submitted job ")[1].split(";")[0]

    def state(self, job: str) -> str:
        """The job's state(s) as squeue tells them ('' once the controller forgot it)."""
        result = self.exec("squeue", "-h", "--states=all", "-j", job, "-o", "%T", check=False, timeout=30)
        return " ".join(sorted(set(result.stdout.split())))

    def settings(self, name: str, **slurm) -> str:
        """A settings file in the shared folder: the local one with these [slurm] values."""
        values = {"runtime": "none", "cpus_per_task": 1, **slurm}
        lines = ['image = ""', "[slurm]", *(f"{k} = {json.dumps(v)}" for k, v in values.items()), "[kubernetes]"]
        (self.shared / f"{name}.toml").write_text("\n".join(lines) + "\n")
        return f"/shared/{name}.toml"

    def sweep(self, name: str, fixed: dict, trials: list[dict]) -> str:
        """A sweep file in the shared folder: fixed parameters and explicit trials."""
        lines = ["[fixed]", *(f"{k} = {json.dumps(v)}" for k, v in fixed.items())]
        for trial in trials:
            lines += ["[[trials]]", *(f"{k} = {json.dumps(v)}" for k, v in trial.items())]
        (self.shared / f"{name}.sweep.toml").write_text("\n".join(lines) + "\n")
        return f"/shared/{name}.sweep.toml"

    def container(self, service: str) -> str:
        return run([*self.base, "ps", "-q", service]).stdout.strip()

    def logs(self) -> str:
        return run([*self.base, "logs", "--tail=40"], check=False).stdout


@pytest.fixture(scope="session")
def slurm(docker_services, docker_compose_file, docker_compose_project_name, slurm_project):
    cluster = Cluster(docker_compose_file, docker_compose_project_name, slurm_project / "cluster/local/shared")

    def ready() -> bool:
        result = cluster.exec("sinfo", "-h", "-o", "%n %t", check=False, timeout=30)
        states = dict(line.split() for line in result.stdout.splitlines() if line.strip())
        return result.returncode == 0 and states == {"node1": "idle", "node2": "idle"}

    try:
        docker_services.wait_until_responsive(check=ready, timeout=90, pause=1)
    except Exception:
        pytest.fail(f"the Slurm nodes did not become idle:\n{cluster.logs()}")
    return cluster


def expected_trials(root: Path) -> list[dict]:
    """cluster/sweep.toml expanded independently of the project's code: grid in file order."""
    sweep = tomllib.loads((root / "cluster/sweep.toml").read_text())
    grid = sweep["grid"]
    return [{**sweep.get("fixed", {}), **dict(zip(grid, values, strict=True))}
            for values in itertools.product(*grid.values())]


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_sweep_runs_as_a_slurm_job_array(slurm, slurm_project, docker):
    started = time.monotonic()
    result = slurm.exec(*SUBMIT, "sweep", "slurm", "--output", "/shared/sweep", "--wait", check=False)
    elapsed = time.monotonic() - started
    output = slurm.shared / "sweep"
    logs = "".join(p.read_text() for p in sorted(output.glob("slurm-*.out"))) if output.is_dir() else ""
    assert result.returncode == 0, result.stdout + result.stderr + logs
    record(f"Slurm sweep ({len(expected_trials(slurm_project))} trials, sbatch --wait --array): {elapsed:.1f}s")

    trials = expected_trials(slurm_project)
    assert read(output / "trials.json")["trials"] == trials
    values, hosts = [], set()
    for index, params in enumerate(trials):
        folder = output / "trials" / f"{index:04d}"
        recorded = read(folder / "params.json")
        assert recorded["params"] == params and recorded["index"] == index
        assert recorded["slurm_array_task_id"] == str(index) and recorded["uid"] == 1000
        assert recorded["cpus"] == 1, "cpus_per_task = 1: the trial is bound to one of the node's 2 CPUs"
        hosts.add(recorded["host"])
        outcome = read(folder / "result.json")
        assert {k: outcome["params"][k] for k in params} == params, "the trial ran other parameters"
        assert outcome["data"] == "/data/example-regression.csv"  # the devcontainer's data path
        metrics = outcome["metrics"]
        assert math.isfinite(metrics["val_loss"]) and metrics["val_loss"] < metrics["initial_val_loss"]
        assert read(folder / "env-doctor.json")["kind"] == "snapshot"
        watch = read(folder / "watch.json")  # the training ran under env-doctor watch
        assert watch["kind"] == "watch" and watch["exit_code"] == 0 and watch["verdict"], watch
        values.append(metrics["val_loss"])
    assert len(set(values)) == len(trials), f"trials are not distinct: {values}"
    assert hosts <= {"node1", "node2"}

    # Correct: trial 0's metric is what the image computes when run directly with its parameters.
    params = trials[0]
    direct = run([docker, "run", "--rm", "-v", f"{slurm_project / 'cluster/local/data'}:/data:ro", JOB_IMAGE,
                  "python", "-m", f"{PACKAGE}.train",
                  *(f"--{k.replace('_', '-')}={v}" for k, v in params.items())]).stdout
    assert math.isclose(json.loads(direct.splitlines()[-1])["val_loss"], values[0], rel_tol=1e-6)

    summary = slurm.exec(*SUBMIT, "summary", "/shared/sweep")
    assert f"{len(trials)}/{len(trials)} trials done" in summary.stdout
    best = read(output / "summary.json")["best"]
    assert best["index"] == values.index(min(values))
    assert (output / "summary.csv").read_text().count("\n") == len(trials) + 1


def test_two_node_torchrun_job_ranks_agree(slurm, slurm_project):
    started = time.monotonic()
    # Both CPUs of each node: the nodes are containers on one machine, and a rank bound to one
    # CPU would share CPU 0 with the other node's.
    result = slurm.submit("train", "slurm", "--nodes", "2", "--output", "/shared/ddp", "--wait",
                          "--", "--epochs=5", settings=slurm.settings("train", cpus_per_task=2), check=False)
    elapsed = time.monotonic() - started
    output = slurm.shared / "ddp"
    logs = "".join(p.read_text() for p in sorted(output.glob("slurm-*.out"))) if output.is_dir() else ""
    assert result.returncode == 0, result.stdout + result.stderr + logs
    record(f"Slurm two-node torchrun job (gloo, 2 x 1 process, 5 epochs): {elapsed:.1f}s")

    outcome = read(output / "result.json")
    assert outcome["world_size"] == 2 and outcome["backend"] == "gloo"
    assert outcome["allreduce_sum"] == outcome["allreduce_expected"] == 3.0
    assert outcome["ranks_agree"], outcome["weight_checksums"]
    assert outcome["metrics"]["val_loss"] < outcome["metrics"]["initial_val_loss"]
    ranks = [read(output / "ranks" / f"rank-{r}.json") for r in (0, 1)]
    assert {r["host"] for r in ranks} == {"node1", "node2"}, "the ranks did not run on two nodes"
    assert ranks[0]["weight_checksum"] == ranks[1]["weight_checksum"]
    assert [read(output / "engine" / f"rank-{r}.json")["cpus"] for r in (0, 1)] == [2, 2]

    # Every rank's environment snapshot, diffed with env-doctor itself: identical.
    snapshots = [output / "env-doctor" / f"rank-{r}.json" for r in (0, 1)]
    assert all(read(s)["kind"] == "snapshot" for s in snapshots)
    diff = slurm.exec("env-doctor", "diff", *(f"/shared/ddp/env-doctor/{s.name}" for s in snapshots), check=False)
    assert diff.returncode == 0, diff.stdout
    for rank in (0, 1):  # every rank trained under env-doctor watch: how it used its CPUs, a verdict
        watch = read(output / "watch" / f"rank-{rank}.json")
        assert watch["kind"] == "watch" and watch["exit_code"] == 0 and watch["verdict"], watch


def test_sweep_command_names_what_is_missing(slurm):
    """The shipped settings (pyxis, image not published yet) stop before submitting anything."""
    result = slurm.exec("python", "cluster", "sweep", "slurm", "--output", "/shared/x", check=False)
    assert result.returncode == 2 and "no job image set" in result.stderr
    assert not (slurm.shared / "x").exists()


def test_local_cluster_files_are_shipped_for_users(slurm_project):
    local = slurm_project / "cluster/local"
    assert {p.name for p in local.iterdir()} >= {"compose.yml", "Dockerfile", "slurm.conf", "entrypoint.sh",
                                                 "settings.toml"}
    assert shutil.which("docker-compose"), "scripts/prepare-test-machine.sh installs docker-compose"
    assert subprocess.run(["docker-compose", "-f", str(local / "compose.yml"), "config", "-q"],
                          cwd=local).returncode == 0


def wait_for(condition, timeout: float, what: str, pause: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(pause)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


def log_of(output: Path) -> str:
    return "".join(p.read_text() for p in sorted(output.glob("slurm-*.out")))


def results(output: Path, trials: int, timeout: float) -> None:
    """Wait for every trial's result.json (sbatch --wait polls after 2, 10 and 42 s)."""
    wait_for(lambda: all((output / f"trials/{i:04d}/result.json").exists() for i in range(trials)),
             timeout, f"the results in {output}\n{log_of(output)}")


def stamp(log: str, text: str, start: int = 0) -> tuple[float, int]:
    """(seconds of the day, position) of the first log line from start containing text: the batch
    scripts' lines begin with HH:MM:SS."""
    position = log.index(text, start)
    line_start = log.rindex("\n", 0, position) + 1
    hours, minutes, seconds = (int(x) for x in log[line_start:line_start + 8].split(":"))
    return hours * 3600 + minutes * 60 + seconds, position


def test_cpus_per_task_reach_the_step(slurm):
    """cpus_per_task = 2 of a node's 2: each trial may use both (srun since 22.05 would give it
    one without SRUN_CPUS_PER_TASK); the sweep test above shows 1 for cpus_per_task = 1."""
    settings = slurm.settings("two-cpus", cpus_per_task=2)
    sweep = slurm.sweep("two-cpus", {"epochs": 1}, [{"seed": 1}, {"seed": 2}])
    slurm.start("sweep", "slurm", "--sweep", sweep, "--output", "/shared/cpus", settings=settings)
    results(slurm.shared / "cpus", 2, 60)
    assert [read(slurm.shared / f"cpus/trials/{i:04d}/params.json")["cpus"] for i in (0, 1)] == [2, 2]


def test_time_limit_warning_checkpoints_requeues_and_resumes(slurm):
    """--time=1 min, warned 10 s before: Slurm checks every 30 s and warns at the first check
    within 30 s of the warning's time, so 20 to 50 s after the start (the training has its first
    checkpoint and still runs). The batch shell stops the two-node training with SIGTERM, it
    checkpoints, the job requeues itself and the next run resumes. The resumed run gets a longer
    limit (as root) so that it is not warned again."""
    settings = slurm.settings("short", cpus_per_task=2, time="00:01:00", warning_seconds=10)
    output = slurm.shared / "limit"
    job = slurm.start("train", "slurm", "--nodes", "2", "--output", "/shared/limit", "--",
                      "--epochs=25", "--pause=2", settings=settings)
    wait_for(lambda: "requeueing job" in log_of(output), 90, "the warning and the self-requeue")
    slurm.exec("scontrol", "update", f"JobId={job}", "TimeLimit=10", user="root")
    wait_for((output / "result.json").exists, 120, f"the resumed run's result\n{log_of(output)}")
    outcome, log = read(output / "result.json"), log_of(output)
    assert outcome["resumed"] >= 1 and outcome["ranks_agree"], outcome
    assert "restart 0" in log and "restart 1" in log, "the log keeps both runs (--open-mode=append)"
    stopped_at = int(log.split("stopped by SIGTERM after epoch ")[1].split(":")[0])
    warned, at = stamp(log, "warning signal: stopping the step")
    resumed, _ = stamp(log, ", restart 1", at)
    redone = stopped_at - outcome["start_epoch"]
    assert redone == 0, "the training checkpointed where it stopped"
    record(f"Slurm time-limit warning -> requeue -> resume: {redone} epochs redone, "
           f"{resumed - warned}s from the warning to the resumed run's start (cred_expire=10)")


def test_scontrol_requeue_of_a_running_training_resumes(slurm):
    output = slurm.shared / "requeue"
    job = slurm.start("train", "slurm", "--nodes", "2", "--output", "/shared/requeue", "--",
                      "--epochs=8", "--pause=1.5", settings=slurm.settings("train", cpus_per_task=2))
    wait_for((output / "checkpoint").is_dir, 60, "the first checkpoint")
    requeued = time.monotonic()
    slurm.exec("scontrol", "requeue", job)
    wait_for(lambda: "restart 1" in log_of(output), 60, f"the requeued run\n{log_of(output)}")
    restarted = time.monotonic()
    wait_for((output / "result.json").exists, 90, f"the resumed run's result\n{log_of(output)}")
    outcome, log = read(output / "result.json"), log_of(output)
    assert outcome["resumed"] >= 1 and outcome["start_epoch"] >= 1, outcome
    stopped = "stopped by SIGTERM" in log
    record(f"Slurm scontrol requeue of a running training: resumed at epoch {outcome['start_epoch']}, "
           f"{restarted - requeued:.0f}s from the requeue to the next run "
           f"({'checkpointed on SIGTERM' if stopped else 'from the last periodic checkpoint'})")


def kill_training(slurm, docker, service: str) -> None:
    """SIGKILL the training process on that node (what a crash or the OOM killer does)."""
    script = ("import os, signal\n"
              "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
              "    try: line = open(f'/proc/{pid}/cmdline').read().split(chr(0))\n"
              "    except OSError: continue\n"
              f"    if line[1:3] == ['-m', '{PACKAGE}.train']: os.kill(int(pid), signal.SIGKILL)\n")
    run([docker, "exec", slurm.container(service), "/opt/venv/bin/python", "-c", script])


def test_a_failed_rank_ends_the_job_within_a_minute(slurm, docker):
    output = slurm.shared / "failed-rank"
    job = slurm.start("train", "slurm", "--nodes", "2", "--output", "/shared/failed-rank", "--",
                      "--epochs=40", "--pause=1", settings=slurm.settings("train", cpus_per_task=2))
    wait_for((output / "checkpoint").is_dir, 60, "the training under way")
    kill_training(slurm, docker, "node2")
    killed = time.monotonic()
    wait_for(lambda: slurm.state(job) in ("", "FAILED"), 60,
             f"the job's end after its rank on node2 was killed\n{log_of(output)}", pause=1)
    elapsed = time.monotonic() - killed
    assert not (output / "result.json").exists()
    record(f"Slurm two-node training, a rank killed -> the job ended in {elapsed:.0f}s (--kill-on-bad-exit)")


def test_two_trainings_share_the_nodes(slurm):
    """Both on both nodes at once (1 CPU each of 2): different ports, derived from the job IDs."""
    for name in ("twin-a", "twin-b"):
        slurm.start("train", "slurm", "--nodes", "2", "--output", f"/shared/{name}", "--", "--epochs=3", "--pause=2")
    for name in ("twin-a", "twin-b"):
        wait_for((slurm.shared / name / "result.json").exists, 90, f"{name}'s result\n{log_of(slurm.shared / name)}")
    ports = [log_of(slurm.shared / name).split("head node1:")[1].split()[0] for name in ("twin-a", "twin-b")]
    assert ports[0] != ports[1]
    for name in ("twin-a", "twin-b"):
        outcome = read(slurm.shared / name / "result.json")
        assert outcome["allreduce_sum"] == 3.0 and outcome["ranks_agree"]
    starts = [read(slurm.shared / name / "engine/rank-0.json") for name in ("twin-a", "twin-b")]
    assert starts[0]["slurm_job_id"] != starts[1]["slurm_job_id"]


def test_the_submitters_python_does_not_reach_the_job(slurm):
    """PYTHONPATH with a json and a torch that raise, PYTHONHOME and PYTHONSTARTUP elsewhere, and
    a user site (in a HOME the nodes share) with a usercustomize and a torch that raise: the
    submitting shell has them all (its python runs with -E), the job must not."""
    poison = slurm.shared / "poison"
    site = slurm.shared / "home/.local/lib/python3.11/site-packages"
    for folder in (poison / "json", poison / "torch", site / "torch"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("raise ImportError('the submitter\\'s module')\n")
    (site / "usercustomize.py").write_text("raise SystemExit('the submitter\\'s user site')\n")
    (poison / "startup.py").write_text("raise SystemExit('the submitter\\'s startup file')\n")
    env = {"PYTHONPATH": "/shared/poison", "PYTHONHOME": "/nonexistent", "HOME": "/shared/home",
           "PYTHONSTARTUP": "/shared/poison/startup.py"}
    assert slurm.exec("python", "-c", "import json", env=env, check=False).returncode != 0, "not poison"
    sweep = slurm.sweep("poison", {"epochs": 1}, [{"seed": 1}])
    slurm.exec("python", "-E", "cluster", "--settings", "cluster/local/settings.toml", "sweep", "slurm",
               "--sweep", sweep, "--output", "/shared/poisoned", env=env)
    results(slurm.shared / "poisoned", 1, 60)


def test_status_cancel_logs_and_resubmit(slurm):
    """A sweep of a quick trial, one that fails (an option the training does not have) and a long
    one: status names each; cancel stops the long one; resubmit runs only the failed and the
    cancelled ones (the latter resumes), never the finished one."""
    sweep = slurm.sweep("mixed", {"epochs": 1}, [{"seed": 1}, {"seed": 2, "no_such_option": 1},
                                                 {"seed": 3, "epochs": 10, "pause": 1.5}])
    output = slurm.shared / "mixed"
    trial = output / "trials"
    slurm.start("sweep", "slurm", "--sweep", sweep, "--output", "/shared/mixed")
    wait_for(lambda: (trial / "0000/result.json").exists() and (trial / "0001/error.json").exists()
             and (trial / "0002/checkpoint").is_dir(), 90, "trials 0 done, 1 failed, 2 under way")
    status = slurm.submit("status", "/shared/mixed").stdout
    assert "RUNNING" in status and "done; failed [1]" in status, status
    first_run = (trial / "0000/params.json").stat().st_mtime_ns
    slurm.submit("cancel", "/shared/mixed")
    job = read(output / "submissions/001/submission.json")["job_id"]
    wait_for(lambda: not {"RUNNING", "PENDING", "COMPLETING"} & set(slurm.state(job).split()), 60, "the cancel")
    wait_for((trial / "0002/error.json").exists, 30, "the cancelled trial's record")
    assert "--no-such-option" in slurm.submit("logs", "/shared/mixed", "--trial", "1").stdout
    status = slurm.submit("status", "/shared/mixed").stdout
    assert "RUNNING" not in status and "1/3 done" in status, status

    result = slurm.submit("resubmit", "/shared/mixed", "--wait", check=False)
    assert "2 of 3 trials" in result.stderr, result.stderr
    assert read(output / "submissions/002/submission.json")["trials"] == [1, 2]
    assert (trial / "0000/params.json").stat().st_mtime_ns == first_run, "the finished trial ran again"
    assert read(trial / "0001/params.json")["attempt"] == 2 and (trial / "0001/error.json").exists()
    resumed = read(trial / "0002/result.json")
    assert resumed["resumed"] >= 1 and read(trial / "0002/params.json")["attempt"] == 2


def test_a_killed_node_s_trials_are_requeued_and_finish(slurm, docker):
    """node2's container killed while four trials run (two per node): Slurm marks it down after
    SlurmdTimeout (10 s here) and requeues its tasks (--requeue) onto node1, where they resume;
    the trials that finished are not run again. The last test: node2 stays down."""
    sweep = slurm.sweep("node-loss", {"epochs": 8, "pause": 1}, [{"seed": s} for s in range(4)])
    output = slurm.shared / "node-loss"
    trial = output / "trials"
    job = slurm.start("sweep", "slurm", "--sweep", sweep, "--output", "/shared/node-loss")

    def under_way_on_node2() -> list[int]:
        records = [read(p) for p in trial.glob("*/params.json")]
        return [r["index"] for r in records if r["host"] == "node2"
                and not (trial / f"{r['index']:04d}/result.json").exists()]

    def checkpointed_on_node2() -> list[int]:
        running = under_way_on_node2()
        return running if running and all((trial / f"{i:04d}/checkpoint").is_dir() for i in running) else []
    lost = wait_for(checkpointed_on_node2, 60, "a checkpoint of each trial on node2")
    run([docker, "kill", slurm.container("node2")])
    killed = time.monotonic()
    wait_for(lambda: all((trial / f"{i:04d}/result.json").exists() for i in range(4)), 150,
             f"every trial's result\n{log_of(output)}", pause=1)
    elapsed = time.monotonic() - killed
    for index in range(4):
        params = read(trial / f"{index:04d}/params.json")
        if index in lost:
            assert params["attempt"] >= 2 and params["host"] == "node1"
            assert read(trial / f"{index:04d}/result.json")["resumed"] >= 1
        else:
            assert params["attempt"] == 1, f"trial {index} ran again"
    record(f"Slurm node killed under {len(lost)} trials: all 4 trials done {elapsed:.0f}s later "
           "(down after SlurmdTimeout=10s, requeued, resumed on node1)")
    wait_for(lambda: slurm.state(job) in ("", "COMPLETED"), 30, "the array's end")
