"""kubectl: what `python3 cluster` does with the manifests (create them, or print them) and the
lifecycle commands of a submitted sweep or training, selected by the label every object carries."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

from .kubernetes import INSTANCE, k8s_name
from .settings import ClusterError


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


JOBSETS = "jobsets.jobset.x-k8s.io"  # the full name: unambiguous where other CRDs say "jobset"


def lifecycle_commands(action: str, settings: dict, name: str, trial: int | None = None,
                       distributed: bool = False) -> list[list[str]]:
    """The kubectl commands of status, cancel and logs for the sweep or training `name` (the
    name it was submitted with), selected by the label every object and pod of it carries."""
    namespace = settings["kubernetes"].get("namespace")
    kubectl = ["kubectl", *(["--namespace", namespace] if namespace else [])]
    selector = f"{INSTANCE}={k8s_name(name)}"
    if action == "status":  # the Job (a training: its JobSet's child Job) and every pod, with its node
        return [[*kubectl, "get", "jobs,pods", "--selector", selector, "--output", "wide"]]
    if action == "cancel":  # a JobSet first, or it would create its Jobs again
        jobsets = [[*kubectl, "delete", JOBSETS, "--selector", selector]] if distributed else []
        return [*jobsets, [*kubectl, "delete", "jobs,configmaps", "--selector", selector]]
    if action == "logs":  # every pod's, finished ones included, each line prefixed with its pod
        if trial is not None:  # the pods of one index (its retries too)
            selector += f",batch.kubernetes.io/job-completion-index={trial}"
        return [[*kubectl, "logs", "--selector", selector, "--prefix", "--tail=-1",
                 "--max-log-requests=50"]]
    raise ValueError(action)


def lifecycle(action: str, settings: dict, name: str, trial: int | None, distributed: bool,
              dry_run: bool) -> int:
    commands = lifecycle_commands(action, settings, name, trial, distributed)
    if dry_run:
        for command in commands:
            print(shlex.join(command))
        return 0
    if shutil.which("kubectl") is None:
        raise ClusterError("kubectl is not on PATH here: run this where kubectl is")
    returncode = 0
    for command in commands:
        result = subprocess.run(command)
        if JOBSETS in command and result.returncode != 0:
            print("cluster: no JobSet removed (JobSet not installed?); going on", file=sys.stderr)
            continue
        returncode = returncode or result.returncode
    return returncode
