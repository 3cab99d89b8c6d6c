"""Rendering projects from this working tree, for tests and benchmarks."""

from __future__ import annotations

import shutil
from pathlib import Path

import copier

REPO = Path(__file__).resolve().parent.parent.parent
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


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


def copy_repo_parts(names: list[str], dst: Path) -> Path:
    """A scratch copy of the named files and folders of this repository (tests that edit them)."""
    for name in names:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, dst / name)
    return dst
