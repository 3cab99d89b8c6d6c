"""Session fixtures shared by the cluster tests (Slurm and Kubernetes): one PyTorch project and its
job image, built once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.utils.docker import engine, run
from tests.utils.figures import record
from tests.utils.project import render, trust_host_ca

CLUSTER_ANSWERS = {"project_name": "Cluster Lab", "framework": "pytorch", "accelerator": "cuda",
                   "python_version": "3.11", "jupyterlab": False}
# A tag of its own per test session (CLUSTER_JOB_IMAGE), so that two sessions on one machine
# do not remove each other's image.
CLUSTER_JOB_IMAGE = os.environ.get("CLUSTER_JOB_IMAGE", f"mltemplate-cluster-test:job-{os.getpid()}")


@pytest.fixture(scope="session")
def cluster_project(docker, tmp_path_factory) -> Path:
    """A PyTorch project (CUDA wheels from the index, run on the CPU here) and its `job` image,
    tagged CLUSTER_JOB_IMAGE."""
    root = render(tmp_path_factory.mktemp("cluster") / "cluster-lab", lock=True, **CLUSTER_ANSWERS)
    trust_host_ca(root)
    started = time.monotonic()
    run([docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "job", "-t", CLUSTER_JOB_IMAGE, "."],
        cwd=root, timeout=1800)
    record(f"cluster project: job image built in {time.monotonic() - started:.0f}s")
    yield root
    engine().images.remove(CLUSTER_JOB_IMAGE, force=True)
