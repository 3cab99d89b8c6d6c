"""What was submitted, kept with the results: the settings, the sweep, the scripts as run, the
image, the git commit of the checkout, the runtime's version and the engine's job IDs. The
batch scripts run from this copy, so editing the checkout never changes a pending job."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from . import __version__

RECORD = "submission.json"


def new_folder(output: Path) -> Path:
    """OUTPUT/submissions/NNN: the next number, created."""
    parent = output / "submissions"
    parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10000):
        folder = parent / f"{number:03d}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise RuntimeError(f"{parent} is full")


def git_commit(folder: Path) -> dict:
    """The checkout's commit and whether it had uncommitted changes; {} outside git."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
        except OSError:
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    return {"commit": commit, "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def write(folder: Path, files: dict[str, Path | str], facts: dict) -> dict:
    """Copy files (name -> source path or text) into folder and write submission.json."""
    for name, source in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copy2(source, target)
        else:
            target.write_text(source)
    record = {"submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runtime": __version__, **facts}
    (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return record


def update(folder: Path, **facts) -> dict:
    record = json.loads((folder / RECORD).read_text())
    record.update(facts)
    (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return record


def all_records(output: Path) -> list[dict]:
    """Every submission into output, oldest first, each with its folder."""
    records = []
    for path in sorted((output / "submissions").glob(f"*/{RECORD}")):
        try:
            records.append({**json.loads(path.read_text()), "folder": str(path.parent)})
        except ValueError:
            continue
    return records
