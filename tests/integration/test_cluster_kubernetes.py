"""Kubernetes without an API server: the generated manifests, validated offline (tests/utils/kube.py),
and their pod templates run with Docker exactly as the kubelet would run them: the same image
(the local build stands in for the digest reference; a pull by digest from a real registry is
test_publish.py's), its ENTRYPOINT
with the manifest's args, the env the controllers inject (JOB_COMPLETION_INDEX; for the JobSet the
pods' stable names <jobset>-node-0-<i>.<jobset> on one network), runAsUser/runAsGroup/fsGroup,
a read-only root file system with /tmp and /dev/shm in memory, the claim as a host folder owned by
the fsGroup, the ConfigMap as a folder of its keys.

Not proven here: scheduling, the Job/JobSet controllers themselves, Kueue admission, GPUs, DNS
of a real headless service, a real PersistentVolume.
"""

from __future__ import annotations

import json
import os
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

pytestmark = pytest.mark.integration

PACKAGE = "cluster_lab"
USER = 1000  # kubernetes.user in the shipped settings


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

    def wait(self, timeout: int = 600) -> None:
        for name in self.names:
            code = int(run([self.docker, "wait", name], timeout=timeout).stdout.strip())
            logs = run([self.docker, "logs", name], check=False)
            assert code == 0, f"{name} exited {code}:\n{(logs.stdout + logs.stderr)[-4000:]}"

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


def in_image(docker: str, claim: Path, *command: str) -> str:
    return run([docker, "run", "--rm", "--user", f"{USER}:{USER}", "-v", f"{claim}:/outputs",
                CLUSTER_JOB_IMAGE, *command], check=False).stdout


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

    # The summary, run in the image with the claim mounted, names the trials not run here.
    summary = in_image(docker, claim, "python", "/app/cluster", "summary", "/outputs/sweeps/lr")
    assert "2/6 trials done" in summary and "missing (not run yet, or lost): [1, 2, 3, 4]" in summary


def test_jobset_pods_train_together_across_two_containers(docker, project, settings, claim, datasets, pods):
    (jobset,) = train_manifests(project, settings, 2, 1, "runs/ddp", "ddp", ["--epochs=3"])
    kube.validate([jobset])
    name = jobset["metadata"]["name"]
    (replicated,) = jobset["spec"]["replicatedJobs"]
    pod = replicated["template"]["spec"]["template"]["spec"]
    network = pods.make_network()
    claims = {settings["kubernetes"]["output_claim"]: claim, settings["kubernetes"]["data_claim"]: datasets}
    for index in range(replicated["template"]["spec"]["completions"]):
        hostname = f"{name}-{replicated['name']}-0-{index}"  # <jobset>-<replicated job>-<job>-<pod>
        pods.start(pod, f"{hostname}-{network[-8:]}", hostname=hostname, network=network,
                   aliases=(f"{hostname}.{name}",),  # the headless service's name for the pod
                   claims=claims, config_maps={}, env={"JOB_COMPLETION_INDEX": str(index)})
    pods.wait()

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
