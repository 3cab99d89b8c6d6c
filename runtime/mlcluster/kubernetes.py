"""Kubernetes: a sweep as an Indexed Job (its trials in a ConfigMap), a training across nodes as
a JobSet; manifests as JSON, which kubectl reads as YAML's subset."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from .settings import IMAGE_CLUSTER, ClusterError, Project, job_image

OUTPUTS = "/outputs"  # where the pods mount the results volume
SWEEP_MOUNT = "/etc/sweep"  # where trial pods find the expanded sweep
RENDEZVOUS_PORT = 29400


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
    or an emptyDir, GPUs when asked for."""
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
    uid = int(k8s.get("user", 1000))
    if uid == 0:
        raise ClusterError("kubernetes.user must not be 0: the pods run as a non-root user")
    memory = str(k8s.get("memory", "8Gi"))
    resources = {
        "requests": {"cpu": str(k8s.get("cpu", "2")), "memory": memory},
        "limits": {"memory": memory},
    }
    if k8s.get("gpus"):
        resources["limits"]["nvidia.com/gpu"] = int(k8s["gpus"])
    container = {
        "name": "job",
        "image": job_image(settings),
        "args": args,
        "env": [
            {"name": "PYTHONUNBUFFERED", "value": "1"},
            *({"name": k, "value": v} for k, v in project.storage_environment(cache=True).items()),
            *(env or []),
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
    return {
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": uid,
            "fsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "outputs", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "tmp", "emptyDir": {}},
            {
                "name": "shm",
                "emptyDir": {"medium": "Memory", "sizeLimit": str(k8s.get("shm", "8Gi"))},
            },
            *storage_volumes,
            *(extra_volumes or []),
        ],
    }


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


def metadata(project: Project, settings: dict, name: str, kueue: bool = True) -> dict:
    k8s = settings["kubernetes"]
    meta = {"name": name, "labels": {"app.kubernetes.io/name": project.name}}
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
        "metadata": metadata(project, settings, f"{name}-trials", kueue=False),
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
        "backoffLimitPerIndex": int(k8s.get("retries", 1)),
        "ttlSecondsAfterFinished": 7 * 24 * 3600,
        "template": {"metadata": {"labels": {"app.kubernetes.io/name": project.name}}, "spec": pod},
    }
    if k8s.get("queue"):
        spec["suspend"] = True  # Kueue admits it (unsuspends) when the queue has room
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(project, settings, name),
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
        "backoffLimit": 0,
        "template": {"metadata": {"labels": {"app.kubernetes.io/name": project.name}}, "spec": pod},
    }
    spec = {
        "network": {"enableDNSHostnames": True, "publishNotReadyAddresses": True},
        "failurePolicy": {"maxRestarts": int(settings["kubernetes"].get("retries", 1))},
        "successPolicy": {"operator": "All"},
        "replicatedJobs": [{"name": "node", "replicas": 1, "template": {"spec": job}}],
    }
    if settings["kubernetes"].get("queue"):
        spec["suspend"] = True
    return [
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": metadata(project, settings, name),
            "spec": spec,
        }
    ]


def manifest_list(manifests: list[dict]) -> str:
    """One JSON document (a v1 List) for `kubectl create -f -`."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}, indent=2) + "\n"


def create(manifests: list[dict], dry_run: bool) -> int:
    """kubectl create (not apply: each run is a new object), or the manifests printed."""
    text = manifest_list(manifests)
    if dry_run:
        print(text, end="")
        return 0
    if shutil.which("kubectl") is None:
        raise ClusterError("kubectl is not on PATH here: run this where kubectl is")
    return subprocess.run(["kubectl", "create", "-f", "-"], input=text, text=True).returncode
