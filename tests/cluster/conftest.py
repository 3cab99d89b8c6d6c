"""A rendered project's cluster side: its hooks (cluster/hooks.py) handed to the runtime
(runtime/mlcluster, the copy every project gets in cluster/mlcluster), and its shipped settings."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlcluster.settings import Project, load_settings

from tests.utils.project import render

DIGEST_IMAGE = "ghcr.io/acme/cluster-lab-job@sha256:" + "ab" * 32


def project_of(root: Path, name: str) -> Project:
    """Project(hooks) for the rendered project at root, its hooks.py imported from the file."""
    spec = importlib.util.spec_from_file_location(name, root / "cluster/hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return Project(hooks)


def rendered(factory, framework: str):
    root = render(factory.mktemp(framework) / "cluster-lab", project_name="Cluster Lab",
                  framework=framework, accelerator="cpu", python_version="3.11")
    return root, project_of(root, f"hooks_{framework}"), framework


@pytest.fixture(scope="session", params=["pytorch", "none"])
def project(request, tmp_path_factory):
    """(root, Project, framework) of a PyTorch and a framework-less project."""
    return rendered(tmp_path_factory, request.param)


@pytest.fixture(scope="session")
def none_project(tmp_path_factory):
    root, project, _ = rendered(tmp_path_factory, "none")
    return root, project


@pytest.fixture(scope="session")
def pytorch_project(tmp_path_factory):
    root, project, _ = rendered(tmp_path_factory, "pytorch")
    return root, project


def shipped_settings(project: Project, **kubernetes) -> dict:
    """The project's cluster/settings.toml with a published image, kubernetes values replaced."""
    settings = load_settings(project.cluster_dir / "settings.toml")
    settings["image"] = DIGEST_IMAGE
    settings["kubernetes"].update(kubernetes)
    return settings


def run_cluster(root: Path, *args: str, env: dict | None = None,
                python: str = sys.executable) -> subprocess.CompletedProcess:
    """`python3 cluster ARGS` in the project's folder, as a user runs it (the project's own copy of
    the runtime); PYTHONPATH=src stands for the job image's installed project."""
    return subprocess.run([python, "cluster", *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root / "src"), **(env or {})})
