"""Writing discovered releases into data/versions.yml, keeping its layout and comments."""

from __future__ import annotations

import re

import yaml

from resolver.versions import version_key

from .facts import Release


def write_releases(text: str, releases: list[Release], new_cuda: dict[str, str] | None = None) -> str:
    """data/versions.yml's text with the releases (and new CUDA releases' drivers) added, comments
    and layout kept: each release goes first in its framework's list, newest first."""
    lines = text.splitlines(keepends=True)
    for framework in dict.fromkeys(r.framework for r in releases):
        ours = sorted((r for r in releases if r.framework == framework), key=lambda r: version_key(r.version), reverse=True)
        start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {framework}:")
        at = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "releases:") + 1
        while lines[at].lstrip().startswith("#"):
            at += 1
        indent = re.match(r"\s*", lines[at])[0]
        lines[at:at] = [f"{indent}{r.line()}\n" for r in ours]
    for cuda, driver in sorted((new_cuda or {}).items(), key=lambda kv: version_key(kv[0])):
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "  releases:")
        at = start + 1
        while at < len(lines) and lines[at].startswith("    "):
            key = re.match(r'\s*"([\d.]+)"', lines[at])
            if key and version_key(key[1]) > version_key(cuda):
                break
            at += 1
        lines[at:at] = [f'    "{cuda}": {{min_driver: "{driver}"}}  # NVIDIA\'s release notes, {cuda} GA (given to discover_releases.py)\n']
    result = "".join(lines)
    check_written(result, releases, new_cuda or {})
    return result


def check_written(text: str, releases: list[Release], new_cuda: dict[str, str]) -> None:
    data = yaml.safe_load(text)
    for release in releases:
        written = data["frameworks"][release.framework]["releases"][release.version]
        assert written == {"python": release.python, "cuda": release.cuda, "cudnn": release.cudnn,
                           "compute": release.compute}, (release, written)
    for cuda, driver in new_cuda.items():
        assert data["cuda"]["releases"][cuda]["min_driver"] == driver
