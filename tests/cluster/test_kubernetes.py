"""Kubernetes without an API server: the manifests, validated offline (kubernetes-validate
--strict for core kinds, JobSet's own fields and its Job templates; tests/utils/kube.py)."""

from __future__ import annotations

import json

import pytest
from mlcluster.kubernetes import k8s_name, sweep_manifests, train_manifests
from mlcluster.settings import ClusterError

from tests.cluster.conftest import DIGEST_IMAGE, run_cluster, shipped_settings
from tests.utils import kube


def test_dry_run_output_is_the_manifests_kubectl_would_get(none_project):
    """`--dry-run > sweep.json` (as the project's README shows) gives a file kubectl creates as is:
    one JSON List, which kubectl reads like YAML."""
    root, _ = none_project
    result = run_cluster(root, "sweep", "kubernetes", "--output", "lr", "--dry-run", env={"JOB_IMAGE": DIGEST_IMAGE})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["kind"] == "List"
    assert [d["kind"] for d in document["items"]] == ["ConfigMap", "Job"]
    kube.validate(document["items"])


def test_kubernetes_pods_mount_the_data_read_only_and_a_cache(none_project):
    _, project = none_project
    (_, job) = sweep_manifests(project, shipped_settings(project), [{"lr": 0.1}], "s", "s")
    kube.validate([job])
    pod = job["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "cluster-lab-data", "readOnly": True}
    assert mounts["data"] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert volumes["cache"] == {"name": "cache", "emptyDir": {}} and mounts["cache"]["mountPath"] == "/cache"
    assert env["PROJECT_DATA_DIR"] == "/data" and env["HF_HOME"] == "/cache/huggingface"

    nfs = {"nfs": {"server": "nfs.example.com", "path": "/datasets", "readOnly": True}}
    settings = shipped_settings(project, data_claim="", data_volume=nfs, cache_claim="ml-cache")
    (_, job) = sweep_manifests(project, settings, [{"lr": 0.1}], "s", "s")
    kube.validate([job])
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", **nfs}
    assert volumes["cache"]["persistentVolumeClaim"] == {"claimName": "ml-cache"}

    (_, job) = sweep_manifests(project, shipped_settings(project, data_claim=""), [{"lr": 0.1}], "s", "s")
    assert "data" not in {v["name"] for v in job["spec"]["template"]["spec"]["volumes"]}
    with pytest.raises(ClusterError, match="not both"):
        sweep_manifests(project, shipped_settings(project, data_volume=nfs), [{"lr": 1}], "s", "s")
    with pytest.raises(ClusterError, match="one volume source"):
        sweep_manifests(project, shipped_settings(project, data_claim="", data_volume={"nfs": {}, "hostPath": {}}),
                        [{"lr": 1}], "s", "s")


def test_sweep_manifests_validate(none_project):
    _, project = none_project
    trials = [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.3}]
    manifests = sweep_manifests(project, shipped_settings(project), trials, "sweeps/lr", "Cluster Lab LR!")
    kube.validate(manifests)
    config, job = manifests
    assert json.loads(config["data"]["trials.json"])["trials"] == trials
    spec = job["spec"]
    assert job["metadata"]["name"] == "cluster-lab-lr"
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 3)
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == DIGEST_IMAGE and "command" not in container  # the ENTRYPOINT stays
    assert container["args"][:3] == ["python", "/app/cluster", "trial"]
    assert "--output=/outputs/sweeps/lr" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["readOnlyRootFilesystem"]
    shm = next(v for v in pod["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert "suspend" not in spec and "kueue.x-k8s.io/queue-name" not in job["metadata"]["labels"]


def test_gpus_and_kueue(project):
    _, cluster_project, framework = project
    config = shipped_settings(cluster_project, gpus=2, queue="team-a", namespace="ml")
    manifests = sweep_manifests(cluster_project, config, [{"lr": 0.1}], "s", "s")
    if framework == "pytorch":
        manifests += train_manifests(cluster_project, config, 2, 2, "d", "d", [])
    kube.validate(manifests)
    for resource in manifests[1:]:
        assert resource["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
        assert resource["metadata"]["namespace"] == "ml" and resource["spec"]["suspend"] is True
    job_pod = manifests[1]["spec"]["template"]["spec"]
    assert job_pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2


def test_jobset_for_multi_node_training(pytorch_project):
    _, project = pytorch_project
    (jobset,) = train_manifests(project, shipped_settings(project), 3, 1, "runs/ddp", "ddp", ["--epochs=2"])
    kube.validate([jobset])
    assert jobset["apiVersion"] == "jobset.x-k8s.io/v1alpha2"
    (rjob,) = jobset["spec"]["replicatedJobs"]
    job = rjob["template"]["spec"]
    assert (rjob["name"], rjob["replicas"], job["completions"], job["parallelism"]) == ("node", 1, 3, 3)
    assert job["completionMode"] == "Indexed" and jobset["spec"]["network"]["enableDNSHostnames"]
    args = job["template"]["spec"]["containers"][0]["args"]
    # Each pod starts torchrun through the image's runtime: the first pod's stable name as head.
    assert args[:3] == ["python", "/app/cluster", "launch"]
    assert {"--nodes=3", "--head=ddp-node-0-0.ddp", "--port=29400", "--output=/outputs/runs/ddp"} <= set(args)
    assert args[-2:] == ["--", "--epochs=2"]


@pytest.mark.parametrize("broken, message", [
    (lambda m: m[1]["spec"].update(completionMode="indexed"), "completionMode"),
    (lambda m: m[1]["spec"]["template"]["spec"]["containers"][0].update(imagePullPolcy="Always"), "imagePullPolcy"),
    (lambda m: m[1]["spec"]["template"]["spec"]["securityContext"].update(runAsUser="1000"), "runAsUser"),
])
def test_validation_catches_mistakes(none_project, broken, message):
    _, project = none_project
    manifests = sweep_manifests(project, shipped_settings(project), [{"lr": 0.1}], "s", "s")
    broken(manifests)
    with pytest.raises(Exception, match=message):
        kube.validate(manifests)


def test_jobset_validation_catches_mistakes(pytorch_project):
    _, project = pytorch_project
    (jobset,) = train_manifests(project, shipped_settings(project), 2, 1, "d", "d", [])
    jobset["spec"]["successPolicy"]["operator"] = "Every"
    with pytest.raises(Exception, match="Every"):
        kube.validate([jobset])
    jobset["spec"]["successPolicy"]["operator"] = "All"
    jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"][0]["args"] = "x"
    with pytest.raises(Exception, match="args"):
        kube.validate([jobset])


def test_jobset_against_the_crd_schema(pytorch_project):
    _, project = pytorch_project
    config = shipped_settings(project, gpus=1, queue="q")
    (jobset,) = train_manifests(project, config, 2, 1, "d", "d", ["--epochs=2"])
    kube.validate_with_crd(jobset)
    jobset["spec"]["network"]["enableDNSHostName"] = True
    with pytest.raises(Exception, match="enableDNSHostName"):
        kube.validate_with_crd(jobset)


def test_bad_kubernetes_settings_are_refused(none_project):
    _, project = none_project
    with pytest.raises(ClusterError, match="output_claim"):
        sweep_manifests(project, shipped_settings(project, output_claim=""), [{"lr": 1}], "s", "s")
    with pytest.raises(ClusterError, match="non-root"):
        sweep_manifests(project, shipped_settings(project, user=0), [{"lr": 1}], "s", "s")
    with pytest.raises(ClusterError, match="inside the results volume"):
        sweep_manifests(project, shipped_settings(project), [{"lr": 1}], "../etc", "s")
    assert k8s_name("9 Lives_Sweep" + "x" * 80).startswith("run-9-lives-sweep")
    assert len(k8s_name("x" * 80)) == 40
