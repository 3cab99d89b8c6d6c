"""Shared helpers: render the template from this working tree, and drive real devcontainers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import copier
import docker as docker_sdk
import pytest

REPO = Path(__file__).resolve().parent.parent
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def render(dst: Path, lock: bool = False, **answers) -> Path:
    """Render the template (uncommitted edits included) into dst with the given answers."""
    copier.run_copy(
        str(REPO), dst, data={"lock_dependencies": lock, **answers},
        defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD",
    )
    return dst


def docker_cli() -> str:
    """A docker client that builds with BuildKit: one with buildx, else the distro's 20.10 client."""
    if override := os.environ.get("DOCKER_PATH"):
        return override
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
        return "docker"
    for candidate in ("/usr/bin/docker", "docker"):
        if shutil.which(candidate):
            return candidate
    pytest.fail("no docker client found: run scripts/prepare-test-machine.sh")


def run(cmd: list[str], log: Path | None = None, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; with log, append its output there and show the tail when it fails."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1", **kwargs.pop("env", {})}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
    if log is not None:
        with log.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{result.stdout}{result.stderr}\n")
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        pytest.fail(f"command failed ({result.returncode}): {' '.join(cmd)}\n{output}")
    return result


def require_engine() -> str:
    """The docker client to use; fails (never skips) when no Docker Engine answers."""
    docker = docker_cli()
    if subprocess.run([docker, "info"], capture_output=True).returncode != 0:
        pytest.fail("Docker Engine is not running: run scripts/prepare-test-machine.sh first")
    if not shutil.which("devcontainer"):
        pytest.fail("devcontainer CLI missing: run scripts/prepare-test-machine.sh first")
    return docker


class DevContainer:
    """A project started with `devcontainer up`, the engine behind VS Code's Reopen in Container."""

    def __init__(self, folder: Path, docker: str, log: Path):
        self.folder, self.docker, self.log = folder, docker, log
        self.label = f"mltemplate.test={uuid.uuid4().hex[:12]}"
        self.container_id = ""

    def _cli(self, *args: str) -> list[str]:
        return ["devcontainer", *args, "--workspace-folder", str(self.folder),
                "--docker-path", self.docker, "--id-label", self.label]

    def up(self) -> dict:
        result = run(self._cli("up"), log=self.log, timeout=3000)
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["outcome"] == "success", outcome
        self.container_id = outcome["containerId"]
        return outcome

    def exec(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(self._cli("exec") + ["bash", "-lc", command], log=self.log, check=check, timeout=900)

    def inspect(self) -> dict:
        return engine().containers.get(self.container_id).attrs

    def remove(self) -> None:
        """Remove the container and the images built for it (each test renders a new project)."""
        client = engine()
        images = set()
        for container in client.containers.list(all=True, filters={"label": self.label}):
            image = container.attrs["Config"]["Image"]
            images.update({image, image.removesuffix("-uid")})
            container.remove(force=True)
        for image in images:
            try:
                client.images.remove(image)
            except docker_sdk.errors.APIError:
                pass  # already gone, or shared with another container


def engine() -> docker_sdk.DockerClient:
    """Docker SDK client, for inspecting and running containers (builds go through the CLI)."""
    return docker_sdk.from_env()


TEST_BASE_IMAGE = "mltemplate-test-base:bookworm"


@pytest.fixture(scope="session")
def docker(tmp_path_factory) -> str:
    """The docker client, also first on PATH: `devcontainer features test` has no --docker-path."""
    client = require_engine()
    if client != "docker":
        shim = tmp_path_factory.mktemp("docker-shim")
        (shim / "docker").symlink_to(shutil.which(client))
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    return client


@pytest.fixture(scope="session")
def test_base_image(docker, tmp_path_factory) -> str:
    """debian:bookworm that trusts this machine's CA bundle, for feature tests outside the template.

    (Generated projects get the same trust through .devcontainer/certs, the template's own way.)
    """
    context = tmp_path_factory.mktemp("test-base")
    shutil.copy(HOST_CA_BUNDLE, context / "host-ca.crt")
    (context / "Dockerfile").write_text(
        "FROM debian:bookworm\n"
        "COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates "
        "&& update-ca-certificates && rm -rf /var/lib/apt/lists/*\n"
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt\n"
    )
    run([docker, "build", "-q", "-t", TEST_BASE_IMAGE, str(context)])
    return TEST_BASE_IMAGE


def run_feature_install(docker: str, image: str, feature: str, script: str, env: dict | None = None,
                        timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `script` in a fresh container of image, with features/src/<feature> at /feature and the
    feature's options (upper-case, as the devcontainer CLI passes them) in the environment."""
    flags = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
    return run([docker, "run", "--rm", *flags, "-v", f"{REPO / 'features/src' / feature}:/feature:ro",
                image, "bash", "-c", script], check=False, timeout=timeout)
