"""The measurement groups that go through the local registry (localhost:5000): the published
image on a colleague's machine (ship) and the bytes a pull fetches after an upgrade (upgrade).
Pushes and pulls go through the loopback: a pull measures decompression and extraction."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.projects import CELL, Projects
from bench.shell import log, quiet, sh, timed
from bench.stats import alternating
from testbed.testbed import REGISTRY, layers, render, require_registry, tags, trust_host_ca

BENCH_IMAGE = f"{REGISTRY}/mltemplate-bench/ours"


def forget(projects: Projects, *images: str) -> None:
    """A colleague's machine: the images gone, no build cache (the base image stays), and the image
    the devcontainer CLI derives from a pulled one (vsc-ship-...-uid), which would keep its layers."""
    docker = projects.docker
    derived = sh([docker, "images", "-q", "--filter", "reference=vsc-ship-*"]).split()
    for image in [*images, *derived]:
        quiet([docker, "rmi", "-f", image])
    projects.empty_cache()
    quiet([docker, "image", "prune", "-f"])


def publish(projects: Projects, project, latest: str, single: str) -> None:
    """Build the image with the devcontainer CLI and push it, then the same files as one layer
    (docker export | docker import) and push that (untimed)."""
    docker = projects.docker
    projects.devcontainer_build(project, latest)
    sh([docker, "push", latest])
    container = sh([docker, "create", latest, "true"]).strip()
    try:
        with subprocess.Popen([docker, "export", container], stdout=subprocess.PIPE) as export:
            imported = subprocess.run([docker, "import", "-", single], stdin=export.stdout, capture_output=True, text=True)
    finally:
        sh([docker, "rm", container])
    if imported.returncode != 0:
        sys.exit(f"docker import failed: {imported.stderr[-2000:]}")
    sh([docker, "push", single])


def first_start(projects: Projects, project) -> float:
    """The image-based configuration up on an emptied engine, then a cell in it; its container removed."""
    prebuilt = project / ".devcontainer/prebuilt/devcontainer.json"
    label = f"bench.start={time.monotonic_ns()}"
    cli = ["--workspace-folder", str(project), "--config", str(prebuilt), "--docker-path", projects.docker, "--id-label", label]
    begin = time.monotonic()
    sh(["devcontainer", "up", *cli])
    sh(["devcontainer", "exec", *cli, "python", "-c", CELL])
    seconds = time.monotonic() - begin
    for container in sh([projects.docker, "ps", "-aq", "--filter", f"label={label}"]).split():
        sh([projects.docker, "rm", "-f", container])
    return seconds


def ship_project(projects: Projects) -> Path:
    """The same project as the other groups' (same answers, lock and certificates), with its
    image published as BENCH_IMAGE."""
    project = projects.workdir / "ship"
    if not project.exists():
        projects.render(project, lock=False, image=BENCH_IMAGE)
        for name in ("pyproject.toml", "uv.lock"):  # as the other groups left them (builds adds a dependency)
            shutil.copy(projects.ours / name, project / name)
        shutil.copytree(projects.ours / ".devcontainer/certs", project / ".devcontainer/certs", dirs_exist_ok=True)
    return project


def published(projects: Projects) -> str:
    """BENCH_IMAGE:latest in the registry: the ship group's, or built and pushed now (untimed)."""
    latest = f"{BENCH_IMAGE}:latest"
    if "latest" not in tags(BENCH_IMAGE):
        log("the published image: build and push (untimed)")
        projects.devcontainer_build(ship_project(projects), latest)
        sh([projects.docker, "push", latest])
    return latest


def alternating_pulls(group: str, first: str, second: str, runs: int, forget, pull) -> tuple[dict[str, list], list[str]]:
    """Each image pulled runs times in alternating order (first, second, first, ...), each pull
    timed by pull(image) after forget() emptied the puller: (seconds per image, the order)."""
    pulls: dict[str, list] = {first: [], second: []}
    order = alternating(first, second, runs)
    for turn, image in enumerate(order, 1):
        log(f"{group} pull {turn}/{len(order)}: {image}")
        forget()
        pulls[image].append(pull(image))
    return pulls, order


def measure_ship(projects: Projects, runs: int) -> dict:
    """Pulls of the layered image and of the same files as one layer, in alternating order, each
    on an emptied engine; then a colleague's first start with the image-based configuration."""
    require_registry()
    latest, single = f"{BENCH_IMAGE}:latest", f"{BENCH_IMAGE}:single-layer"
    project = ship_project(projects)
    log("ship: build, push, the same files as one layer, push (untimed)")
    publish(projects, project, latest, single)
    pulls, order = alternating_pulls("ship", single, latest, runs, lambda: forget(projects, latest, single),
                                     lambda image: timed([projects.docker, "pull", image]))
    starts = []
    for run in range(1, runs + 1):
        log(f"ship run {run}/{runs}: first start with the image-based configuration (+ a cell)")
        forget(projects, latest, single)
        starts.append(first_start(projects, project))
    split_layers, single_layers = layers(latest), layers(single)
    forget(projects, latest, single)
    return {"figures": {"ship_pull_s": pulls[latest], "ship_pull_single_layer_s": pulls[single], "ship_first_start_s": starts,
                        "ship_bytes": [sum(size for _, size in split_layers)], "ship_layers": [len(split_layers)],
                        "ship_single_layer_bytes": [sum(size for _, size in single_layers)]},
            "details": {"pull_order": ["layered" if image == latest else "single" for image in order]}}


def measure_upgrade(projects: Projects, runs: int) -> dict:
    """jax[cuda12] 0.6.2 -> 0.8.1, the NVIDIA wheels the same: both dev images pushed, the bytes a
    pull of the new one fetches after the old are the layers it does not share. Bytes do not vary
    between runs: measured once."""
    require_registry()
    docker = projects.docker
    project = projects.workdir / "upgrade"
    render(project, lock=True, project_name="Upgrade", python_version=projects.python, framework="jax",
           framework_version="0.6.2", accelerator="cuda", cuda_version="12", image="none")
    trust_host_ca(project)
    images = {}
    for version in ("0.6.2", "0.8.1"):
        pyproject = project / "pyproject.toml"
        pyproject.write_text(re.sub(r'"jax\[cuda12\]==[0-9.]+"', f'"jax[cuda12]=={version}"', pyproject.read_text()))
        sh(["uv", "lock"], cwd=project)
        images[version] = f"{REGISTRY}/mltemplate-bench/upgrade:{version}"
        log(f"upgrade: build and push jax[cuda12]=={version}")
        sh([docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "dev", "-t", images[version], "."], cwd=project)
        sh([docker, "push", images[version]])
    old, new = layers(images["0.6.2"]), layers(images["0.8.1"])
    old_digests = {digest for digest, _ in old}
    fetched = sum(size for digest, size in new if digest not in old_digests)
    # Before the split, the environment was one framework layer plus the uv sync layer, both
    # rebuilt by the upgrade: a pull fetched every layer after the system stage and the uv binary.
    sh([docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "base", "-t", "bench-upgrade-base", "."], cwd=project)
    system = len(json.loads(sh([docker, "image", "inspect", "bench-upgrade-base"]))[0]["RootFS"]["Layers"])
    environment = [size for _, size in new[system + 1:]]  # + 1: the COPY of the uv binary
    for image in [*images.values(), "bench-upgrade-base"]:
        quiet([docker, "rmi", "-f", image])
    return {"figures": {"upgrade_fetched_bytes": [fetched], "upgrade_single_layer_bytes": [sum(environment)],
                        "upgrade_image_bytes": [sum(size for _, size in new)]}}
