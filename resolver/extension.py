"""Copier's Jinja extension: what copier.yml's questions and the templates call, from the
template's logic beside this file (answers.py, images.py, features.py, versions.py), plus the
version questions' choices and the framework build a project gets.

Copier loads this file by its path (copier.yml's _jinja_extensions, through copier-template-
extensions); the repository's tools and tests import it as resolver.extension.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

from jinja2.ext import Extension

HERE = Path(__file__).resolve().parent


def load_module(path: Path, name: str | None = None):
    """The Python file at path, run as a module of its own (by default named after its full path).

    copier-template-extensions loads this file by its path, as a module of no package (its
    "local extensions", https://github.com/copier-org/copier-template-extensions), so the modules
    beside it are reached the same way, with no sys.path edit; and `copier update` renders two
    template versions in one process, where a plain `import` would hand the second one the first
    one's cached module. The repository's tools and tests load files by path through this function."""
    spec = importlib.util.spec_from_file_location(name or f"template_{path.stem}_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __package__ == "resolver":  # imported as resolver.extension (the loader of Copier's extensions sets its own package)
    from . import answers, features, images, versions
else:  # loaded by its path: each module beside it too (they import nothing from each other)
    answers, features, images, versions = (load_module(HERE / f"{name}.py") for name in ("answers", "features", "images", "versions"))


def index_url_error(url: str) -> str:
    """A package index URL as uv takes it: http(s), a host, nothing that breaks TOML quoting."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/+-]*)?", url):
        return (f"\"{url}\" is not an index URL: use http:// or https://, a host and a path, e.g. "
                f"{versions.load()['frameworks']['pytorch']['cpu_index']} or your mirror of it.")
    return ""


def torch_cpu_index_default() -> str:
    return versions.load()["frameworks"]["pytorch"]["cpu_index"]


def _error(check) -> str:
    try:
        check()
    except versions.Incompatible as problem:
        return str(problem)
    return ""


def framework_python_error(framework: str, python: str) -> str:
    """Disables a framework choice (copier.yml) that has no release for the chosen Python."""
    return _error(lambda: versions.resolve_framework_version(framework, versions.LATEST, python))


# The choices of framework_version and cuda_version: only what fits the earlier answers, so a
# refusal comes at the question that causes it (Copier's menus run no question validator). Each
# is a [label, {value, validator}] pair; a non-empty validator disables the choice. An answer
# given up front that does not fit (--data, or recorded in .copier-answers.yml) is listed too,
# disabled: Copier refuses it with that message, which names what would work.

def _choice(label: str, value: str, problem: str = "") -> list:
    return [label, {"value": value, "validator": problem}]


def release_choices(framework: str, python: str, given: str = "") -> list[list]:
    """'latest' and the releases for the Python, newest first."""
    if framework == "none":
        return [_choice(versions.LATEST, versions.LATEST)]
    fitting = versions.releases_for_python(framework, python)
    latest = f"{versions.LATEST} ({fitting[0]})" if fitting else versions.LATEST
    choices = [_choice(latest, versions.LATEST, framework_python_error(framework, python))]
    choices += [_choice(v, v) for v in fitting]
    given = str(given)
    if given and given != versions.LATEST and given not in fitting:
        choices.append(_choice(given, given, _error(lambda: versions.resolve_framework_version(framework, given, python))))
    return choices


def cuda_choices(framework: str, framework_answer: str, python: str, given: str = "") -> list[list]:
    """'auto' and the CUDAs the chosen release is built for, newest first."""
    try:
        version = versions.resolve_framework_version(framework, framework_answer, python)
    except versions.Incompatible:  # framework_version's own choices refuse it
        return [_choice(versions.AUTO, versions.AUTO)]
    built = versions.built_cudas(framework, version)
    choices = [_choice(f"{versions.AUTO} ({built[0]})", versions.AUTO), *(_choice(c, c) for c in built)]
    given = str(given)
    if given and given != versions.AUTO and given not in built:
        choices.append(_choice(given, given, _error(lambda: versions.resolve_cuda(framework, version, given, python))))
    return choices


def choice_pairs(choices) -> list[tuple[str, object]]:
    """Choices in any form copier.yml gives them (values, {label: value}, [label, value] pairs; a
    value may be {value, validator}) as (label, value) pairs: for the scripts that describe them."""
    items = choices.items() if isinstance(choices, dict) else (c if isinstance(c, list) else (c, c) for c in choices)
    return [(str(label), value["value"] if isinstance(value, dict) else value) for label, value in items]


def resolve(framework: str, framework_answer: str, python: str, accelerator: str, cuda_answer: str) -> dict:
    """Everything the templates need to know about the chosen framework build."""
    if framework == "none":
        return {"version": None, "cuda": None, "dependencies": [], "distribution": None, "companions": [], "module": None}
    spec = versions.load()["frameworks"][framework]
    version = versions.resolve_framework_version(framework, framework_answer, python)
    cuda = versions.resolve_cuda(framework, version, cuda_answer, python) if accelerator == "cuda" else None
    requirement = versions.requirement(framework, version, accelerator, cuda)
    return {
        "version": version,
        "cuda": cuda,
        "cuda_major": cuda.split(".")[0] if cuda else None,
        "dependencies": [requirement, *spec["extra_dependencies"]],
        "distribution": re.match(r"[A-Za-z0-9._-]+", requirement).group(0),  # "torch" of "torch==2.14.1"
        # what the project installs beside the framework ("numpy"), by name
        "companions": [re.match(r"[A-Za-z0-9._-]+", extra).group(0) for extra in spec["extra_dependencies"]],
        "module": spec["module"],
    }


class VersionsExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["slug"] = answers.slug
        environment.filters["toml_string"] = answers.toml_string
        environment.filters["toml_inline_table"] = answers.toml_inline_table
        environment.filters["shell_quote"] = lambda path: shlex.quote(str(path))  # for commands users paste
        environment.globals.update(
            project_name_error=answers.project_name_error,
            package_name_error=answers.package_name_error,
            port_error=answers.port_error,
            one_line_error=answers.one_line_error,
            author_name_error=answers.author_name_error,
            email_error=answers.email_error,
            copyright_holder=answers.copyright_holder,
            project_license=answers.project_license,
            data_path_error=answers.data_path_error,
            cache_dir=answers.CACHE_DIR,
            cache_environment=answers.CACHE_ENVIRONMENT,
            index_url_error=index_url_error,
            torch_cpu_index_default=torch_cpu_index_default,
            image_error=images.image_error,
            github_repository_error=images.github_repository_error,
            project_image=images.project_image,
            image_registry_host=images.image_registry_host,
            unused_prebuilt_dir=images.unused_prebuilt_dir,
            python_versions=versions.project_pythons,
            project_features=features.features_of_project,
            unused_feature_dir=features.unused_feature_dir,
            feature_references=features.feature_references,
            features_registry_error=features.features_registry_error,
            published_features_namespace=features.published_features_namespace,
            feature_documentation=features.feature_documentation,
            framework_python_error=framework_python_error,
            framework_release_choices=release_choices,
            framework_cuda_choices=cuda_choices,
            resolve_framework=resolve,
            cuda_driver_floors=versions.cuda_driver_floors,
        )
