"""Kubernetes: a sweep as an Indexed Job (its trials in a ConfigMap), a training across nodes as
a JobSet; manifests as JSON, which kubectl reads as YAML's subset."""

from __future__ import annotations

import json
import re

from .settings import IMAGE_CLUSTER, ClusterError, Project, job_image

OUTPUTS = "/outputs"  # where the pods mount the results volume
SWEEP_MOUNT = "/etc/sweep"  # where trial pods find the expanded sweep
RENDEZVOUS_PORT = 29400
CONTAINER = "job"
INSTANCE = "app.kubernetes.io/instance"  # every object and pod of one sweep or training
CONFIGURATION_ERROR = 2  # argparse's and the runtime's exit status for a mistake in the setup


def k8s_name(text: str, limit: int = 40) -> str:
    """A DNS-1123 label short enough for the pod names the controllers derive from it."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:limit].strip("-")
    if not name or not name[0].isalpha():
        name = ("run-" + name)[:limit].strip("-")
    return name


def output_path(output: str) -> str:
    """--output on Kubernetes: a folder inside the results volume (mounted at /outputs)."""
    relative = output.strip("/")
    if relative.startswith("outputs/"):
        relative = relative[len("outputs/") :]
    if not relative or ".." in relative.split("/"):
        raise ClusterError(f"--output {output!r}: name a folder inside the results volume")
    return f"{OUTPUTS}/{relative}"


def pod_spec(
    project: Project,
    settings: dict,
    args: list[str],
    extra_volumes: list | None = None,
    extra_mounts: list | None = None,
    env: list | None = None,
) -> dict:
    """The pod every trial and every node runs: the job image by digest, its ENTRYPOINT kept
    (args, not command), non-root, read-only root file system, /tmp (HOME) and /dev/shm in
    memory, results on the claim, the data read-only at the data path, the caches on their claim
    or an emptyDir, GPUs when asked for (none visible otherwise), a grace period for the
    checkpoint, what the platform needs (pull secrets, node selection, ...)."""
    k8s = settings["kubernetes"]
    data_volume = kubernetes_data_volume(k8s)
    cache_volume = (
        {"persistentVolumeClaim": {"claimName": k8s["cache_claim"]}}
        if k8s.get("cache_claim")
        else {"emptyDir": {}}
    )
    storage_volumes = [
        {"name": "cache", **cache_volume},
        *([{"name": "data", **data_volume}] if data_volume else []),
    ]
    storage_mounts = [
        {"name": "cache", "mountPath": project.cache_dir},
        *([{"name": "data", "mountPath": project.data_path, "readOnly": True}] if data_volume else []),
    ]
    claim = k8s.get("output_claim")
    if not claim:
        raise ClusterError(
            "kubernetes.output_claim is empty: name the PersistentVolumeClaim "
            "that keeps the results (mounted at /outputs)"
        )
    memory = str(k8s.get("memory", "8Gi"))
    resources = {
        "requests": {"cpu": str(k8s.get("cpu", "2")), "memory": memory},
        "limits": {"memory": memory},
    }
    gpus = int(k8s.get("gpus") or 0)
    if gpus:
        resources["limits"]["nvidia.com/gpu"] = gpus
    container = {
        "name": CONTAINER,
        "image": job_image(settings),
        "args": args,
        "env": [
            {"name": "PYTHONUNBUFFERED", "value": "1"},
            # A CPU pod on a GPU node: the nvidia runtime would otherwise show it every GPU.
            *([] if gpus else [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}]),
            *({"name": k, "value": v} for k, v in project.storage_environment(cache=True).items()),
            *(env or []),
            *settings_env(k8s),
        ],
        "resources": resources,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "outputs", "mountPath": OUTPUTS},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "shm", "mountPath": "/dev/shm"},
            *storage_mounts,
            *(extra_mounts or []),
        ],
    }
    secrets = names_list(k8s, "secret_env")
    if secrets:  # tracker tokens, NCCL_* settings: every key of each Secret as a variable
        container["envFrom"] = [{"secretRef": {"name": name}} for name in secrets]
    pod = {
        # The Job's podFailurePolicy needs it (https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy);
        # retries are the Job's.
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": grace_seconds(k8s),
        "securityContext": pod_security(k8s),
        "containers": [container],
        "volumes": [
            {"name": "outputs", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "tmp", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": shm_size(k8s)}},
            *storage_volumes,
            *(extra_volumes or []),
        ],
    }
    deadline = seconds(k8s.get("time", ""), "kubernetes.time")
    if deadline:  # each pod (a trial's attempt, a node's run) is stopped, gracefully, after it
        pod["activeDeadlineSeconds"] = deadline
    pod.update(platform_fields(k8s))
    return pod


def pod_security(k8s: dict) -> dict:
    """Non-root always; the UID, GID and fsGroup from kubernetes.user, or none at all (user = "")
    where the platform assigns them (OpenShift's restricted policy does)."""
    security = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    user = k8s.get("user", 1000)
    if user == "":
        return security
    if isinstance(user, bool) or not isinstance(user, int) or user < 0:
        raise ClusterError(f"kubernetes.user = {user!r}: a UID (e.g. 1000), or \"\" to let the "
                           "platform assign one")
    if user == 0:
        raise ClusterError("kubernetes.user must not be 0: the pods run as a non-root user")
    # OnRootMismatch: a big claim is not walked on every start when its owner is right already.
    return {**security, "runAsUser": user, "runAsGroup": user, "fsGroup": user,
            "fsGroupChangePolicy": "OnRootMismatch"}


def platform_fields(k8s: dict) -> dict:
    """What a platform asks of every pod: pull secrets, node selection, tolerations, priority,
    service account."""
    fields = {}
    secrets = names_list(k8s, "image_pull_secrets")
    if secrets:
        fields["imagePullSecrets"] = [{"name": name} for name in secrets]
    selector = k8s.get("node_selector") or {}
    if not isinstance(selector, dict):
        raise ClusterError('kubernetes.node_selector must be a table, e.g. { "nvidia.com/gpu.product" = "NVIDIA-H100-80GB-HBM3" }')
    if selector:
        fields["nodeSelector"] = {str(k): str(v) for k, v in selector.items()}
    tolerations = k8s.get("tolerations") or []
    if not isinstance(tolerations, list) or not all(isinstance(t, dict) for t in tolerations):
        raise ClusterError('kubernetes.tolerations must be a list of tables, e.g. '
                           '[{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }]')
    if tolerations:
        fields["tolerations"] = [dict(t) for t in tolerations]
    if k8s.get("priority_class"):
        fields["priorityClassName"] = str(k8s["priority_class"])
    if k8s.get("service_account"):
        fields["serviceAccountName"] = str(k8s["service_account"])
    return fields


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def settings_env(k8s: dict) -> list[dict]:
    """kubernetes.env: { NAME = "value" } as the container's variables."""
    variables = k8s.get("env") or {}
    if not isinstance(variables, dict):
        raise ClusterError('kubernetes.env must be a table, e.g. { NCCL_DEBUG = "INFO" }')
    for name in variables:
        if not ENV_NAME.match(name):
            raise ClusterError(f"kubernetes.env: {name!r} is not a variable name")
    return [{"name": k, "value": v if isinstance(v, str) else json.dumps(v)}
            for k, v in variables.items()]


def names_list(k8s: dict, key: str) -> list[str]:
    names = k8s.get(key) or []
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise ClusterError(f'kubernetes.{key} must be a list of names, e.g. ["my-secret"]')
    return list(names)


def grace_seconds(k8s: dict) -> int:
    """terminationGracePeriodSeconds: how long a stopped pod has to checkpoint before SIGKILL."""
    grace = k8s.get("grace_seconds", 60)
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 1:
        raise ClusterError(f"kubernetes.grace_seconds = {grace!r}: the seconds a stopped pod gets "
                           "to write its checkpoint, e.g. 60")
    return grace


TIME = re.compile(r"^(?:(\d+)-)?(\d+):(\d\d):(\d\d)$")  # [D-]HH:MM:SS, as Slurm writes times


def seconds(value, key: str) -> int:
    """A duration setting: whole seconds, or "[D-]HH:MM:SS"; 0 or "" = none."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if value == "":
        return 0
    match = TIME.match(str(value).strip())
    if not match or int(match[3]) > 59 or int(match[4]) > 59:
        raise ClusterError(f'{key} = {value!r}: give "HH:MM:SS" (e.g. "01:30:00"), "D-HH:MM:SS", '
                           'seconds (e.g. 5400), or "" for no limit')
    days, hours, minutes, secs = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_bytes(value: str, key: str) -> int:
    match = QUANTITY.match(str(value).strip())
    if not match:
        raise ClusterError(f'{key} = {value!r}: give a size such as "8Gi" or "512Mi"')
    return int(float(match[1]) * UNITS[match[2]])


def shm_size(k8s: dict) -> str:
    """/dev/shm's size. A memory-backed emptyDir counts against the container's memory limit, so
    it is carved out of `memory` (the limit stays what was asked for, request = limit): refused
    at or above it; by default half of it."""
    memory = str(k8s.get("memory", "8Gi"))
    limit = quantity_bytes(memory, "kubernetes.memory")
    shm = str(k8s.get("shm", "") or "")
    if not shm:
        half = limit // 2
        unit = next(u for u in ("Gi", "Mi", "Ki", None) if half % UNITS[u] == 0)
        return f"{half // UNITS[unit]}{unit or ''}"
    if quantity_bytes(shm, "kubernetes.shm") >= limit:
        raise ClusterError(
            f"kubernetes.shm = {shm!r} is not below memory = {memory!r}: /dev/shm is memory the "
            "pod's limit counts; make it smaller (e.g. half of memory) or raise memory"
        )
    return shm


def kubernetes_data_volume(k8s: dict) -> dict | None:
    """The volume source of the datasets: the claim data_claim (bound read-only), or the one
    volume source data_volume names (hostPath, nfs, csi, ...); None when neither is set."""
    claim, volume = k8s.get("data_claim"), k8s.get("data_volume") or {}
    if claim and volume:
        raise ClusterError("kubernetes: set data_claim or data_volume, not both")
    if claim:
        return {"persistentVolumeClaim": {"claimName": claim, "readOnly": True}}
    if not volume:
        return None
    if not isinstance(volume, dict) or len(volume) != 1:
        raise ClusterError(
            "kubernetes.data_volume must name one volume source, e.g. "
            '{ nfs = { server = "nfs.example.com", path = "/datasets", readOnly = true } }'
        )
    return dict(volume)


def labels(project: Project, name: str) -> dict:
    """The labels of every object and pod of the sweep or training `name`: what status, cancel
    and logs select."""
    return {"app.kubernetes.io/name": project.name, INSTANCE: name}


def metadata(project: Project, settings: dict, name: str, run: str, kueue: bool = True) -> dict:
    """An object's metadata: its name, the run's (sweep's or training's) labels."""
    k8s = settings["kubernetes"]
    meta = {"name": name, "labels": labels(project, run)}
    if k8s.get("namespace"):
        meta["namespace"] = k8s["namespace"]
    if kueue and k8s.get("queue"):
        meta["labels"]["kueue.x-k8s.io/queue-name"] = k8s["queue"]
    return meta


def sweep_manifests(
    project: Project, settings: dict, trials: list[dict], output: str, name: str
) -> list[dict]:
    """A ConfigMap with the expanded sweep and an Indexed Job running one trial per index."""
    name = k8s_name(name)
    folder = output_path(output)
    k8s = settings["kubernetes"]
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(project, settings, f"{name}-trials", name, kueue=False),
        "data": {"trials.json": json.dumps({"trials": trials}, indent=2) + "\n"},
    }
    args = [
        "python",
        IMAGE_CLUSTER,
        "trial",
        f"--trials={SWEEP_MOUNT}/trials.json",
        f"--output={folder}",
    ]
    pod = pod_spec(
        project,
        settings,
        args,
        extra_volumes=[{"name": "sweep", "configMap": {"name": f"{name}-trials"}}],
        extra_mounts=[{"name": "sweep", "mountPath": SWEEP_MOUNT, "readOnly": True}],
    )
    spec = {
        "completionMode": "Indexed",
        "completions": len(trials),
        "parallelism": min(len(trials), int(k8s.get("max_parallel", 4)) or len(trials)),
        # Each trial is retried on its own (from its checkpoint), `retries` times.
        "backoffLimitPerIndex": int(k8s.get("retries", 1)),
        "podFailurePolicy": {"rules": [
            # Drained, preempted, evicted: not the trial's fault, no retry used up.
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            # A mistake in the options or settings fails the same way every time: no retry.
            {"action": "FailIndex", "onExitCodes": {"containerName": CONTAINER, "operator": "In",
                                                    "values": [CONFIGURATION_ERROR]}},
        ]},
        # A replacement starts once the old pod has stopped (and written its checkpoint).
        "podReplacementPolicy": "Failed",
        "ttlSecondsAfterFinished": 7 * 24 * 3600,
        "template": {"metadata": {"labels": labels(project, name)}, "spec": pod},
    }
    max_failed = int(k8s.get("max_failed_trials", -1))
    if max_failed >= 0:  # the sweep stops once more trials than this have failed for good
        spec["maxFailedIndexes"] = min(max_failed, len(trials))  # the API allows no more
    if k8s.get("queue"):
        spec["suspend"] = True  # Kueue admits it (unsuspends) when the queue has room
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(project, settings, name, name),
        "spec": spec,
    }
    return [config, job]


def train_manifests(
    project: Project,
    settings: dict, nodes: int, nproc: int, output: str, name: str, train_args: list[str]
) -> list[dict]:
    """A JobSet: one Indexed Job of `nodes` pods behind a headless service; each pod starts
    torchrun (`cluster launch`) with the first pod's stable name as head."""
    name = k8s_name(name)
    folder = output_path(output)
    # The first pod's name: <jobset>-<replicated job>-<job index>-<pod index>.<subdomain>; each
    # pod's node rank is its completion index (JOB_COMPLETION_INDEX).
    head = f"{name}-node-0-0.{name}"
    args = ["python", IMAGE_CLUSTER, "launch", f"--nodes={nodes}", f"--nproc-per-node={nproc}",
            f"--head={head}", f"--port={RENDEZVOUS_PORT}", f"--output={folder}", "--", *train_args]
    pod = pod_spec(project, settings, args)
    pod["containers"][0]["ports"] = [{"name": "rendezvous", "containerPort": RENDEZVOUS_PORT}]
    job = {
        "completionMode": "Indexed",
        "completions": nodes,
        "parallelism": nodes,
        "backoffLimit": 0,  # one node's failure fails the Job: the JobSet restarts all nodes
        # Each rule's index is named by the JobSet's rules below (the Job's failure message
        # ends "matching FailJob rule at index N").
        "podFailurePolicy": {"rules": [
            {"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "FailJob", "onExitCodes": {"containerName": CONTAINER, "operator": "In",
                                                  "values": [CONFIGURATION_ERROR]}},
        ]},
        "podReplacementPolicy": "Failed",
        "template": {"metadata": {"labels": labels(project, name)}, "spec": pod},
    }
    policy_failure = ["PodFailurePolicy"]
    spec = {
        "network": {"enableDNSHostnames": True, "publishNotReadyAddresses": True},
        "failurePolicy": {
            "maxRestarts": int(settings["kubernetes"].get("retries", 1)),
            "rules": [
                # Drained, preempted, evicted: restart from the checkpoint, no restart used up.
                {"name": "disruption", "action": "RestartJobSetAndIgnoreMaxRestarts",
                 "onJobFailureReasons": policy_failure,
                 "onJobFailureMessagePatterns": ["matching FailJob rule at index 0$"]},
                # A mistake in the setup (exit status 2) fails the same way every time.
                {"name": "configuration-error", "action": "FailJobSet",
                 "onJobFailureReasons": policy_failure,
                 "onJobFailureMessagePatterns": ["matching FailJob rule at index 1$"]},
            ],  # anything else (a crash, the time limit): a restart counted against maxRestarts
        },
        "successPolicy": {"operator": "All"},
        "replicatedJobs": [{"name": "node", "replicas": 1, "template": {
            "metadata": {"labels": labels(project, name)}, "spec": job}}],
    }
    if settings["kubernetes"].get("queue"):
        spec["suspend"] = True
    return [
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": metadata(project, settings, name, name),
            "spec": spec,
        }
    ]
