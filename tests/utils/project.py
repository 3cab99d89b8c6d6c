"""Rendering projects from this working tree, for tests and benchmarks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import copier
import yaml

REPO = Path(__file__).resolve().parent.parent.parent
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _lock_python() -> str:
    """The Python answer for tests that lock: the one running the tests when a project may choose
    it, so `uv lock` finds an interpreter of the project's version here and downloads none (its
    download host may be out of reach); else the newest choice, which uv downloads once."""
    choices = yaml.safe_load((REPO / "data/versions.yml").read_text())["python"]["project"]
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return running if running in choices else choices[-1]


LOCK_PYTHON = _lock_python()


def working_tree_files() -> list[str]:
    """This working tree's files, as paths relative to REPO: tracked and untracked ones git does not
    ignore, edits included, without tracked files deleted here."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout
    return [name for name in sorted(set(filter(None, listed.split("\0"))))
            if (REPO / name).is_file() or (REPO / name).is_symlink()]


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
