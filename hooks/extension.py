"""Jinja extension: the logic behind copier.yml's questions and the templates.

Loaded by copier-template-extensions from this file's path. It exposes the version resolver
(hooks/versions.py), the answer validators (each returns "" when an answer fits and a message
naming what would work when it does not), the slug filter, and the one decision of which of our
devcontainer features a project gets.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path

from jinja2 import pass_context
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

MAX_NAME_LENGTH = 64  # the name becomes the package, the Jupyter kernel and image names
# Names a project package must not take: it would hide the library (or folder) of that name.
SHADOWED = {"torch", "tensorflow", "jax", "jaxlib", "keras", "numpy", "tests", "test", "notebooks"}


def slug(name: str) -> str:
    """"Vision Lab 2" -> "vision-lab-2": lowercase, runs of other characters become one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def project_name_error(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._-]*", name):
        return f"Use letters, digits, spaces, '.', '_' or '-', starting with a letter (got \"{name}\")."
    if len(name) > MAX_NAME_LENGTH:
        return (f"The name is {len(name)} characters long: use at most {MAX_NAME_LENGTH} "
                "(it names the package, the Jupyter kernel and the images).")
    return ""


def package_name_error(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return (f"\"{name}\" is not a valid package name: use lowercase letters, digits and '_', "
                "not starting with a digit.")
    if keyword.iskeyword(name):
        return f"\"{name}\" is a Python keyword: choose another package name."
    if name in SHADOWED:
        return f"\"{name}\" would shadow a library or folder of the project: choose another package name."
    if len(name) > MAX_NAME_LENGTH:
        return f"\"{name}\" is {len(name)} characters long: use at most {MAX_NAME_LENGTH}."
    return ""


def port_error(port: int) -> str:
    return "" if 1024 <= int(port) <= 65535 else "Use a port from 1024 to 65535."


# Folders of the image (and the mounts the project makes) that a data mount must not hide.
RESERVED_PATHS = ("/bin", "/boot", "/cache", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/outputs",
                  "/proc", "/root", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var", "/workspaces")


def data_path_error(path: str) -> str:
    """Where the container reads datasets: an absolute path that a bind mount (`-v SRC:PATH:ro`)
    can take and that hides nothing of the image."""
    if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", path) or any(p in (".", "..") for p in path.split("/")):
        return (f"\"{path}\" is not an absolute container path: use one like /data or /datasets/vision "
                "(letters, digits, '.', '_', '-' between slashes).")
    for reserved in RESERVED_PATHS:
        if path == reserved or path.startswith(reserved + "/"):
            return f"\"{path}\" would hide {reserved} of the container: choose a folder of its own, e.g. /data."
    return ""


def index_url_error(url: str) -> str:
    """A package index URL as uv takes it: http(s), a host, nothing that breaks TOML quoting."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/+-]*)?", url):
        return (f"\"{url}\" is not an index URL: use http:// or https://, a host and a path, e.g. "
                f"{versions.load()['frameworks']['pytorch']['cpu_index']} or your mirror of it.")
    return ""


def torch_cpu_index_default() -> str:
    return versions.load()["frameworks"]["pytorch"]["cpu_index"]


# An image name without tag or digest: [registry[:port]/]path, lowercase (what Docker accepts).
IMAGE_NAME = re.compile(r"(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                        r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def image_error(answer: str) -> str:
    """The image question: 'ghcr', 'none', or a name of the user's registry (no tag)."""
    if answer in ("ghcr", "none"):
        return ""
    if ":" in answer.rsplit("/", 1)[-1] or "@" in answer:
        return (f"Give the image name without a tag or digest (got \"{answer}\"): CI adds an immutable "
                "tag for the environment and one for the branch.")
    if not IMAGE_NAME.fullmatch(answer) or "/" not in answer:
        return (f"\"{answer}\" is not an image name: use 'ghcr', 'none', or registry/path/name in lowercase, "
                "e.g. registry.example.com/team/vision-lab or ghcr.io/acme/vision-lab.")
    return ""


def github_repository_error(answer: str) -> str:
    if answer == "" or GITHUB_REPOSITORY.fullmatch(answer):
        return ""
    return f"Give the repository as owner/name, e.g. acme/vision-lab (got \"{answer}\"), or leave it empty."


def published_image(image: str, github_repository: str = "") -> str:
    """The image colleagues' containers pull ("" when unknown or not published). 'ghcr' is
    ghcr.io/<owner>/<name> of the repository; registries want lowercase names."""
    if image == "none":
        return ""
    if image == "ghcr":
        return f"ghcr.io/{github_repository.lower()}" if github_repository else ""
    return image


def project_features(framework: str, accelerator: str, jupyterlab: bool) -> list[str]:
    """Our features a project gets, in install order (cuda before cudnn, which follows its CUDA)."""
    features = []
    if accelerator == "cuda":
        features.append("cuda")
        if framework != "none":
            features.append("cudnn")
    features.append("env-doctor")
    if jupyterlab:
        features.append("jupyterlab")
    return features


@pass_context
def features_of_project(context) -> list[str]:
    return project_features(context["framework"], context["accelerator"], context["jupyterlab"])


@pass_context
def project_image(context) -> str:
    return published_image(context["image"], context.get("github_repository") or "")


def registry_host(image: str) -> str:
    """The registry of an image name, as `docker login` wants it (Docker Hub when the name has none)."""
    if image == "ghcr":
        return "ghcr.io"
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first or first == "localhost") else "docker.io"


@pass_context
def image_registry_host(context) -> str:
    return registry_host(context["image"])


@pass_context
def unused_prebuilt_dir(context) -> str:
    """For copier.yml's _exclude: the image-based configuration needs a published image name."""
    return "" if project_image(context) else ".devcontainer/prebuilt"


@pass_context
def unused_feature_dir(context, feature: str) -> str:
    """For copier.yml's _exclude: the feature's folder when the project does not use it, else ""."""
    return "" if feature in features_of_project(context) else f".devcontainer/features/{feature}"


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
        environment.filters["slug"] = slug
        environment.globals.update(
            project_name_error=project_name_error,
            package_name_error=package_name_error,
            port_error=port_error,
            data_path_error=data_path_error,
            index_url_error=index_url_error,
            torch_cpu_index_default=torch_cpu_index_default,


            image_error=image_error,
            github_repository_error=github_repository_error,
            project_image=project_image,
            image_registry_host=image_registry_host,
            unused_prebuilt_dir=unused_prebuilt_dir,
            python_versions=versions.project_pythons,
            project_features=features_of_project,
            unused_feature_dir=unused_feature_dir,
            framework_releases=versions.releases,
            framework_cuda_versions=versions.cuda_versions,
            framework_version_error=framework_version_error,
            cuda_version_error=cuda_version_error,
            resolve_framework=resolve,
            cuda_driver_floors=versions.cuda_driver_floors,
        )
