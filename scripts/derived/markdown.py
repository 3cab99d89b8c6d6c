"""The <!-- sync:NAME -->...<!-- /sync:NAME --> blocks of the Markdown files, filled from
data/versions.yml."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from scripts.derived.common import FEATURES, ROOT
from scripts.derived.facts import Facts

MARKDOWN = [ROOT / "README.md", ROOT / "docs/cuda-features.md", ROOT / "docs/env-doctor.md",
            *(FEATURES / f / "NOTES.md" for f in ("cuda", "cudnn", "env-doctor", "jupyterlab"))]
BLOCK = re.compile(r"(<!-- sync:([\w.-]+) -->)(.*?)(<!-- /sync:\2 -->)", re.S)


def markdown_values(facts: Facts) -> dict[str, str]:
    """The values <!-- sync:NAME --> blocks hold."""
    releases = facts.data["cuda"]["releases"]
    compat = facts.data["cuda"]["minor_compat_min_driver"]
    majors = facts.data["cudnn"]["cuda_majors"]
    table = ["| CUDA | runtime wheel | nvcc from PyPI | driver, full support | driver, minor-version compatibility |",
             "|---|---|---|---|---|"]
    for v in facts.cuda_supported:
        table.append(f"| {v} | `{releases[v]['runtime_wheel']}` | {'yes' if releases[v].get('toolkit_wheels') else 'no'}"
                     f" | >= {releases[v]['min_driver']} | >= {compat[v.split('.')[0]]} |")
    return {
        "python.min": facts.min_python,
        "python.range": f"`{facts.pythons[0]}` to `{facts.pythons[-1]}`",
        "cuda.supported": ", ".join(facts.cuda_supported),
        "cuda.default": facts.cuda_default,
        "cuda.table": "\n" + "\n".join(table) + "\n",
        "cudnn.majors": " or ".join(facts.cudnn_majors),
        "cudnn.default": facts.cudnn_default,
        "cudnn.pins": " / ".join(f"`{majors[m]['cudnn_wheel']}`" for m in facts.cudnn_majors)
        + ", plus " + " / ".join(f"`{majors[m]['cublas_wheel']}`" for m in facts.cudnn_majors),
    }


def markdown(path: Path, values: dict[str, str]) -> Callable[[], str]:
    def render() -> str:
        def fill(match: re.Match) -> str:
            name = match[2]
            if name not in values:
                sys.exit(f"{path.relative_to(ROOT)}: unknown sync block '{name}' (known: {', '.join(values)})")
            return match[1] + values[name] + match[4]
        return BLOCK.sub(fill, path.read_text())
    return render


def files(facts: Facts) -> dict[Path, Callable[[], str]]:
    values = markdown_values(facts)
    return {path: markdown(path, values) for path in MARKDOWN}
