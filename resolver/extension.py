"""Jinja extension: the logic behind copier.yml's questions and the templates.

Loaded by copier-template-extensions from this file's path. It exposes the version resolver
(resolver/versions.py), the answer validators (each returns "" when an answer fits and a message
naming what would work when it does not), the slug filter, and the one decision of which of our
devcontainer features a project gets.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import keyword
import re
import shlex
import unicodedata
from pathlib import Path

from jinja2 import pass_context
from jinja2.ext import Extension


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


versions = load_module(Path(__file__).resolve().parent / "versions.py")  # this template's resolver and data

MAX_NAME_LENGTH = 64  # the name becomes the package, the Jupyter kernel and image names
# Names a project package must not take: it would hide the library (or folder) of that name.
SHADOWED = {"torch", "tensorflow", "jax", "jaxlib", "keras", "numpy", "tests", "test", "notebooks"}


FALLBACK_SLUG = "project"  # for a name with no ASCII letter ("机器学习"): package and image names need one


# Latin letters that NFKD does not decompose into an ASCII letter and a mark.
LATIN_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                               "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D"})


def slug(name: str) -> str:
    """"Mön Lab 2" -> "mon-lab-2", "Straße" -> "strasse": accents dropped (NFKD, then ASCII only),
    lowercase, runs of other characters one '-', starting with a letter (it names the package, the
    kernel and the images)."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(LATIN_LETTERS)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).lstrip("-0123456789").rstrip("-") or FALLBACK_SLUG


def project_name_error(name: str) -> str:
    """Letters of any script, digits, spaces and ._- (nothing JSON, TOML or YAML strings must
    escape), starting with a letter."""
    allowed = all(c.isalnum() or c in " ._-" or unicodedata.category(c).startswith("M") for c in name)
    if not (name[:1].isalpha() and allowed):
        return f"Use letters, digits, spaces, '.', '_' or '-', starting with a letter (got {name!r})."
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


MAX_LINE_LENGTH = 200  # description and author: one line of pyproject.toml metadata
# An address as pyproject.toml's authors take it: local@domain.tld, nothing that needs quoting.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
LICENSES = Path(__file__).resolve().parent.parent / "data/licenses"  # <SPDX id or Proprietary>.txt


def one_line_error(question: str, text: str, required: bool = False) -> str:
    """Free text that becomes one line of metadata (pyproject.toml, LICENSE): no line breaks or
    other control characters; quotes are fine (the templates escape them)."""
    if required and not text.strip():
        return f"Give the {question} as one line of text."
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        return f"Give the {question} as one line of text, without line breaks, tabs or control characters."
    if len(text) > MAX_LINE_LENGTH:
        return f"The {question} is {len(text)} characters long: use at most {MAX_LINE_LENGTH}."
    if text != text.strip():
        return f"Remove the spaces around the {question} (got \"{text}\")."
    return ""


def author_name_error(name: str) -> str:
    if "," in name:  # pyproject.toml's authors: a name before an address may not hold commas (PEP 621)
        return f"Leave the commas out of the author's name (got \"{name}\"), e.g. \"ACME Inc.\"."
    return one_line_error("author's name", name)


def email_error(address: str) -> str:
    if address == "" or EMAIL.fullmatch(address):
        return ""
    return f"\"{address}\" is not an email address: give one like jane@example.com, or leave it empty."


def toml_string(text: str) -> str:
    """A TOML basic string of any text: JSON's escapes are TOML's (non-ASCII stays as it is, since
    TOML has no surrogate-pair escapes)."""
    return json.dumps(text, ensure_ascii=False)


def toml_inline_table(fields: dict) -> str:
    """{ key = "value", ... } of the fields that have a value."""
    return "{ " + ", ".join(f"{key} = {toml_string(value)}" for key, value in fields.items() if value) + " }"


def copyright_holder(author_name: str, project_name: str) -> str:
    return author_name or f"The {project_name} authors"


def license_text(license_id: str, holder: str, year: int | None = None) -> str:
    """The LICENSE file: the license's standard text, with the year and holder where it has them.
    The year is the copy's; `copier update` keeps it (it renders both template versions today)."""
    path = LICENSES / f"{license_id}.txt"
    if not path.is_file():
        raise ValueError(f"no license text for {license_id!r} in data/licenses/")
    year = year or datetime.date.today().year
    return path.read_text().replace("<year>", str(year)).replace("<copyright holders>", holder)


@pass_context
def project_license(context) -> str:
    return license_text(context["license"], copyright_holder(context["author_name"], context["project_name"]))


def port_error(port: str) -> str:
    """A text question, so that "abc" gets this message rather than Python's int() error; projects
    copied before recorded the port as a number, which Copier turns into text on update."""
    if re.fullmatch(r"[0-9]+", str(port)) and 1024 <= int(port) <= 65535:
        return ""
    return f"Use a port number from 1024 to 65535 (got \"{port}\")."


CACHE_DIR = "/cache"  # the project's cache volume, in the devcontainer and in cluster jobs
# The variables the model and data libraries read for their caches, all on the cache volume: one
# list for both devcontainer configurations and the cluster jobs.
CACHE_ENVIRONMENT = {
    "XDG_CACHE_HOME": CACHE_DIR,
    "HF_HOME": f"{CACHE_DIR}/huggingface",
    "TORCH_HOME": f"{CACHE_DIR}/torch",
    "KERAS_HOME": f"{CACHE_DIR}/keras",
    "TFDS_DATA_DIR": f"{CACHE_DIR}/tensorflow_datasets",
    "JAX_COMPILATION_CACHE_DIR": f"{CACHE_DIR}/jax",
    "UV_CACHE_DIR": f"{CACHE_DIR}/uv",
}
# Folders of the image (and the mounts the project makes) that a data mount must not hide.
RESERVED_PATHS = ("/bin", "/boot", CACHE_DIR, "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/outputs",
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


def feature_documentation() -> list[str]:
    """The file names in our features that never reach an image (features/publish.json, the list the
    features' release digest skips too): the project's environment hash skips them."""
    return json.loads((Path(__file__).resolve().parent.parent / "features/publish.json").read_text())["documentation"]


@pass_context
def unused_feature_dir(context, feature: str) -> str:
    """For copier.yml's _exclude: the feature's folder when the project does not use it, else ""."""
    return "" if feature in features_of_project(context) else f".devcontainer/features/{feature}"


FEATURES = Path(__file__).resolve().parent.parent / "features"
# A registry namespace as the devcontainer CLI takes a feature's: host[:port]/path, lowercase, no tag.
FEATURES_NAMESPACE = re.compile(r"(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::[0-9]+)?"
                                r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+")


def published_features_namespace() -> str:
    """Where this repository publishes the features (features/publish.json): the suggestion."""
    namespace = json.loads((FEATURES / "publish.json").read_text())["namespace"]
    return f"ghcr.io/{namespace.lower()}"


def features_registry_error(answer: str) -> str:
    """The features_registry question: empty (vendored copies) or a registry namespace."""
    if answer == "":
        return ""
    example = f"e.g. {published_features_namespace()}"
    if answer.startswith(("./", "../", "/")):
        return (f"\"{answer}\" is a path: leave the answer empty for the vendored copies, or give the "
                f"registry namespace the features are published under, {example}.")
    if re.search(r"https?://", answer):
        return f"Give the namespace without a scheme (got \"{answer}\"), {example}."
    if "@" in answer or ":" in answer.rsplit("/", 1)[-1] or answer.endswith("/"):
        return (f"Give the namespace without a feature id, tag or digest (got \"{answer}\"), {example}: "
                "the project adds <id>:<major version> itself.")
    if not FEATURES_NAMESPACE.fullmatch(answer):
        return (f"\"{answer}\" is not a registry namespace: use registry-host/path in lowercase, {example} "
                "or localhost:5000/team/features.")
    return ""


def feature_major(feature: str) -> str:
    """The released major version of one of our features (features/releases.json): the tag a
    registry project references, so it takes fixes and additions, never a breaking release."""
    releases = json.loads((FEATURES / "releases.json").read_text())["features"]
    return releases[feature]["version"].split(".")[0]


def feature_reference(feature: str, registry: str = "") -> str:
    """How devcontainer.json names the feature: the vendored copy, or the published major version."""
    return f"{registry}/{feature}:{feature_major(feature)}" if registry else f"./features/{feature}"


@pass_context
def feature_references(context) -> dict[str, str]:
    """{feature id: its devcontainer.json reference}, in install order."""
    registry = context.get("features_registry") or ""
    return {feature: feature_reference(feature, registry) for feature in features_of_project(context)}


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
        return {"version": None, "cuda": None, "dependencies": [], "distribution": None}
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
    }


class VersionsExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["slug"] = slug
        environment.filters["toml_string"] = toml_string
        environment.filters["toml_inline_table"] = toml_inline_table
        environment.filters["shell_quote"] = lambda path: shlex.quote(str(path))  # for commands users paste
        environment.globals.update(
            project_name_error=project_name_error,
            package_name_error=package_name_error,
            port_error=port_error,
            one_line_error=one_line_error,
            author_name_error=author_name_error,
            email_error=email_error,
            copyright_holder=copyright_holder,
            project_license=project_license,
            data_path_error=data_path_error,
            cache_dir=CACHE_DIR,
            cache_environment=CACHE_ENVIRONMENT,
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
            feature_references=feature_references,
            features_registry_error=features_registry_error,
            published_features_namespace=published_features_namespace,
            feature_documentation=feature_documentation,
            framework_python_error=framework_python_error,
            framework_release_choices=release_choices,
            framework_cuda_choices=cuda_choices,
            resolve_framework=resolve,
            cuda_driver_floors=versions.cuda_driver_floors,
        )
