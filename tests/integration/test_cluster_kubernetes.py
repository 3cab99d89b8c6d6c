"""Kubernetes without an API server: the generated manifests, validated offline (tests/utils/kube.py),
and their pod templates run with Docker exactly as the kubelet would run them: the same image
(the local build stands in for the digest reference; a pull by digest from a real registry is
test_publish.py's), its ENTRYPOINT
with the manifest's args, the env the controllers inject (JOB_COMPLETION_INDEX; for the JobSet the
pods' stable names <jobset>-node-0-<i>.<jobset> on one network), runAsUser/runAsGroup/fsGroup,
a read-only root file system with /tmp and /dev/shm in memory, the claim as a host folder owned by
the fsGroup, the ConfigMap as a folder of its keys, the grace period as `docker stop`'s timeout
(SIGTERM to the ENTRYPOINT, SIGKILL after it).

Not proven here: scheduling, the Job/JobSet controllers themselves (podFailurePolicy, retries,
restarts: the retry is started by hand here), Kueue admission, GPUs, DNS of a real headless
service (a Docker network alias stands in, given late to the head on purpose), a real
PersistentVolume, kubectl against an API server.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from mlcluster.kubernetes import sweep_manifests, train_manifests
from mlcluster.settings import Project, load_settings, load_toml
from mlcluster.sweep import expand_sweep

from tests.cluster.conftest import project_of
from tests.integration.conftest import CLUSTER_JOB_IMAGE
from tests.utils import kube
from tests.utils.docker import engine, run
from tests.utils.figures import record

pytestmark = pytest.mark.integration

PACKAGE = "cluster_lab"
USER = 1000  # kubernetes.user in the shipped settings
HEAD_LATE = 20  # seconds after the pods start that the head's name resolves


@pytest.fixture(scope="module")
def project(cluster_project) -> Project:
    return project_of(cluster_project, "k8s_hooks")


@pytest.fixture(scope="module")
def settings(project, docker):
    config = load_settings(project.cluster_dir / "settings.toml")
    image_id = engine().images.get(CLUSTER_JOB_IMAGE).id  # sha256:...
    config["image"] = f"ghcr.io/acme/cluster-lab-job@{image_id}"
    config["kubernetes"]["memory"] = "4Gi"
    config["kubernetes"]["shm"] = "1Gi"
    return config


@pytest.fixture
def claim(tmp_path) -> Path:
    """The PersistentVolumeClaim: a folder group-owned by the pods' fsGroup, as the kubelet leaves it."""
    folder = tmp_path / "claim"
    folder.mkdir()
    os.chown(folder, 0, USER)
    folder.chmod(0o2775)
    return folder


class Pods:
    """Containers (and a network) started for one test, removed at its end."""

    def __init__(self, docker: str):
        self.docker, self.names, self.network = docker, [], None

    def start(self, pod: dict, name: str, **kwargs) -> str:
        args = kube.docker_run_args(pod, image=CLUSTER_JOB_IMAGE, name=name, **kwargs)
        run([self.docker, "run", "-d", *args])
        self.names.append(name)
        return name

    def wait(self, timeout: int = 600, names: list[str] | None = None) -> None:
        for name in names or self.names:
            code = int(run([self.docker, "wait", name], timeout=timeout).stdout.strip())
            assert code == 0, f"{name} exited {code}:\n{self.logs(name)[-4000:]}"

    def logs(self, name: str) -> str:
        logs = run([self.docker, "logs", name], check=False)
        return logs.stdout + logs.stderr

    def make_network(self) -> str:
        self.network = f"mltemplate-k8s-{uuid.uuid4().hex[:8]}"
        run([self.docker, "network", "create", self.network])
        return self.network

    def remove(self) -> None:
        for name in self.names:
            run([self.docker, "rm", "-f", name], check=False)
        if self.network:
            run([self.docker, "network", "rm", self.network], check=False)


@pytest.fixture
def pods(docker):
    started = Pods(docker)
    yield started
    started.remove()


@pytest.fixture(scope="module")
def datasets(cluster_project, tmp_path_factory) -> Path:
    """The data claim (kubernetes.data_claim): the example data set, written by the project's data.py."""
    folder = tmp_path_factory.mktemp("data-claim")
    folder.chmod(0o755)  # readable by the pods' user, as a claim's files are
    run(["python3", str(cluster_project / f"src/{PACKAGE}/data.py"), "make", str(folder)])
    return folder


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def in_image(docker: str, claim: Path, *command: str):
    return run([docker, "run", "--rm", "--user", f"{USER}:{USER}", "-v", f"{claim}:/outputs",
                CLUSTER_JOB_IMAGE, *command], check=False)


def wait_for(condition, timeout: float, what: str) -> float:
    """Seconds until condition() held; fails after timeout."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"no {what} in {timeout:.0f} s"
        time.sleep(0.5)
    return time.monotonic() - started


def test_indexed_job_pods_each_run_their_trial(docker, project, settings, claim, datasets, pods, tmp_path):
    trials = expand_sweep(load_toml(project.cluster_dir / "sweep.toml"))
    manifests = sweep_manifests(project, settings, trials, "sweeps/lr", "lr")
    kube.validate(manifests)
    config_map, job = manifests
    pod = job["spec"]["template"]["spec"]
    mounted = {config_map["metadata"]["name"]: kube.config_map_folder(config_map, tmp_path / "configmaps")}
    claims = {settings["kubernetes"]["output_claim"]: claim, settings["kubernetes"]["data_claim"]: datasets}
    data_mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "data")
    assert data_mount == {"name": "data", "mountPath": "/data", "readOnly": True}
    suffix = uuid.uuid4().hex[:5]
    indices = [0, len(trials) - 1]  # the first and the last index of the Indexed Job
    for index in indices:
        pods.start(pod, f"lr-{index}-{suffix}", hostname=f"lr-{index}-{suffix}", claims=claims,
                   config_maps=mounted, env={"JOB_COMPLETION_INDEX": str(index)})
    pods.wait()

    output = claim / "sweeps/lr"
    for index in indices:
        folder = output / "trials" / f"{index:04d}"
        recorded = read(folder / "params.json")
        assert recorded["params"] == trials[index] and recorded["job_completion_index"] == str(index)
        assert recorded["uid"] == USER and folder.stat().st_uid == USER
        assert read(folder / "env-doctor.json")["kind"] == "snapshot"
        outcome = read(folder / "result.json")
        assert {k: outcome["params"][k] for k in trials[index]} == trials[index]
        assert outcome["data"] == "/data/example-regression.csv"  # the claim, at the devcontainer's path
        storage = read(folder / "env-doctor.json")["storage"]
        assert storage["data"]["path"] == "/data" and storage["data"]["mount"]["read_only"]
        assert storage["cache"]["path"] == "/cache" and storage["cache"]["own_mount"]
    first, last = (read(output / "trials" / f"{i:04d}/result.json")["metrics"]["val_loss"] for i in indices)
    assert first != last

    # The summary, run in the image with the claim mounted (as a pod would), knows the sweep's
    # trials from the list the first trial copied there: it names those not run here and fails.
    summary = in_image(docker, claim, "python", "/app/cluster", "summary", "/outputs/sweeps/lr")
    assert "2/6 trials done" in summary.stdout, summary.stdout + summary.stderr
    assert "missing (not run yet, or lost): [1, 2, 3, 4]" in summary.stdout
    assert summary.returncode == 1


def test_a_stopped_trial_pod_checkpoints_and_its_retry_resumes(docker, project, settings, claim, datasets, pods,
                                                                 tmp_path):
    """`docker stop` does to the pod what the kubelet does on a drain, a preemption or the time
    limit: SIGTERM to the image's ENTRYPOINT (tini -g: the whole process group), SIGKILL after the
    grace period. The training checkpoints and exits 143 well within it; the trial is recorded as
    stopped; the Job's retry (a new pod for the same index) resumes from the checkpoint."""
    image = json.loads(run([docker, "image", "inspect", CLUSTER_JOB_IMAGE]).stdout)[0]["Config"]
    assert image["Entrypoint"] == ["tini", "-g", "--"]
    assert image["User"] == f"{USER}:{USER}"  # numeric: runAsNonRoot can check it without runAsUser

    trials = [{"epochs": 12, "seed": 0, "lr": 0.05, "hidden": 8, "pause": 1.0}]  # >= 12 s of training
    settings = {**settings, "kubernetes": {**settings["kubernetes"], "grace_seconds": 30}}
    manifests = sweep_manifests(project, settings, trials, "sweeps/stop", "stop")
    kube.validate(manifests)
    config_map, job = manifests
    pod = job["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30
    mounted = {config_map["metadata"]["name"]: kube.config_map_folder(config_map, tmp_path / "configmaps")}
    claims = {settings["kubernetes"]["output_claim"]: claim, settings["kubernetes"]["data_claim"]: datasets}
    folder = claim / "sweeps/stop/trials/0000"
    suffix = uuid.uuid4().hex[:5]

    first = pods.start(pod, f"stop-0-{suffix}", claims=claims, config_maps=mounted,
                       env={"JOB_COMPLETION_INDEX": "0"})
    wait_for((folder / "checkpoint").is_dir, 180, "checkpoint after the first epoch")
    started = time.monotonic()
    run([docker, "stop", first], timeout=60)  # the pod's grace period: --stop-timeout 30
    stopping = time.monotonic() - started
    state = json.loads(run([docker, "inspect", first]).stdout)[0]["State"]
    assert state["ExitCode"] == 143, pods.logs(first)[-3000:]  # 128 + SIGTERM, not SIGKILL's 137
    assert stopping < 20, f"stopped in {stopping:.1f} s: the grace period ran out?"
    error = read(folder / "error.json")
    assert error["stopped"] and error["returncode"] == 143
    assert (folder / "checkpoint").is_dir() and not (folder / "result.json").exists()
    assert "stopped by SIGTERM" in pods.logs(first)
    record(f"Kubernetes trial pod: docker stop (SIGTERM, grace 30 s) -> checkpointed, exit 143 in {stopping:.1f}s")

    retry = pods.start(pod, f"stop-0-retry-{suffix}", claims=claims, config_maps=mounted,
                       env={"JOB_COMPLETION_INDEX": "0"})
    pods.wait(names=[retry])
    outcome = read(folder / "result.json")
    assert outcome["resumed"] == 1 and read(folder / "params.json")["attempt"] == 2
    assert not (folder / "error.json").exists()
    summary = in_image(docker, claim, "python", "/app/cluster", "summary", "/outputs/sweeps/stop")
    assert summary.returncode == 0 and "1/1 trials done" in summary.stdout and "(resumed 1x)" in summary.stdout


def test_jobset_pods_train_together_though_the_head_name_resolves_late(docker, project, settings, claim,
                                                                       datasets, pods):
    """A headless service's record for the first pod can appear seconds after the pods start:
    here the head gets its name (a network alias) only HEAD_LATE seconds after both pods started.
    `cluster launch` on each node (the head too: it reaches its own TCPStore by that name) waits for
    it, then torchrun forms the group and the training finishes with the ranks agreeing."""
    (jobset,) = train_manifests(project, settings, 2, 1, "runs/ddp", "ddp", ["--epochs=3"])
    kube.validate([jobset])
    name = jobset["metadata"]["name"]
    (replicated,) = jobset["spec"]["replicatedJobs"]
    pod = replicated["template"]["spec"]["template"]["spec"]
    network = pods.make_network()
    claims = {settings["kubernetes"]["output_claim"]: claim, settings["kubernetes"]["data_claim"]: datasets}
    started, containers = time.monotonic(), []
    for index in range(replicated["template"]["spec"]["completions"]):
        hostname = f"{name}-{replicated['name']}-0-{index}"  # <jobset>-<replicated job>-<job>-<pod>
        alias = f"{hostname}.{name}"  # the headless service's name for the pod
        containers.append(pods.start(pod, f"{hostname}-{network[-8:]}", hostname=hostname, network=network,
                                     aliases=(alias,) if index else (),  # the head: no name yet
                                     claims=claims, config_maps={}, env={"JOB_COMPLETION_INDEX": str(index)}))
    head = containers[0]
    head_name = f"{name}-node-0-0.{name}"
    for container in containers:
        wait_for(lambda pod=container: f"waiting for {head_name} to resolve" in pods.logs(pod), 60,
                 "wait for the head")
    time.sleep(max(0.0, HEAD_LATE - (time.monotonic() - started)))
    run([docker, "network", "disconnect", network, head])
    run([docker, "network", "connect", "--alias", head_name, network, head])
    named = time.monotonic()
    pods.wait()
    record(f"JobSet pods: head's name given {named - started:.0f}s after start; training done "
           f"{time.monotonic() - named:.0f}s later")
    for container in containers:
        assert f"cluster: {head_name} is " in pods.logs(container)

    output = claim / "runs/ddp"
    outcome = read(output / "result.json")
    assert outcome["world_size"] == 2 and outcome["backend"] == "gloo"
    assert outcome["allreduce_sum"] == outcome["allreduce_expected"] == 3.0 and outcome["ranks_agree"]
    assert outcome["data"] == "/data/example-regression.csv"
    ranks = [read(output / "ranks" / f"rank-{r}.json") for r in (0, 1)]
    assert {r["host"] for r in ranks} == {f"{name}-node-0-0", f"{name}-node-0-1"}
    diff = run([docker, "run", "--rm", "--user", f"{USER}:{USER}", "-v", f"{claim}:/outputs", CLUSTER_JOB_IMAGE,
                "env-doctor", "diff", "/outputs/runs/ddp/env-doctor/rank-0.json",
                "/outputs/runs/ddp/env-doctor/rank-1.json"], check=False)
    assert diff.returncode == 0, diff.stdout
    for rank in (0, 1):  # every rank trained under env-doctor watch, its summary beside its snapshot
        watch = read(output / "watch" / f"rank-{rank}.json")
        assert watch["kind"] == "watch" and watch["exit_code"] == 0 and watch["verdict"], watch
