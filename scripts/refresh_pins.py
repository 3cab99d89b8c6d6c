"""Regenerate the hash-pinned tool locks shipped with the template and features.

    python scripts/refresh_pins.py [--uv VERSION] [--jupyterlab VERSION]

Writes:
  template/.devcontainer/uv-requirements.txt   uv used by the image build
  features/src/jupyterlab/requirements.lock    JupyterLab environment of the jupyterlab feature
Both are universal (every platform and Python the feature supports) and carry sha256 hashes,
so image builds install exactly what was reviewed here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "uv": ROOT / "template/.devcontainer/uv-requirements.txt",
    "jupyterlab": ROOT / "features/src/jupyterlab/requirements.lock",
}
LOWEST_PYTHON = "3.10"  # the oldest Python the template offers


def pinned_version(path: Path, package: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise SystemExit(f"{path} has no {package}== line")


def compile_lock(package: str, version: str, out: Path) -> None:
    print(f"locking {package}=={version} -> {out.relative_to(ROOT)}", flush=True)
    result = subprocess.run(
        ["uv", "pip", "compile", "-", "--generate-hashes", "--universal", "--no-header",
         "--python-version", LOWEST_PYTHON, "--quiet"],
        input=f"{package}=={version}\n", capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"uv pip compile failed for {package}=={version}:\n{result.stderr}")
    header = f"# {package} {version}, hash-pinned for all platforms. Regenerate: python scripts/refresh_pins.py\n"
    out.write_text(header + result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for package, path in TARGETS.items():
        parser.add_argument(f"--{package}", metavar="VERSION", help="version to pin (default: the one pinned now)")
    args = parser.parse_args()
    for package, path in TARGETS.items():
        compile_lock(package, getattr(args, package) or pinned_version(path, package), path)


if __name__ == "__main__":
    main()
