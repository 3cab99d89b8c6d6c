"""Jinja extension: exposes the version resolver (hooks/versions.py) to copier.yml and templates.

Loaded by copier-template-extensions from this file's path. Validators get "" when an answer
fits and a message naming what would work when it does not.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from jinja2.ext import Extension


def _load_versions():
    """This template's own resolver and data. `copier update` renders two template versions in one
    process, so a plain `import` would hand the second one the first one's cached module."""
    path = Path(__file__).resolve().parent / "versions.py"
    spec = importlib.util.spec_from_file_location(f"template_versions_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


versions = _load_versions()


def _error(check) -> str:
    try:
        check()
    except versions.Incompatible as problem:
        return str(problem)
    return ""


def framework_version_error(framework: str, answer: str, python: str) -> str:
    if framework == "none":
        return ""
    return _error(lambda: versions.resolve_framework_version(framework, answer, python))


def cuda_version_error(framework: str, framework_answer: str, python: str, answer: str) -> str:
    if framework == "none":
        return ""
    try:
        version = versions.resolve_framework_version(framework, framework_answer, python)
    except versions.Incompatible:
        return ""  # reported by framework_version's own validator
    return _error(lambda: versions.resolve_cuda(framework, version, answer))


def resolve(framework: str, framework_answer: str, python: str, accelerator: str, cuda_answer: str) -> dict:
    """Everything the templates need to know about the chosen framework build."""
    if framework == "none":
        return {"version": None, "cuda": None, "dependencies": [], "distribution": None}
    spec = versions.load()["frameworks"][framework]
    version = versions.resolve_framework_version(framework, framework_answer, python)
    cuda = versions.resolve_cuda(framework, version, cuda_answer) if accelerator == "cuda" else None
    requirement = versions.requirement(framework, version, accelerator, cuda)
    return {
        "version": version,
        "cuda": cuda,
        "cuda_major": cuda.split(".")[0] if cuda else None,
        "dependencies": [requirement, *spec["extra_dependencies"]],
        "distribution": re.match(r"[A-Za-z0-9._-]+", requirement).group(0),  # "torch" of "torch==2.14.1"
    }


class VersionsExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.globals.update(
            framework_releases=versions.releases,
            framework_cuda_versions=versions.cuda_versions,
            framework_version_error=framework_version_error,
            cuda_version_error=cuda_version_error,
            resolve_framework=resolve,
            cuda_driver_floors=versions.cuda_driver_floors,
        )
