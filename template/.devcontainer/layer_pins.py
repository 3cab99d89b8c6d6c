"""Split the lock's pins into the image's layer groups, for the image build.

    uv export --frozen --no-dev --no-emit-project > locked.txt
    uv export --frozen --only-dev --no-emit-project > dev.txt
    python3 layer_pins.py --out /pins --tools dev.txt torch --with numpy < locked.txt

writes one requirements file per group into --out, in the order the Dockerfile installs them,
each in a layer of its own (most stable first, so that a change rebuilds as little as possible):

    cuda-toolkit.txt  NVIDIA's CUDA toolkit libraries (cuBLAS, cuFFT, the runtime...): they follow
                      the CUDA version, which framework upgrades usually keep
    nvidia.txt        NVIDIA's other libraries (cuDNN, NCCL, cuSPARSELt, NVSHMEM...)
    framework.txt     the framework's own wheels (torch and triton; jax, jaxlib and its CUDA plugin...)
    closure.txt       everything else the framework needs (sympy...), and its companions (--with:
                      numpy beside torch) with what they need
    tools.txt         the dev group's tools (--tools: ipykernel, pytest, ruff...) and what they need,
                      beyond the groups above: they change far less often than the rest of the lock

A framework upgrade that keeps the CUDA libraries rebuilds, and makes colleagues pull, only the
groups from the first changed one on; adding any other dependency leaves all of them cached, and
the lock's own step then installs only what is left. Without a framework (no ROOTS) the first four
groups are empty. Without --out, prints all groups concatenated. Reads the `# via` comments uv
writes under each requirement; stdlib only (Python 3.8+).
"""

import argparse
import re
import sys
from pathlib import Path

# A package from an index, pinned: "name==version". A local path ("-e ./libs/x"), a URL or a git
# requirement is left to the lock's own step, which installs it with the project.
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
GROUPS = ["cuda-toolkit", "nvidia", "framework", "closure", "tools"]
# Components of the CUDA toolkit as NVIDIA publishes them on the package index (with or without a
# -cuXX suffix); cusparselt, cudnn, nccl, nvshmem, cudss... have their own release cycles.
CUDA_TOOLKIT = re.compile(
    r"cuda-toolkit|nvidia-(cublas|cuda-[a-z-]+?|cufft|cufile|curand|cusolver|cusparse|nvjitlink|nvtx|npp|nvjpeg|"
    r"nvvm|nvfatbin|nvml-dev)(-cu\d+)?")
NVIDIA = re.compile(r"(nvidia|cuda)-.+")
# Wheels released together with a framework, beyond those named after it (jaxlib, jax-cuda12-plugin...).
COMPANIONS = {"torch": {"triton", "pytorch-triton"}}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> tuple[dict, dict]:
    """Requirement blocks by package, and the packages that require each package."""
    blocks, required_by, current, in_via = {}, {}, None, False
    for line in text.splitlines(keepends=True):
        if line.startswith("--"):  # an option (--index-url, --extra-index-url): kept for every group
            blocks[line], required_by[line], current = [line], {"*"}, None
        elif line.strip() and not line[0].isspace() and not line.startswith("#"):
            pinned = PINNED.match(line)
            current = normalize(pinned.group(1)) if pinned else None
            if current is not None:
                blocks[current], required_by[current], in_via = [line], set(), False
        elif current is not None and line.startswith(" "):
            stripped = line.strip()
            if stripped.startswith("# via"):
                in_via = True
                rest = stripped[len("# via"):].strip()
                if rest:
                    required_by[current].add(normalize(rest))
            elif in_via and stripped.startswith("#"):
                required_by[current].add(normalize(stripped.lstrip("#").strip()))
            else:
                blocks[current].append(line)
    return blocks, required_by


def closure(roots: list[str], required_by: dict) -> set:
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


def split(text: str, roots: list[str], companions: list[str] = (), tools: str = "") -> tuple[str, dict[str, str]]:
    """The export's options (--index-url...) and the requirements of each group (every group
    present, possibly empty), in install order. `tools` is the dev group's export."""
    blocks, required_by = parse(text)
    keep = set()  # without a framework, no framework groups
    if roots:
        keep = closure([*roots, *companions], required_by) | {pkg for pkg in blocks if NVIDIA.fullmatch(pkg)}
    options = "".join(line for line, parents in required_by.items() if "*" in parents)
    out = {group: "" for group in GROUPS}
    for pkg, lines in blocks.items():
        if pkg in keep:
            out[group_of(pkg, roots)] += "".join(lines)
    tool_blocks, tool_required_by = parse(tools)
    for pkg, lines in tool_blocks.items():
        if pkg not in keep and "*" not in tool_required_by[pkg]:
            out["tools"] += "".join(lines)
    return options, out


def groups(text: str, roots: list[str], companions: list[str] = (), tools: str = "") -> dict[str, str]:
    """Each group's requirements file: the options, then its requirements ("" for an empty group)."""
    options, out = split(text, roots, companions, tools)
    return {group: options + body if body else "" for group, body in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="Split the lock's pins into the image's layer groups.")
    parser.add_argument("roots", nargs="*", help="the framework's distribution name(s); none: no framework")
    parser.add_argument("--with", dest="companions", action="append", default=[], metavar="NAME",
                        help="a package the project installs beside the framework (its closure group)")
    parser.add_argument("--tools", type=Path, metavar="FILE", help="the dev group's export (`uv export --only-dev`)")
    parser.add_argument("--out", type=Path, help="folder for one <group>.txt per group (default: stdout)")
    args = parser.parse_args()
    text = sys.stdin.read()
    tools = args.tools.read_text() if args.tools else ""
    if args.out is None:
        options, out = split(text, args.roots, args.companions, tools)
        sys.stdout.write(options + "".join(out.values()))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for group, body in groups(text, args.roots, args.companions, tools).items():
        (args.out / f"{group}.txt").write_text(body)


if __name__ == "__main__":
    main()
