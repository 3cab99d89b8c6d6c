"""A stock Debian 12 as a new user or contributor has it, for the tests that run the README's
commands there: debian:bookworm with only the apt packages the README's steps need, an unprivileged
user `newuser` and no Docker socket, plus this repository to clone.

This machine's HTTPS goes through a TLS-intercepting proxy: the image carries its CA bundle and
points pip (PIP_CERT), uv and Python (SSL_CERT_FILE) and requests (REQUESTS_CA_BUNDLE) at it.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.utils.docker import CommandError, docker_cli, run
from tests.utils.project import HOST_CA_BUNDLE, REPO, working_tree_files

USER_HOME = "/home/newuser"
CA_BUNDLE = "/etc/ssl/host-ca.crt"  # in the image
# Shell lines for the container: ~/repo, a clone of /src/repo.bundle whose files are those of
# /src/tree.tar (the index reset to the commit, so edits and deletions show as in this working tree).
CHECKOUT_WORKING_TREE = ("git clone -q --no-checkout /src/repo.bundle ~/repo && tar -xf /src/tree.tar -C ~/repo"
                         " && git -C ~/repo reset -q")


def build_image(tag: str, apt_packages: list[str], context: Path) -> str:
    """debian:bookworm (the local image, never pulled) with only apt_packages, as `newuser` in ~/work."""
    docker = docker_cli()
    if subprocess.run([docker, "info"], capture_output=True, check=False).returncode != 0:
        raise CommandError("Docker Engine is not running: run testbed/prepare-test-machine.sh first")
    shutil.copy(HOST_CA_BUNDLE, context / "host-ca.crt")
    (context / "Dockerfile").write_text(
        "FROM debian:bookworm\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {' '.join(apt_packages)}"
        " && rm -rf /var/lib/apt/lists/* && useradd --create-home newuser\n"
        f"COPY host-ca.crt {CA_BUNDLE}\n"
        f"ENV SSL_CERT_FILE={CA_BUNDLE} PIP_CERT={CA_BUNDLE} REQUESTS_CA_BUNDLE={CA_BUNDLE}\n"
        "USER newuser\n"
        f"WORKDIR {USER_HOME}/work\n"
    )
    run([docker, "build", "-q", "-t", tag, str(context)], timeout=900)
    return tag


def repo_bundle(folder: Path) -> Path:
    """This repository's committed HEAD (and its branch) as a git bundle in folder, readable by the
    container's user: a clone of it trips no check on a repository owned by someone else."""
    branch = run(["git", "-C", str(REPO), "rev-parse", "--abbrev-ref", "HEAD"]).stdout.strip()
    refs = ["HEAD"] if branch == "HEAD" else ["HEAD", branch]
    bundle = folder / "repo.bundle"
    run(["git", "-C", str(REPO), "bundle", "create", str(bundle), *refs])
    folder.chmod(0o755)
    bundle.chmod(0o644)
    return bundle


def working_tree_archive(folder: Path) -> Path:
    """The working tree's files (tracked and untracked ones git does not ignore, edits included) as
    a tar in folder. CHECKOUT_WORKING_TREE turns it and repo_bundle into the clone as it is here."""
    archive = folder / "tree.tar"
    with tarfile.open(archive, "w") as tar:
        for name in working_tree_files():
            tar.add(REPO / name, arcname=name, recursive=False)
    archive.chmod(0o644)
    return archive
