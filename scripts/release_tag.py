"""Print the next template release tag: the newest PEP 440 tag with its minor version raised.

    python scripts/release_tag.py            # 1.3.0 -> 1.4.0 (none yet: 1.0.0)
    python scripts/release_tag.py --patch    # 1.3.0 -> 1.3.1

Copier offers the newest PEP 440 tag to `copier copy` and `copier update`, and runs the template's
migrations (the re-lock) only between such tags: a new framework release reaches projects once
it is in a tagged commit. CI (.github/workflows/ci.yml) tags merges from framework-releases.yml.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from packaging.version import InvalidVersion, Version


def next_tag(tags: list[str], patch: bool = False) -> str:
    versions = []
    for tag in tags:
        try:
            version = Version(tag)
        except InvalidVersion:
            continue
        if not version.is_prerelease and not version.is_devrelease:
            versions.append(version)
    if not versions:
        return "1.0.0"
    newest = max(versions)
    major, minor, micro = [*newest.release, 0, 0][:3]
    return f"{major}.{minor}.{micro + 1}" if patch else f"{major}.{minor + 1}.0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patch", action="store_true", help="raise the patch version instead of the minor")
    args = parser.parse_args(argv)
    tags = subprocess.run(["git", "tag", "--list"], capture_output=True, text=True, check=True).stdout.split()
    print(next_tag(tags, args.patch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
