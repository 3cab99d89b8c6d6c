"""Check data/versions.yml against the package index, so the data cannot drift from reality.

    python scripts/check_versions.py [--framework pytorch]

For every framework release in the data it asks the index (through `uv pip compile`, metadata
only) which Pythons can install it, and which CUDA runtime and cuDNN its CUDA build requires,
then prints each difference from the data. Exit status 1 when anything differs.
(Compute capabilities live in the binaries, not the metadata: they are not checked here.)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

from resolver import versions

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
PLATFORM = "x86_64-manylinux_2_28"
RUNTIME = re.compile(r"^nvidia-cuda-runtime(?:-cu\d+)?==(\d+)\.(\d+)", re.M)
CUDNN = re.compile(r"^nvidia-cudnn-cu\d+==(\d+)\.(\d+)", re.M)


def resolve(requirement: str, python: str) -> str | None:
    """Pinned requirements for one Python on Linux x86_64, or None when nothing installs."""
    result = subprocess.run(
        [shutil.which("uv") or "uv", "pip", "compile", "-", "--no-header", "--quiet",
         "--python-version", python, "--python-platform", PLATFORM],
        input=requirement, capture_output=True, text=True,
    )
    return result.stdout if result.returncode == 0 else None


def check_release(framework: str, version: str, release: dict) -> list[str]:
    spec = versions.load()["frameworks"][framework]
    problems = []
    cpu_requirement = spec["requirement"]["cpu"].format(version=version)
    supported = [py for py in PYTHONS if resolve(cpu_requirement, py) is not None]
    if supported != release["python"]:
        problems.append(f"python: data says {release['python']}, the index has wheels for {supported}")
    python = release["python"][-1]
    for cuda in release["cuda"]:
        requirement = versions.requirement(framework, version, "cuda", cuda)
        pinned = resolve(requirement, python)
        if pinned is None:
            problems.append(f"cuda {cuda}: `{requirement}` does not resolve for Python {python}")
            continue
        runtime, cudnn = RUNTIME.search(pinned), CUDNN.search(pinned)
        if not runtime:
            problems.append(f"cuda {cuda}: `{requirement}` brings no nvidia-cuda-runtime")
            continue
        found = f"{runtime[1]}.{runtime[2]}"
        exact = "." in cuda  # the data claims a pinned minor, not just the major
        if (found != cuda) if exact else (runtime[1] != cuda.split(".")[0]):
            problems.append(f"cuda {cuda}: the index resolves nvidia-cuda-runtime {found}")
        if cudnn and exact and f"{cudnn[1]}.{cudnn[2]}" != release["cudnn"]:
            problems.append(f"cudnn: data says {release['cudnn']}, the index resolves {cudnn[1]}.{cudnn[2]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=list(versions.load()["frameworks"]))
    args = parser.parse_args()
    failed = False
    for framework, spec in versions.load()["frameworks"].items():
        if args.framework and framework != args.framework:
            continue
        for version, release in spec["releases"].items():
            print(f"{framework} {version}: ", end="", flush=True)
            problems = check_release(framework, version, release)
            print("ok" if not problems else "")
            for problem in problems:
                print(f"  - {problem}")
            failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
