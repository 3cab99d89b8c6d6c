"""This test machine as the tests (tests/utils/) and the benchmarks (bench/) both use it: its
docker client, projects rendered from this working tree, and the local OCI registry that
testbed/prepare-test-machine.sh starts (Debian's docker-registry on 127.0.0.1:5000), read
through its HTTP API: manifests, layer sizes, deletion.

Docker and the devcontainer CLI reach the registry as localhost:5000 (plain HTTP: Docker treats
127.0.0.0/8 as insecure, the devcontainer CLI speaks plain HTTP to localhost only).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import copier

REPO = Path(__file__).resolve().parents[1]
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class CommandError(RuntimeError):
    """A command failed, or a tool it needs is missing; the message says which and what to do."""


def docker_cli() -> str:
    """A docker client that builds with BuildKit: one with buildx, else the distro's 20.10 client."""
    if override := os.environ.get("DOCKER_PATH"):
        return override
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
        return "docker"
    for candidate in ("/usr/bin/docker", "docker"):
        if shutil.which(candidate):
            return candidate
    raise CommandError("no docker client found: run testbed/prepare-test-machine.sh")


def render(dst: Path, lock: bool = False, **answers) -> Path:
    """Render the template (uncommitted edits included) into dst with the given answers."""
    copier.run_copy(
        str(REPO), dst, data={"lock_dependencies": lock, **answers},
        defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD",
    )
    return dst


def trust_host_ca(project: Path) -> None:
    """Builds of the project trust this machine's TLS-intercepting proxy (.devcontainer/certs)."""
    shutil.copy(HOST_CA_BUNDLE, project / ".devcontainer/certs/host-ca.crt")


CONTAINERD_SOCKETS = ["/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock"]


def containerd_socket() -> str:
    """The containerd that answers (the system one, or the one dockerd started for itself): what
    pulls zstd layers here, where Docker 20.10 cannot."""
    for socket in CONTAINERD_SOCKETS:
        if Path(socket).exists() and subprocess.run(["ctr", "--address", socket, "--timeout", "5s", "version"],
                                                    capture_output=True).returncode == 0:
            return socket
    raise CommandError(f"no containerd answers on {' or '.join(CONTAINERD_SOCKETS)}; it comes with Docker Engine")


# --- the local registry -----------------------------------------------------------------------------

REGISTRY = "localhost:5000"
API = "http://127.0.0.1:5000/v2"
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
])


def require_registry() -> None:
    try:
        urllib.request.urlopen(f"{API}/", timeout=5).close()
    except (OSError, urllib.error.URLError) as error:
        raise CommandError(f"no registry on 127.0.0.1:5000 ({error}): run testbed/prepare-test-machine.sh") from None


def split(image: str) -> tuple[str, str]:
    """'localhost:5000/team/app:tag' -> ('team/app', 'tag')."""
    name, tag = image.removeprefix(f"{REGISTRY}/").rsplit(":", 1)
    return name, tag


def manifest(image: str) -> tuple[str, dict]:
    """(manifest digest, manifest) of a pushed image."""
    name, tag = split(image)
    request = urllib.request.Request(f"{API}/{name}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Docker-Content-Digest"], json.loads(response.read())


def image_config(image: str) -> dict:
    """The image's configuration (labels, environment, layer diff IDs), as the registry serves it."""
    name, _ = split(image)
    digest = manifest(image)[1]["config"]["digest"]
    with urllib.request.urlopen(f"{API}/{name}/blobs/{digest}", timeout=30) as response:
        return json.loads(response.read())


def tags(repository: str) -> set[str]:
    """The tags of 'localhost:5000/team/app'; none for a repository nothing was pushed to."""
    name = repository.removeprefix(f"{REGISTRY}/")
    try:
        with urllib.request.urlopen(f"{API}/{name}/tags/list", timeout=30) as response:
            return set(json.load(response)["tags"] or [])
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return set()
        raise


def layers(image: str) -> list[tuple[str, int]]:
    """(digest, compressed size) of each layer, base first: what a pull downloads."""
    return [(layer["digest"], layer["size"]) for layer in manifest(image)[1]["layers"]]


def delete(image: str) -> None:
    """Delete the manifest (blobs stay until the registry's garbage collection)."""
    name, _ = split(image)
    try:
        digest, _ = manifest(image)
        request = urllib.request.Request(f"{API}/{name}/manifests/{digest}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError:
        pass  # gone already (another tag of the same manifest), or deletion disabled in this registry
