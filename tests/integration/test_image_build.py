"""The generated Dockerfile on its own (`docker build`): lock enforcement, layer caching, job stage."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.utils.docker import engine, run
from tests.utils.project import render, trust_host_ca

pytestmark = pytest.mark.integration


def fresh_layers(root: Path) -> None:
    """Give this project's build its own layer chain: the base stage bind-mounts certs/, so an
    inert file there changes every cache key. A build cache left by an earlier run can then
    neither pass nor fail the cache assertions below; builds within one test still share layers."""
    (root / ".devcontainer/certs/test-run-id").write_text(uuid.uuid4().hex)


@pytest.fixture(scope="module")
def plain_project(docker, tmp_path_factory):
    root = render(tmp_path_factory.mktemp("build") / "job-demo", lock=True, project_name="Job Demo",
                  framework="none", accelerator="cpu", python_version="3.11")
    trust_host_ca(root)
    fresh_layers(root)
    return root


def build(docker, root, target, tag, check=True):
    return run([docker, "build", "--progress=plain", "-f", ".devcontainer/Dockerfile",
                "--target", target, "-t", tag, "."], cwd=root, check=check, timeout=1800)


def test_job_stage_runs_the_project(docker, plain_project):
    build(docker, plain_project, "job", "job-demo:job")
    out = engine().containers.run("job-demo:job", remove=True).decode()
    assert out.startswith("python 3.11") and " on cpu " in out
    assert engine().containers.run("job-demo:job", ["id", "-un"], remove=True).decode().strip() == "dev"
    # compiled at build: whoever runs a job cannot write bytecode into the environment
    cached = engine().containers.run("job-demo:job", ["sh", "-c", "ls /opt/venv/lib/python3*/site-packages/_pytest/__pycache__"],
                                     user="4321:4321", remove=True).decode()
    assert "python.cpython-311.pyc" in cached


def test_code_edit_reuses_the_dependency_layer(docker, plain_project):
    build(docker, plain_project, "job", "job-demo:job")
    source = plain_project / "src/job_demo/device.py"
    source.write_text(source.read_text().replace("on cpu", "on  cpu"))
    output = build(docker, plain_project, "job", "job-demo:job").stderr
    sync_step = next(line for line in output.splitlines() if "uv sync --locked --no-install-project" in line)
    step_id = sync_step.split()[0]
    assert f"{step_id} CACHED" in output, "editing code reinstalled the dependencies"
    assert "on  cpu" in engine().containers.run("job-demo:job", remove=True).decode()


def test_stale_lock_stops_the_build_with_advice(docker, plain_project, tmp_path):
    stale = tmp_path / "stale"
    shutil.copytree(plain_project, stale)
    pyproject = stale / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [", 'dependencies = [\n    "six",'))
    result = build(docker, stale, "dev", "job-demo:stale", check=False)
    assert result.returncode != 0
    assert "run `uv lock`" in result.stderr


def test_pinning_the_base_image_without_a_registry_changes_nothing(docker, plain_project, tmp_path):
    project = tmp_path / "pin"
    shutil.copytree(plain_project, project)
    dockerfile = project / ".devcontainer/Dockerfile"
    # a registry that refuses at once on every machine: the script must degrade, not half-pin
    dockerfile.write_text(dockerfile.read_text().replace(
        "ARG BASE_IMAGE=debian:bookworm", "ARG BASE_IMAGE=localhost:1/team/base:12"))
    before = dockerfile.read_text()
    result = run([str(project / ".devcontainer/pin-base-image.sh")], check=False, timeout=120,
                 env={"PATH": f"{Path(shutil.which(docker)).parent}:{os.environ['PATH']}"})
    assert result.returncode == 1
    assert "no registry reachable" in result.stderr and "unchanged" in result.stderr
    assert dockerfile.read_text() == before


def steps_of(output: str, command: str) -> list[str]:
    """The BuildKit step ids (e.g. '#12') of the steps running command, in build order."""
    found = []
    for line in output.splitlines():
        if command in line and line.startswith("#") and line.split()[0] not in found:
            found.append(line.split()[0])
    return found


def step_of(output: str, command: str) -> str:
    """The BuildKit step id of the first step running command."""
    return steps_of(output, command)[0]


def test_adding_a_dependency_keeps_the_framework_layer(docker, tmp_path):
    root = render(tmp_path / "jax-demo", lock=True, project_name="Jax Demo", framework="jax",
                  accelerator="cpu", python_version="3.11")
    trust_host_ca(root)
    fresh_layers(root)
    first = build(docker, root, "dev", "jax-demo:dev").stderr
    # the snapshot's stage keeps env-doctor's environment, installed beside the framework's layers
    snapshot_step = step_of(first, "REFERENCESNAPSHOT=true sh /tmp/env-doctor-feature/install.sh")
    assert any(
        line.startswith(f"{snapshot_step} ") and "keeping /opt/env-doctor: installed from this feature's files" in line
        for line in first.splitlines()), "the snapshot's stage installed env-doctor's environment again"
    run(["uv", "add", "--no-sync", "six"], cwd=root)  # what `uv add` does on the host or in the container

    output = build(docker, root, "dev", "jax-demo:dev").stderr
    group_steps = steps_of(output, "uv pip install --python /opt/venv/bin/python --require-hashes")
    sync_step = step_of(output, "uv sync --locked --no-install-project")
    assert len(group_steps) == 5  # the framework's layer groups and the dev group's tools (layer_pins.py)
    for step in group_steps:
        assert f"{step} CACHED" in output, "adding a package reinstalled part of the framework or the tools"
    for before_the_lock in ('python -c "import jax"', "sh /tmp/jupyterlab-feature/install.sh", "sudo",
                            "REFERENCESNAPSHOT=true sh /tmp/env-doctor-feature/install.sh"):
        assert f"{step_of(output, before_the_lock)} CACHED" in output, f"adding a package re-ran: {before_the_lock}"
    assert f"{sync_step} CACHED" not in output
    # the lock's step installs what was added, and nothing the layers before it hold
    installed = [line for line in output.splitlines() if line.startswith(f"{sync_step} ") and " Installed " in line]
    assert len(installed) == 1 and " Installed 1 package in " in installed[0], installed
    out = engine().containers.run("jax-demo:dev", ["python", "-c", "import jax, six; print(jax.default_backend())"],
                                  remove=True).decode()
    assert out.strip() == "cpu"


def test_python_not_in_the_distro_leaves_it_to_uv(docker, tmp_path):
    # The template's default, Python 3.12 on Debian 12 (whose own Python is 3.11): the system
    # stage must not fail; uv installs CPython 3.12 into /opt/python in the dev stage.
    root = render(tmp_path / "py312", project_name="Py312", framework="none", accelerator="cpu")
    trust_host_ca(root)
    build(docker, root, "uv", "py312:uv")
    out = engine().containers.run("py312:uv", ["sh", "-c", "command -v python3.12 || echo absent; uv --version"],
                                  remove=True).decode()
    assert out.splitlines()[0] == "absent" and out.splitlines()[1].startswith("uv ")
