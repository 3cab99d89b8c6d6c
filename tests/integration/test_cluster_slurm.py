"""A generated PyTorch project on a real Slurm cluster: the project's own cluster/local Compose
file (a controller and two nodes built FROM the project's job image, Debian's slurm-wlm + munge)
started by pytest-docker. One cluster serves both tests:

- the sweep of cluster/sweep.toml as `sbatch --wait --array`: one distinct, correct result per
  trial (parameters as expanded from the file, metric reproduced by a direct run of the image);
- a two-node torchrun job (gloo, c10d rendezvous): the ranks agree (an all-reduce sums to
  1 + 2, identical weights) and their env-doctor snapshots are identical.

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

    def exec(self, *command: str, user: str = "dev", check: bool = True, timeout: int = 600):
        return run([*self.base, "exec", "-T", "-u", user, "slurmctld", *command],
                   check=check, timeout=timeout)

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
    result = slurm.exec(*SUBMIT, "train", "slurm", "--nodes", "2", "--output", "/shared/ddp", "--wait",
                        "--", "--epochs=5", check=False)
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

    # Every rank's environment snapshot, diffed with env-doctor itself: identical.
    snapshots = [output / "env-doctor" / f"rank-{r}.json" for r in (0, 1)]
    assert all(read(s)["kind"] == "snapshot" for s in snapshots)
    diff = slurm.exec("env-doctor", "diff", *(f"/shared/ddp/env-doctor/{s.name}" for s in snapshots), check=False)
    assert diff.returncode == 0, diff.stdout


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
