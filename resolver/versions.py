"""Which framework, CUDA and Python versions fit together, read from data/versions.yml.

Used by the template's questions (through resolver/extension.py), by scripts/check_versions.py and
by the tests. Pure functions over the data: adding a release is a data edit, not a code edit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "versions.yml"
LATEST = "latest"  # answer that tracks the newest release on `copier update`
AUTO = "auto"  # CUDA answer that follows the framework build


class Incompatible(ValueError):
    """An impossible combination; the message names the combinations that would work."""


@cache
def load(path: Path = DATA_FILE) -> dict:
    return yaml.safe_load(path.read_text())


def project_pythons() -> list[str]:
    """The Pythons a project can choose, oldest first."""
    return sorted(load()["python"]["project"], key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    """"3.10" -> (3, 10): the sort key of a dotted release number ("3.9" before "3.10")."""
    return tuple(int(part) for part in version.split("."))


def releases(framework: str) -> list[str]:
    """Known releases of a framework, newest first (none for framework "none")."""
    known = load()["frameworks"].get(framework, {}).get("releases", {})
    return sorted(known, key=version_key, reverse=True)


def release(framework: str, version: str) -> dict:
    return load()["frameworks"][framework]["releases"][version]


def releases_for_python(framework: str, python: str) -> list[str]:
    return [v for v in releases(framework) if python in release(framework, v)["python"]]


def built_cudas(framework: str, version: str) -> list[str]:
    """The CUDAs a release is built for, newest first."""
    return sorted(release(framework, version)["cuda"], key=version_key, reverse=True)


def cuda_versions(framework: str) -> list[str]:
    """Every CUDA some release of the framework is built for, newest first."""
    found = {c for v in releases(framework) for c in release(framework, v)["cuda"]}
    return sorted(found, key=version_key, reverse=True)


def resolve_framework_version(framework: str, answer: str, python: str) -> str:
    """The concrete release for an answer ('latest' or a version), or Incompatible."""
    if answer == LATEST:
        candidates = releases_for_python(framework, python)
        if not candidates:
            pythons = offered_pythons([p for v in releases(framework) for p in release(framework, v)["python"]])
            raise Incompatible(f"No {framework} release in the template supports Python {python}. "
                               + (f"Choose Python {', '.join(pythons)}, or another framework."
                                  if pythons else "Choose another framework."))
        return candidates[0]
    if answer not in load()["frameworks"][framework]["releases"]:
        raise Incompatible(f"{framework} {answer} is not a release the template knows. "
                           f"Known: {', '.join(releases(framework))} (or 'latest').")
    if python not in release(framework, answer)["python"]:
        supported = offered_pythons(release(framework, answer)["python"])
        working = releases_for_python(framework, python)
        raise Incompatible(
            f"{framework} {answer} does not support Python {python} "
            + (f"(only {', '.join(supported)}). " if supported else "(nor any other Python the template offers). ")
            + (f"For Python {python} use {framework} {', '.join(working)}, or 'latest'."
               if working else f"No {framework} release supports Python {python}."))
    return answer


def resolve_cuda(framework: str, version: str, answer: str, python: str | None = None) -> str:
    """The CUDA version for a resolved framework release ('auto': its newest build). The advice names
    only releases for the project's Python, when given."""
    built = built_cudas(framework, version)
    if answer == AUTO:
        return built[0]
    if answer not in built:
        candidates = releases_for_python(framework, python) if python else releases(framework)
        others = [v for v in candidates if answer in release(framework, v)["cuda"]]
        raise Incompatible(
            f"{framework} {version} is built for CUDA {' or '.join(built)}, not {answer}. "
            f"Use cuda_version={' or '.join(built)} (or 'auto')"
            + (f", or {framework} {' / '.join(others)} for CUDA {answer}." if others else "."))
    return answer


def requirement(framework: str, version: str, accelerator: str, cuda: str | None = None) -> str:
    """The pyproject.toml requirement for one framework build."""
    template = load()["frameworks"][framework]["requirement"][accelerator]
    return template.format(version=version, cuda_major=(cuda or "").split(".")[0])


def cuda_driver_floors(cuda: str) -> tuple[str | None, str]:
    """(driver for full support, driver for minor-version compatibility) of a CUDA release.

    A bare major ("12") means any release of that major: full support then depends on the
    release the lock picks, so only the compatibility floor is known here.
    """
    data = load()["cuda"]
    full = data["releases"][cuda]["min_driver"] if "." in cuda else None
    return full, data["minor_compat_min_driver"][cuda.split(".", maxsplit=1)[0]]


def offered_pythons(pythons: list[str]) -> list[str]:
    """Those of the Pythons a project can choose (advice never names one the question refuses)."""
    return [p for p in project_pythons() if p in pythons]

