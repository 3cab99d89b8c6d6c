"""The two projects the benchmarks compare, on one Docker Engine: ours (the template's default
project, PyTorch + CUDA) and the Dockerfile most people write, with the same base image and the
same pinned packages (exported from our uv.lock). Their builds, edits and tidying."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.shell import quiet, sh, timed
from testbed.testbed import HOST_CA_BUNDLE, docker_cli, render, trust_host_ca

BASE_IMAGE = "debian:bookworm"
CELL = "import torch; x = torch.randn(256, 256); print('cell ran:', float((x @ x.T).trace()))"
NAIVE_DOCKERFILE = """\
FROM {base}
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates
COPY .devcontainer/certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
"""
# The least a Dockerfile does to put the payload into an image: from an image that already has
# Python and uv (built untimed, BARE_PYTHON_DOCKERFILE), one step installs the locked packages from
# the lock's own URLs, and the engine exports the layer. A reference for what the cold build adds.
BARE_PYTHON_DOCKERFILE = """\
FROM {base}
COPY certs/ /usr/local/share/ca-certificates/
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates python{python} && update-ca-certificates
COPY uv /usr/local/bin/uv
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
"""
BARE_PYTHON_IMAGE = "bench-bare-python"
BARE_PAYLOAD_DOCKERFILE = """\
FROM {python_image}
RUN --mount=type=bind,source=pylock.toml,target=/tmp/pylock.toml \\
    uv venv --quiet --python python{python} /opt/venv \\
    && uv pip install --quiet --no-cache --require-hashes --no-deps --python /opt/venv/bin/python -r /tmp/pylock.toml
"""


class Projects:
    """mode "devcontainer" builds ours as VS Code does (Dockerfile + features), "dockerfile" only
    the Dockerfile's dev stage, like for like with the naive Dockerfile."""

    def __init__(self, workdir: Path, python: str, mode: str):
        self.docker, self.workdir, self.python, self.mode = docker_cli(), workdir, python, mode
        self.ours = workdir / "ours"
        self.naive = workdir / "naive"

    def render(self, dst: Path, lock: bool, image: str = "none") -> None:
        """image "none": no build.cacheFrom, so that a cold build stays cold whatever the registry holds."""
        render(dst, lock=lock, project_name="Bench", python_version=self.python, image=image)

    def prepare(self) -> None:
        self.render(self.ours, lock=True)
        trust_host_ca(self.ours)
        shutil.copytree(self.ours, self.naive, ignore=shutil.ignore_patterns(".devcontainer"))
        (self.naive / ".devcontainer/certs").mkdir(parents=True)
        shutil.copy(HOST_CA_BUNDLE, self.naive / ".devcontainer/certs/host-ca.crt")
        self.export_requirements(self.naive / "requirements.txt")
        (self.naive / "Dockerfile").write_text(NAIVE_DOCKERFILE.format(base=BASE_IMAGE))

    def prepare_bare_payload(self) -> Path:
        """The bare payload build's context, and its Python + uv image (untimed): see BARE_PAYLOAD_DOCKERFILE."""
        context = self.workdir / "bare"
        (context / "certs").mkdir(parents=True, exist_ok=True)
        shutil.copy(HOST_CA_BUNDLE, context / "certs/host-ca.crt")
        shutil.copy(shutil.which("uv"), context / "uv")
        self.export_requirements(context / "pylock.toml", hashes=True, form="pylock.toml")
        (context / "Dockerfile.python").write_text(BARE_PYTHON_DOCKERFILE.format(base=BASE_IMAGE, python=self.python))
        (context / "Dockerfile").write_text(BARE_PAYLOAD_DOCKERFILE.format(python_image=BARE_PYTHON_IMAGE, python=self.python))
        sh([self.docker, "build", "-f", "Dockerfile.python", "-t", BARE_PYTHON_IMAGE, "."], cwd=context)
        return context

    def build_bare_payload(self, context: Path) -> float:
        """One cold build of the bare payload image: the build cache emptied, the Python + uv image kept."""
        quiet([self.docker, "builder", "prune", "-af"])
        seconds = timed([self.docker, "build", "-t", "bench-bare-payload", "."], cwd=context)
        quiet([self.docker, "rmi", "-f", "bench-bare-payload"])
        return seconds

    def export_requirements(self, out: Path, hashes: bool = False, form: str = "requirements-txt") -> None:
        """The same pinned packages as the lock (the naive one without hashes: pip's usual workflow;
        form "pylock.toml" names each wheel's URL)."""
        text = sh(["uv", "export", "--frozen", *([] if hashes else ["--no-hashes"]), "--no-emit-project",
                   "--format", form], cwd=self.ours)
        out.write_text(text)

    # ---- builds -----------------------------------------------------------------------------
    def empty_cache(self) -> None:
        quiet([self.docker, "builder", "prune", "-af"])
        for image in ("bench-ours", "bench-naive"):
            quiet([self.docker, "rmi", "-f", image])

    def build_ours(self) -> float:
        if self.mode == "dockerfile":
            seconds = timed([self.docker, "build", "-f", ".devcontainer/Dockerfile", "--target", "dev",
                             "-t", "bench-ours", "."], cwd=self.ours)
        else:
            seconds = self.devcontainer_build(self.ours, "bench-ours")
        self.drop_replaced_images()
        return seconds

    def devcontainer_build(self, project: Path, image: str) -> float:
        return timed(["devcontainer", "build", "--workspace-folder", str(project), "--docker-path", self.docker,
                      "--image-name", image])

    def build_naive(self) -> float:
        seconds = timed([self.docker, "build", "-t", "bench-naive", str(self.naive)])
        self.drop_replaced_images()
        return seconds

    def drop_replaced_images(self) -> None:
        """A rebuilt tag leaves the old image dangling: gigabytes per naive rebuild (untimed)."""
        quiet([self.docker, "image", "prune", "-f"])

    def cell(self, image: str) -> float:
        return timed([self.docker, "run", "--rm", "--entrypoint", "/opt/venv/bin/python", image, "-c", CELL])

    # ---- what a developer changes -------------------------------------------------------------
    def edit_code(self) -> None:
        for root in (self.ours, self.naive):
            source = next((root / "src").glob("*/device.py"))
            source.write_text(source.read_text() + f"\n# edit {time.monotonic()}\n")
            notebook = root / "notebooks/example.ipynb"
            notebook.write_text(notebook.read_text().replace('"# Bench', '"# Bench (edited)', 1))

    def add_dependency(self, package: str) -> None:
        sh(["uv", "add", "--no-sync", package], cwd=self.ours)
        self.export_requirements(self.naive / "requirements.txt")
