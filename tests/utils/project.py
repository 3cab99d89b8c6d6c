"""Rendering projects from this working tree, for the tests (render, trust_host_ca and REPO are
testbed/testbed.py's, which the benchmarks share)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from testbed.testbed import HOST_CA_BUNDLE, REPO, render, trust_host_ca
from tests.utils.tools import tool

__all__ = ["HOST_CA_BUNDLE", "LOCK_PYTHON", "REPO", "copy_repo_parts", "layer_groups", "render", "trust_host_ca",
           "working_tree_files"]


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


def copy_repo_parts(names: list[str], dst: Path) -> Path:
    """A scratch copy of the named files and folders of this repository (tests that edit them)."""
    for name in names:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, dst / name)
    return dst


def layer_groups(project: Path, out: Path, *arguments: str, script: Path | None = None) -> dict[str, bytes]:
    """Run layer_pins.py (the project's own, or `script`) in the project folder, with uv on PATH as in
    the image's build: the file of each layer group, by name."""
    script = script or project / ".devcontainer/layer_pins.py"
    env = {**os.environ, "PATH": f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, str(script), "--out", str(out), *arguments], cwd=project, env=env, check=True)
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}
