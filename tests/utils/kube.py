"""Kubernetes without an API server: offline validation of the generated manifests, and a pod
template run with Docker the way the kubelet would run it.

Core kinds (ConfigMap, batch/v1 Job) are validated with kubernetes-validate --strict (the
Kubernetes OpenAPI schemas, unknown fields refused). JobSet is a CRD, which kubernetes-validate
skips: the whole object is validated against the openAPIV3Schema of JobSet's own CRD
(tests/data/jobset-crd.json, from a JobSet release by scripts/vendor_jobset_crd.py) with the
structural-schema rules the API server applies, and each replicated Job's template is also
validated as the batch/v1 Job the JobSet controller creates from it (kubernetes-validate checks
core fields more closely than the CRD's copy of them).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import kubernetes_validate

KUBERNETES_VERSION = "1.33.0"  # backoffLimitPerIndex is GA from 1.33
JOBSET_CRD = Path(__file__).resolve().parent.parent / "data/jobset-crd.json"


# Enumerations the published schemas leave as free strings (kubernetes-validate accepts any value),
# for the fields the manifests use: from the Kubernetes API reference.
ENUMS = {
    ("Job", "spec", "completionMode"): {"NonIndexed", "Indexed"},
    ("Job", "spec", "template", "spec", "restartPolicy"): {"Always", "OnFailure", "Never"},
    ("Job", "spec", "template", "spec", "securityContext", "seccompProfile", "type"):
        {"RuntimeDefault", "Unconfined", "Localhost"},
}


def validate_core(resource: dict) -> None:
    """kubernetes-validate --strict (raises kubernetes_validate.ValidationError on any problem),
    plus the enumerations it does not check and the volumes' emptyDir media."""
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    for (kind, *path), allowed in ENUMS.items():
        if resource["kind"] != kind:
            continue
        value = resource
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        if value != {} and value not in allowed:
            raise ValueError(f"{kind} {'.'.join(path)}: {value!r} is not one of {sorted(allowed)}")
    if resource["kind"] == "Job":
        for volume in resource["spec"]["template"]["spec"].get("volumes", []):
            medium = volume.get("emptyDir", {}).get("medium", "")
            if medium not in ("", "Memory", "HugePages"):
                raise ValueError(f"volume {volume['name']}: emptyDir medium {medium!r}")


def validate_jobset(resource: dict) -> None:
    """The JobSet against its CRD, then every replicated Job as the batch/v1 Job it becomes."""
    validate_with_crd(resource)
    for rjob in resource["spec"]["replicatedJobs"]:
        template = rjob["template"]
        job = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": f"{resource['metadata']['name']}-{rjob['name']}-0",
                            **template.get("metadata", {})},
               "spec": template["spec"]}
        validate_core(job)


def validate_with_crd(resource: dict, crd_path: str | os.PathLike = JOBSET_CRD) -> None:
    """The whole object against a CRD's openAPIV3Schema (the version the object names)."""
    crd = json.loads(Path(crd_path).read_text())
    version = resource["apiVersion"].split("/")[1]
    schema = next(v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == version)
    jsonschema.validate(resource, _strict(schema))


def _strict(schema):
    """Structural-schema rules as the API server applies them: unknown fields are refused,
    int-or-string fields accept both."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def validate(documents: list[dict]) -> None:
    for resource in documents:
        if resource["apiVersion"].startswith("jobset.x-k8s.io/"):
            validate_jobset(resource)
        else:
            validate_core(resource)


# --- A pod template, run with Docker ------------------------------------------------------------

POD_FIELDS = {"restartPolicy", "securityContext", "containers", "volumes", "subdomain", "hostname",
              "terminationGracePeriodSeconds"}
# Fields for the scheduler, the image pull and the API server, not for how the kubelet runs the
# container: nothing to translate. activeDeadlineSeconds (the kubelet stops the pod after it, as
# `docker stop` does) is longer than any test here.
NOT_CONTAINER_FIELDS = {"imagePullSecrets", "nodeSelector", "tolerations", "priorityClassName",
                        "serviceAccountName", "activeDeadlineSeconds"}
CONTAINER_FIELDS = {"name", "image", "args", "env", "envFrom", "resources", "securityContext", "volumeMounts",
                    "ports"}
QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi)?$")


def _bytes(quantity: str) -> int:
    number, unit = QUANTITY.match(quantity).groups()
    return int(number) * {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}[unit]


def docker_run_args(pod: dict, *, image: str | None = None, claims: dict[str, Path], config_maps: dict[str, Path],
                    env: dict[str, str], name: str, hostname: str | None = None,
                    network: str | None = None, aliases: tuple[str, ...] = (),
                    secrets: dict[str, dict[str, str]] | None = None) -> list[str]:
    """`docker run` arguments that run the pod's one container as the kubelet would: the image's
    ENTRYPOINT with the container's args, its env plus what the controllers inject (env), the pod's
    user, groups (fsGroup) and security settings, each volume in its place (a claim -> a host folder,
    a ConfigMap -> a folder holding its keys, emptyDir -> tmpfs, memory-backed for medium Memory),
    the memory limit, the grace period (docker stop's timeout: SIGTERM to the ENTRYPOINT, SIGKILL
    after it), Secrets' keys as variables (secrets: name -> keys). Fields it does not know are
    refused, so nothing is silently dropped.
    image: a local stand-in for the manifest's image reference (default: that reference itself,
    which Docker pulls by digest from its registry)."""
    if set(pod) - POD_FIELDS - NOT_CONTAINER_FIELDS:
        raise ValueError(f"pod fields not translated: {set(pod) - POD_FIELDS - NOT_CONTAINER_FIELDS}")
    (container,) = pod["containers"]
    if set(container) - CONTAINER_FIELDS:
        raise ValueError(f"container fields not translated: {set(container) - CONTAINER_FIELDS}")
    assert "command" not in container  # args only: the image's ENTRYPOINT (tini) stays
    args = ["--name", name]
    if hostname:
        args += ["--hostname", hostname]
    if network:
        args += ["--network", network, *(a for alias in aliases for a in ("--network-alias", alias))]

    if "terminationGracePeriodSeconds" in pod:
        args += ["--stop-timeout", str(pod["terminationGracePeriodSeconds"])]

    pod_security = pod.get("securityContext", {})
    if set(pod_security) - {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "fsGroupChangePolicy",
                            "seccompProfile"}:
        raise ValueError(f"pod securityContext not translated: {pod_security}")
    user, group = pod_security.get("runAsUser"), pod_security.get("runAsGroup", 0)
    if pod_security.get("runAsNonRoot"):  # without runAsUser, the image's numeric USER (the kubelet checks it)
        assert user != 0, "runAsNonRoot needs a non-zero runAsUser"
    if user is not None:
        args += ["--user", f"{user}:{group}"]
    if "fsGroup" in pod_security:
        args += ["--group-add", str(pod_security["fsGroup"])]
    if pod_security.get("seccompProfile", {}).get("type", "RuntimeDefault") != "RuntimeDefault":
        raise ValueError("only the RuntimeDefault seccomp profile is translated")

    security = container.get("securityContext", {})
    if set(security) - {"allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities"}:
        raise ValueError(f"container securityContext not translated: {security}")
    if security.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if security.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    args += [a for cap in security.get("capabilities", {}).get("drop", []) for a in ("--cap-drop", cap)]

    limits = container.get("resources", {}).get("limits", {})
    if "memory" in limits:
        args += ["--memory", str(_bytes(limits["memory"]))]
    if limits.get("nvidia.com/gpu"):
        args += ["--gpus", str(limits["nvidia.com/gpu"])]

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume, target = volumes[mount["name"]], mount["mountPath"]
        if set(mount) - {"name", "mountPath", "readOnly"} or len(volume) != 2:
            raise ValueError(f"volume not translated: {mount} {volume}")
        read_only = ",readonly" if mount.get("readOnly") else ""
        if "persistentVolumeClaim" in volume:
            source = claims[volume["persistentVolumeClaim"]["claimName"]]
            args += ["--mount", f"type=bind,source={source},target={target}{read_only}"]
        elif "configMap" in volume:
            source = config_maps[volume["configMap"]["name"]]
            args += ["--mount", f"type=bind,source={source},target={target},readonly"]
        elif "emptyDir" in volume:
            size = volume["emptyDir"].get("sizeLimit")
            if target == "/dev/shm":
                assert volume["emptyDir"].get("medium") == "Memory"
                args += ["--shm-size", str(_bytes(size))]
            else:  # a fresh, writable folder for the pod's user (the kubelet makes it 0777)
                args += ["--mount", f"type=tmpfs,destination={target},tmpfs-mode=1777"
                                    + (f",tmpfs-size={_bytes(size)}" if size else "")]
        else:
            raise ValueError(f"volume kind not translated: {volume}")

    variables = {}  # envFrom first: the container's env overrides it, as in the kubelet
    for source in container.get("envFrom", []):
        if set(source) != {"secretRef"}:
            raise ValueError(f"envFrom not translated: {source}")
        variables.update((secrets or {})[source["secretRef"]["name"]])
    for item in container.get("env", []):
        if "value" not in item:
            raise ValueError(f"env not translated: {item}")
        variables[item["name"]] = item["value"]
    variables.update(env)
    args += [a for key, value in variables.items() for a in ("-e", f"{key}={value}")]
    return [*args, image or container["image"], *container.get("args", [])]


def config_map_folder(config_map: dict, root: Path) -> Path:
    """What the kubelet mounts for a ConfigMap volume: one file per key."""
    folder = root / config_map["metadata"]["name"]
    folder.mkdir(parents=True)
    for key, value in config_map["data"].items():
        (folder / key).write_text(value)
    return folder


def dumps(documents: list[dict]) -> str:
    return json.dumps(documents, indent=1)
