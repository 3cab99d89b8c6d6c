"""Command-line tools that the test extra installs (pyproject.toml), found also when the tests run
as `.venv/bin/python -m pytest` without the virtual environment on PATH."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def tool(name: str) -> str:
    """The path of `name`: next to this interpreter (a virtual environment's bin/), else on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is missing: it comes with the test dependencies, pip install -e '.[test,docs]'")
    return found
