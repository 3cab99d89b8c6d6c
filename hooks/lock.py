"""Copier task: lock the generated project's dependencies with uv (writes uv.lock with hashes).

Runs in the new project's folder after rendering (after an update: from hooks/after_update.py). uv is taken from PATH, else from the `uv`
package installed next to Copier. Any failure exits non-zero with a message that says what to
do; Copier then removes the half-made project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def find_uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # the PyPI package `uv`, when installed alongside Copier
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def has_project_python(uv: str) -> bool:
    """Whether an interpreter the project accepts (.python-version, requires-python) is installed."""
    found = subprocess.run([uv, "python", "find"], capture_output=True,
                           env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    return found.returncode == 0


def lock() -> int:
    uv = find_uv()
    if uv is None:
        print(
            "error: uv is needed to lock the project's dependencies and was not found.\n"
            "  Install it next to Copier and run copier again:\n"
            "    pipx inject copier uv                  (Copier installed with pipx)\n"
            "    uvx --with copier-template-extensions --with uv \"copier>=9.4,<10\" ...   (uvx)\n"
            "    pip install uv                         (Copier in a virtual environment)\n"
            "  or answer lock_dependencies=false and run `uv lock` in the project later.",
            file=sys.stderr,
        )
        return 1
    print("Locking dependencies with uv (resolves metadata only, no large downloads)...", flush=True)
    # `uv lock` needs an interpreter of the project's Python version. Use one that is here (no
    # download); where none is (Debian 12 has only 3.11), uv fetches its own build once, unless
    # the user set UV_PYTHON_DOWNLOADS.
    env = dict(os.environ)
    if "UV_PYTHON_DOWNLOADS" not in env:
        if has_project_python(uv):
            env["UV_PYTHON_DOWNLOADS"] = "never"
        else:
            pin = Path(".python-version")
            version = pin.read_text().strip() if pin.is_file() else "of the project's version"
            print(f"No Python {version} on this machine: uv downloads its own (once, cached) to lock.", flush=True)
    result = subprocess.run([uv, "lock"], env=env)
    if result.returncode != 0:
        print(
            "error: `uv lock` failed (see above). Check your network or index settings and run\n"
            "  copier again, or answer lock_dependencies=false and run `uv lock` in the project later.",
            file=sys.stderr,
        )
        return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(lock())
