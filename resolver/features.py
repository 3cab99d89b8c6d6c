"""Our devcontainer features in a project: which of them it gets and in what order, how its
devcontainer.json names them (the vendored copies, or a registry namespace's published major
version: the features_registry question and its validator), and which of their files are
documentation only (features/publish.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jinja2 import pass_context


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
