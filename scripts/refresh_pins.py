"""Regenerate the hash-pinned tool locks shipped with the template and features.

    python scripts/refresh_pins.py [--uv VERSION] [--jupyterlab VERSION] [--nvidia-ml-py VERSION] [--pyyaml VERSION]
                                 [--flit-core VERSION]

Writes:
  template/.devcontainer/uv-requirements.txt   uv used by the image build
  features/src/jupyterlab/requirements.lock    JupyterLab environment of the jupyterlab feature
  features/src/env-doctor/requirements.lock    nvidia-ml-py + pyyaml of the env-doctor feature, and flit-core,
                                               the build backend of its own distribution
Both are universal (every platform and Python the feature supports) and carry sha256 hashes,
so image builds install exactly what was reviewed here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from resolver import versions

ROOT = Path(__file__).resolve().parent.parent

# lock file -> the packages pinned in it (each at the version pinned now, unless given)
TARGETS = {
    ROOT / "template/.devcontainer/uv-requirements.txt": ["uv"],
    ROOT / "features/src/jupyterlab/requirements.lock": ["jupyterlab"],
    ROOT / "features/src/env-doctor/requirements.lock": ["nvidia-ml-py", "pyyaml", "flit-core"],
}
LOWEST_PYTHON = versions.project_pythons()[0]  # the oldest Python the template offers


def pinned_version(path: Path, package: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise SystemExit(f"{path} has no {package}== line")


def compile_lock(pins: list[str], out: Path) -> None:
    print(f"locking {' '.join(pins)} -> {out.relative_to(ROOT)}", flush=True)
    result = subprocess.run(
        ["uv", "pip", "compile", "-", "--generate-hashes", "--universal", "--no-header",
         "--python-version", LOWEST_PYTHON, "--quiet"],
        input="\n".join(pins) + "\n", capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"uv pip compile failed for {' '.join(pins)}:\n{result.stderr}")
    header = f"# {', '.join(pins)}, hash-pinned for all platforms. Regenerate: python scripts/refresh_pins.py\n"
    out.write_text(header + result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for packages in TARGETS.values():
        for package in packages:
            parser.add_argument(f"--{package}", metavar="VERSION", help="version to pin (default: the one pinned now)")
    args = vars(parser.parse_args())
    for path, packages in TARGETS.items():
        pins = [f"{p}=={args[p.replace('-', '_')] or pinned_version(path, p)}" for p in packages]
        compile_lock(pins, path)


if __name__ == "__main__":
    main()
