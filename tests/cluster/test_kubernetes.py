"""Kubernetes without an API server: the manifests, validated offline (kubernetes-validate
--strict for core kinds, JobSet's own fields and its Job templates; tests/utils/kube.py)."""

from __future__ import annotations

import json

import pytest
from mlcluster.kubectl import lifecycle_commands
from mlcluster.kubernetes import INSTANCE, k8s_name, seconds, sweep_manifests, train_manifests
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
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "4Gi"}  # half of memory = "8Gi"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    # A CPU pod scheduled on a GPU node must not see the node's GPUs through the nvidia runtime.
    assert {"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"} in container["env"]
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
    assert "NVIDIA_VISIBLE_DEVICES" not in {e["name"] for e in job_pod["containers"][0]["env"]}


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


def test_sweep_job_recovers_on_its_own(none_project):
    """A drained or preempted trial is retried without using up a retry; a configuration error
    (exit status 2: argparse, the runtime's ClusterError) is not retried; each trial has its own
    retries; a replacement starts once the stopped pod has ended (its checkpoint written)."""
    _, project = none_project
    (config, job) = sweep_manifests(project, shipped_settings(project, retries=3), [{"lr": 1}] * 4, "s", "lr")
    kube.validate([config, job])
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    assert spec["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailIndex", "onExitCodes": {"containerName": "job", "operator": "In", "values": [2]}},
    ]
    assert pod["restartPolicy"] == "Never" and pod["containers"][0]["name"] == "job"
    assert (spec["backoffLimitPerIndex"], spec["podReplacementPolicy"]) == (3, "Failed")
    assert "maxFailedIndexes" not in spec  # max_failed_trials = -1: every trial runs
    assert pod["terminationGracePeriodSeconds"] == 60  # time for the checkpoint
    assert pod["activeDeadlineSeconds"] == 24 * 3600  # time = "24:00:00", per pod (attempt)

    settings = shipped_settings(project, max_failed_trials=1, time=5400, grace_seconds=300)
    (_, job) = sweep_manifests(project, settings, [{"lr": 1}] * 4, "s", "lr")
    kube.validate([job])
    pod = job["spec"]["template"]["spec"]
    assert job["spec"]["maxFailedIndexes"] == 1 and pod["activeDeadlineSeconds"] == 5400
    (_, job) = sweep_manifests(project, shipped_settings(project, max_failed_trials=10), [{"lr": 1}] * 4, "s", "lr")
    assert job["spec"]["maxFailedIndexes"] == 4  # at most the trials: the API refuses more
    assert pod["terminationGracePeriodSeconds"] == 300
    (_, job) = sweep_manifests(project, shipped_settings(project, time=""), [{"lr": 1}], "s", "lr")
    assert "activeDeadlineSeconds" not in job["spec"]["template"]["spec"]


def test_jobset_recovers_on_its_own(pytorch_project):
    """The child Job fails at once on a disruption or a configuration error (podFailurePolicy
    FailJob); the JobSet's rules tell the two apart by the rule index in the Job's failure message:
    a disruption restarts every node without counting against maxRestarts, a configuration
    error fails the JobSet; anything else is a counted restart."""
    _, project = pytorch_project
    (jobset,) = train_manifests(project, shipped_settings(project, retries=2), 2, 1, "d", "ddp", [])
    kube.validate([jobset])
    kube.validate_with_crd(jobset)
    policy = jobset["spec"]["failurePolicy"]
    assert policy["maxRestarts"] == 2
    job = jobset["spec"]["replicatedJobs"][0]["template"]["spec"]
    assert job["backoffLimit"] == 0 and job["podReplacementPolicy"] == "Failed"
    pod_rules = job["podFailurePolicy"]["rules"]
    assert all(rule["action"] == "FailJob" for rule in pod_rules)
    by_action = {rule["action"]: rule for rule in policy["rules"]}
    assert set(by_action) == {"RestartJobSetAndIgnoreMaxRestarts", "FailJobSet"}
    for action, condition in (("RestartJobSetAndIgnoreMaxRestarts", "onPodConditions"),
                              ("FailJobSet", "onExitCodes")):
        rule = by_action[action]
        assert rule["onJobFailureReasons"] == ["PodFailurePolicy"]
        (pattern,) = rule["onJobFailureMessagePatterns"]
        index = int(pattern.split("index ")[1].rstrip("$"))
        assert condition in pod_rules[index]
    assert pod_rules[0]["onPodConditions"] == [{"type": "DisruptionTarget", "status": "True"}]
    assert pod_rules[1]["onExitCodes"]["values"] == [2]
    pod = job["template"]["spec"]
    assert pod["activeDeadlineSeconds"] == 24 * 3600 and pod["terminationGracePeriodSeconds"] == 60
    jobset["spec"]["failurePolicy"]["rules"][0]["action"] = "RestartJobSetIgnoringMaxRestarts"
    with pytest.raises(Exception, match="RestartJobSetIgnoringMaxRestarts"):
        kube.validate_with_crd(jobset)


@pytest.mark.parametrize("value, expected", [
    ("01:00:00", 3600), ("00:30:00", 1800), ("2-00:00:00", 2 * 86400), ("36:00:00", 36 * 3600),
    (5400, 5400), ("", 0), (0, 0),
])
def test_time_formats(value, expected):
    assert seconds(value, "kubernetes.time") == expected


@pytest.mark.parametrize("value", ["1h", "01:60:00", "1:00", -5, "soon", True])
def test_bad_times_are_refused(none_project, value):
    _, project = none_project
    with pytest.raises(ClusterError, match=r'kubernetes.time = .*"HH:MM:SS"'):
        sweep_manifests(project, shipped_settings(project, time=value), [{"lr": 1}], "s", "s")


def test_what_a_platform_needs_of_every_pod(project):
    """Pull secrets, variables (plain and from Secrets), node selection, tolerations, priority,
    service account: in the sweep's and the training's pods alike, valid for the API server."""
    _, cluster_project, framework = project
    settings = shipped_settings(
        cluster_project,
        image_pull_secrets=["ghcr-pull"],
        env={"NCCL_DEBUG": "WARN", "WANDB_PROJECT": "lab", "OMP_NUM_THREADS": 4},
        secret_env=["wandb", "nccl-settings"],
        node_selector={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        priority_class="research-low",
        service_account="trainer",
    )
    manifests = sweep_manifests(cluster_project, settings, [{"lr": 1}], "s", "s")
    pods = [manifests[1]["spec"]["template"]["spec"]]
    if framework == "pytorch":
        (jobset,) = train_manifests(cluster_project, settings, 2, 1, "d", "d", [])
        manifests.append(jobset)
        kube.validate_with_crd(jobset)
        pods.append(jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"])
    kube.validate(manifests)
    for pod in pods:
        assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}]
        assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
        assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        assert (pod["priorityClassName"], pod["serviceAccountName"]) == ("research-low", "trainer")
        (container,) = pod["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert (env["NCCL_DEBUG"], env["WANDB_PROJECT"], env["OMP_NUM_THREADS"]) == ("WARN", "lab", "4")
        assert container["envFrom"] == [{"secretRef": {"name": "wandb"}}, {"secretRef": {"name": "nccl-settings"}}]

    plain = sweep_manifests(cluster_project, shipped_settings(cluster_project), [{"lr": 1}], "s", "s")
    pod = plain[1]["spec"]["template"]["spec"]
    assert not {"imagePullSecrets", "nodeSelector", "tolerations", "priorityClassName",
                "serviceAccountName"} & set(pod) and "envFrom" not in pod["containers"][0]


@pytest.mark.parametrize("setting, value, message", [
    ("env", ["NCCL_DEBUG=WARN"], "kubernetes.env must be a table"),
    ("env", {"NCCL-DEBUG": "WARN"}, "not a variable name"),
    ("secret_env", "wandb", "kubernetes.secret_env must be a list of names"),
    ("image_pull_secrets", [""], "kubernetes.image_pull_secrets must be a list of names"),
    ("node_selector", ["gpu"], "kubernetes.node_selector must be a table"),
    ("tolerations", {"key": "gpu"}, "kubernetes.tolerations must be a list of tables"),
    ("grace_seconds", "60s", "kubernetes.grace_seconds"),
    ("user", "dev", "kubernetes.user"),
])
def test_bad_platform_settings_are_refused(none_project, setting, value, message):
    _, project = none_project
    with pytest.raises(ClusterError, match=message):
        sweep_manifests(project, shipped_settings(project, **{setting: value}), [{"lr": 1}], "s", "s")


def test_user_set_or_left_to_the_platform(none_project):
    """user = 1000: the pods' UID, GID and fsGroup (a claim's ownership changed only when its root
    differs); user = "": none set, for platforms that assign them (OpenShift), still non-root."""
    _, project = none_project
    (_, job) = sweep_manifests(project, shipped_settings(project), [{"lr": 1}], "s", "s")
    assert job["spec"]["template"]["spec"]["securityContext"] == {
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 1000,
        "runAsGroup": 1000, "fsGroup": 1000, "fsGroupChangePolicy": "OnRootMismatch"}
    (_, job) = sweep_manifests(project, shipped_settings(project, user=""), [{"lr": 1}], "s", "s")
    kube.validate([job])
    assert job["spec"]["template"]["spec"]["securityContext"] == {
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def test_dev_shm_fits_in_the_memory_limit(none_project):
    """A memory-backed /dev/shm counts against the memory limit: it is carved out of `memory`
    (by default half of it) and refused at or above it."""
    _, project = none_project

    def shm(**kubernetes):
        (_, job) = sweep_manifests(project, shipped_settings(project, **kubernetes), [{"lr": 1}], "s", "s")
        pod = job["spec"]["template"]["spec"]
        assert pod["containers"][0]["resources"]["limits"]["memory"] == kubernetes.get("memory", "8Gi")
        return next(v for v in pod["volumes"] if v["name"] == "shm")["emptyDir"]["sizeLimit"]

    assert shm() == "4Gi"
    assert (shm(memory="6Gi"), shm(memory="1000Mi"), shm(memory="3G")) == ("3Gi", "500Mi", "1500000000")
    assert shm(memory="16Gi", shm="2Gi") == "2Gi"
    for too_big in ("8Gi", "9000Mi"):
        with pytest.raises(ClusterError, match="is not below memory"):
            shm(shm=too_big)
    with pytest.raises(ClusterError, match=r'kubernetes.memory = .*"8Gi"'):
        shm(memory="8 GB")


def test_objects_and_pods_carry_the_name_the_lifecycle_commands_select(project):
    _, cluster_project, framework = project
    manifests = sweep_manifests(cluster_project, shipped_settings(cluster_project), [{"lr": 1}], "s", "LR Run")
    labelled = [*manifests, manifests[1]["spec"]["template"]]
    if framework == "pytorch":
        (jobset,) = train_manifests(cluster_project, shipped_settings(cluster_project), 2, 1, "d", "LR Run", [])
        job = jobset["spec"]["replicatedJobs"][0]["template"]
        labelled += [jobset, job, job["spec"]["template"]]
    assert all(item["metadata"]["labels"][INSTANCE] == "lr-run" for item in labelled)


def test_lifecycle_commands_on_kubernetes(project, tmp_path):
    """status, cancel and logs of `kubernetes NAME` as kubectl command lines (--dry-run prints
    them; no API server here), beside the Slurm form `status OUTPUT`."""
    root, cluster_project, framework = project
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text((root / "cluster/settings.toml").read_text().replace('namespace = ""', 'namespace = "ml"'))

    def dry_run(*args):
        result = run_cluster(root, "--settings", str(settings_file), *args, "--dry-run")
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    selector = "app.kubernetes.io/instance=cluster-lab-lr"
    assert dry_run("status", "kubernetes", "cluster-lab-lr") == [
        f"kubectl --namespace ml get jobs,pods --selector {selector} --output wide"]
    deletes = [f"kubectl --namespace ml delete jobs,configmaps --selector {selector}"]
    if framework == "pytorch":  # the JobSet first, or it would recreate its Jobs
        deletes.insert(0, f"kubectl --namespace ml delete jobsets.jobset.x-k8s.io --selector {selector}")
    assert dry_run("cancel", "kubernetes", "Cluster Lab LR") == deletes  # named as when submitted
    assert dry_run("logs", "kubernetes", "cluster-lab-lr", "--trial", "3") == [
        f"kubectl --namespace ml logs --selector {selector},batch.kubernetes.io/job-completion-index=3 "
        "--prefix --tail=-1 --max-log-requests=50"]
    assert lifecycle_commands("status", shipped_settings(cluster_project), "x")[0][:3] == ["kubectl", "get", "jobs,pods"]

    for wrong, message in ((["status", "/shared/out", "--dry-run"], "--dry-run is for Kubernetes"),
                           (["cancel", "kube", "name"], "give a Slurm sweep's OUTPUT folder, or `kubernetes NAME`"),
                           (["logs", "kubernetes"], "logs kubernetes NAME: give the name")):
        result = run_cluster(root, *wrong)
        assert result.returncode == 2 and message in result.stderr, result.stderr


def test_submission_names_the_job_for_the_lifecycle_commands(none_project):
    root, _ = none_project
    result = run_cluster(root, "sweep", "kubernetes", "--output", "sweeps/lr", "--dry-run",
                         env={"JOB_IMAGE": DIGEST_IMAGE})
    assert "Job cluster-lab-lr (python3 cluster status|logs|cancel kubernetes cluster-lab-lr)" in result.stderr
