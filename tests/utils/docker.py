"""Docker Engine and devcontainer CLI helpers: run commands, drive real devcontainers.

Failures raise CommandError (no skips: a missing engine fails the run). The docker client and
CommandError come from testbed/testbed.py, which the benchmarks share.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import docker as docker_sdk

from testbed.testbed import CommandError, docker_cli
from tests.utils.project import REPO


def run(cmd: list[str], log: Path | None = None, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; with log, append its output there and show the tail when it fails."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1", **kwargs.pop("env", {})}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)
    if log is not None:
        with log.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{result.stdout}{result.stderr}\n")
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        raise CommandError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{output}")
    return result


def require_engine() -> str:
    """The docker client to use; fails (never skips) when no Docker Engine answers."""
    docker = docker_cli()
    if subprocess.run([docker, "info"], capture_output=True).returncode != 0:
        raise CommandError("Docker Engine is not running: run testbed/prepare-test-machine.sh first")
    if not shutil.which("devcontainer"):
        raise CommandError("devcontainer CLI missing: run testbed/prepare-test-machine.sh first")
    return docker


class DevContainer:
    """A project started with `devcontainer up`, the engine behind VS Code's Reopen in Container."""

    def __init__(self, folder: Path, docker: str, log: Path, config: Path | None = None,
                 env: dict[str, str] | None = None):
        """config: another devcontainer.json than .devcontainer/devcontainer.json (e.g. the prebuilt one);
        env: the host environment the CLI sees besides this process's (its ${localEnv:...})."""
        self.folder, self.docker, self.log, self.config = folder, docker, log, config
        self.env = env or {}
        self.label = f"mltemplate.test={uuid.uuid4().hex[:12]}"
        self.container_id = ""

    def _cli(self, *args: str) -> list[str]:
        config = ["--config", str(self.config)] if self.config else []
        return ["devcontainer", *args, "--workspace-folder", str(self.folder), *config,
                "--docker-path", self.docker, "--id-label", self.label]

    def up(self, *options: str) -> dict:
        """`devcontainer up`; options such as --remove-existing-container (VS Code's "Rebuild
        Container" without the image rebuild: a new container from the same image)."""
        result = run(self._cli("up", *options), log=self.log, timeout=3000, env=self.env)
        self.up_output = result.stdout + result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["outcome"] == "success", outcome
        self.container_id = outcome["containerId"]
        return outcome

    def exec(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        return run([*self._cli("exec"), "bash", "-lc", command], log=self.log, check=check, timeout=900,
                   env=self.env)

    def inspect(self) -> dict:
        return engine().containers.get(self.container_id).attrs

    def remove(self) -> None:
        """Remove the container and the images built for it (each test renders a new project)."""
        client = engine()
        images = set()
        for container in client.containers.list(all=True, filters={"label": self.label}):
            # The CLI's chain: vsc-NAME (the Dockerfile), vsc-NAME-features, vsc-NAME[-features]-uid.
            image = container.attrs["Config"]["Image"]
            base = image.removesuffix("-uid")
            images.update({image, base, base.removesuffix("-features")})
            container.remove(force=True)
        for image in images:
            try:
                client.images.remove(image)
            except docker_sdk.errors.APIError:
                pass  # already gone, or shared with another container


def remove_volumes(*names: str) -> None:
    """Remove named volumes (a project's cache and data volumes outlive its containers by design)."""
    for name in names:
        try:
            engine().volumes.get(name).remove(force=True)
        except docker_sdk.errors.NotFound:
            pass


def engine() -> docker_sdk.DockerClient:
    """Docker SDK client, for inspecting and running containers (builds go through the CLI)."""
    return docker_sdk.from_env()


def run_feature_install(docker: str, image: str, feature: str, script: str, env: dict | None = None,
                        timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `script` in a fresh container of image, with features/src/<feature> at /feature and the
    feature's options (upper-case, as the devcontainer CLI passes them) in the environment."""
    flags = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
    return run([docker, "run", "--rm", *flags, "-v", f"{REPO / 'features/src' / feature}:/feature:ro",
                image, "bash", "-c", script], check=False, timeout=timeout)
