"""Keep only the framework's part of `uv export` output (stdin -> stdout), for the image build.

    uv export --frozen --no-dev --no-emit-project | python3 framework_pins.py torch

The framework and everything it needs (often gigabytes of CUDA wheels) go into a layer of their
own, keyed on this output: adding or changing any other dependency leaves that layer cached.
Reads the `# via` comments uv writes under each requirement; stdlib only (Python 3.8+).
"""

import re
import sys

NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> tuple[dict, dict]:
    """Requirement blocks by package, and the packages that require each package."""
    blocks, required_by, current, in_via = {}, {}, None, False
    for line in text.splitlines(keepends=True):
        if line.startswith("--"):  # an option (--index-url, --extra-index-url): kept for every package
            blocks[line], required_by[line], current = [line], {"*"}, None
        elif line.strip() and not line[0].isspace() and not line.startswith("#"):
            current = normalize(NAME.match(line).group(1))
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


def main() -> None:
    blocks, required_by = parse(sys.stdin.read())
    keep = closure(sys.argv[1:], required_by) | {line for line, parents in required_by.items() if "*" in parents}
    sys.stdout.write("".join(line for pkg, lines in blocks.items() if pkg in keep for line in lines))


if __name__ == "__main__":
    main()
