"""The copies of the shell library, features/lib/, in each feature that uses it (a published feature
carries only its own folder) and in the cuda and cudnn feature tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from scripts.derived.common import FEATURES, ROOT, header
from scripts.derived.facts import Facts

LIB = ROOT / "features/lib"
# Shared shell library -> the features (or feature tests) that ship a copy.
LIBRARY_COPIES = {
    "common.sh": [FEATURES / f / "common.sh" for f in ("cuda", "cudnn", "env-doctor", "jupyterlab")],
    "nvidia.sh": [FEATURES / f / "nvidia.sh" for f in ("cuda", "cudnn")],
    "test-checks.sh": [ROOT / "features/test" / f / "checks.sh" for f in ("cuda", "cudnn")],
}


def library_copy(source: Path, facts: Facts) -> Callable[[], str]:
    def render() -> str:
        text = source.read_text()
        if source.name == "common.sh":  # its data, after the leading comments (shellcheck reads those first)
            comments = re.match(r"(?:#.*\n)*", text)[0]
            text = (comments + f'FEATURE_MIN_PYTHON="{facts.min_python}"   # oldest Python for a feature\'s own environment\n'
                    + text[len(comments):])
        return header(f"features/lib/{source.name}") + text
    return render


def files(facts: Facts) -> dict[Path, Callable[[], str]]:
    return {path: library_copy(LIB / name, facts) for name, paths in LIBRARY_COPIES.items() for path in paths}
