"""Split the lock's packages into the image's layer groups, for the image build.

    cd <project> && python3 layer_pins.py --out /pins torch --with numpy

writes one lock file per group into --out, pylock.<group>.toml (PEP 751), in the order the
Dockerfile installs them, each in a layer of its own (most stable first, so that a change rebuilds
as little as possible):

    cuda-toolkit   NVIDIA's CUDA toolkit libraries (cuBLAS, cuFFT, the runtime...): they follow the
                   CUDA version, which framework upgrades usually keep
    nvidia         NVIDIA's other libraries (cuDNN, NCCL, cuSPARSELt, NVSHMEM...)
    framework      the framework's own wheels (torch and triton; jax, jaxlib and its CUDA plugin...)
    closure        everything else the framework needs (sympy...), and its companions (--with:
                   numpy beside torch) with what they need
    tools          the dev group's tools (ipykernel, pytest, ruff...) and what they need, beyond
                   the groups above: they change far less often than the rest of the lock

A framework upgrade that keeps the CUDA libraries rebuilds, and makes colleagues pull, only the
groups from the first changed one on; adding any other dependency leaves all of them cached (each
file holds only its group's packages, no header), and the lock's own step then installs only what
is left. Without a framework (no ROOTS) the first four groups are empty (an empty file).

Each group is `uv export --format pylock.toml` of the lock less every other package: the file
names each wheel's URL and hash, so installing it asks no index which versions it has (an index
page cached in the build's cache mount, or served stale, cannot lack the locked version), and
every package comes from the index the lock took it from (PyTorch's CPU index, a team's own).
The groups are found from the requirements export's `# via` comments. Stdlib only (Python 3.8+).
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

# A requirement of the export: "name==version" (pinned, from an index) or "name @ URL" (a URL or
# git requirement). Only pinned packages go into the groups: the rest, and local paths
# ("-e ./libs/x", which have no name there), are left to the lock's own step, with the project.
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*) ?(==|@)")
GROUPS = ["cuda-toolkit", "nvidia", "framework", "closure", "tools"]
# Components of the CUDA toolkit as NVIDIA publishes them on the package index (with or without a
# -cuXX suffix); cusparselt, cudnn, nccl, nvshmem, cudss... have their own release cycles.
CUDA_TOOLKIT = re.compile(
    r"cuda-toolkit|nvidia-(cublas|cuda-[a-z-]+?|cufft|cufile|curand|cusolver|cusparse|nvjitlink|nvtx|npp|nvjpeg|"
    r"nvvm|nvfatbin|nvml-dev)(-cu\d+)?")
NVIDIA = re.compile(r"(nvidia|cuda)-.+")
# Wheels released together with a framework, beyond those named after it (jaxlib, jax-cuda12-plugin...).
COMPANIONS = {"torch": {"triton", "pytorch-triton"}}
EXPORT = ["uv", "export", "--frozen", "--quiet", "--no-emit-project", "--no-emit-workspace", "--no-emit-local",
          "--no-header"]
DEPENDENCIES = {"main": ["--no-dev"], "dev": ["--only-dev"]}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> tuple[dict[str, set[str]], set[str]]:
    """The named requirements of a requirements export, each with the packages that require it,
    and which of them are pinned."""
    required_by, pinned, current, in_via = {}, set(), None, False
    for line in text.splitlines():
        if line.strip() and not line[0].isspace() and not line.startswith(("#", "--")):
            named = REQUIREMENT.match(line)
            current = normalize(named.group(1)) if named else None
            if current is not None:
                required_by[current], in_via = set(), False
                if named.group(2) == "==":
                    pinned.add(current)
        elif current is not None and line.startswith(" "):
            stripped = line.strip()
            if stripped.startswith("# via"):
                in_via = True
                rest = stripped[len("# via"):].strip()
                if rest:
                    required_by[current].add(normalize(rest))
            elif in_via and stripped.startswith("#"):
                required_by[current].add(normalize(stripped.lstrip("#").strip()))
    return required_by, pinned


def closure(roots: list[str], required_by: dict[str, set[str]]) -> set[str]:
    found = {normalize(r) for r in roots}
    while True:
        more = {pkg for pkg, parents in required_by.items() if parents & found} - found
        if not more:
            return found
        found |= more


def group_of(package: str, roots: list[str]) -> str:
    if CUDA_TOOLKIT.fullmatch(package):
        return "cuda-toolkit"
    if NVIDIA.fullmatch(package):
        return "nvidia"
    for root in map(normalize, roots):
        if package == root or package.startswith(root) or package in COMPANIONS.get(root, ()):
            return "framework"
    return "closure"


def split(main: str, dev: str, roots: list[str], companions: list[str] = ()) -> dict[str, list[str]]:
    """The packages of each group (every group present, possibly empty), in install order, from the
    requirements exports of the main dependencies and of the dev group."""
    required_by, pinned = parse(main)
    keep = set()  # without a framework, no framework groups
    if roots:
        keep = closure([*roots, *companions], required_by) | {pkg for pkg in pinned if NVIDIA.fullmatch(pkg)}
    out = {group: [] for group in GROUPS}
    for pkg in required_by:
        if pkg in keep and pkg in pinned:
            out[group_of(pkg, roots)].append(pkg)
    dev_required_by, dev_pinned = parse(dev)
    out["tools"] = [pkg for pkg in dev_required_by if pkg in dev_pinned and pkg not in keep]
    return out


def export(dependencies: str, *options: str) -> str:
    """uv's export of the lock in the current folder (its errors go to the build's log)."""
    return subprocess.run([*EXPORT, *DEPENDENCIES[dependencies], *options], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description="Split the lock's packages into the image's layer groups.")
    parser.add_argument("roots", nargs="*", help="the framework's distribution name(s); none: no framework")
    parser.add_argument("--with", dest="companions", action="append", default=[], metavar="NAME",
                        help="a package the project installs beside the framework (its closure group)")
    parser.add_argument("--out", type=Path, required=True, help="folder for one pylock.<group>.toml per group")
    args = parser.parse_args()
    texts = {dependencies: export(dependencies, "--format", "requirements-txt") for dependencies in DEPENDENCIES}
    groups = split(texts["main"], texts["dev"], args.roots, args.companions)
    named = {dependencies: set(parse(text)[0]) for dependencies, text in texts.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    for group, packages in groups.items():
        dependencies = "dev" if group == "tools" else "main"
        others = sorted(named[dependencies] - set(packages))
        skip = [option for pkg in others for option in ("--no-emit-package", pkg)]
        body = export(dependencies, "--format", "pylock.toml", *skip) if packages else ""
        (args.out / f"pylock.{group}.toml").write_text(body)


if __name__ == "__main__":
    main()
